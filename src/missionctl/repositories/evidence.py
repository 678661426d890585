"""Reads that set the step runs' stored outputs beside what the chain says of them (ADR 0098).

A step's terminal events (succeeded, failed, retry scheduled, reused) carry the digest of the
outputs written to its row at that moment; the newest such event of a step vouches for the row
as it must stand now. A run whose ``run.created`` says ``output_digests`` was recorded with
digests from its start, so a row of it with outputs and no digest was written outside the
engine.
"""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Event, StepRun
from missionctl.domain import events as ev
from missionctl.domain.events import OUTPUT_DIGESTS_KEY, OUTPUTS_DIGEST_KEY

DIGEST_EVENTS = (ev.STEP_SUCCEEDED, ev.STEP_FAILED, ev.STEP_RETRY_SCHEDULED, ev.STEP_REUSED)
"""The events that write a step's outputs to its row, and so carry their digest."""

_BATCH = 5000


@dataclass(frozen=True, slots=True)
class Vouched:
    """The newest digest the chain holds for one step's outputs, and the event that holds it."""

    seq: int
    digest: str


@dataclass(frozen=True, slots=True)
class StoredOutputs:
    """A step run's outputs as its row holds them."""

    run_id: uuid.UUID
    step_id: str
    status: str
    outputs: dict[str, Any]


def _scoped(query: Select[Any], column: Any, run_id: uuid.UUID | None) -> Select[Any]:
    return query if run_id is None else query.where(column == run_id)


async def read_vouched_outputs(
    session: AsyncSession, *, run_id: uuid.UUID | None = None
) -> dict[tuple[uuid.UUID, str], Vouched]:
    """``(run_id, step_id) →`` the newest digest of the step's outputs in the chain.

    Events recorded before digests existed carry none and vouch for nothing.
    """
    query = _scoped(
        select(Event.seq, Event.run_id, Event.step_id, Event.payload)
        .where(Event.type.in_(DIGEST_EVENTS))
        .order_by(Event.seq),
        Event.run_id,
        run_id,
    )
    vouched: dict[tuple[uuid.UUID, str], Vouched] = {}
    async for seq, run, step, payload in await session.stream(
        query.execution_options(yield_per=_BATCH)
    ):
        digest = (payload or {}).get(OUTPUTS_DIGEST_KEY)
        if run is not None and step is not None and isinstance(digest, str):
            vouched[(run, step)] = Vouched(seq, digest)
    return vouched


async def read_runs_with_digests(
    session: AsyncSession, *, run_id: uuid.UUID | None = None
) -> set[uuid.UUID]:
    """The runs recorded with output digests from their creation on."""
    query = _scoped(
        select(Event.run_id, Event.payload).where(Event.type == ev.RUN_CREATED),
        Event.run_id,
        run_id,
    )
    covered: set[uuid.UUID] = set()
    async for run, payload in await session.stream(query.execution_options(yield_per=_BATCH)):
        if run is not None and (payload or {}).get(OUTPUT_DIGESTS_KEY) is True:
            covered.add(run)
    return covered


async def read_stored_outputs(
    session: AsyncSession, *, run_id: uuid.UUID | None = None
) -> AsyncIterator[StoredOutputs]:
    """Every step run's outputs (of one run when given), in batches."""
    query = _scoped(
        select(StepRun.run_id, StepRun.step_id, StepRun.status, StepRun.outputs).order_by(
            StepRun.run_id, StepRun.step_id
        ),
        StepRun.run_id,
        run_id,
    )
    async for run, step, status, outputs in await session.stream(
        query.execution_options(yield_per=_BATCH)
    ):
        yield StoredOutputs(run, step, str(status), dict(outputs or {}))
