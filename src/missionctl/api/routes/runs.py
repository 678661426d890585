"""``/api/v1/runs``: the list of runs, with its filters.

The other routes of a run (read, cancel, retry a step, rerun, its state and its events) are made
from their declarations in ``missionctl.operations.runs``.
"""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BeforeValidator

from missionctl.api.declared import add_route
from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.domain.states import RunStatus
from missionctl.operations.runs import OPERATIONS
from missionctl.schemas.missions import NO_NUL_PATTERN
from missionctl.schemas.paging import ID_CURSOR
from missionctl.schemas.runs import (
    RUN_FILTER_TEXT_MAX_CHARS,
    RunFilters,
    RunPage,
    not_a_number,
)
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import dashboard
from missionctl.services.usecases.paging import MAX_PAGE_SIZE

router = APIRouter(route_class=GuardedRoute, tags=["runs"], responses=ERROR_RESPONSES)

FilterText = Annotated[
    str | None, Query(max_length=RUN_FILTER_TEXT_MAX_CHARS, pattern=NO_NUL_PATTERN)
]


@router.get("/runs", response_model=RunPage, dependencies=[requires(P.RUNS_READ)])
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


for operation in OPERATIONS:
    add_route(router, operation)
