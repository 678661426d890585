"""The deterministic repair of a plan answer: what it mends, how it says so, what it leaves."""

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from missionctl.domain.plans import validate_plan
from missionctl.planning.local import build_local_plan
from missionctl.planning.repair import repair_plan_answer
from missionctl.schemas.plans import PlanDraft
from tests.planning.helpers import GOALS, mission

Plan = dict[str, Any]


def good_plan(goal: str = GOALS[0]) -> Plan:
    """A valid plan as the model would send it (JSON), from the local planner."""
    return build_local_plan(mission(goal)).model_dump(mode="json")


def task(plan: Plan, key: str) -> Plan:
    return next(t for t in plan["tasks"] if t["key"] == key)


def repaired(plan: Plan) -> tuple[Plan, list[str]]:
    data, notes = repair_plan_answer(plan)
    assert isinstance(data, dict)
    return data, notes


def rename_everywhere(plan: Plan, old: str, new: str) -> None:
    """Rename a task or requirement key in the plan and every reference to it."""
    for item in plan["tasks"] + plan["requirements"] + plan["phases"]:
        if item["key"] == old:
            item["key"] = new
    for t in plan["tasks"]:
        t["depends_on"] = [new if d == old else d for d in t["depends_on"]]
        t["traces"] = [new if r == old else r for r in t["traces"]]
    for phase in plan["phases"]:
        phase["task_keys"] = [new if k == old else k for k in phase["task_keys"]]


def references(plan: Plan, key: str) -> int:
    return sum((t["depends_on"] + t["traces"]).count(key) for t in plan["tasks"]) + sum(
        p["task_keys"].count(key) for p in plan["phases"]
    )


def assert_valid(plan: Plan) -> PlanDraft:
    draft = PlanDraft.model_validate(plan)
    assert validate_plan(draft) == []
    return draft


# ---- A valid plan is left alone ----------------------------------------------------------------


@pytest.mark.parametrize("goal", GOALS)
def test_a_valid_plan_comes_back_unchanged_and_without_notes(goal: str) -> None:
    plan = good_plan(goal)

    assert repair_plan_answer(plan) == (plan, [])


# ---- Keys --------------------------------------------------------------------------------------


def test_requirement_keys_are_renamed_with_every_trace() -> None:
    plan = good_plan()
    counts = {f"REQ-{r['key'][1:]}": references(plan, r["key"]) for r in plan["requirements"]}
    for requirement in list(plan["requirements"]):
        rename_everywhere(plan, requirement["key"], f"REQ-{requirement['key'][1:]}")

    data, notes = repaired(plan)

    assert data == good_plan()
    assert notes[0] == f"Requirement key 'REQ-1' renamed R1 (and its {counts['REQ-1']} references)"
    assert len(notes) == len(plan["requirements"])


def test_requirement_keys_take_the_number_they_carry_else_the_lowest_free() -> None:
    plan = good_plan()
    keys = ["FR-3", "NFR-3", "Performance", "R1", "req_12", "Security"]
    for requirement, key in zip(plan["requirements"], keys, strict=True):
        requirement["key"] = key
    plan["tasks"][0]["traces"] = ["NFR-3", "performance", "REQ12", "FR-3"]

    data, notes = repaired(plan)

    assert [r["key"] for r in data["requirements"]] == ["R3", "R2", "R4", "R1", "R12", "R5"]
    # "performance" and "REQ12" are the keys written another way; each trace kept once
    assert data["tasks"][0]["traces"] == ["R2", "R4", "R12", "R3"]
    assert "Requirement key 'NFR-3' renamed R2 (and its 1 reference)" in notes
    assert_valid(data)


def test_task_keys_are_slugified_with_every_dependency_and_phase_member() -> None:
    plan = good_plan()
    expected = references(plan, "api-contract")
    rename_everywhere(plan, "api-contract", "API Contract")

    data, notes = repaired(plan)

    assert data == good_plan()
    assert notes == [
        f"Task key 'API Contract' renamed api-contract (and its {expected} references)"
    ]


@pytest.mark.parametrize(
    ("key", "slug"),
    [
        ("Task One", "task-one"),
        ("  Design the API!  ", "design-the-api"),
        ("1st step", "task-1st-step"),
        ("Café & UI", "cafe-ui"),
        ("snake_case_Key", "snake_case_key"),
        ("x" * 80, "x" * 63),
        (7, "task-7"),
    ],
)
def test_task_keys_take_the_task_key_format(key: object, slug: str) -> None:
    plan = good_plan()
    plan["tasks"][0]["key"] = key

    data, _ = repaired(plan)

    assert data["tasks"][0]["key"] == slug


def test_a_task_without_a_usable_key_is_named_after_its_title() -> None:
    plan = good_plan()
    del plan["tasks"][0]["key"]
    plan["tasks"][0]["title"] = "Define the scope"
    plan["tasks"][1]["key"] = "!!!"
    plan["tasks"][1]["title"] = "Draw the architecture"

    data, notes = repaired(plan)

    assert [t["key"] for t in data["tasks"][:2]] == ["define-the-scope", "draw-the-architecture"]
    assert notes[:2] == [
        "Task #1 had no key; it is now define-the-scope",
        "Task key '!!!' renamed draw-the-architecture",
    ]


def test_a_mended_key_never_takes_a_key_another_task_already_has() -> None:
    plan = good_plan()
    plan["tasks"][0]["key"] = "UI"  # slugifies to 'ui', which a later task holds
    plan["tasks"][1]["depends_on"] = ["UI", "ui"]

    data, notes = repaired(plan)

    assert data["tasks"][0]["key"] == "ui-2" and task(data, "ui") == task(good_plan(), "ui")
    assert data["tasks"][1]["depends_on"] == ["ui-2", "ui"]
    assert "Task key 'UI' renamed ui-2 (and its 1 reference)" in notes


# ---- Repeated keys -------------------------------------------------------------------------------


def test_an_identical_repeat_is_merged() -> None:
    plan = good_plan()
    plan["tasks"].insert(3, copy.deepcopy(plan["tasks"][2]))
    plan["requirements"].append(copy.deepcopy(plan["requirements"][0]))
    key = plan["tasks"][2]["key"]

    data, notes = repaired(plan)

    assert data == good_plan()
    assert notes == [
        "Requirement 'R1' appeared twice, identical; kept once",
        f"Task '{key}' appeared twice, identical; kept once",
    ]


def test_a_different_task_with_a_taken_key_is_renamed_and_references_mean_the_first() -> None:
    plan = good_plan()
    clash = copy.deepcopy(task(plan, "ui"))
    clash.update(title="Admin UI", depends_on=["ui"])
    plan["tasks"].insert(1 + plan["tasks"].index(task(plan, "ui")), clash)

    data, notes = repaired(plan)

    assert [t["key"] for t in data["tasks"]].count("ui") == 1
    assert task(data, "ui-2")["title"] == "Admin UI"
    assert task(data, "ui-2")["depends_on"] == ["ui"]  # the first 'ui', not itself
    assert (
        "Task key 'ui' was used twice; the second is now ui-2 (references to 'ui' mean the first)"
        in notes
    )
    assert_valid(data)


def test_a_different_requirement_with_a_taken_key_gets_the_lowest_free_number() -> None:
    plan = good_plan()
    plan["requirements"].append({"key": "R2", "text": "Works offline", "priority": "could"})

    data, notes = repaired(plan)

    new_key = f"R{len(plan['requirements'])}"
    assert data["requirements"][-1] == {
        "key": new_key,
        "text": "Works offline",
        "priority": "could",
    }
    assert f"Requirement key 'R2' was used twice; the second is now {new_key}" in notes[0]
    assert notes[-1] == f"Requirement {new_key} is traced by no task (a coverage gap)"


# ---- Dangling references -----------------------------------------------------------------------


def test_dangling_references_and_self_dependencies_are_dropped_with_a_note() -> None:
    plan = good_plan()
    task(plan, "ui")["traces"].append("R99")
    task(plan, "ui")["depends_on"] += ["apii-contract", "ui"]
    plan["phases"][0]["task_keys"].append("ghost")

    data, notes = repaired(plan)

    assert data == good_plan()
    phase = plan["phases"][0]["key"]
    assert notes == [
        "Task 'ui' traced 'R99', which is not a requirement of the plan; the trace was dropped",
        "Task 'ui' depended on 'apii-contract', which is not a task of the plan; the "
        "dependency was dropped",
        "Task 'ui' depended on itself; that dependency was dropped",
        f"Phase '{phase}' listed 'ghost', which is not a task of the plan; it was taken out "
        "of the phase",
    ]


def test_phase_members_are_placed_once_and_an_empty_phase_is_dropped() -> None:
    plan = good_plan()
    first, second = plan["phases"][0]["key"], plan["phases"][1]["key"]
    member = plan["phases"][0]["task_keys"][0]
    plan["phases"][0]["task_keys"].append(member)  # listed twice in one phase: kept once
    plan["phases"][1]["task_keys"].append(member)
    plan["phases"].append(
        {"key": "Later On", "name": "Later", "goal": "Ghosts", "task_keys": ["x"]}
    )

    data, notes = repaired(plan)

    assert data == good_plan()
    assert notes == [
        "Phase key 'Later On' renamed later-on",
        "Phase 'later-on' listed 'x', which is not a task of the plan; it was taken out of "
        "the phase",
        f"Task '{member}' was in phase '{first}' and phase '{second}'; it stays in the first",
        "Phase 'later-on' has no task; it was dropped",
    ]


def test_a_requirement_no_task_traces_is_noted_as_a_coverage_gap() -> None:
    plan = good_plan()
    for t in plan["tasks"]:
        t["traces"] = [r for r in t["traces"] if r != "R2"]

    data, notes = repaired(plan)

    assert data == plan
    assert notes == ["Requirement R2 is traced by no task (a coverage gap)"]


# ---- Type slips ----------------------------------------------------------------------------------


def test_lossless_type_slips_are_coerced_with_one_note_per_field() -> None:
    plan = good_plan()
    tasks = plan["tasks"]
    keys = [t["key"] for t in tasks]
    expected = copy.deepcopy(plan)
    tasks[0]["acceptance"] = tasks[0]["acceptance"][0]
    expected["tasks"][0]["acceptance"] = expected["tasks"][0]["acceptance"][:1]
    tasks[1]["depends_on"] = "scope , ux-design"
    expected["tasks"][1]["depends_on"] = ["scope", "ux-design"]
    tasks[2]["expected_artifacts"] = None
    expected["tasks"][2]["expected_artifacts"] = []
    for t in tasks[3:8]:
        t["estimate_tokens"] = f"{t['estimate_tokens']:,}"
    tasks[8]["role"] = f" {tasks[8]['role'].title()} "
    plan["decisions"][0]["reasons"] = plan["decisions"][0]["reasons"][0]
    expected["decisions"][0]["reasons"] = expected["decisions"][0]["reasons"][:1]
    plan["risks"] = plan["risks"][0]
    expected["risks"] = expected["risks"][:1]

    data, notes = repaired(plan)

    assert data == expected
    assert notes == [
        "risks was a single object; read as a list of one",
        f"acceptance was a single string in 1 task ('{keys[0]}'); read as a list of one",
        f"depends_on was one string of comma-separated keys in 1 task ('{keys[1]}'); "
        "read as a list",
        f"expected_artifacts was null in 1 task ('{keys[2]}'); read as an empty list",
        f"estimate_tokens was a number written as text in 5 tasks ('{keys[3]}', "
        f"'{keys[4]}', '{keys[5]}' and 2 more); read as the number",
        f"role was written with capitals or spaces in 1 task ('{keys[8]}'); read in lower case",
        f"reasons was a single string in 1 decision ('{expected['decisions'][0]['title']}'); "
        "read as a list of one",
    ]


# ---- What is left for the model ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.update(tasks=p["tasks"][:2]), "tasks"),
        (lambda p: p.update(tasks=[]), "tasks"),
        (lambda p: p["tasks"][0].update(estimate_tokens="lots"), "tasks.0.estimate_tokens"),
        (lambda p: p["tasks"][0].update(estimate_tokens=1200.5), "tasks.0.estimate_tokens"),
        (lambda p: p["tasks"][0].update(role="wizard"), "tasks.0.role"),
        (lambda p: p["tasks"][0].pop("title"), "tasks.0.title"),
        (lambda p: p["tasks"][0].update(depends_on={"a": 1}), "tasks.0.depends_on"),
    ],
)
def test_what_cannot_be_mended_without_loss_is_left_for_validation(change: Any, field: str) -> None:
    plan = good_plan()
    change(plan)

    data, _ = repaired(plan)

    with pytest.raises(ValidationError) as caught:
        PlanDraft.model_validate(data)
    assert field in [".".join(map(str, error["loc"])) for error in caught.value.errors()]


def test_a_dependency_cycle_is_left_for_the_plan_rules_to_name() -> None:
    plan = good_plan()
    task(plan, "scope")["depends_on"] = ["e2e-tests"]

    data, notes = repaired(plan)

    assert data == plan and notes == []
    [problem] = validate_plan(PlanDraft.model_validate(data))
    assert problem.message.startswith("dependency cycle: scope → ")


# ---- Properties --------------------------------------------------------------------------------


@pytest.mark.parametrize("goal", GOALS[:8])
def test_any_consistent_renaming_of_keys_is_undone(goal: str) -> None:
    plan = good_plan(goal)
    for index, requirement in enumerate(list(plan["requirements"])):
        rename_everywhere(plan, requirement["key"], f"Req {index + 1}")
    for t in list(plan["tasks"]):
        rename_everywhere(plan, t["key"], t["key"].replace("-", " ").upper())

    data, _ = repaired(plan)

    assert data == good_plan(goal)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=25,
)
_KEYS = st.sampled_from(["R1", "REQ-1", "a", "A b", "", "x,y", "R1", 3, None])
_LOOSE_TASK = st.fixed_dictionaries(
    {"key": _KEYS},
    optional={
        "depends_on": st.lists(_KEYS, max_size=3) | _KEYS,
        "traces": st.lists(_KEYS, max_size=3) | _KEYS,
        "estimate_tokens": st.sampled_from(["1,000", "12", 5, "x", None]),
        "role": st.sampled_from(["QA", "qa", 1]),
    },
)
_LOOSE_PLAN = st.fixed_dictionaries(
    {},
    optional={
        "requirements": st.lists(st.fixed_dictionaries({"key": _KEYS}) | _JSON, max_size=4),
        "tasks": st.lists(_LOOSE_TASK | _JSON, max_size=5) | _JSON,
        "phases": st.lists(
            st.fixed_dictionaries({"key": _KEYS, "task_keys": st.lists(_KEYS, max_size=3) | _JSON}),
            max_size=3,
        )
        | _JSON,
        "risks": _JSON,
    },
)


@settings(max_examples=300, deadline=None)
@given(answer=_JSON | _LOOSE_PLAN)
def test_the_repair_is_total_pure_and_settles(answer: Any) -> None:
    before = json.dumps(answer, sort_keys=True)

    data, notes = repair_plan_answer(answer)
    again, _ = repair_plan_answer(data)

    assert json.dumps(answer, sort_keys=True) == before  # the argument is not changed
    assert all(isinstance(note, str) and note for note in notes)
    assert again == data  # a repaired answer has nothing left to repair
