"""Orchestration's own success on histories whose answers are known (ADR 0116).

The figures over days and weeks are checked on hand-built facts (``domain.orchestration``);
the reading of those facts on a history made through the product itself: runs that complete,
fail, are retried and rerun by a person, a merge rejected by an approver, missions whose plan
runs or does not. Every figure is counted by hand from the lists below.
"""

from datetime import date

import pytest
from sqlalchemy import update

from missionctl.db.models import StepRun
from missionctl.domain.orchestration import (
    Bootstrap,
    EndedRun,
    MissionStart,
    bootstrap,
    bootstrap_by_bucket,
    clean_runs,
    clean_runs_by_bucket,
    clean_runs_by_workflow,
)
from missionctl.errors import ValidationFailed
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.orchestration import ask_orchestration
from missionctl.services.usecases.runs import rerun_from_failure, retry_step
from tests.engine.helpers import running_engine, start, step, wait_for_run
from tests.web.support import start_steps

MONDAY = date(2026, 11, 2)


def _day(offset: int) -> date:
    return date.fromordinal(MONDAY.toordinal() + offset)


def test_clean_runs_are_counted_per_week_and_per_workflow_from_hand_built_facts() -> None:
    runs = [
        EndedRun(_day(1), "deploy", completed=True),  # clean
        EndedRun(_day(2), "deploy", completed=True, fix_ups=frozenset({"retried"})),
        EndedRun(_day(3), "deploy", completed=False, fix_ups=frozenset({"rerun"})),
        EndedRun(_day(8), "deploy", completed=True, fix_ups=frozenset({"rerun"})),
        EndedRun(_day(9), "deploy", completed=True, fix_ups=frozenset({"merge_rejected"})),
        EndedRun(_day(10), "nightly", completed=True),  # clean
        EndedRun(_day(11), "nightly", completed=False),
    ]
    total = clean_runs(runs)
    assert (total.ended, total.clean, total.share) == (7, 2, 2 / 7)
    assert total.fixes == {"retried": 1, "rerun": 2, "merge_rejected": 1}
    weeks = clean_runs_by_bucket(runs, MONDAY, _day(20), "week")
    assert [(start, f.ended, f.clean) for start, f in weeks] == [
        (_day(0), 3, 1),
        (_day(7), 4, 1),
        (_day(14), 0, 0),  # a week with nothing ended: no share, not 0 %
    ]
    assert weeks[-1][1].share is None
    days = clean_runs_by_bucket(runs, MONDAY, _day(3), "day")
    assert [f.ended for _, f in days] == [0, 1, 1, 1]
    by_workflow = [(name, f.ended, f.clean) for name, f in clean_runs_by_workflow(runs)]
    assert by_workflow == [("deploy", 5, 1), ("nightly", 2, 1)]


def test_time_to_bootstrap_is_the_median_and_p90_of_the_missions_that_started() -> None:
    starts = [
        MissionStart(_day(0), 6.0),
        MissionStart(_day(1), 48.0),
        MissionStart(_day(8), None),  # its plan never ran
        MissionStart(_day(9), 1.0),
        MissionStart(_day(9), 2.0),
        MissionStart(_day(9), 3.0),
        MissionStart(_day(9), 10.0),
    ]
    weeks = bootstrap_by_bucket(starts, MONDAY, _day(13), "week")
    assert [f for _, f in weeks] == [
        Bootstrap(missions=2, bootstrapped=2, median_hours=27.0, p90_hours=48.0),
        Bootstrap(missions=5, bootstrapped=4, median_hours=2.5, p90_hours=10.0),
    ]
    assert bootstrap([]) == Bootstrap()
    assert bootstrap([MissionStart(MONDAY, None)]) == Bootstrap(missions=1)


async def test_the_figures_read_a_history_made_through_the_product(ctx: ServiceContext) -> None:
    async with running_engine(ctx):
        clean = await start(ctx, [step("build")], name="deploy")
        failing = await start(ctx, [step("build", "builtin:fail")], name="deploy")
        await wait_for_run(ctx, failing.id)
        await retry_step(ctx, run_id=failing.id, step_id="build", actor="user:ops")
        await wait_for_run(ctx, failing.id)
        rerun = await rerun_from_failure(ctx, run_id=failing.id, actor="user:ops")
        gated = await start(
            ctx, [step("ship", "builtin:noop", risk_tier="irreversible")], name="deploy"
        )
        [waiting] = [a for a in await list_approvals(ctx) if a.run_id == gated.id]
        # The gated step stands for a merge: what the figures look for is the rejection of a
        # git:merge step, whatever the step would have merged.
        async with ctx.write() as session:
            await session.execute(
                update(StepRun).where(StepRun.run_id == gated.id).values(agent="git:merge")
            )
        await decide_approval(ctx, ref=waiting.id, approve=False, actor="user:lead", reason="no")
        nightly = await start(ctx, [step("build")], name="nightly")
        planned = await create_mission(
            ctx, data=MissionCreate(goal="Ship a changelog page"), actor="user:pm"
        )
        mission_run = await start_steps(ctx, planned.id, [step("build")])
        await create_mission(ctx, data=MissionCreate(goal="Never started"), actor="user:pm")
        for run in (clean, rerun, gated, nightly, mission_run):
            await wait_for_run(ctx, run.id)

    answer = await ask_orchestration(ctx, grain="day")
    total = answer.clean_runs
    # Ended: clean, failing (retried, rerun), rerun (a rerun), gated (merge rejected), nightly,
    # the mission's run. Clean: clean, nightly and the mission's run.
    assert (total.ended, total.clean) == (6, 3)
    assert total.fixes == {"retried": 1, "rerun": 2, "merge_rejected": 1}
    deploy = next(w for w in answer.clean_runs_by_workflow if w.workflow == "deploy")
    assert (deploy.ended, deploy.clean) == (4, 1)
    assert answer.clean_runs_by_bucket[-1].ended == 6  # today's
    boot = answer.bootstrap
    assert (boot.missions, boot.bootstrapped) == (2, 1)
    assert boot.median_hours is not None and 0 <= boot.median_hours < 1

    nightly_only = await ask_orchestration(ctx, segment="workflow:nightly")
    assert (nightly_only.clean_runs.ended, nightly_only.bootstrap.missions) == (1, 0)
    for segment in ("role:admin", "planner:local"):
        with pytest.raises(ValidationFailed) as refused:
            await ask_orchestration(ctx, segment=segment)
        assert [p.field for p in refused.value.problems] == ["segment"]


async def test_an_empty_range_answers_zeros_and_no_shares(ctx: ServiceContext) -> None:
    answer = await ask_orchestration(ctx, since="2026-01-05", until="2026-01-11")
    assert (answer.clean_runs.ended, answer.clean_runs.share) == (0, None)
    assert (answer.bootstrap.missions, answer.bootstrap.median_hours) == (0, None)
    assert [b.share for b in answer.clean_runs_by_bucket] == [None]
