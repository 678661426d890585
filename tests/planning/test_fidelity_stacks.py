"""The stored plan keeps what the user said, in six stacks.

Goals of this file's own (no goal file holds them), one per stack the product must plan for:
embedded C, Kotlin, Flutter, Go, Rust and SQL on a warehouse. Each names three features and a
constraint with a figure. The plan is made through the service and read back as stored, then
judged by the fidelity checkers (``tests/planning/fidelity.py``): every clause of the goal and
the constraint kept, every figure repeated verbatim, nothing of another stack, no requirement
sentence filled in more than twice, no name made of the user's phrase.
"""

import pytest

from missionctl.planning import LocalPlanner
from missionctl.planning.base import PlanningInput
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.plans import plan_mission, read_plan
from tests.planning.fidelity import judge_fidelity

ACTOR = "user:test"

# goal → (constraint, the stack the plan must stay in, a figure the requirements must quote)
STACK_GOALS = {
    "Write embedded C firmware for a soil moisture probe: samples every 15 minutes, sends "
    "readings over LoRaWAN, and sleeps below 20 µA": ("runs 3 years on two AA cells", "3 years"),
    "Build a Kotlin Android app for a climbing gym: route logbook, belay certification checks "
    "and session check-in": ("works offline for 7 days", "7 days"),
    "Build a Flutter app for a farmers market: stall map, vendor menus and mobile pre-orders": (
        "cold start under 2 seconds on Android 10",
        "2 seconds",
    ),
    "Build a Go service for a ferry operator: ticket sales, boarding scans and capacity alerts": (
        "p99 under 150 ms at 800 requests/s",
        "150 ms",
    ),
    "Write a Rust daemon that tails nginx logs, aggregates status codes per minute and "
    "exports Prometheus metrics": ("under 30 MB of memory", "30 MB"),
    "Create a dbt project on BigQuery that models subscription churn, cohort revenue and "
    "refund rates": ("nightly build finishes within 45 minutes", "45 minutes"),
}


@pytest.mark.parametrize(
    "goal", list(STACK_GOALS), ids=["c", "kotlin", "flutter", "go", "rust", "sql"]
)
async def test_the_stored_plan_keeps_every_clause_figure_and_the_stack(
    ctx: ServiceContext, goal: str
) -> None:
    constraint, figure = STACK_GOALS[goal]
    data = MissionCreate(goal=goal, constraints=[constraint])
    mission = await create_mission(ctx, data=data, actor=ACTOR)
    await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner())
    plan = await read_plan(ctx, mission_id=mission.id)
    said = PlanningInput(title=mission.title, goal=goal, constraints=[constraint])

    verdict = judge_fidelity(plan, said)

    assert list(verdict.dropped_clauses) == []
    assert list(verdict.missed_figures) == []
    # The product's own check, stored with the plan, agrees: nothing for the user to clarify.
    assert plan.clauses and [c.text for c in plan.clauses if not c.covered] == []
    assert figure in verdict.figures
    assert list(verdict.contradictions) == []
    assert list(verdict.repeated_templates) == []
    assert list(verdict.phrase_made_names) == []
    # The constraint is a requirement of its own or quoted in one, in the user's words.
    assert any(constraint in requirement.text for requirement in plan.requirements)


# stack → (the role that builds its features, roles that have no work in it)
STACK_ROLES = {
    "c": ("firmware", {"backend", "frontend", "mobile"}),
    "kotlin": ("mobile", {"frontend", "firmware"}),
    "flutter": ("mobile", {"frontend", "firmware"}),
    "go": ("backend", {"frontend", "mobile", "firmware"}),
    "rust": ("backend", {"frontend", "mobile", "firmware"}),
    "sql": ("data", {"backend", "frontend", "mobile", "firmware"}),
}


@pytest.mark.parametrize("stack", list(STACK_ROLES))
async def test_the_roles_fit_the_work_of_the_stack(ctx: ServiceContext, stack: str) -> None:
    goal = list(STACK_GOALS)[list(STACK_ROLES).index(stack)]
    constraint, _ = STACK_GOALS[goal]
    mission = await create_mission(
        ctx, data=MissionCreate(goal=goal, constraints=[constraint]), actor=ACTOR
    )
    await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner())
    plan = await read_plan(ctx, mission_id=mission.id)
    builds, foreign = STACK_ROLES[stack]

    roles = {task.role for task in plan.tasks}
    assert builds in roles
    assert not roles & foreign, f"{stack} plan has {sorted(roles & foreign)} tasks"
