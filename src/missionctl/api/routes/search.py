"""``/api/v1/search``: full-text search over step log lines, errors and run events' reasons."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.api.refusals import refusals
from missionctl.domain.refusals import SEARCH_RULE
from missionctl.domain.search import MAX_QUERY_CHARS, SearchKind
from missionctl.schemas.paging import SEARCH_CURSOR
from missionctl.schemas.search import SearchPage
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import search as search_service
from missionctl.services.usecases.paging import MAX_PAGE_SIZE

router = APIRouter(
    route_class=GuardedRoute, prefix="/search", tags=["search"], responses=ERROR_RESPONSES
)


@router.get(
    "",
    response_model=SearchPage,
    dependencies=[requires(P.RUNS_READ)],
    openapi_extra=refusals({"q": SEARCH_RULE}),
)
async def search(
    ctx: Context,
    q: Annotated[
        str,
        Query(
            max_length=MAX_QUERY_CHARS,
            description='Words (all must match), "quoted phrases" and prefixes (`conn*`).',
        ),
    ],
    kind: Annotated[SearchKind | None, Query(description="Only this kind of entry")] = None,
    run_id: Annotated[uuid.UUID | None, Query(description="Only this run's entries")] = None,
    mission_id: Annotated[
        uuid.UUID | None, Query(description="Only the entries of this mission's runs")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[
        str | None,
        Query(
            max_length=64,
            description="`next_cursor` of the previous page",
            json_schema_extra={"pattern": SEARCH_CURSOR},
        ),
    ] = None,
) -> SearchPage:
    """Search step log lines, errors and run events, newest first, matches highlighted.

    422 names the field at fault: a query with no word, too long, with too many terms or too
    short a prefix (the message says how to fix it), an unknown kind, a malformed id, a cursor
    this search did not issue.
    """
    return await search_service.search(
        ctx, q=q, kind=kind, run_id=run_id, mission_id=mission_id, limit=limit, cursor=cursor
    )
