"""Plan → workflow compilation and the workflow definition contract."""

import uuid
from decimal import Decimal

import pytest
from pydantic import ValidationError

from missionctl.domain.dag import topological_layers
from missionctl.errors import ValidationFailed
from missionctl.planning import (
    RetrySpec,
    StepSpec,
    WorkflowSpec,
    agent_kind_for,
    compile_plan,
    validate_workflow,
)
from missionctl.planning.local import build_local_plan
from missionctl.services.usecases.workflow_checks import check_spec
from tests.planning.helpers import GOALS, mission

DRAFT = build_local_plan(mission(GOALS[4]))


@pytest.mark.parametrize("goal", GOALS)
def test_every_plan_compiles_to_one_step_per_task(goal: str) -> None:
    draft = build_local_plan(mission(goal))
    spec = compile_plan(draft, mission_title="Mission")
    assert [s.id for s in spec.steps] == [t.key for t in draft.tasks]
    assert validate_workflow(spec) == []
    assert sum(map(len, topological_layers(spec.steps))) == len(draft.tasks)


def test_steps_carry_the_task() -> None:
    spec = compile_plan(DRAFT, mission_title="Gym app", agent_kind="builtin")
    for task, step in zip(DRAFT.tasks, spec.steps, strict=True):
        assert step.agent == f"builtin:{task.role}"
        assert step.depends_on == task.depends_on
        assert (step.risk_tier, step.estimate_tokens) == (task.risk_tier, task.estimate_tokens)
        assert step.inputs == {
            "title": task.title,
            "description": task.description,
            "acceptance": task.acceptance,
            "expected_artifacts": task.expected_artifacts,
            "role": task.role,
        }
        assert step.timeout_s == 600
        assert step.retry == RetrySpec(max_attempts=2, backoff_s=1.0)
    assert spec.name == "Gym app"
    assert (spec.max_concurrency, spec.budget_usd) == (None, None)


def test_llm_plans_compile_to_llm_agents() -> None:
    assert agent_kind_for("local") == "builtin"
    assert agent_kind_for("gpt-5-mini") == "llm"
    spec = compile_plan(DRAFT, mission_title="m", agent_kind=agent_kind_for("gpt-5-mini"))
    assert {s.agent.split(":")[0] for s in spec.steps} == {"llm"}
    assert "llm:mobile" in {s.agent for s in spec.steps}


def test_the_definition_round_trips_as_json() -> None:
    spec = compile_plan(DRAFT, mission_title="m", budget_usd=Decimal("12.50"), max_concurrency=3)
    stored = spec.model_dump(mode="json")
    assert stored["budget_usd"] == "12.50" and stored["max_concurrency"] == 3
    assert stored["steps"][0]["retry"] == {
        "max_attempts": 2,
        "backoff_s": 1.0,
        "max_backoff_s": 60.0,
        "jitter": True,
    }
    assert WorkflowSpec.model_validate(stored) == spec


def test_a_missions_id_ends_its_workflows_name_even_when_the_title_is_cut() -> None:
    mission_id = uuid.UUID("01a20718-0000-7000-8000-00003f2a9c1d")
    assert compile_plan(DRAFT, mission_title="Gym app", mission_id=mission_id).name == (
        "Gym app · 3f2a9c1d"
    )
    long = compile_plan(DRAFT, mission_title="x " * 300, mission_id=mission_id).name
    assert len(long) <= 200 and long.endswith("… · 3f2a9c1d")
    assert check_spec(compile_plan(DRAFT, mission_title="..", mission_id=mission_id)).problems == []


def test_a_long_title_is_cut_and_an_empty_one_replaced() -> None:
    assert len(compile_plan(DRAFT, mission_title="x " * 300).name) <= 200
    assert compile_plan(DRAFT, mission_title="   ").name == "Mission plan"


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("new", "Plan: new"),
        ("Ship the CMS page/edit", "Plan: Ship the CMS page / edit"),
        ("../tmp clean-up", "Plan: .. / tmp clean-up"),
        ("CI/CD for the shop", "CI/CD for the shop"),
    ],
)
def test_a_title_the_name_rules_refuse_still_names_a_valid_workflow(title: str, name: str) -> None:
    spec = compile_plan(DRAFT, mission_title=title)
    assert spec.name == name
    assert check_spec(spec).problems == []


def test_an_invalid_plan_does_not_compile() -> None:
    tasks = [
        t.model_copy(update={"depends_on": ["nope"]}) if i == 1 else t
        for i, t in enumerate(DRAFT.tasks)
    ]
    with pytest.raises(ValidationFailed) as caught:
        compile_plan(DRAFT.model_copy(update={"tasks": tasks}), mission_title="m")
    assert caught.value.field == "tasks.1.depends_on"


def test_a_hand_written_workflow_is_checked() -> None:
    spec = WorkflowSpec(
        name="nightly",
        steps=[
            StepSpec(id="build", agent="command:make"),
            StepSpec(id="test", agent="command:pytest", depends_on=["build", "deploy"]),
            StepSpec(id="deploy", agent="http:deploy-hook", depends_on=["test"]),
        ],
    )
    assert [p.field for p in validate_workflow(spec)] == ["steps.1.depends_on"]
    with pytest.raises(ValidationError):
        WorkflowSpec(name="x", steps=[StepSpec(id="a", agent="builtin:qa")], unknown=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        StepSpec(id="1a", agent="builtin:qa")
    with pytest.raises(ValidationError):
        StepSpec(id="a", agent="Not An Agent")
    with pytest.raises(ValidationError):
        WorkflowSpec(name="x", steps=[])
