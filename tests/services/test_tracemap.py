"""The traceability map of stored missions, on both databases: a local plan is fully traced,
a planted gap is found, and after a run each task's artifacts appear under it."""

import dataclasses
import uuid

import pytest

from missionctl.errors import Conflict, NotFound
from missionctl.planning import LocalPlanner
from missionctl.planning.base import PlannerResult, PlanningInput
from missionctl.schemas.missions import MissionCreate, MissionRead
from missionctl.schemas.plans import PlanRequirement
from missionctl.schemas.register import RiskEdit
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import build_agents
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.plans import plan_mission, run_mission
from missionctl.services.usecases.risk_register import edit_risk, read_register
from missionctl.services.usecases.tracemap import read_trace, to_trace_read
from tests.engine.helpers import running_engine, wait_for_run

GOAL = "Build a URL shortener with click analytics and custom aliases"
ACTOR = "user:test"


class GappedPlanner:
    """The local planner's plan, with one requirement no task traces and one task tracing none.

    ``text`` replaces the untraced requirement's text (hostile-label tests).
    """

    def __init__(self, text: str = "Links can be exported as CSV") -> None:
        self.text = text

    async def plan(self, mission: PlanningInput) -> PlannerResult:
        result = await LocalPlanner().plan(mission)
        draft = result.draft
        tasks = [draft.tasks[0].model_copy(update={"traces": []}), *draft.tasks[1:]]
        extra = PlanRequirement(key="R999", text=self.text)
        changed = draft.model_copy(
            update={"tasks": tasks, "requirements": [*draft.requirements, extra]}
        )
        return dataclasses.replace(result, draft=changed)


async def planned(
    ctx: ServiceContext, planner: object | None = None, goal: str = GOAL
) -> MissionRead:
    mission = await create_mission(ctx, data=MissionCreate(goal=goal), actor=ACTOR)
    await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=planner or LocalPlanner())  # type: ignore[arg-type]
    return mission


async def test_a_local_plan_traces_every_requirement_and_says_nothing_of_artifacts_unrun(
    ctx: ServiceContext,
) -> None:
    mission = await planned(ctx)
    trace = await read_trace(ctx, mission_id=mission.id)
    read = to_trace_read(trace)
    requirements = [n for n in read.nodes if n.kind == "requirement"]
    assert requirements and all(n.status == "traced" for n in requirements)
    assert not [
        g
        for g in read.gaps
        if g.kind in ("untraced_requirement", "task_traces_nothing", "no_artifact")
    ]
    assert read.runs == 0 and read.plan_version == 1
    assert {n.kind for n in read.nodes} >= {"goal", "requirement", "task"}


async def test_a_planted_gap_is_found_and_the_filter_keeps_one_path(ctx: ServiceContext) -> None:
    mission = await planned(ctx, GappedPlanner())
    read = to_trace_read(await read_trace(ctx, mission_id=mission.id))
    kinds = {(g.kind, g.item) for g in read.gaps}
    assert ("untraced_requirement", "requirement:R999") in kinds
    first_task = next(n for n in read.nodes if n.kind == "task")
    assert ("task_traces_nothing", first_task.id) in kinds
    assert next(n for n in read.nodes if n.id == "requirement:R999").gap
    narrowed = to_trace_read(await read_trace(ctx, mission_id=mission.id, requirement="R1"))
    assert {n.id for n in narrowed.nodes if n.kind == "requirement"} == {"requirement:R1"}
    with pytest.raises(NotFound) as unknown:
        await read_trace(ctx, mission_id=mission.id, requirement="R77")
    assert unknown.value.field == "requirement"


async def test_unknown_unplanned_and_missing_versions_are_refused(ctx: ServiceContext) -> None:
    with pytest.raises(NotFound) as unknown:
        await read_trace(ctx, mission_id=uuid.uuid4())
    assert unknown.value.field == "mission_id"
    draft = await create_mission(ctx, data=MissionCreate(goal=GOAL), actor=ACTOR)
    with pytest.raises(Conflict, match="plan it first"):
        await read_trace(ctx, mission_id=draft.id)
    mission = await planned(ctx)
    with pytest.raises(NotFound) as missing:
        await read_trace(ctx, mission_id=mission.id, plan_version=4)
    assert missing.value.field == "plan_version"


async def test_after_a_run_artifacts_appear_under_their_tasks(ctx: ServiceContext) -> None:
    mission = await planned(ctx)
    run = await run_mission(ctx, mission_id=mission.id, actor=ACTOR)
    async with running_engine(ctx, agents=build_agents(None)):
        finished = await wait_for_run(ctx, run.id, within_s=60)
    assert finished.status == "completed", finished
    read = to_trace_read(await read_trace(ctx, mission_id=mission.id))
    assert read.runs == 1
    tasks = {n.id for n in read.nodes if n.kind == "task"}
    produced = [e for e in read.edges if e.kind == "produced"]
    assert produced and all(e.source in tasks for e in produced)
    statuses = {n.status for n in read.nodes if n.kind == "task"}
    assert statuses == {"succeeded"}
    unproduced = [g.item for g in read.gaps if g.kind == "no_artifact"]
    assert set(unproduced) == tasks - {e.source for e in produced}


async def test_a_risk_unlinked_from_its_tasks_is_a_gap_until_linked_again_or_closed(
    ctx: ServiceContext,
) -> None:
    """The planner links each risk's mitigation tasks, so a fresh plan has no risk gap; the
    register's links draw ``mitigates`` edges, and a closed risk needs none."""
    mission = await planned(ctx)
    read = to_trace_read(await read_trace(ctx, mission_id=mission.id))
    assert read.gaps == []
    risks = (await read_register(ctx, mission_id=mission.id)).risks
    risk = next(r for r in risks if r.severity in {"high", "critical"})
    assert risk.mitigation_tasks and risk.owner

    edit = RiskEdit(version=risk.version, mitigation_tasks=[])
    risk = await edit_risk(ctx, mission_id=mission.id, risk_id=risk.id, actor=ACTOR, edit=edit)
    gaps = to_trace_read(await read_trace(ctx, mission_id=mission.id)).gaps
    assert [g.kind for g in gaps] == ["unmitigated_risk"] and risk.title in gaps[0].message

    task = (await read_trace(ctx, mission_id=mission.id)).plan.tasks[-1].key
    edit = RiskEdit(version=risk.version, mitigation_tasks=[task])
    risk = await edit_risk(ctx, mission_id=mission.id, risk_id=risk.id, actor=ACTOR, edit=edit)
    read = to_trace_read(await read_trace(ctx, mission_id=mission.id))
    assert read.gaps == []
    assert f"task:{task}" in [e.target for e in read.edges if e.kind == "mitigates"]

    edit = RiskEdit(version=risk.version, mitigation_tasks=[], status="closed")
    await edit_risk(ctx, mission_id=mission.id, risk_id=risk.id, actor=ACTOR, edit=edit)
    read = to_trace_read(await read_trace(ctx, mission_id=mission.id))
    assert read.gaps == []
