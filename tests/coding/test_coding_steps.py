"""Coding steps work in worktrees of their own; merges wait for an approver who sees the diff."""

import asyncio
from pathlib import Path

import pytest

from missionctl.errors import ValidationFailed
from missionctl.services import ServiceContext
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.services.usecases.artifacts import read_artifacts
from tests.coding.helpers import (
    allow_coding,
    branches,
    coding_agents,
    coding_step,
    git,
    make_repository,
    merge_step,
    worktrees,
)
from tests.engine.helpers import run_events, running_engine, start, wait_for_run, wait_for_step

APPROVER = "user:approver"


async def _pending(ctx: ServiceContext, run_id: object, count: int) -> dict[str, object]:
    """The run's pending approvals by step id, once there are ``count`` of them."""
    for _ in range(400):
        found = [a for a in await list_approvals(ctx) if a.run_id == run_id]
        if len(found) >= count:
            return {a.step_id: a for a in found}
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} approvals")


async def test_three_tasks_three_branches_diff_first_merges_and_a_reported_conflict(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    steps = [
        coding_step("alpha", "Change line two.\n@line app.txt 2: alpha was here", repo),
        coding_step("beta", "Also line two.\n@line app.txt 2: beta was here", repo),
        coding_step("gamma", "Write notes.\n@write docs/gamma.md: notes by gamma", repo),
        merge_step("alpha"),
        merge_step("beta"),
        merge_step("gamma"),
    ]
    run = await start(ctx, steps)
    async with running_engine(ctx, agents=coding_agents(tmp_path)):
        pending = await _pending(ctx, run.id, 3)
        assert sorted(branches(repo)) == sorted(
            f"missionctl/{run.id.hex[:8]}/{name}" for name in ("alpha", "beta", "gamma")
        )
        diffs = [a for a in await read_artifacts(ctx, run_id=run.id) if a.kind == "diff"]
        assert sorted(a.name for a in diffs) == ["alpha.diff", "beta.diff", "gamma.diff"]
        alpha = pending["alpha-merge"]
        assert alpha.diff is not None and alpha.diff.step_id == "alpha"
        assert "-line 2\n+alpha was here" in alpha.diff.text
        assert worktrees(repo) == [str(repo)], "each coding step removes its worktree"

        await decide_approval(ctx, ref=alpha.id, approve=True, actor=APPROVER)
        await wait_for_step(ctx, run.id, "alpha-merge", "succeeded")
        assert (repo / "app.txt").read_text().splitlines()[1] == "alpha was here"
        await decide_approval(ctx, ref=pending["gamma-merge"].id, approve=True, actor=APPROVER)
        await wait_for_step(ctx, run.id, "gamma-merge", "succeeded")
        await decide_approval(ctx, ref=pending["beta-merge"].id, approve=True, actor=APPROVER)
        done = await wait_for_run(ctx, run.id, within_s=30)
    by_id = {s.step_id: s for s in done.steps}
    assert done.status == "failed"
    beta = by_id["beta-merge"]
    assert beta.status == "failed" and "conflicts in app.txt" in (beta.error or "")
    assert beta.attempt == 1, "a conflict is reported, not retried"
    assert (repo / "docs" / "gamma.md").read_text() == "notes by gamma\n"
    assert (repo / "app.txt").read_text().splitlines()[1] == "alpha was here"
    assert branches(repo) == [f"missionctl/{run.id.hex[:8]}/beta"], "merged branches are gone"
    assert git(repo, "status", "--porcelain") == ""
    log = git(repo, "log", "--format=%s", "main")
    assert "Merge missionctl/" in log
    assert by_id["alpha"].outputs["files_changed"] == ["app.txt"]
    assert by_id["gamma"].outputs["insertions"] == 1


async def test_full_access_needs_a_confirmation_and_a_justification_on_record(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    run = await start(ctx, [coding_step("wide", "@write wide.txt: done", repo, mode="full-access")])
    async with running_engine(ctx, agents=coding_agents(tmp_path)):
        approval = (await _pending(ctx, run.id, 1))["wide"]
        with pytest.raises(ValidationFailed) as refused:
            await decide_approval(ctx, ref=approval.id, approve=True, actor=APPROVER)
        assert {p.field for p in refused.value.problems} == {"confirm_full_access", "justification"}
        with pytest.raises(ValidationFailed) as unjustified:
            await decide_approval(
                ctx, ref=approval.id, approve=True, actor=APPROVER, confirm_full_access=True
            )
        assert [p.field for p in unjustified.value.problems] == ["justification"]
        await decide_approval(
            ctx,
            ref=approval.id,
            approve=True,
            actor=APPROVER,
            confirm_full_access=True,
            justification="needs to regenerate the lock file",
        )
        done = await wait_for_run(ctx, run.id, within_s=30)
    assert done.status == "completed"
    queued = [e for e in await run_events(ctx, run.id) if e.type == "approval.approved"]
    assert queued[-1].payload["full_access"] == {
        "confirmed": True,
        "justification": "needs to regenerate the lock file",
    }
    assert queued[-1].actor == APPROVER


async def test_a_read_only_step_cannot_change_the_repository(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    orders = "@line app.txt 1: changed anyway"
    run = await start(ctx, [coding_step("look", orders, repo, mode="read-only")])
    async with running_engine(ctx, agents=coding_agents(tmp_path)):
        done = await wait_for_run(ctx, run.id, within_s=30)
    assert done.status == "failed"
    assert "Read-only file system" in (done.steps[0].error or "")
    assert (repo / "app.txt").read_text().startswith("line 1\n")
    assert worktrees(repo) == [str(repo)]


@pytest.mark.parametrize(
    ("inputs", "said"),
    [
        ({"base": "--upload-pack=touch /tmp/pwned"}, "is not a branch name"),
        ({"base": "no-such-branch"}, "has no branch 'no-such-branch'"),
        ({"approval_mode": "root"}, "approval_mode must be one of"),
        ({"prompt": None}, "nothing to do"),
    ],
)
async def test_hostile_or_wrong_inputs_fail_the_step_with_the_reason(
    ctx: ServiceContext, tmp_path: Path, inputs: dict[str, object], said: str
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    step = coding_step("bad", "@write x.txt: x", repo)
    step["inputs"] = {k: v for k, v in (step["inputs"] | inputs).items() if v is not None}
    run = await start(ctx, [step])
    async with running_engine(ctx, agents=coding_agents(tmp_path)):
        done = await wait_for_run(ctx, run.id, within_s=30)
    assert done.status == "failed"
    assert said in (done.steps[0].error or "")
    assert done.steps[0].attempt == 1
    assert not await asyncio.to_thread(Path("/tmp/pwned").exists)
    assert worktrees(repo) == [str(repo)] and branches(repo) == []
