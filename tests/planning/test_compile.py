"""Plan → workflow compilation and the workflow definition contract."""

import uuid
from decimal import Decimal

import pytest
from pydantic import ValidationError

from missionctl.domain.dag import topological_layers
from missionctl.domain.workflows import WorkflowDag, queued_reason
from missionctl.errors import ValidationFailed
from missionctl.planning import (
    RetrySpec,
    StepSpec,
    WorkflowSpec,
    agent_kind_for,
    compile_plan,
    validate_workflow,
)
from missionctl.planning.compile import DOCUMENTS_ONLY_REASON, irreversible_gates
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


MIGRATION = build_local_plan(
    mission("Migrate our customer database from MySQL to PostgreSQL without downtime")
)


def test_an_irreversible_task_that_only_writes_documents_runs_ungated_and_says_why() -> None:
    spec = compile_plan(MIGRATION, mission_title="Migration")
    irreversible = {t.key for t in MIGRATION.tasks if t.risk_tier == "irreversible"}
    assert irreversible == {"cutover", "decommission"}  # the migration kind marks these two
    for step in spec.steps:
        if step.id in irreversible:
            assert step.agent.startswith("builtin:")
            assert step.approval_reason == DOCUMENTS_ONLY_REASON
            assert step.approval_reason.startswith("no approval: this step only writes documents")
            assert step.requires_approval is None  # the reason explains; it does not gate
        else:
            assert step.approval_reason is None and step.requires_approval is None
    dag = WorkflowDag.from_definition(spec.model_dump(mode="json"))
    assert not dag.steps["cutover"].gated and dag.steps["cutover"].plain
    assert queued_reason(dag.steps["cutover"]) == {"approval_reason": DOCUMENTS_ONLY_REASON}
    assert queued_reason(dag.steps["inventory"]) == {}


def test_an_irreversible_task_on_a_coding_agent_waits_for_approval() -> None:
    spec = compile_plan(MIGRATION, mission_title="Migration", coding_agent="coding:claude")
    steps = {s.id: s for s in spec.steps}
    # ``decommission`` is a devops task, a code role: it becomes a coding step, which changes
    # the repository, so it waits; ``cutover`` is a release task and still writes documents.
    decommission = steps["decommission"]
    assert decommission.agent == "coding:claude"
    assert decommission.requires_approval is True
    assert decommission.approval_reason == (
        "waits for approval: the plan marks the task irreversible and coding:claude can change "
        "more than documents"
    )
    assert steps["cutover"].agent == "builtin:release"
    assert steps["cutover"].approval_reason == DOCUMENTS_ONLY_REASON
    # A merge says why it waits in its own words and is left as it was.
    assert steps["decommission-merge"].requires_approval is True
    assert steps["decommission-merge"].approval_reason is None
    # A code task the plan marks ``write`` is not touched.
    assert steps["app-readiness"].agent == "coding:claude"
    assert steps["app-readiness"].requires_approval is None
    dag = WorkflowDag.from_definition(spec.model_dump(mode="json"))
    assert dag.steps["decommission"].gated and not dag.steps["app-readiness"].gated


def test_the_review_loop_of_an_irreversible_task_waits_at_each_coding_step() -> None:
    spec = compile_plan(
        MIGRATION, mission_title="Migration", coding_agent="coding:claude", review=True
    )
    chain = [s for s in spec.steps if s.inputs.get("task_key") == "decommission"]
    assert [s.id for s in chain] == [
        "decommission",
        "decommission-test",
        "decommission-review",
        "decommission-rework",
    ]
    assert all(s.requires_approval is True and s.approval_reason for s in chain)


@pytest.mark.parametrize("agent", ["command", "http", "mcp", "coding:generic", "git:push"])
def test_any_agent_but_a_document_writer_is_gated_at_the_irreversible_tier(agent: str) -> None:
    irreversible = StepSpec(id="ship", agent=agent, risk_tier="irreversible")
    written = StepSpec(id="notes", agent="llm:release", risk_tier="irreversible")
    decided = StepSpec(
        id="hand", agent="command", risk_tier="irreversible", requires_approval=False
    )
    lower = StepSpec(id="build", agent=agent, risk_tier="write")
    ship, notes, hand, build = irreversible_gates([irreversible, written, decided, lower])
    assert ship.requires_approval is True and agent in (ship.approval_reason or "")
    assert notes.requires_approval is None and notes.approval_reason == DOCUMENTS_ONLY_REASON
    assert (hand, build) == (decided, lower)  # a step that decided, or a lower tier: as it was
