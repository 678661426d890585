"""A mission that names a repository runs its code tasks as coding steps, prompted by its pack."""

from pathlib import Path

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
    git,
    make_repository,
    plan_task,
    worktrees,
)
from tests.engine.helpers import running_engine, wait_for_run, wait_for_step

PLAN = PlanDraft.model_validate(
    {
        "summary": "Three code tasks and a review.",
        "requirements": [{"key": "R1", "text": "The app says hello."}],
        "tasks": [
            plan_task("greeting", "backend", "Change the greeting.\n\n@line app.txt 1: hello"),
            plan_task("farewell", "frontend", "Change it too.\n\n@line app.txt 1: goodbye"),
            plan_task("notes", "data", "Write notes.\n\n@write notes.md: data notes"),
            plan_task("review", "qa", "Review the result.", "greeting", "notes"),
        ],
    }
)


async def test_a_missions_code_tasks_become_coding_steps_with_gated_merges(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    mission = await coding_mission(ctx, repo, "Make the app greet people")
    assert mission.repository is not None and mission.repository.agent == "coding:scripted"
    await plan_mission(ctx, mission_id=mission.id, actor="user:test", planner=FixedPlanner(PLAN))
    run = await run_mission(ctx, mission_id=mission.id, actor="user:test")
    agents = {s.step_id: s.agent for s in run.steps}
    assert agents == {
        "greeting": "coding:scripted",
        "greeting-merge": "git:merge",
        "farewell": "coding:scripted",
        "farewell-merge": "git:merge",
        "notes": "coding:scripted",
        "notes-merge": "git:merge",
        "review": "builtin:qa",
    }
    async with running_engine(ctx, agents=coding_agents(tmp_path)):
        for name in ("greeting", "farewell", "notes"):
            await wait_for_step(ctx, run.id, f"{name}-merge", "awaiting_approval", within_s=30)
        pending = {a.step_id: a for a in await list_approvals(ctx) if a.run_id == run.id}
        assert len(branches(repo)) == 3
        assert "+hello" in pending["greeting-merge"].diff.text  # type: ignore[union-attr]
        for name in ("greeting", "notes"):
            await decide_approval(
                ctx, ref=pending[f"{name}-merge"].id, approve=True, actor="user:approver"
            )
        # The review depends on the merges, so it starts from the merged code.
        await wait_for_step(ctx, run.id, "review", "succeeded", within_s=30)
        await decide_approval(
            ctx, ref=pending["farewell-merge"].id, approve=True, actor="user:approver"
        )
        done = await wait_for_run(ctx, run.id, within_s=30)
    steps = {s.step_id: s for s in done.steps}
    assert "conflicts in app.txt" in (steps["farewell-merge"].error or "")
    assert (repo / "app.txt").read_text().splitlines()[0] == "hello"
    assert (repo / "notes.md").read_text() == "data notes\n"
    assert worktrees(repo) == [str(repo)]
    # The prompt was the task's file of the execution pack, the step's orders within it.
    logged = git(repo, "log", "--format=%s", "main")
    assert "Task greeting" in logged
