"""The rules of the decision log and risk register: supersession, statuses, changes, heat map."""

import uuid

import pytest

from missionctl.domain.register import (
    DecisionStatus,
    changes,
    heat_map,
    stale_version,
    status_after,
    supersede_problem,
    superseded_ids,
    unknown_task_problems,
)

A, B, C = (uuid.UUID(int=i) for i in (1, 2, 3))


@pytest.mark.parametrize(
    ("decision", "target", "links", "words"),
    [
        (A, A, {A: None}, "itself"),
        (A, uuid.UUID(int=99), {A: None, B: None}, "not a decision of this mission"),
        (A, B, {A: None, B: A}, "cycle"),  # B supersedes A: A cannot supersede B
        (A, C, {A: None, B: A, C: B}, "cycle"),  # C → B → A
    ],
)
def test_a_link_is_refused_to_itself_elsewhere_or_round_a_cycle(
    decision: uuid.UUID, target: uuid.UUID, links: dict[uuid.UUID, uuid.UUID | None], words: str
) -> None:
    problem = supersede_problem(decision, target, links)
    assert problem is not None and words in problem


def test_a_chain_without_a_cycle_is_allowed() -> None:
    assert supersede_problem(C, B, {A: None, B: A, C: None}) is None
    assert superseded_ids({A: None, B: A, C: B}) == {A, B}


def test_superseded_follows_the_links() -> None:
    assert status_after(True, DecisionStatus.proposed) == DecisionStatus.superseded
    assert status_after(False, DecisionStatus.superseded) == DecisionStatus.accepted
    assert status_after(False, DecisionStatus.proposed) == DecisionStatus.proposed


def test_changes_name_old_and_new_values_of_what_differs() -> None:
    assert changes({"a": 1, "b": [1]}, {"a": 1, "b": [2], "c": "x"}) == {
        "b": {"old": [1], "new": [2]},
        "c": {"old": None, "new": "x"},
    }
    assert stale_version("risk", 2, 2) is None
    assert "version 3" in (stale_version("risk", 3, 2) or "")


def test_unknown_tasks_are_named_with_a_close_match() -> None:
    problems = unknown_task_problems("mitigation_tasks", ["api", "ui-sell"], ["api", "ui-shell"])
    assert [p.field for p in problems] == ["mitigation_tasks.1"]
    assert "did you mean 'ui-shell'" in problems[0].message
    assert "no plan yet" in unknown_task_problems("t", ["x"], [])[0].message


def test_the_heat_map_counts_by_severity_worst_first_and_likelihood() -> None:
    grid = heat_map([("critical", "high"), ("low", "low"), ("low", "low"), ("bogus", "low")])
    assert grid == [[0, 0, 1], [0, 0, 0], [0, 0, 0], [2, 0, 0]]
