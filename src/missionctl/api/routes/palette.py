"""``/api/v1/palette``: the command palette's one search over places and actions (ADR 0062)."""

from typing import Annotated

from fastapi import APIRouter, Query

from missionctl.api.deps import Context, Identity, P, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.domain.palette import MAX_QUERY_CHARS
from missionctl.schemas.palette import PalettePage
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import palette as palette_service

router = APIRouter(
    route_class=GuardedRoute, prefix="/palette", tags=["palette"], responses=ERROR_RESPONSES
)


# Every signed-in role may search; what each source returns is filtered by the caller's own
# permissions in the service (a viewer gets places, never actions).
@router.get("", response_model=PalettePage)
async def search_palette(
    ctx: Context,
    who: Annotated[Identity, requires(P.MISSIONS_READ)],
    q: Annotated[
        str,
        Query(
            max_length=MAX_QUERY_CHARS,
            description='A few letters of a name, in order (`bilpg` finds "billing page"); '
            "words separated by spaces must all match. Blank: the newest of each kind.",
        ),
    ] = "",
    limit: Annotated[
        int, Query(ge=1, le=palette_service.MAX_LIMIT, description="How many items, best first.")
    ] = palette_service.DEFAULT_LIMIT,
) -> PalettePage:
    """Places and the actions the caller may take, best match of `q` first.

    Missions, runs, workflows, agents, workers, schedules and pages, and the actions the
    caller's role allows (none for a viewer), ranked by a fuzzy match of `q`: whole name,
    prefix, word start, substring, initials, then letters in order. A run is found by its
    mission's title or its workflow's name.

    422 names the field: `q` over the limit or with too many words, `limit` out of range.
    """
    return await palette_service.search_palette(ctx, who=who, q=q, limit=limit)
