"""The usage sums by day, agent and model follow every change of a step (revision 0016).

Step rows are written here directly, as no engine would (any day, any order, deletes), so the
triggers meet every kind of change; the runs they belong to have no events, so these tests
open their own context instead of the ``ctx`` fixture, whose replay check such runs would
fail. Each comparison sums ``step_runs`` in Python (``tests/support/consistency.usage_sums``).
"""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Run, StepRun, UsageDelta, Workflow
from missionctl.repositories import costs as repo
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.costs import fold_usage, usage_folder
from missionctl.settings import Settings
from tests.support.consistency import usage_sums

DAY0 = datetime(2026, 3, 28, 22, 30, tzinfo=UTC)  # near midnight: moves cross days
AGENTS = ("llm:backend", "builtin:noop", "command", "llm:ünïcødé-" + "x" * 180)
MODELS = (None, "gpt-4.1", "claude-sonnet-4")


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[ServiceContext]:
    async with open_context(settings) as context:
        yield context


async def insert_bare_run(session: AsyncSession) -> uuid.UUID:
    """A workflow and a running run of it, with no step and no event; the run's id."""
    workflow_id, run_id = uuid.uuid4(), uuid.uuid4()
    workflow = {"name": f"wf-{run_id}", "version": 1, "definition": {}, "created_by": "user:test"}
    await session.execute(insert(Workflow), [{"id": workflow_id, **workflow}])
    run = {"trigger": "api", "status": "running", "created_by": "user:test"}
    await session.execute(insert(Run), [{"id": run_id, "workflow_id": workflow_id, **run}])
    return run_id


async def _run(db: ServiceContext) -> uuid.UUID:
    async with db.write() as session:
        return await insert_bare_run(session)


def _moment(rng: random.Random) -> datetime:
    return DAY0 + timedelta(minutes=rng.randrange(-3 * 24 * 60, 3 * 24 * 60))


def _change(rng: random.Random) -> tuple[str, dict[str, Any]]:
    """One random change to a step row: what it is, and its values."""
    kind = rng.choice(["start", "end", "spend", "retry", "model", "reopen", "delete"])
    values: dict[str, Any] = {}
    if kind == "start":
        values = {"started_at": _moment(rng), "status": "running"}
    elif kind == "end":
        values = {"ended_at": _moment(rng), "status": "succeeded"}
    elif kind == "spend":
        values = {
            "input_tokens": rng.randrange(0, 10**12),
            "output_tokens": rng.randrange(0, 5000),
            "cost_micros": rng.randrange(0, 10**9),
        }
    elif kind == "retry":  # what claiming a step again does: usage moves to earlier_*
        values = {
            "earlier_input_tokens": StepRun.earlier_input_tokens + StepRun.input_tokens,
            "earlier_output_tokens": StepRun.earlier_output_tokens + StepRun.output_tokens,
            "earlier_cost_micros": StepRun.earlier_cost_micros + StepRun.cost_micros,
            "input_tokens": 0,
            "output_tokens": 0,
            "cost_micros": 0,
            "ended_at": None,
            "status": "queued",
        }
    elif kind == "model":
        values = {"model": rng.choice(MODELS), "agent": rng.choice(AGENTS)}
    elif kind == "reopen":
        # As a rerun does; a step without an end is queued or running (the windowed reads
        # rely on it).
        values = {
            "ended_at": None,
            "started_at": rng.choice([None, _moment(rng)]),
            "status": "running",
        }
    return kind, values


async def _apply(db: ServiceContext, rng: random.Random, run_id: uuid.UUID, n: int) -> None:
    async with db.write() as session:
        ids = list((await session.scalars(select(StepRun.id))).all())
        if not ids or rng.random() < 0.3:
            started = rng.choice([None, _moment(rng)])
            await session.execute(
                insert(StepRun),
                [
                    {
                        "id": uuid.uuid4(),
                        "run_id": run_id,
                        "step_id": f"s{n}",
                        "status": "queued",
                        "agent": rng.choice(AGENTS),
                        "model": rng.choice(MODELS),
                        "started_at": started,
                        "input_tokens": rng.randrange(0, 100),
                        "cost_micros": rng.randrange(0, 100),
                    }
                ],
            )
            return
        target = rng.choice(ids)
        kind, values = _change(rng)
        if kind == "delete":
            await session.execute(delete(StepRun).where(StepRun.id == target))
        else:
            await session.execute(update(StepRun).where(StepRun.id == target).values(**values))


async def _assert_exact(db: ServiceContext) -> None:
    async with db.read() as session:
        kept, stepped = await usage_sums(session)
        assert kept == stepped
        kept_pairs = sorted(await repo.all_usage_by_agent_and_model(session), key=str)
        step_pairs = sorted(
            (
                p
                for p in await repo.usage_by_agent_and_model(session, scope=repo.CostFilter())
                if any(p[2:])
            ),
            key=str,
        )
        assert kept_pairs == step_pairs
        first, end = date(2026, 3, 24), date(2026, 4, 3)
        days = await repo.all_usage_by_day(session, first=first, end=end)
        series = repo.CostFilter(
            since=datetime(2026, 3, 24, tzinfo=UTC), until=datetime(2026, 4, 3, tzinfo=UTC)
        )
        hours = await repo.usage_over_time(session, scope=series, bucket="day")
    as_day = [(str(r.start)[:10], *map(int, r[1:])) for r in days]
    assert as_day == [(str(r.start)[:10], *map(int, r[1:])) for r in hours]


async def test_the_sums_follow_every_change_of_a_step(db: ServiceContext) -> None:
    rng = random.Random(20261123)
    run_id = await _run(db)
    for n in range(160):
        await _apply(db, rng, run_id, n)
        if n % 40 == 39:
            await fold_usage(db)
        if n % 20 == 19:
            await _assert_exact(db)
    async with db.read() as session:
        steps = (await session.execute(select(func.count()).select_from(StepRun))).scalar_one()
    assert steps > 10  # the sequence kept some rows to compare


async def test_folding_leaves_no_delta_and_changes_no_sum(db: ServiceContext) -> None:
    rng = random.Random(5)
    run_id = await _run(db)
    for n in range(30):
        await _apply(db, rng, run_id, n)
    async with db.read() as session:
        before, _ = await usage_sums(session)
    assert await fold_usage(db) > 0
    assert await fold_usage(db) == 0  # nothing left: nothing written
    async with db.read() as session:
        after, stepped = await usage_sums(session)
        left = (await session.execute(select(func.count()).select_from(UsageDelta))).scalar()
    assert left == 0 and before == after == stepped


async def test_folds_beside_writers_lose_and_double_nothing(db: ServiceContext) -> None:
    """Folds race each other and the writes that make deltas; the sums stay exact."""
    run_id = await _run(db)
    rngs = [random.Random(seed) for seed in range(4)]

    async def writer(k: int) -> None:
        for n in range(25):
            await _apply(db, rngs[k], run_id, 1000 * k + n)

    async def folder() -> None:
        for _ in range(10):
            await fold_usage(db)
            await asyncio.sleep(0)

    await asyncio.gather(*(writer(k) for k in range(3)), folder(), folder())
    await _assert_exact(db)
    await fold_usage(db)
    await _assert_exact(db)


async def test_the_server_folds_the_deltas_as_they_come(db: ServiceContext) -> None:
    run_id = await _run(db)
    rng = random.Random(9)
    async with usage_folder(db, every_s=0.05):
        for n in range(10):
            await _apply(db, rng, run_id, n)
        for _ in range(100):
            async with db.read() as session:
                left = (
                    await session.execute(select(func.count()).select_from(UsageDelta))
                ).scalar()
            if left == 0:
                break
            await asyncio.sleep(0.05)
    assert left == 0
    await _assert_exact(db)


async def test_the_check_fails_when_a_change_goes_uncounted(db: ServiceContext) -> None:
    """Without the update trigger a spend goes missing, and the comparison says so."""
    run_id = await _run(db)
    rng = random.Random(1)
    await _apply(db, rng, run_id, 0)
    postgresql = db.db.engine.dialect.name == "postgresql"
    async with db.write() as session:
        await session.execute(
            text("DROP TRIGGER step_runs_usage_update" + (" ON step_runs" if postgresql else ""))
        )
        await session.execute(
            update(StepRun).values(started_at=DAY0, cost_micros=StepRun.cost_micros + 7)
        )
    async with db.read() as session:
        kept, stepped = await usage_sums(session)
    assert kept != stepped
