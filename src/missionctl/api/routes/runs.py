"""``/api/v1/runs``: list, read, cancel, retry a step, rerun from the failure, events."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import BeforeValidator

from missionctl.api.deps import Context, Identity, P, requires
from missionctl.api.errors import CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.domain.states import RunStatus
from missionctl.schemas.missions import NO_NUL_PATTERN
from missionctl.schemas.paging import ID_CURSOR
from missionctl.schemas.replay import RunStateRead
from missionctl.schemas.runs import (
    RUN_FILTER_TEXT_MAX_CHARS,
    EventPage,
    RunFilters,
    RunPage,
    RunRead,
    not_a_number,
)
from missionctl.schemas.workflows import STEP_ID_PATTERN
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import dashboard
from missionctl.services.usecases import runs as run_service
from missionctl.services.usecases.audit import read_run_event_page
from missionctl.services.usecases.paging import MAX_PAGE_SIZE
from missionctl.services.usecases.replay import read_run_state

router = APIRouter(
    route_class=GuardedRoute, prefix="/runs", tags=["runs"], responses=ERROR_RESPONSES
)

# Event seqs are a signed 64-bit BIGINT: a larger cursor cannot name an event, and the
# databases refuse to compare the column with it (a 500 instead of an empty page).
MAX_SEQ = 2**63 - 1


Control = Annotated[Identity, requires(P.RUNS_CONTROL)]
FilterText = Annotated[
    str | None, Query(max_length=RUN_FILTER_TEXT_MAX_CHARS, pattern=NO_NUL_PATTERN)
]


@router.get("", response_model=RunPage, dependencies=[requires(P.RUNS_READ)])
async def list_runs(
    ctx: Context,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[
        str | None,
        Query(
            max_length=64,
            description="`next_cursor` of the previous page",
            json_schema_extra={"pattern": ID_CURSOR},
        ),
    ] = None,
    status: Annotated[RunStatus | None, Query()] = None,
    mission_id: Annotated[uuid.UUID | None, Query(description="Runs of this mission")] = None,
    workflow: Annotated[FilterText, Query(description="Workflow name (any version)")] = None,
    agent: Annotated[
        FilterText, Query(description="Runs with a step of this agent, e.g. `command`")
    ] = None,
    created_after: Annotated[
        datetime | None,
        Query(description="Created at or after (ISO 8601; UTC if no zone)"),
        BeforeValidator(not_a_number),
    ] = None,
    created_before: Annotated[
        datetime | None,
        Query(description="Created before (ISO 8601; UTC if no zone)"),
        BeforeValidator(not_a_number),
    ] = None,
    q: Annotated[
        FilterText, Query(description="Text in the workflow name, mission title or run error")
    ] = None,
) -> RunPage:
    """List runs, newest first, with keyset paging; the filters combine with AND.

    422 names the field at fault: an unknown status (with the allowed values), a malformed
    id, `created_after` later than `created_before`, a cursor this list did not issue.
    """
    filters = RunFilters(
        status=status,
        mission_id=mission_id,
        workflow=workflow,
        agent=agent,
        created_after=created_after,
        created_before=created_before,
        q=q,
    )
    return await dashboard.read_runs(ctx, filters=filters, limit=limit, cursor=cursor)


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
async def rerun(
    run_id: uuid.UUID,
    ctx: Context,
    who: Control,
    from_step: Annotated[
        str | None,
        Query(
            pattern=STEP_ID_PATTERN,
            description="Rerun from this step: it and every step downstream of it run again, "
            "the other steps that succeeded are reused (any ended run). Without it: rerun "
            "from the failure (a failed, canceled or aborted run).",
        ),
    ] = None,
) -> RunRead:
    """A new run that reuses what succeeded and runs the rest again.

    404 names `from_step` when the run's workflow has no such step; 409 when the run has not
    ended, or its mission cannot run again.
    """
    return await run_service.rerun_from_failure(
        ctx, run_id=run_id, actor=who.actor, from_step=from_step
    )


@router.get(
    "/{run_id}/state",
    response_model=RunStateRead,
    dependencies=[requires(P.RUNS_READ)],
    responses=CONFLICT_RESPONSES,
)
async def run_state(
    run_id: uuid.UUID,
    ctx: Context,
    at: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_SEQ,
            description="An event seq: the run as it was just after that event (default: the "
            "run's last event; past its last event: its final state).",
        ),
    ] = None,
) -> RunStateRead:
    """The run rebuilt from its events as of one of them: statuses, attempts, usage, errors.

    Steps show their inputs once started and their stored final outputs once succeeded; the
    approval decisions made so far are listed. 422 names `at` when it is not a seq, 409 when it
    comes before the run's first event.
    """
    return await read_run_state(ctx, run_id=run_id, at=at)


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
    return await read_run_event_page(ctx, run_id=run_id, after=after, limit=limit)
