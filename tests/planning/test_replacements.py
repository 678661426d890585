"""What a goal says people use today, and goals that replace it.

Goals of this file's own: an internal tool plans the import and retirement of what the goal
says is used today (paper charts, a whiteboard), and invents no spreadsheet for a goal that
names none; "Replace X with Y" makes Y, for X's users and uses, with X's retirement a
constraint; "Replace X with <a technology>" is a move of X, planned as a migration.
"""

import re

from missionctl.planning.base import PlanningInput
from missionctl.planning.local import build_local_plan, detect_kind
from missionctl.schemas.plans import PlanDraft


def _plan(goal: str) -> PlanDraft:
    return build_local_plan(PlanningInput(title=goal[:60], goal=goal))


def _everything(plan: PlanDraft) -> str:
    texts = [plan.summary, *(r.text for r in plan.requirements)]
    for task in plan.tasks:
        texts.extend([task.title, task.description, *task.acceptance])
    for risk in plan.risks:
        texts.extend([risk.title, risk.description, risk.mitigation])
    texts.extend(step.text for step in plan.next_steps)
    return "\n".join(texts)


def test_an_internal_tool_invents_no_spreadsheet_the_goal_never_named() -> None:
    goal = (
        "Build a ward-round app for nurses to record vital signs at the bedside and remind "
        "them when a patient's next check is due"
    )
    plan = _plan(goal)
    assert detect_kind(PlanningInput(title=goal[:60], goal=goal)).kind.key == "internal_tool"
    said = _everything(plan)
    assert not re.search(r"spreadsheet|column", said, re.IGNORECASE), said
    assert "map every field of the records kept today" in said
    # "and remind them" after "to record" is an infinitive too: its own title, no "Build".
    titles = {t.title for t in plan.tasks}
    assert "Remind nurses when a patient's next check is due" in titles
    assert not [title for title in titles if title.startswith("Build remind")]


def test_an_internal_tool_retires_what_the_goal_says_is_used_today() -> None:
    plan = _plan(
        "An internal tool for the allotment society to track plot rents, replacing the paper "
        "ledger the treasurer keeps"
    )
    said = _everything(plan)
    assert "paper ledger" in said
    assert "spreadsheet" not in said.lower()


def test_replace_with_a_new_thing_makes_it_for_the_old_ones_users() -> None:
    plan = _plan(
        "Replace the clipboards our kennel staff use to record feeding times with an internal tool"
    )
    assert "reads as an internal tool — internal tool for our kennel staff." in plan.summary
    assert "Replaces the clipboards." in [
        r.text for r in plan.requirements if r.kind == "constraint"
    ]
    titles = {t.title for t in plan.tasks}
    assert "Record feeding times" in titles
    assert not [title for title in titles if "internal tool" in title.lower()]
    said = _everything(plan)
    assert "retire the clipboards only after real users" in said
    assert "Get a copy of the clipboards for the import mapping." in said

    shifts = _plan(
        "Replace the spreadsheet we use for volunteer shifts with a web app where volunteers "
        "pick shifts"
    )
    assert "web app for volunteer shifts" in shifts.summary
    assert "Replaces the spreadsheet." in [r.text for r in shifts.requirements]
    assert "None" not in _everything(shifts)


def test_replace_with_a_technology_is_a_move_of_the_old_thing() -> None:
    database = _plan("Replace our MySQL database with PostgreSQL without downtime")
    assert "reads as a migration — MySQL database." in database.summary
    assert "Target: PostgreSQL" in database.summary
    widgets = _plan("Replace the jQuery widgets with a Vue app, keeping every URL")
    assert "reads as an application migration — jQuery widgets." in widgets.summary
    # Where it goes is the stack, not a feature to build.
    assert "Each feature of the goal — Vue app" not in widgets.summary
    assert not [t.key for t in widgets.tasks if t.key.startswith("vue")]
    assert "Plan the strangler migration to a Vue app" in {t.title for t in widgets.tasks}


def test_the_uses_of_the_old_thing_and_the_new_things_own_features_are_both_kept() -> None:
    plan = _plan(
        "Replace the paper ledger our allotment treasurer keeps to track plot rents with an "
        "internal tool that reminds tenants when rent is due"
    )
    features = [r.text.split(":")[0] for r in plan.requirements if r.kind == "feature"]
    assert features == ["Track plot rents", "Remind tenants when rent is due"]
    assert "Replaces the paper ledger." in [r.text for r in plan.requirements]
    # An allotment's tenants rent plots: they are no tenants of a multi-tenant service.
    assert not [r for r in plan.requirements if "Tenants are isolated" in r.text]
    saas = _plan("Build a multi-tenant invoicing SaaS with per-tenant branding")
    assert [r for r in saas.requirements if "Tenants are isolated" in r.text]
