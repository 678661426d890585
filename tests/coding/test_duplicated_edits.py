"""Duplicated edits counted from real coding steps' diffs (ADR 0117).

The scripted coder changes a real repository; the orchestration follower reads each coding
step's diff artifact and counts the lines an earlier coding step of the same mission (or of the
same run, outside a mission) had changed. Every figure below is counted by hand from the orders.
"""

from pathlib import Path

import pytest

from missionctl.services import ServiceContext
from missionctl.services.usecases.orchestration import ask_orchestration
from tests.coding.helpers import (
    allow_coding,
    coding_agents,
    coding_step,
    make_repository,
    merge_step,
)
from tests.engine.helpers import running_engine, start, wait_for_run


# The follower's reads and the grouped figures are SQL: both databases, though in `coding/`.
@pytest.mark.both_databases
async def test_lines_two_coding_steps_changed_are_counted_once_per_repeat(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    steps = [
        # alpha and beta start from the same tree and both rewrite line 2: the second of the
        # two recorded repeats its removal of "line 2".
        coding_step("alpha", "@line app.txt 2: alpha was here", repo),
        coding_step("beta", "@line app.txt 2: beta was here", repo),
        merge_step("alpha", gated=False),
        # delta starts after alpha is merged and rewrites what alpha wrote.
        coding_step("delta", "@line app.txt 2: delta was here", repo, "alpha-merge"),
        # gamma touches nothing the others do; its one line is all new.
        coding_step("gamma", "@write docs/gamma.md: notes by gamma", repo),
    ]
    shared = await start(ctx, steps, name="shared-tree")
    # Another run, outside any mission, rewrites line 2 too: it is compared with nothing.
    alone = await start(
        ctx, [coding_step("solo", "@line app.txt 2: solo was here", repo)], name="solo-run"
    )
    async with running_engine(ctx, agents=coding_agents(tmp_path)):
        for run in (shared, alone):
            done = await wait_for_run(ctx, run.id, within_s=60)
            assert done.status == "completed", [(s.step_id, s.status, s.error) for s in done.steps]

    answer = await ask_orchestration(ctx, grain="day")
    edits = answer.duplicated_edits
    # alpha: -"line 2" +"alpha was here"; beta: -"line 2" +"beta was here"; delta: -"alpha
    # was here" +"delta was here"; gamma: +"notes by gamma"; solo: -"line 2" +"solo was here".
    assert (edits.steps, edits.lines) == (5, 9)
    assert (edits.duplicated, edits.steps_repeating) == (2, 2)
    assert edits.share == round(2 / 9, 4)
    by_workflow = {
        w.workflow: (w.steps, w.lines, w.duplicated) for w in answer.duplicated_edits_by_workflow
    }
    assert by_workflow == {"shared-tree": (4, 7, 2), "solo-run": (1, 2, 0)}
    assert answer.duplicated_edits_by_bucket[-1].duplicated == 2  # today's
