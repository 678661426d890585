"""The invariants every test database must keep."""

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from missionctl.repositories.execution import ACTIVE_STEP_STATUSES
from missionctl.services import ServiceContext

ENDED_RUN_STATUSES = frozenset({"completed", "failed", "canceled", "aborted"})


async def assert_consistent(context: ServiceContext, *, verify_chain: bool = True) -> None:
    """Every run replays to its stored state with no unfinished step once ended; the chain verifies
    and vouches for every step's stored outputs.

    Run after every test that had a database: a state change written without its event, or an
    event without its state change, fails the test that caused it (the run's events no longer
    replay to its stored state); so does a run that ended (refused by its budget, canceled,
    aborted, failed) with a step left waiting, queued, running or awaiting approval.
    """
    from sqlalchemy import select

    from missionctl.db.models import Run
    from missionctl.services.usecases.audit import verify_event_chain
    from missionctl.services.usecases.evidence import check_outputs
    from missionctl.services.usecases.runs import replay_run

    async with context.read() as session:
        run_ids = list((await session.scalars(select(Run.id))).all())
    for run_id in run_ids:
        replayed, stored = await replay_run(context, run_id=run_id)
        assert replayed == stored, f"run {run_id}: replay {replayed} != stored {stored}"
        if stored.status in ENDED_RUN_STATUSES:
            unfinished = {
                step_id: step.status
                for step_id, step in stored.steps.items()
                if step.status in ACTIVE_STEP_STATUSES
            }
            assert not unfinished, f"run {run_id} is {stored.status} with steps {unfinished}"
    if verify_chain:
        report = await verify_event_chain(context)
        assert report.ok, str(report)
        # Every step's stored outputs hash to the digest its newest terminal event recorded.
        outputs = await check_outputs(context)
        assert outputs.ok, str(outputs)
    async with context.read() as session:
        kept, stepped = await usage_sums(session)
    assert kept == stepped, "usage_days with its deltas differs from step_runs"
    await assert_decision_links(context)


async def assert_decision_links(context: ServiceContext) -> None:
    """A decision is superseded exactly while another decision of its mission supersedes it.

    Every link stays within one mission, and no chain of links comes back to where it started
    (ADR 0051).
    """
    from sqlalchemy import select

    from missionctl.db.models import Decision

    async with context.read() as session:
        rows = (
            await session.execute(
                select(Decision.id, Decision.mission_id, Decision.status, Decision.supersedes_id)
            )
        ).all()
    missions = {row.id: row.mission_id for row in rows}
    links = {row.id: row.supersedes_id for row in rows}
    targets = {t for t in links.values() if t is not None}
    for row in rows:
        assert (row.status == "superseded") == (row.id in targets), f"decision {row.id}"
        if row.supersedes_id is not None:
            assert missions[row.supersedes_id] == row.mission_id, f"decision {row.id}"
        seen, current = set(), row.supersedes_id
        while current is not None:
            assert current not in seen and current != row.id, f"cycle through {row.id}"
            seen.add(current)
            current = links[current]


async def usage_sums(session: Any) -> tuple[dict[Any, list[int]], dict[Any, list[int]]]:
    """The usage per (UTC day, agent, model) as the database keeps it, and as the steps add up.

    The second is summed here from the rows of ``step_runs``, dated in Python, so that it
    checks the triggers rather than repeats them; groups that sum to nothing are left out.
    """
    from sqlalchemy import select

    from missionctl.db.models import StepRun, UsageDay, UsageDelta

    def add(sums: dict[Any, list[int]], key: Any, figures: Sequence[int]) -> None:
        total = sums.setdefault(key, [0, 0, 0, 0])
        for i, value in enumerate(figures):
            total[i] += value

    kept: dict[Any, list[int]] = {}
    for table in (UsageDay, UsageDelta):
        for row in await session.execute(
            select(
                table.day,
                table.agent,
                table.model,
                table.steps,
                table.input_tokens,
                table.output_tokens,
                table.cost_micros,
            )
        ):
            add(kept, (row[0], row[1], row[2]), row[3:])
    stepped: dict[Any, list[int]] = {}
    for s in (await session.scalars(select(StepRun))).all():
        dated = s.ended_at or s.started_at
        if dated is None:
            continue
        figures = (
            1,
            s.input_tokens + s.earlier_input_tokens,
            s.output_tokens + s.earlier_output_tokens,
            s.cost_micros + s.earlier_cost_micros,
        )
        add(stepped, (dated.astimezone(UTC).date(), s.agent, s.model or ""), figures)
    nothing = [0, 0, 0, 0]
    return (
        {k: v for k, v in kept.items() if v != nothing},
        {k: v for k, v in stepped.items() if v != nothing},
    )
