"""Ten coding steps on one repository at once: none corrupts another, nothing is left behind."""

import dataclasses
from pathlib import Path

from missionctl.services import ServiceContext
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
from tests.engine.helpers import FAST, running_engine, start, wait_for_run

TEN = [f"task{n}" for n in range(10)]


async def test_ten_coding_steps_and_their_merges_run_in_parallel_on_one_repository(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    steps = [
        coding_step(name, f"@sleep 0.2\n@write src/{name}.txt: written by {name}", repo)
        for name in TEN
    ] + [merge_step(name, gated=False) for name in TEN]
    run = await start(ctx, steps)
    config = dataclasses.replace(FAST, concurrency=20)
    async with running_engine(ctx, config, agents=coding_agents(tmp_path)):
        done = await wait_for_run(ctx, run.id, within_s=120)
    assert done.status == "completed", [(s.step_id, s.error) for s in done.steps if s.error]
    coding = [s for s in done.steps if s.step_id in TEN]
    # They overlapped: every step started before the first of them finished.
    first_end = min(s.ended_at for s in coding if s.ended_at)
    assert all(s.started_at and s.started_at < first_end for s in coding)
    assert git(repo, "fsck", "--strict", "--no-progress") == ""
    assert worktrees(repo) == [str(repo)]
    assert branches(repo) == []
    assert sorted(p.name for p in (repo / "src").iterdir()) == [f"{n}.txt" for n in TEN]
    merges = git(repo, "log", "--merges", "--format=%s", "main").splitlines()
    assert len(merges) == 10
    assert git(repo, "status", "--porcelain") == ""
