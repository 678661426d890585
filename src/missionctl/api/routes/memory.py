"""``/api/v1/memory``: search what finished missions decided, risked and learned (ADR 0055)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.api.refusals import refusals
from missionctl.domain.memory import MemoryKind
from missionctl.domain.refusals import SEARCH_RULE
from missionctl.domain.search import MAX_QUERY_CHARS
from missionctl.schemas.memory import MemoryPage, SimilarMission
from missionctl.schemas.paging import MEMORY_CURSOR
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import memory as memory_service
from missionctl.services.usecases import memory_recall
from missionctl.services.usecases.memory import MAX_PAGE

router = APIRouter(route_class=GuardedRoute, tags=["memory"], responses=ERROR_RESPONSES)


@router.get(
    "/memory",
    response_model=MemoryPage,
    dependencies=[requires(P.MISSIONS_READ)],
    openapi_extra=refusals({"q": SEARCH_RULE}),
)
async def search_memory(
    ctx: Context,
    q: Annotated[
        str,
        Query(
            max_length=MAX_QUERY_CHARS,
            description='Words (all must match, on their stems), "quoted phrases" and '
            "prefixes (`pay*`).",
        ),
    ],
    kind: Annotated[MemoryKind | None, Query(description="Only this kind of text")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    cursor: Annotated[
        str | None,
        Query(
            max_length=64,
            description="`next_cursor` of the previous page",
            json_schema_extra={"pattern": MEMORY_CURSOR},
        ),
    ] = None,
) -> MemoryPage:
    """Search the finished missions' summaries, decisions, risks, lessons and documents.

    Missions come most relevant first, each with its outcome, cost, lessons and the texts
    that matched, matches marked. 422 names the field at fault: a query with no word, too
    long, with too many terms or too short a prefix (the message says how to fix it), an
    unknown kind, a cursor this search did not issue.
    """
    return await memory_service.search_memory(ctx, q=q, kind=kind, limit=limit, cursor=cursor)


@router.get(
    "/missions/{mission_id}/similar",
    response_model=list[SimilarMission],
    dependencies=[requires(P.MISSIONS_READ)],
)
async def similar_missions(ctx: Context, mission_id: uuid.UUID) -> list[SimilarMission]:
    """The finished missions most like this one, with outcome, cost and lessons (404: none).

    Empty once the mission itself is finished.
    """
    return await memory_recall.similar_missions(ctx, mission_id=mission_id)
