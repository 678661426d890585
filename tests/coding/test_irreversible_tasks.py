"""A plan's irreversible task waits for an approver when its step can change things (a coding
step), and runs ungated, saying why, when its step only writes documents."""

from pathlib import Path

from missionctl.domain import events as ev
from missionctl.planning.compile import DOCUMENTS_ONLY_REASON
from missionctl.schemas.plans import PlanDraft
from missionctl.services import ServiceContext
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.services.usecases.plans import plan_mission, run_mission
from tests.coding.helpers import (
    FixedPlanner,
    allow_coding,
    branches,
    coding_agents,
    coding_mission,
    make_repository,
    plan_task,
)
from tests.engine.helpers import run_events, running_engine, wait_for_step

PLAN = PlanDraft.model_validate(
    {
        "summary": "Cut over, then take the old database away.",
        "requirements": [{"key": "R1", "text": "The old database is gone."}],
        "tasks": [
            plan_task("inventory", "architect", "List what uses the database."),
            plan_task("checks", "qa", "Write the checks.", "inventory"),
            plan_task("cutover", "release", "Write the cutover runbook.", "checks")
            | {"risk_tier": "irreversible"},
            plan_task("decommission", "devops", "Drop it.\n\n@write gone.md: gone", "cutover")
            | {"risk_tier": "irreversible"},
        ],
    }
)
WAITS = (
    "waits for approval: the plan marks the task irreversible and coding:scripted can change "
    "more than documents"
)


async def test_an_irreversible_coding_task_waits_and_a_document_task_says_why_it_did_not(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    # The coder's program is allowed at ``read``: only the plan's tier can make the step wait.
    await allow_coding(ctx, repo)
    mission = await coding_mission(ctx, repo, "Retire the old customer database")
    await plan_mission(ctx, mission_id=mission.id, actor="user:test", planner=FixedPlanner(PLAN))
    run = await run_mission(ctx, mission_id=mission.id, actor="user:test")
    async with running_engine(ctx, agents=coding_agents(tmp_path)):
        await wait_for_step(ctx, run.id, "cutover", "succeeded", within_s=30)
        await wait_for_step(ctx, run.id, "decommission", "awaiting_approval", within_s=30)
        assert branches(repo) == []  # nothing ran on the repository before the approval
        events = await run_events(ctx, run.id)
        [requested] = [e for e in events if e.type == ev.APPROVAL_REQUESTED]
        assert requested.step_id == "decommission"
        assert str(requested.payload["reason"]).startswith(WAITS + "; ")
        queued = {e.step_id: e.payload for e in events if e.type == ev.STEP_QUEUED}
        assert queued["cutover"]["approval_reason"] == DOCUMENTS_ONLY_REASON
        assert "approval_reason" not in queued["decommission"]  # its approval says it
        [pending] = [a for a in await list_approvals(ctx) if a.run_id == run.id]
        await decide_approval(ctx, ref=pending.id, approve=True, actor="user:approver")
        # Approved, it runs; its merge then waits as every merge does.
        await wait_for_step(ctx, run.id, "decommission-merge", "awaiting_approval", within_s=30)
    assert len(branches(repo)) == 1
