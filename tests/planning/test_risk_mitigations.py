"""A fresh local plan links every risk to the tasks that carry out its mitigation and names its
owner, so its traceability map opens with no gap the plan caused itself."""

import pytest

from missionctl.domain.tracemap import TraceInput, TraceRisk, TraceTask, find_gaps
from missionctl.planning.base import ClarificationNeeded, PlanningInput
from missionctl.planning.kinds import KINDS
from missionctl.planning.local import LocalPlanner
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.plans import PlanDraft
from missionctl.services import ServiceContext
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.plans import plan_mission
from missionctl.services.usecases.tracemap import read_trace
from tests.planning.goal_sets import held_out_lines, tuning_missions

MISSIONS = tuning_missions() + [line.mission for line in held_out_lines()]


async def _draft(mission: PlanningInput) -> PlanDraft:
    return (await LocalPlanner().plan(mission)).draft


def _gaps(draft: PlanDraft) -> list[str]:
    data = TraceInput(
        goal="",
        requirements=(),
        tasks=[TraceTask(t.key, t.title, t.description, tuple(t.traces)) for t in draft.tasks],
        risks=[
            TraceRisk(r.title, r.description, r.severity, tuple(r.mitigation_tasks) or None)
            for r in draft.risks
        ],
    )
    return [g.message for g in find_gaps(data) if g.kind == "unmitigated_risk"]


def test_every_kind_names_a_mitigating_task_of_its_own_for_each_risk() -> None:
    for kind in KINDS:
        keys = {task.key for task in kind.tasks}
        for risk in kind.risks:
            assert risk.mitigated_by, f"{kind.key}: {risk.title}"
            assert set(risk.mitigated_by) <= keys, f"{kind.key}: {risk.title}"


async def test_no_plan_of_either_half_opens_with_an_unmitigated_risk() -> None:
    planned = 0
    for mission in MISSIONS:
        try:
            draft = await _draft(mission)
        except ClarificationNeeded:  # the planner asks first (a goal in French, say)
            continue
        planned += 1
        assert _gaps(draft) == [], mission.goal
        roles = {task.key: task.role for task in draft.tasks}
        for risk in draft.risks:
            assert risk.mitigation_tasks, (mission.goal, risk.title)
            assert risk.owner == roles[risk.mitigation_tasks[0]]
    assert planned > 0.9 * len(MISSIONS)


@pytest.mark.parametrize(
    ("goal", "trait_role"),
    [
        (
            "A web portal where a dental practice's patients see their x-rays; HIPAA applies",
            "security",
        ),
        ("An Android app where hikers record trails and it works offline in the mountains", None),
    ],
)
async def test_a_traits_risk_is_mitigated_by_the_task_tracing_its_requirement(
    goal: str, trait_role: str | None
) -> None:
    draft = await _draft(PlanningInput(title=goal[:60], goal=goal))
    roles = {task.key: task.role for task in draft.tasks}
    for risk in draft.risks:
        assert risk.mitigation_tasks and risk.owner == roles[risk.mitigation_tasks[0]]
    if trait_role:
        regulated = next(r for r in draft.risks if "regulated data" in r.title.lower())
        assert roles[regulated.mitigation_tasks[0]] == trait_role
        assert regulated.severity in {"high", "critical"} and regulated.owner == "security"


async def test_the_stored_plans_trace_map_has_no_gap_before_a_run(ctx: ServiceContext) -> None:
    goal = "A Go API for a bike-sharing operator where riders unlock bikes; GDPR applies"
    mission = await create_mission(ctx, data=MissionCreate(goal=goal), actor="user:test")
    await plan_mission(ctx, mission_id=mission.id, actor="user:test", planner=LocalPlanner())
    trace = await read_trace(ctx, mission_id=mission.id)
    assert [g.message for g in trace.map.gaps] == []
    assert all(r.owner for r in trace.plan.risks)
