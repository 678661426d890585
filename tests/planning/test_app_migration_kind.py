"""Moving an application to another framework, language or UI toolkit is not a database move.

Goals of this file's own: an AngularJS frontend to React, an Objective-C iPad app to SwiftUI, a
Python 2 service to Python 3 and a jQuery site to Vue are planned as application migrations
(inventory, characterisation tests, a strangler move behind flags, a staged rollout, the old
code retired last); a database moved from MySQL to PostgreSQL keeps the migration plan.
"""

import re

import pytest

from missionctl.planning.base import PlanningInput
from missionctl.planning.local import build_local_plan, detect_kind
from missionctl.schemas.plans import PlanDraft

ANGULAR = (
    "Migrate the AngularJS member portal of our rowing club to React without breaking deep links"
)
IPAD = "Port our Objective-C iPad inspection app to SwiftUI, keeping offline drafts"
PYTHON = "Port the Python 2 invoicing service to Python 3 without changing its HTTP API"
JQUERY = "Migrate our jQuery volunteer site to Vue, keeping every URL working"
APP_MOVES = [ANGULAR, IPAD, PYTHON, JQUERY]
IDS = ["angularjs-react", "objc-swiftui", "python2-python3", "jquery-vue"]

DATABASE_MOVES = [
    "Migrate the ticketing system from MySQL 5.7 to PostgreSQL 16 with under 10 minutes of "
    "downtime",
    "Migrate our customer database from MySQL to PostgreSQL without downtime",
    "Upgrade PostgreSQL 11 to 16",
]

DATABASE_WORDS = re.compile(r"\b(?:tables?|checksums?|replication|row counts?)\b", re.IGNORECASE)


def _mission(goal: str) -> PlanningInput:
    return PlanningInput(title=goal[:60], goal=goal)


def _plan(goal: str) -> PlanDraft:
    return build_local_plan(_mission(goal))


def _texts(plan: PlanDraft) -> list[str]:
    texts = [r.text for r in plan.requirements]
    for task in plan.tasks:
        texts.extend([task.title, task.description, *task.acceptance, *task.expected_artifacts])
    return texts


@pytest.mark.parametrize("goal", APP_MOVES, ids=IDS)
def test_an_application_move_is_planned_as_an_application_migration(goal: str) -> None:
    assert detect_kind(_mission(goal)).kind.key == "app_migration"
    plan = _plan(goal)
    assert "reads as an application migration" in plan.summary
    # No database work where the goal names no database.
    said = [text for text in _texts(plan) if DATABASE_WORDS.search(text)]
    assert said == [], said


@pytest.mark.parametrize("goal", APP_MOVES, ids=IDS)
def test_behaviour_is_pinned_before_anything_moves_and_the_old_code_goes_last(goal: str) -> None:
    plan = _plan(goal)
    tasks = {t.key: t for t in plan.tasks}
    assert {"inventory", "characterisation", "strangler-plan", "shell", "continuity"} <= set(tasks)
    assert {"performance", "parity-check", "rollout", "retire"} <= set(tasks)
    assert tasks["characterisation"].depends_on == ["inventory"]
    assert "strangler" in tasks["strangler-plan"].title.lower()
    # The slices move once the behaviour is pinned and the new shell stands beside the old.
    moves = [t for t in plan.tasks if "characterisation" in t.depends_on and t.key != "shell"]
    assert moves and all("shell" in t.depends_on for t in moves)
    # Staged, with a way back, and the old code retired only after parity is shown.
    assert {"parity-check", "performance"} <= set(tasks["rollout"].depends_on)
    assert tasks["rollout"].risk_tier == "irreversible"
    assert any("rollback" in a.lower() for a in tasks["rollout"].acceptance)
    assert tasks["retire"].depends_on == ["rollout"]
    assert any("parity" in a for a in tasks["retire"].acceptance)


@pytest.mark.parametrize("goal", APP_MOVES, ids=IDS)
def test_links_user_state_and_speed_are_requirements_the_plan_checks(goal: str) -> None:
    plan = _plan(goal)
    by_text = {r.text.split(":", 1)[0]: r for r in plan.requirements}
    assert {"Feature parity", "Links and user state kept", "No slower than today"} <= set(by_text)
    traced = {key for t in plan.tasks for key in t.traces}
    assert {r.key for r in plan.requirements} <= traced
    continuity = by_text["Links and user state kept"].key
    assert continuity in next(t for t in plan.tasks if t.key == "continuity").traces


def test_the_names_of_the_move_fill_the_plan() -> None:
    tasks = {t.key: t.title for t in _plan(ANGULAR).tasks}
    assert (
        tasks["shell"]
        == "Stand up the React skeleton beside the AngularJS member portal of our rowing club"
    )
    assert tasks["rollout"] == "Roll out React in stages with a rollback"
    python = {t.key: t.title for t in _plan(PYTHON).tasks}
    assert python["strangler-plan"] == "Plan the strangler migration to Python 3"
    assert python["parity-check"] == (
        "Show parity between the Python 2 invoicing service and Python 3"
    )


def test_a_constraint_clause_of_the_goal_is_a_constraint_not_a_feature() -> None:
    plan = _plan(ANGULAR)
    (deep_links,) = [r for r in plan.requirements if "breaking deep links" in r.text]
    assert deep_links.kind == "constraint"
    features = [r.text for r in plan.requirements if r.kind == "feature"]
    assert not any("breaking" in text for text in features), features
    assert not any("deep-links" in t.key for t in plan.tasks)
    # The tasks that keep links working and check parity trace it.
    tracing = {t.key for t in plan.tasks if deep_links.key in t.traces}
    assert {"continuity", "parity-check"} <= tracing


@pytest.mark.parametrize("goal", DATABASE_MOVES, ids=["mysql-5.7", "mysql", "postgresql-11"])
def test_a_database_move_keeps_the_migration_plan(goal: str) -> None:
    assert detect_kind(_mission(goal)).kind.key == "migration"
    plan = _plan(goal)
    tasks = {t.key: t for t in plan.tasks}
    assert {"validation", "cutover"} <= set(tasks)
    assert any("checksums" in a for a in tasks["validation"].acceptance)
    assert "characterisation" not in tasks and "strangler-plan" not in tasks


def test_a_move_s_target_ends_before_its_manner_and_convert_is_a_move() -> None:
    screens = build_local_plan(
        PlanningInput(
            title="Admin screens",
            goal="Move our Backbone.js admin screens to Vue 3 one screen at a time",
        )
    )
    assert {t.key: t.title for t in screens.tasks}["strangler-plan"] == (
        "Plan the strangler migration to Vue 3"
    )
    service = build_local_plan(
        PlanningInput(
            title="Billing",
            goal="Convert the Java 8 billing service to Kotlin without changing its REST API",
        )
    )
    assert "Stand up the Kotlin skeleton beside the Java 8 billing service" in {
        t.title for t in service.tasks
    }
    assert "Without changing its REST API." in [
        r.text for r in service.requirements if r.kind == "constraint"
    ]


def test_the_work_of_a_move_goes_to_the_role_of_what_it_moves_to() -> None:
    def roles(goal: str) -> dict[str, str]:
        plan = build_local_plan(PlanningInput(title="Move", goal=goal))
        keys = {"shell", "characterisation", "continuity"}
        return {t.key: t.role for t in plan.tasks if t.key in keys}

    assert roles("Convert the Java 8 billing service to Kotlin") == {
        "shell": "backend",
        "characterisation": "qa",
        "continuity": "backend",
    }
    # Links and saved state are the app's where the app moves to.
    assert roles("Port our Objective-C iPad app to SwiftUI") == {
        "shell": "mobile",
        "characterisation": "qa",
        "continuity": "mobile",
    }
    assert roles("Migrate our AngularJS frontend to React")["continuity"] == "frontend"
