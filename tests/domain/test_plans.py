"""Plan rules: every problem at once, each with the field to fix."""

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from missionctl.domain import plans as domain_plans
from missionctl.domain.dag import Node, ensure_valid_dag, validate_dag
from missionctl.domain.plans import (
    PhaseShape,
    PlanShape,
    RequirementShape,
    RiskShape,
    TaskShape,
    ensure_valid_plan,
    validate_plan,
)
from missionctl.errors import Problem, ValidationFailed
from missionctl.schemas import plans as schema_plans


def reqs(*keys: str) -> list[RequirementShape]:
    return [RequirementShape(key) for key in keys]


def tasks(
    spec: dict[str, Sequence[str]], traces: dict[str, Sequence[str]] | None = None
) -> list[TaskShape]:
    """Tasks from ``{key: depends_on}``; each traces R1 unless ``traces`` says otherwise."""
    traces = traces or {}
    return [TaskShape(key, deps, traces.get(key, ("R1",))) for key, deps in spec.items()]


DIAMOND = {
    "scope": [],
    "design": ["scope"],
    "api": ["design"],
    "ui": ["design"],
    "test": ["api", "ui"],
}


def plan(
    task_list: Sequence[TaskShape] | None = None,
    *,
    requirements: Sequence[RequirementShape] | None = None,
    phases: Sequence[PhaseShape] = (),
) -> PlanShape:
    return PlanShape(
        requirements=reqs("R1", "R2") if requirements is None else requirements,
        phases=phases,
        tasks=tasks(DIAMOND) if task_list is None else task_list,
    )


# -- valid plans --


def test_a_valid_plan_has_no_problems() -> None:
    phases = [PhaseShape("design", ["scope", "design"]), PhaseShape("build", ["api", "ui", "test"])]
    assert validate_plan(plan(phases=phases)) == []
    ensure_valid_plan(plan(phases=phases))


def test_a_task_may_be_in_no_phase_and_trace_nothing() -> None:
    task_list = tasks(DIAMOND, traces={"ui": ()})
    assert validate_plan(plan(task_list, phases=[PhaseShape("p", ["scope"])])) == []


def test_task_count_bounds_are_inclusive() -> None:
    four = tasks({f"t{i}": [] for i in range(4)})
    twenty = tasks({f"t{i}": [] for i in range(20)})
    assert validate_plan(plan(four)) == []
    assert validate_plan(plan(twenty)) == []


def test_the_bounds_match_the_schema_contract() -> None:
    assert domain_plans.MIN_TASKS == schema_plans.MIN_TASKS
    assert domain_plans.MAX_TASKS == schema_plans.MAX_TASKS


def test_a_pydantic_plan_draft_is_a_plan() -> None:
    draft = schema_plans.PlanDraft(
        summary="s",
        requirements=[schema_plans.PlanRequirement(key="R1", text="r")],
        phases=[schema_plans.PlanPhase(key="all", name="All", goal="g", task_keys=["a", "b"])],
        tasks=[
            schema_plans.PlanTask(
                key=key,
                title=key,
                description="d",
                role="backend",
                depends_on=deps,
                acceptance=["ok"],
                estimate_tokens=1,
                traces=["R1"],
            )
            for key, deps in [("a", []), ("b", ["a"]), ("c", ["a"]), ("d", ["b", "c"])]
        ],
    )
    assert validate_plan(draft) == []


# -- task count --


@pytest.mark.parametrize("count", [0, 3, 21])
def test_task_count_outside_the_bounds(count: int) -> None:
    problems = validate_plan(plan(tasks({f"t{i}": [] for i in range(count)})))
    assert problems == [Problem("tasks", f"a plan needs 4 to 20 tasks; this one has {count}")]


# -- requirements --


def test_duplicate_requirement_keys_are_each_named() -> None:
    problems = validate_plan(plan(requirements=reqs("R1", "R2", "R1", "R2", "R1")))
    message = (
        "requirement key '{k}' is already used by requirements.{i}; requirement keys must be unique"
    )
    assert problems == [
        Problem("requirements.2.key", message.format(k="R1", i=0)),
        Problem("requirements.3.key", message.format(k="R2", i=1)),
        Problem("requirements.4.key", message.format(k="R1", i=0)),
    ]


# -- the task DAG --


def test_duplicate_task_key() -> None:
    task_list = [*tasks(DIAMOND), TaskShape("api", ["scope"], ["R1"])]
    assert validate_plan(plan(task_list)) == [
        Problem("tasks.5.id", "task id 'api' is already used by tasks.2; task ids must be unique")
    ]


def test_unknown_dependency_names_the_task_and_suggests_a_key() -> None:
    task_list = tasks({**DIAMOND, "deploy": ["tset"]})
    assert validate_plan(plan(task_list)) == [
        Problem(
            "tasks.5.depends_on",
            "task 'deploy' depends on 'tset', which does not exist; did you mean 'test'?",
        )
    ]


def test_self_dependency() -> None:
    task_list = tasks({**DIAMOND, "ui": ["design", "ui"]})
    assert validate_plan(plan(task_list)) == [
        Problem("tasks.3.depends_on", "task 'ui' depends on itself")
    ]


def test_a_cycle_is_named_in_execution_order() -> None:
    task_list = tasks({**DIAMOND, "scope": ["test"]})
    cycle = "scope → design → api → test → scope"
    assert validate_plan(plan(task_list)) == [
        Problem(
            "tasks.0.depends_on", f"dependency cycle: {cycle}; remove one of these dependencies"
        )
    ]


def test_a_two_task_cycle() -> None:
    task_list = tasks({"a": ["b"], "b": ["a"], "c": [], "d": []})
    assert validate_plan(plan(task_list)) == [
        Problem(
            "tasks.0.depends_on", "dependency cycle: a → b → a; remove one of these dependencies"
        )
    ]


# -- traces --


def test_unknown_traces_are_named_by_position() -> None:
    task_list = tasks(DIAMOND, traces={"api": ["R1", "R12"], "test": ["R9", "X"]})
    assert validate_plan(plan(task_list)) == [
        Problem(
            "tasks.2.traces.1",
            "task 'api' traces requirement 'R12', which does not exist; did you mean 'R2'?",
        ),
        Problem("tasks.4.traces.0", "task 'test' traces requirement 'R9', which does not exist"),
        Problem("tasks.4.traces.1", "task 'test' traces requirement 'X', which does not exist"),
    ]


def test_traces_are_checked_against_every_requirement_even_duplicated_ones() -> None:
    task_list = tasks(DIAMOND, traces={"api": ["R2"]})
    problems = validate_plan(plan(task_list, requirements=reqs("R1", "R2", "R2")))
    assert [p.field for p in problems] == ["requirements.2.key"]


# -- phases --


def test_phase_members_must_exist() -> None:
    phases = [PhaseShape("build", ["api", "apu", "deploy"])]
    assert validate_plan(plan(phases=phases)) == [
        Problem(
            "phases.0.task_keys.1",
            "phase 'build' lists task 'apu', which does not exist; did you mean 'api'?",
        ),
        Problem("phases.0.task_keys.2", "phase 'build' lists task 'deploy', which does not exist"),
    ]


def test_a_risk_is_mitigated_only_by_tasks_of_the_plan() -> None:
    risks = [RiskShape("Data loss", ["api"]), RiskShape("Outage", ["ui", "deploi"])]
    shape = plan()
    found = validate_plan(PlanShape(shape.requirements, shape.phases, shape.tasks, risks))
    assert [p.field for p in found] == ["risks.1.mitigation_tasks.1"]
    assert "risk 'Outage' is mitigated by task 'deploi'" in found[0].message


def test_a_task_belongs_to_at_most_one_phase() -> None:
    phases = [
        PhaseShape("design", ["scope", "design"]),
        PhaseShape("build", ["api", "design"]),
        PhaseShape("ship", ["test", "scope"]),
    ]
    message = (
        "task '{t}' is already in phase '{p}' (phases.{i}); a task belongs to at most one phase"
    )
    assert validate_plan(plan(phases=phases)) == [
        Problem("phases.1.task_keys.1", message.format(t="design", p="design", i=0)),
        Problem("phases.2.task_keys.1", message.format(t="scope", p="design", i=0)),
    ]


def test_a_task_listed_twice_in_one_phase() -> None:
    phases = [PhaseShape("build", ["api", "ui", "api"])]
    assert validate_plan(plan(phases=phases)) == [
        Problem(
            "phases.0.task_keys.2",
            "task 'api' is already in this phase (phases.0); a task belongs to at most one phase",
        )
    ]


def test_duplicate_phase_keys() -> None:
    phases = [PhaseShape("build", ["api"]), PhaseShape("build", ["ui"])]
    assert validate_plan(plan(phases=phases)) == [
        Problem(
            "phases.1.key",
            "phase key 'build' is already used by phases.0; phase keys must be unique",
        )
    ]


# -- everything at once --


def test_every_problem_is_reported_at_once_in_a_stable_order() -> None:
    task_list = [
        TaskShape("a", ["c"], ["R1"]),
        TaskShape("b", ["a", "zz"], ["R7"]),
        TaskShape("c", ["b"], ["R1"]),
    ]
    phases = [PhaseShape("p1", ["a", "q"]), PhaseShape("p2", ["a"])]
    problems = validate_plan(plan(task_list, requirements=reqs("R1", "R1"), phases=phases))
    assert [p.field for p in problems] == [
        "tasks",
        "requirements.1.key",
        "tasks.1.depends_on",
        "tasks.0.depends_on",
        "tasks.1.traces.0",
        "phases.0.task_keys.1",
        "phases.1.task_keys.0",
    ]
    assert "dependency cycle: a → b → c → a" in problems[3].message
    with pytest.raises(ValidationFailed) as caught:
        ensure_valid_plan(plan(task_list, requirements=reqs("R1", "R1"), phases=phases))
    assert list(caught.value.problems) == problems
    assert caught.value.field == "tasks"


def test_validation_is_deterministic() -> None:
    task_list = tasks({**DIAMOND, "scope": ["test"], "x": ["nope"]}, traces={"x": ["R5"]})
    first = validate_plan(plan(task_list))
    assert all(validate_plan(plan(task_list)) == first for _ in range(5))


# -- the field_prefix of the DAG rules --


def test_validate_dag_keeps_step_wording_by_default() -> None:
    dag = [Node("build", ["build"]), Node("build")]
    assert validate_dag(dag) == [
        Problem("steps.0.depends_on", "step 'build' depends on itself"),
        Problem(
            "steps.1.id", "step id 'build' is already used by steps.0; step ids must be unique"
        ),
    ]


def test_validate_dag_field_prefix_names_fields_and_nodes() -> None:
    dag = [Node("a", ["b"]), Node("b", ["a", "nope"])]
    assert validate_dag(dag, field_prefix="tasks") == [
        Problem("tasks.1.depends_on", "task 'b' depends on 'nope', which does not exist"),
        Problem(
            "tasks.0.depends_on", "dependency cycle: a → b → a; remove one of these dependencies"
        ),
    ]
    with pytest.raises(ValidationFailed) as caught:
        ensure_valid_dag(dag, field_prefix="tasks")
    assert caught.value.field == "tasks.1.depends_on"


# -- properties --


@st.composite
def valid_plans(draw: st.DrawFn) -> PlanShape:
    count = draw(st.integers(min_value=4, max_value=20))
    keys = [f"t{i}" for i in range(count)]
    requirement_keys = [f"R{i + 1}" for i in range(draw(st.integers(1, 6)))]
    task_list = [
        TaskShape(
            key,
            draw(st.lists(st.sampled_from(keys[:i]), unique=True)) if i else [],
            draw(st.lists(st.sampled_from(requirement_keys), unique=True)),
        )
        for i, key in enumerate(keys)
    ]
    split = draw(st.integers(0, count))
    phases = [
        PhaseShape("one", keys[:split] or keys[:1]),
        PhaseShape("two", keys[split:] or keys[-1:]),
    ]
    if split in (0, count):
        phases = [PhaseShape("all", keys)]
    return PlanShape(reqs(*requirement_keys), phases, task_list)


@settings(max_examples=60, deadline=None)
@given(valid_plans())
def test_random_well_formed_plans_are_valid(shape: PlanShape) -> None:
    assert validate_plan(shape) == []


@settings(max_examples=60, deadline=None)
@given(valid_plans(), st.data())
def test_one_bad_trace_gives_exactly_one_problem_at_its_position(
    shape: PlanShape, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(shape.tasks) - 1))
    task = shape.tasks[index]
    broken = TaskShape(task.key, task.depends_on, [*task.traces, "R999"])
    task_list = [*shape.tasks[:index], broken, *shape.tasks[index + 1 :]]
    problems = validate_plan(PlanShape(shape.requirements, shape.phases, task_list))
    assert [p.field for p in problems] == [f"tasks.{index}.traces.{len(task.traces)}"]
