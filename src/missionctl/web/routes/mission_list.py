"""The missions page: the list (search, status filter, paging) and the "New mission" form.

Every route answers a plain browser with a whole page and htmx with only the blocks it swaps, so
the page works with JavaScript off. The blocks of ``pages/missions.html``:

- ``list_update``: the list, plus the header count and the live stream's element (whose URL
  carries the new filters) as ``<hx-partial>`` elements (filtering, paging);
- ``list_live``: the list and the count as ``<hx-partial>`` elements (the live stream's
  messages, ``web/live_lists.py``);
- ``mission_form``: the form alone, kept as typed and with its errors (a 422 answer).

A valid form creates the mission, plans it and opens its page: htmx follows ``HX-Location``
(the page is fetched and swapped in, no reload), a plain browser a 303.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sse_starlette import EventSourceResponse
from starlette.status import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_CONTENT

from missionctl.domain.states import MissionStatus
from missionctl.errors import ValidationFailed
from missionctl.schemas.dashboard import MissionRowPage
from missionctl.schemas.missions import (
    CONSTRAINT_MAX_CHARS,
    GOAL_MAX_CHARS,
    NO_NUL_PATTERN,
    REPO_CONTEXT_MAX_CHARS,
    TITLE_MAX_CHARS,
)
from missionctl.security.guard import GuardedRoute
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import Runtime
from missionctl.services.usecases import dashboard, launch
from missionctl.web.deps import MAX_SEQ, Context, Fragment, P, RuntimeDep, WriteMissions, requires
from missionctl.web.forms import (
    FieldErrors,
    MissionFilters,
    MissionForm,
    errors_from_problems,
    errors_from_validation,
)
from missionctl.web.live_lists import MISSION_LIST_EVENTS, list_stream
from missionctl.web.templating import list_url, open_page, render, render_fragment

PAGE = "pages/missions.html"
PAGE_SIZE = 50
MISSIONS_URL = "/missions"

router = APIRouter(route_class=GuardedRoute)


@router.get("/", dependencies=[requires(P.MISSIONS_READ)])
async def home() -> RedirectResponse:
    """Send visitors of the root to the missions page (303, so a reload stays a GET)."""
    return RedirectResponse(MISSIONS_URL, status_code=HTTP_303_SEE_OTHER)


SearchText = Annotated[str, Query(max_length=200, pattern=NO_NUL_PATTERN)]
StatusText = Annotated[str, Query(max_length=32)]
CursorText = Annotated[str, Query(max_length=64)]


@router.get(MISSIONS_URL, dependencies=[requires(P.MISSIONS_READ)])
async def missions_page(
    request: Request,
    ctx: Context,
    runtime: RuntimeDep,
    fragment: Fragment,
    q: SearchText = "",
    status: StatusText = "",
    cursor: CursorText = "",
) -> Response:
    """The missions page; for htmx, only the list (and the count) for the filters and page asked.

    The list stays live: its stream (``/missions/stream``) carries the same filters and page.

    Raises:
        ValidationFailed: ``cursor`` is not one this page issued (the app answers 422).
    """
    filters = MissionFilters(q=q, status=status)
    after = await dashboard.read_head_seq(ctx)  # before the list: see read_head_seq
    page = await _read_rows(ctx, filters, cursor)
    context = _context(
        page=page, filters=filters, form=MissionForm(), cursor=cursor, model=_model(runtime)
    )
    context["stream_url"] = _stream_url(filters, cursor, after)
    return render(request, PAGE, context, block="list_update" if fragment else None)


@router.get(f"{MISSIONS_URL}/stream", dependencies=[requires(P.MISSIONS_READ)])
async def missions_stream(
    request: Request,
    ctx: Context,
    q: SearchText = "",
    status: StatusText = "",
    cursor: CursorText = "",
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
) -> EventSourceResponse:
    """The missions list's live stream: the list (same filters and page) after each change.

    Raises:
        ValidationFailed: ``cursor`` is not one this page issued (422, before the stream).
    """
    filters = MissionFilters(q=q, status=status)

    async def render_list() -> str:
        page = await _read_rows(ctx, filters, cursor)
        context = _context(
            page=page, filters=filters, form=MissionForm(), cursor=cursor, model=None
        )
        return render_fragment(PAGE, "list_live", context)

    return await list_stream(
        ctx, request, after=after, render_list=render_list, prefixes=MISSION_LIST_EVENTS
    )


async def _read_rows(ctx: ServiceContext, filters: MissionFilters, cursor: str) -> MissionRowPage:
    return await dashboard.read_mission_rows(
        ctx, limit=PAGE_SIZE, cursor=cursor or None, status=filters.status_filter, q=filters.query
    )


def _stream_url(filters: MissionFilters, cursor: str, after: int) -> str:
    """The list's stream, for the filters and page shown, after the event ``after``."""
    return list_url(
        f"{MISSIONS_URL}/stream",
        q=filters.q,
        status=filters.status,
        cursor=cursor,
        after=str(after),
    )


@router.post(MISSIONS_URL)
async def create_mission(
    request: Request,
    ctx: Context,
    runtime: RuntimeDep,
    who: WriteMissions,
    fragment: Fragment,
    form: Annotated[MissionForm, Form()],
) -> Response:
    """Create a mission from the form, plan it, and open its page.

    On invalid input nothing is stored: htmx gets the form again with a message beside each
    field at fault, a plain browser the whole page with them (422). A planner that fails does
    not lose the mission: its page says why planning failed; a planner that asks questions
    instead leaves them on the page, with a box for each answer.
    """
    model = _model(runtime)
    errors: FieldErrors = {}
    try:
        data = form.to_create()
    except ValidationError as exc:
        errors = errors_from_validation(exc)
    if engine_error := form.engine_error(model is not None):
        errors["engine"] = engine_error
    if not errors:
        planner = launch.planner_for(runtime, use_model=form.uses_model(model is not None))
        try:
            mission = await launch.launch_mission(ctx, data=data, actor=who.actor, planner=planner)
        except ValidationFailed as exc:
            errors = errors_from_problems(exc.problems)
        else:
            url = f"{MISSIONS_URL}/{mission.id}"
            if fragment:
                return Response(status_code=200, headers={"HX-Location": open_page(url)})
            return RedirectResponse(url, status_code=HTTP_303_SEE_OTHER)

    unprocessable = HTTP_422_UNPROCESSABLE_CONTENT
    if fragment:
        context = _context(
            page=None, filters=MissionFilters(), form=form, errors=errors, model=model
        )
        return render(request, PAGE, context, block="mission_form", status_code=unprocessable)
    after = await dashboard.read_head_seq(ctx)
    page = await dashboard.read_mission_rows(ctx, limit=PAGE_SIZE)
    context = _context(page=page, filters=MissionFilters(), form=form, errors=errors, model=model)
    context["stream_url"] = _stream_url(MissionFilters(), "", after)
    return render(request, PAGE, context, status_code=unprocessable)


def _model(runtime: Runtime) -> str | None:
    """The configured model's name, or ``None`` (the form then offers the local engine only)."""
    return runtime.llm.model if runtime.llm is not None else None


def _context(
    *,
    page: MissionRowPage | None,
    filters: MissionFilters,
    form: MissionForm,
    model: str | None,
    errors: FieldErrors | None = None,
    cursor: str = "",
) -> dict[str, Any]:
    errors = errors or {}
    return {
        "page": page,
        "filters": filters,
        "cursor": cursor,
        "statuses": list(MissionStatus),
        "form": form,
        "errors": errors,
        "model": model,
        "first_error": next((name for name in MissionForm.FIELDS if name in errors), None),
        "limits": {
            "goal": GOAL_MAX_CHARS,
            "title": TITLE_MAX_CHARS,
            "constraint": CONSTRAINT_MAX_CHARS,
            "repo_context": REPO_CONTEXT_MAX_CHARS,
        },
    }
