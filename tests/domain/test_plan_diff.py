"""Comparing two plan versions: items added, removed and changed in each section."""

import pytest

from missionctl.domain.plan_diff import SECTIONS, diff_plans, diff_section


def _plan(**sections: object) -> dict[str, object]:
    plan: dict[str, object] = {"summary": "A URL shortener", "tasks": [], "requirements": []}
    plan.update(sections)
    return plan


TASK_A = {"key": "api", "title": "API", "depends_on": [], "role": "backend"}
TASK_B = {"key": "ui", "title": "UI", "depends_on": ["api"], "role": "frontend"}


def test_identical_plans_are_the_same() -> None:
    plan = _plan(tasks=[TASK_A, TASK_B], risks=[{"title": "Abuse", "severity": "high"}])

    diff = diff_plans(plan, dict(plan), base_version=1, target_version=2)

    assert diff.same and (diff.base, diff.target) == (1, 2)
    assert [s.name for s in diff.sections] == list(SECTIONS)


def test_tasks_added_removed_and_changed_are_named_with_their_fields() -> None:
    base = _plan(tasks=[TASK_A, TASK_B])
    target = _plan(
        tasks=[
            {**TASK_A, "role": "architect", "title": "API contract"},
            {"key": "docs", "title": "Docs", "depends_on": [], "role": "docs"},
        ]
    )

    tasks = diff_section(base, target, "tasks")

    assert [(i.key, i.label) for i in tasks.added] == [("docs", "Docs")]
    assert [(i.key, i.label) for i in tasks.removed] == [("ui", "UI")]
    assert [(c.key, c.label, c.fields) for c in tasks.changed] == [
        ("api", "API contract", ("role", "title"))
    ]
    assert not tasks.same


@pytest.mark.parametrize(
    ("section", "before", "after", "label"),
    [
        (
            "requirements",
            {"key": "R1", "text": "Short links"},
            {"key": "R1", "text": "Links"},
            "Links",
        ),
        (
            "risks",
            {"title": "Abuse", "severity": "low"},
            {"title": "Abuse", "severity": "high"},
            "Abuse",
        ),
        (
            "decisions",
            {"title": "DB", "choice": "SQLite"},
            {"title": "DB", "choice": "PostgreSQL"},
            "PostgreSQL",
        ),
    ],
)
def test_every_section_is_compared_by_its_identity(
    section: str, before: dict[str, str], after: dict[str, str], label: str
) -> None:
    diff = diff_plans(
        _plan(**{section: [before]}), _plan(**{section: [after]}), base_version=2, target_version=1
    )

    changed = next(s for s in diff.sections if s.name == section)
    assert [(c.label, len(c.fields)) for c in changed.changed] == [(label, 1)]
    assert all(s.same for s in diff.sections if s.name != section)
    assert not diff.summary_changed and not diff.same


def test_a_section_missing_from_one_plan_counts_as_empty() -> None:
    diff = diff_plans(
        {"summary": "x"},
        _plan(summary="y", risks=[{"title": "Abuse"}]),
        base_version=1,
        target_version=2,
    )

    risks = next(s for s in diff.sections if s.name == "risks")
    assert diff.summary_changed and [i.label for i in risks.added] == ["Abuse"]
