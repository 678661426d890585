"""Tasks carry the role of the work they are, and every role still reaches an agent.

Goals of this file's own, one per kind of work whose tasks used to go to a neighbour's role:
a device's features are firmware, an app's features mobile, a warehouse pipeline's features
data, an infrastructure plan's provisioning infrastructure. Each is planned through the
service and read back as stored; the new ``infrastructure`` role is then followed downstream:
the compiled workflow, the builtin specialist and the agent catalogue, coding steps, the
diagrams, the execution pack and a whole run on the engine.
"""

import pytest

from missionctl.agents.specialists import SPECIALIST_ROLES, SpecialistAgent
from missionctl.domain.coding import CODE_ROLES
from missionctl.planning import LocalPlanner, PlanningInput, build_local_plan
from missionctl.planning.compile import compile_plan, with_coding_steps
from missionctl.planning.diagrams import draw_local
from missionctl.planning.prompts import PLANNER_SYSTEM_PROMPT
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.plans import PlanRead
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import agent_is_known, known_agent_names
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.packs import build_pack
from missionctl.services.usecases.plans import plan_mission, read_plan
from tests.agents.test_specialists import documents, run_plan
from tests.services.helpers import run_goal

ACTOR = "user:test"
DEVICE = (
    "Write C firmware for an STM32 irrigation valve controller that reports soil readings over "
    "LoRaWAN, works offline for a week and logs valve openings"
)
APP = (
    "Build a Kotlin Android app for a community orchard with harvest sign-ups, GPX import of "
    "tree locations and push reminders"
)
PIPELINE = (
    "Build a BigQuery pipeline for a bike-share scheme that ingests dock events and forecasts "
    "daily demand per station"
)
LANDING_ZONE = (
    "Write OpenTofu modules for a two-region GCP landing zone with VPC peering and staging "
    "environments"
)

# goal → (the role of its feature tasks, roles that have no work in it)
ROLES = {
    DEVICE: ("firmware", {"backend", "data", "mobile", "frontend", "infrastructure"}),
    APP: ("mobile", {"data", "ml", "frontend", "firmware", "infrastructure"}),
    PIPELINE: ("data", {"backend", "ml", "frontend", "mobile", "firmware"}),
    LANDING_ZONE: ("infrastructure", {"backend", "data", "frontend", "mobile", "firmware"}),
}
IDS = ["firmware", "mobile", "data", "infrastructure"]


async def stored_plan(ctx: ServiceContext, goal: str) -> PlanRead:
    mission = await create_mission(ctx, data=MissionCreate(goal=goal), actor=ACTOR)
    await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner())
    return await read_plan(ctx, mission_id=mission.id)


def feature_tasks(plan: PlanRead) -> list[str]:
    """The roles of the tasks that trace a feature requirement."""
    features = {r.key for r in plan.requirements if r.kind == "feature"}
    return [t.role for t in plan.tasks if set(t.traces) & features and t.risk_tier == "write"]


@pytest.mark.parametrize("goal", list(ROLES), ids=IDS)
async def test_the_stored_plan_gives_each_task_the_role_of_its_work(
    ctx: ServiceContext, goal: str
) -> None:
    plan = await stored_plan(ctx, goal)
    builds, foreign = ROLES[goal]

    roles = {task.role for task in plan.tasks}
    assert not roles & foreign, f"{sorted(roles & foreign)} in {[t.key for t in plan.tasks]}"
    built = feature_tasks(plan)
    assert built and set(built) <= {builds, "security", "qa", "architect"}
    assert built.count(builds) >= 2


async def test_a_device_s_offline_sync_and_reports_are_firmware_work(ctx: ServiceContext) -> None:
    plan = await stored_plan(ctx, DEVICE)
    by_key = {task.key: task.role for task in plan.tasks}
    assert by_key["offline-sync"] == "firmware"
    assert by_key["soil-reading-reports"] == "firmware"  # "reports" is no data work here


async def test_an_infrastructure_plan_provisions_with_the_infrastructure_role(
    ctx: ServiceContext,
) -> None:
    plan = await stored_plan(ctx, LANDING_ZONE)
    by_key = {task.key: task for task in plan.tasks}
    for key in ("state-backend", "modules-core", "vpc-peering", "staging-environments"):
        assert by_key[key].role == "infrastructure", key
    assert by_key["vpc-peering"].title == "Set up VPC peering"

    # The pack tells the coding agent which role each task file is for.
    pack = await build_pack(ctx, mission_id=plan.mission_id)
    files = {f.path: f.content.decode() for f in pack.files}
    module_file = next(text for path, text in files.items() if "modules-core" in path)
    assert "role **infrastructure**" in module_file
    assert "infrastructure" in files["AGENTS.md"]


def test_the_infrastructure_role_routes_to_an_agent_everywhere_roles_are_listed() -> None:
    draft = build_local_plan(PlanningInput(title="Landing zone", goal=LANDING_ZONE))
    infra = [t.key for t in draft.tasks if t.role == "infrastructure"]

    steps = {step.id: step for step in compile_plan(draft, mission_title="Landing zone").steps}
    assert {steps[key].agent for key in infra} == {"builtin:infrastructure"}
    assert "infrastructure" in SPECIALIST_ROLES and "builtin:infrastructure" in known_agent_names()
    assert agent_is_known("builtin:infrastructure") and agent_is_known("llm:infrastructure")
    assert "infrastructure" in CODE_ROLES and ", infrastructure" in PLANNER_SYSTEM_PROMPT

    # With a repository and a coding agent, provisioning is code: a coding step and its merge.
    coded = with_coding_steps(list(steps.values()), draft, "coding:claude")
    by_id = {step.id: step for step in coded}
    assert by_id["modules-core"].agent == "coding:claude"
    assert "modules-core-merge" in by_id

    # The diagrams put the provisioning tasks on the infrastructure code and its environments.
    mission = PlanningInput(title="Landing zone", goal=LANDING_ZONE)
    drawn = draw_local(mission, draft, plan_version=1)
    code = next(c for c in drawn.architecture.components if c.key == "code")
    production = next(c for c in drawn.deployment.components if c.key == "prod")
    assert set(infra) <= set(code.tasks) and set(infra) <= set(production.tasks)


async def test_the_infrastructure_specialist_writes_an_implementation_specification() -> None:
    docs = documents(await run_plan(LANDING_ZONE))
    for task in ("modules-core", "vpc-peering"):
        spec = docs[f"{task}-implementation.md"]
        assert "**Role:** infrastructure" in spec
        assert "Remote state with locking, one state per environment" in spec
        assert "apply only from an approved plan" in spec
    assert SpecialistAgent("infrastructure").role == "infrastructure"


async def test_a_run_of_an_infrastructure_plan_ends_with_every_step_done(
    ctx: ServiceContext,
) -> None:
    done = await run_goal(ctx, MissionCreate(goal=LANDING_ZONE))

    assert done.status == "completed", done.error
    infra = [step for step in done.steps if step.agent == "builtin:infrastructure"]
    assert len(infra) >= 4 and all(step.status == "succeeded" for step in infra)
    assert all(step.outputs["documents"] for step in infra)
