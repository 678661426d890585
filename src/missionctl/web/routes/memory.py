"""The Memory page: search what finished missions decided, risked and learned (ADR 0055).

The query and kind are those of ``GET /api/v1/memory`` and live in the URL. For htmx (typing,
filtering, paging) only the ``results`` block is rendered. A query that cannot be searched
shows why beside the box, with a 422.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from missionctl.domain.memory import MemoryKind
from missionctl.errors import Problem, ValidationFailed
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import memory as memory_service
from missionctl.web.deps import Context, Fragment, P, requires
from missionctl.web.search_answers import search_or_problems
from missionctl.web.templating import list_url, render

PAGE = "pages/memory.html"
PAGE_SIZE = 20

router = APIRouter(route_class=GuardedRoute)

# Longer than any query memory accepts, so that the page says what is wrong with one.
Text = Annotated[str, Query(max_length=20_000)]
ShortText = Annotated[str, Query(max_length=64)]


@router.get("/memory", dependencies=[requires(P.MISSIONS_READ)])
async def memory_page(
    request: Request,
    ctx: Context,
    fragment: Fragment,
    q: Text = "",
    kind: ShortText = "",
    cursor: ShortText = "",
) -> Response:
    """The search box and, for a query, the missions that match, most relevant first."""
    params = {"q": q, "kind": kind}
    context: dict[str, Any] = {
        "params": params,
        "kinds": list(MemoryKind),
        "cursor": cursor,
        "mode": memory_service.mode(),
    }
    status_code = 200
    if q.strip() or kind:
        # The kind is read inside the search: a wrong one is shown beside the box too.
        page, status_code = await search_or_problems(
            lambda: memory_service.search_memory(
                ctx, q=q, kind=_kind(kind), limit=PAGE_SIZE, cursor=cursor or None
            ),
            context,
            fragment=fragment,
        )
        if page is not None:
            context["next_url"] = list_url("/memory", **params, cursor=page.next_cursor)
            context["first_url"] = list_url("/memory", **params)
    block = "results" if fragment else None
    return render(request, PAGE, context, block=block, status_code=status_code)


def _kind(kind: str) -> MemoryKind | None:
    """The kind from the URL (empty: any).

    Raises:
        ValidationFailed: not a kind (named).
    """
    if not kind:
        return None
    if kind not in MemoryKind.__members__:
        names = ", ".join(MemoryKind.__members__)
        raise ValidationFailed([Problem("kind", f"must be one of {names}")])
    return MemoryKind(kind)
