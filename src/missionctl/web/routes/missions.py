"""The missions page: the list (search, status filter, paging) and the "New mission" form.

Every route answers a plain browser with a whole page and htmx with only the blocks it swaps, so
the page works with JavaScript off. The blocks of ``pages/missions.html``:

- ``list_update``: the list, plus the header count as an ``<hx-partial>`` (filtering, paging);
- ``mission_form``: the form alone, kept as typed and with its errors (a 422 answer);
- ``mission_created``: a blank form, the refreshed list, count and filters, and a toast.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.status import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_CONTENT

from missionctl.domain.states import MissionStatus
from missionctl.errors import ValidationFailed
from missionctl.schemas.missions import (
    CONSTRAINT_MAX_CHARS,
    GOAL_MAX_CHARS,
    REPO_CONTEXT_MAX_CHARS,
    TITLE_MAX_CHARS,
    MissionPage,
    MissionRead,
)
from missionctl.services import missions as mission_service
from missionctl.web.deps import Actor, Context, Fragment
from missionctl.web.forms import (
    FieldErrors,
    MissionFilters,
    MissionForm,
    errors_from_problems,
    errors_from_validation,
)
from missionctl.web.templating import render

PAGE = "pages/missions.html"
PAGE_SIZE = 50
MISSIONS_URL = "/missions"

router = APIRouter()


@router.get("/")
async def home() -> RedirectResponse:
    """Send visitors of the root to the missions page (303, so a reload stays a GET)."""
    return RedirectResponse(MISSIONS_URL, status_code=HTTP_303_SEE_OTHER)


@router.get(MISSIONS_URL)
async def missions_page(
    request: Request,
    ctx: Context,
    fragment: Fragment,
    q: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
    cursor: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The missions page; for htmx, only the list (and the count) for the filters and page asked.

    Raises:
        ValidationFailed: ``cursor`` is not one this page issued (the app answers 422).
    """
    filters = MissionFilters(q=q, status=status)
    page = await mission_service.read_missions(
        ctx,
        limit=PAGE_SIZE,
        cursor=cursor or None,
        status=filters.status_filter,
        q=filters.query,
    )
    context = _context(page=page, filters=filters, form=MissionForm(), cursor=cursor)
    return render(request, PAGE, context, block="list_update" if fragment else None)


@router.post(MISSIONS_URL)
async def create_mission(
    request: Request,
    ctx: Context,
    actor: Actor,
    fragment: Fragment,
    form: Annotated[MissionForm, Form()],
) -> Response:
    """Create a mission from the form.

    htmx gets a blank form, the list with the new mission first and a toast (200), or on invalid
    input the form again with a message beside each field at fault (422). A plain browser is
    redirected to the list (303), or gets the whole page with the errors (422). Nothing is stored
    when the input is invalid.
    """
    errors: FieldErrors
    try:
        mission = await mission_service.create_mission(ctx, data=form.to_create(), actor=actor)
    except ValidationError as exc:
        errors = errors_from_validation(exc)
    except ValidationFailed as exc:
        errors = errors_from_problems(exc.problems)
    else:
        if not fragment:
            return RedirectResponse(MISSIONS_URL, status_code=HTTP_303_SEE_OTHER)
        page = await mission_service.read_missions(ctx, limit=PAGE_SIZE)
        context = _context(page=page, filters=MissionFilters(), form=MissionForm(), created=mission)
        # The list now shows every mission again, so the address bar must not keep old filters.
        headers = {"HX-Replace-Url": MISSIONS_URL}
        return render(request, PAGE, context, block="mission_created", headers=headers)

    unprocessable = HTTP_422_UNPROCESSABLE_CONTENT
    if fragment:
        context = _context(page=None, filters=MissionFilters(), form=form, errors=errors)
        return render(request, PAGE, context, block="mission_form", status_code=unprocessable)
    page = await mission_service.read_missions(ctx, limit=PAGE_SIZE)
    context = _context(page=page, filters=MissionFilters(), form=form, errors=errors)
    return render(request, PAGE, context, status_code=unprocessable)


def _context(
    *,
    page: MissionPage | None,
    filters: MissionFilters,
    form: MissionForm,
    errors: FieldErrors | None = None,
    cursor: str = "",
    created: MissionRead | None = None,
) -> dict[str, Any]:
    errors = errors or {}
    return {
        "page": page,
        "filters": filters,
        "cursor": cursor,
        "statuses": list(MissionStatus),
        "form": form,
        "errors": errors,
        "first_error": next((name for name in MissionForm.FIELDS if name in errors), None),
        "created": created,
        "limits": {
            "goal": GOAL_MAX_CHARS,
            "title": TITLE_MAX_CHARS,
            "constraint": CONSTRAINT_MAX_CHARS,
            "repo_context": REPO_CONTEXT_MAX_CHARS,
        },
    }
