"""The Search page: full-text search over step log lines, errors and run events (ADR 0041).

The query and filters are those of ``GET /api/v1/search`` and live in the URL (bookmarks,
Back). For htmx (typing, filtering, paging) only the ``results`` block is rendered. A query
that cannot be searched shows why beside the box, with a 422.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from missionctl.domain.search import SearchKind
from missionctl.errors import Problem, ValidationFailed
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import search as search_service
from missionctl.web.deps import Context, Fragment, P, requires
from missionctl.web.search_answers import search_or_problems
from missionctl.web.templating import list_url, render

PAGE = "pages/search.html"
PAGE_SIZE = 50

router = APIRouter(route_class=GuardedRoute)

# Longer than any query the search accepts, so that the page says what is wrong with one
# rather than answering a bare 422.
Text = Annotated[str, Query(max_length=20_000)]
ShortText = Annotated[str, Query(max_length=64)]


def _filters(
    kind: str, run_id: str, mission_id: str
) -> tuple[SearchKind | None, uuid.UUID | None, uuid.UUID | None]:
    """The filters from the URL (empty means any).

    Raises:
        ValidationFailed: a filter is not a kind or an id, named.
    """
    problems: list[Problem] = []
    chosen: SearchKind | None = None
    if kind:
        if kind not in SearchKind.__members__:
            problems.append(Problem("kind", "must be log, error or event"))
        else:
            chosen = SearchKind(kind)
    ids: list[uuid.UUID | None] = []
    for name, value in (("run_id", run_id), ("mission_id", mission_id)):
        try:
            ids.append(uuid.UUID(value) if value else None)
        except ValueError:
            problems.append(Problem(name, "is not an id; copy it from the run's page"))
    if problems:
        raise ValidationFailed(problems)
    return chosen, ids[0], ids[1]


@router.get("/search", dependencies=[requires(P.RUNS_READ)])
async def search_page(
    request: Request,
    ctx: Context,
    fragment: Fragment,
    q: Text = "",
    kind: ShortText = "",
    run_id: ShortText = "",
    mission_id: ShortText = "",
    cursor: ShortText = "",
) -> Response:
    """The search box and, for a query, its results newest first with their matches marked.

    Raises:
        ValidationFailed: a filter is malformed (a 422 page naming it).
    """
    chosen, run, mission = _filters(kind, run_id, mission_id)
    params = {"q": q, "kind": kind, "run_id": run_id, "mission_id": mission_id}
    context: dict[str, Any] = {"params": params, "kinds": list(SearchKind), "cursor": cursor}
    status_code = 200
    if q.strip():
        page, status_code = await search_or_problems(
            lambda: search_service.search(
                ctx,
                q=q,
                kind=chosen,
                run_id=run,
                mission_id=mission,
                limit=PAGE_SIZE,
                cursor=cursor or None,
            ),
            context,
            fragment=fragment,
        )
        if page is not None:
            context["older_url"] = list_url("/search", **params, cursor=page.next_cursor)
            context["newest_url"] = list_url("/search", **params)
    block = "results" if fragment else None
    return render(request, PAGE, context, block=block, status_code=status_code)
