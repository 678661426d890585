"""``/api/v1/runs``: read, cancel, retry a step, rerun from the failure, events."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel

from missionctl.api.deps import Context, Identity, P, requires
from missionctl.api.errors import CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.schemas.runs import RunRead
from missionctl.schemas.workflows import STEP_ID_PATTERN
from missionctl.services import runs as run_service
from missionctl.services.audit import read_run_events

router = APIRouter(prefix="/runs", tags=["runs"], responses=ERROR_RESPONSES)

# Event seqs are a signed 64-bit BIGINT: a larger cursor cannot name an event, and the
# databases refuse to compare the column with it (a 500 instead of an empty page).
MAX_SEQ = 2**63 - 1


class EventRead(BaseModel):
    """One event of the log."""

    seq: int
    ts: str
    type: str
    actor: str
    step_id: str | None
    payload: dict[str, Any]


class EventPage(BaseModel):
    """Events after a cursor, in order."""

    items: list[EventRead]
    next_after: int | None


Control = Annotated[Identity, requires(P.RUNS_CONTROL)]


@router.get("/{run_id}", response_model=RunRead, dependencies=[requires(P.RUNS_READ)])
async def get_run(run_id: uuid.UUID, ctx: Context) -> RunRead:
    """A run with its steps."""
    return await run_service.read_run(ctx, run_id=run_id)


@router.post("/{run_id}/cancel", response_model=RunRead, responses=CONFLICT_RESPONSES)
async def cancel_run(run_id: uuid.UUID, ctx: Context, who: Control) -> RunRead:
    """Cancel the run: no more dispatch; running steps are stopped (409 if it already ended)."""
    return await run_service.cancel_run(ctx, run_id=run_id, actor=who.actor)


@router.post(
    "/{run_id}/steps/{step_id}/retry", response_model=RunRead, responses=CONFLICT_RESPONSES
)
async def retry_step(
    run_id: uuid.UUID,
    step_id: Annotated[str, Path(pattern=STEP_ID_PATTERN)],
    ctx: Context,
    who: Control,
) -> RunRead:
    """Queue a failed step again; a failed run resumes (409 if the step has not failed)."""
    return await run_service.retry_step(ctx, run_id=run_id, step_id=step_id, actor=who.actor)


@router.post(
    "/{run_id}/rerun",
    status_code=status.HTTP_201_CREATED,
    response_model=RunRead,
    responses=CONFLICT_RESPONSES,
)
async def rerun(run_id: uuid.UUID, ctx: Context, who: Control) -> RunRead:
    """A new run that reuses what succeeded and runs the rest again."""
    return await run_service.rerun_from_failure(ctx, run_id=run_id, actor=who.actor)


@router.get("/{run_id}/events", response_model=EventPage, dependencies=[requires(P.AUDIT_READ)])
async def run_events(
    run_id: uuid.UUID,
    ctx: Context,
    after: Annotated[
        int, Query(ge=0, le=MAX_SEQ, description="Return events with seq > after")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> EventPage:
    """The run's events after a cursor (replay them to rebuild its state)."""
    records = await read_run_events(ctx, run_id=run_id, after_seq=after, limit=limit)
    items = [
        EventRead(
            seq=r.seq,
            ts=r.ts.isoformat(),
            type=r.type,
            actor=r.actor,
            step_id=r.step_id,
            payload=r.payload,
        )
        for r in records
    ]
    return EventPage(items=items, next_after=items[-1].seq if len(items) == limit else None)
