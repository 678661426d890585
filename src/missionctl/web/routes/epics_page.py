"""The epics pages: named groups of missions, each with an owner, a target date and a budget.

- ``GET /epics?state=active|archived|all`` (``missions:read``): the epics, each with its owner,
  target date, missions by status, spending against its budget and its board; operators
  (``missions:write``) also get the "New epic" form.
- ``POST /epics``: make one and open its page.
- ``GET /epics/{id}`` (``missions:read``): its roll-up: its missions' tasks by board column and
  outcome, cost against budget, open risks, approvals waiting, and its missions; operators also
  get the forms that edit it, fill and empty it, archive and restore it. An archived epic is
  shown read-only, with Restore only.
- ``POST /epics/{id}/edit``, ``/missions``, ``/missions/{mission_id}/remove``, ``/archive``,
  ``/restore`` (``missions:write``): those forms.

Every change goes through the use cases the API and the command line call
(``services.usecases.epics``), so the rules, events and limits are theirs. A change that
succeeds answers with a 303 to the epic's page; a refused one with the page again (422 invalid,
409 conflict, 404 unknown), the message beside the field at fault, what was typed kept, and
nothing changed. ADR 0102 says what an epic is.
"""

from collections.abc import Awaitable, Iterable, Mapping
from typing import Annotated, Any, NamedTuple
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict
from starlette.status import HTTP_303_SEE_OTHER

from missionctl.domain.board import COLUMN_LABELS, COLUMNS
from missionctl.domain.outcomes import OUTCOME_LABELS, OUTCOMES
from missionctl.domain.states import MissionStatus
from missionctl.errors import Conflict, MissionControlError, NotFound, ValidationFailed
from missionctl.schemas.epics import (
    DESCRIPTION_MAX_CHARS,
    MAX_LISTED,
    NAME_MAX_CHARS,
    EpicMissions,
    EpicState,
)
from missionctl.security.guard import GuardedRoute
from missionctl.services import ServiceContext
from missionctl.services.usecases import epics
from missionctl.web.deps import Context, EpicId, Identity, MissionId, P, requires
from missionctl.web.epic_forms import EpicForm, missions_request
from missionctl.web.form_errors import errors_of, status_of
from missionctl.web.forms import FORM_ERROR
from missionctl.web.states import state_label
from missionctl.web.templating import render

LIST_PAGE = "pages/epics.html"
EPIC_PAGE = "pages/epic.html"
URL = "/epics"

router = APIRouter(route_class=GuardedRoute)

Reader = Annotated[Identity, requires(P.MISSIONS_READ)]
Operator = Annotated[Identity, requires(P.MISSIONS_WRITE)]
Refused = (ValidationFailed, Conflict, NotFound)

STATES: tuple[tuple[EpicState, str], ...] = (
    ("active", "Active"),
    ("archived", "Archived"),
    ("all", "All"),
)
STATUS_ORDER: tuple[MissionStatus, ...] = (
    MissionStatus.completed,
    MissionStatus.running,
    MissionStatus.planned,
    MissionStatus.needs_clarification,
    MissionStatus.planning,
    MissionStatus.draft,
    MissionStatus.failed,
    MissionStatus.canceled,
)
"""Mission statuses in the order an epic's progress bar stacks them: finished work first."""


class Segment(NamedTuple):
    """One part of a stacked bar: its name, label and count, and where it sits (in %)."""

    name: str
    label: str
    amount: int
    x: float
    width: float


def segments(counts: Mapping[str, int], labels: Iterable[tuple[str, str]]) -> list[Segment]:
    """The parts of a bar of ``counts``, in the order of ``labels`` (empty parts left out)."""
    total = sum(counts.get(name, 0) for name, _ in labels)
    parts: list[Segment] = []
    x = 0.0
    for name, label in labels:
        count = counts.get(name, 0)
        if count and total:
            width = round(100 * count / total, 3)
            parts.append(Segment(name, label, count, round(x, 3), width))
            x += width
    return parts


def _status_labels() -> list[tuple[str, str]]:
    return [(status.value, state_label(status.value)) for status in STATUS_ORDER]


def _shared() -> dict[str, Any]:
    """What both pages draw with: the bars' parts, the board's words, the limits."""
    return {
        "segments": segments,
        "status_labels": _status_labels(),
        "column_labels": [(name, COLUMN_LABELS[name]) for name in COLUMNS],
        "outcome_labels": [(name, OUTCOME_LABELS[name]) for name in OUTCOMES],
        "board_url": epics.board_url,
        "limits": {"name": NAME_MAX_CHARS, "description": DESCRIPTION_MAX_CHARS},
        "max_listed": MAX_LISTED,
    }


# --- The list -------------------------------------------------------------------------------


async def _list_context(
    ctx: ServiceContext,
    state: EpicState,
    *,
    form: EpicForm,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        **_shared(),
        "epics": await epics.list_epics(ctx, state=state),
        "state": state,
        "states": STATES,
        "form": form,
        "errors": errors or {},
    }


@router.get(URL)
async def epics_page(
    request: Request,
    ctx: Context,
    who: Reader,
    state: Annotated[EpicState, Query()] = "active",
) -> Response:
    """The epics in ``state`` (active unless asked), and for operators the "New epic" form."""
    form = EpicForm(owner=who.user_name)
    return render(request, LIST_PAGE, await _list_context(ctx, state, form=form))


@router.post(URL)
async def create_epic(
    request: Request, ctx: Context, who: Operator, form: Annotated[EpicForm, Form()]
) -> Response:
    """Make an epic and open its page; on a refusal the list again, the form as typed."""
    try:
        epic = await epics.create_epic(ctx, data=form.to_create(), actor=who.actor)
    except Refused as exc:
        errors = errors_of(exc, fields=EpicForm.FIELDS, default="name")
        context = await _list_context(ctx, "active", form=form.shown(), errors=errors)
        return render(request, LIST_PAGE, context, status_code=status_of(exc))
    return _to_epic(epic.id)


# --- One epic -------------------------------------------------------------------------------


class Refusal(BaseModel):
    """What a refused control of the epic's page shows: beside its fields, or at the top."""

    model_config = ConfigDict(frozen=True)

    edit: dict[str, str] = {}
    add: dict[str, str] = {}
    alert: str | None = None


async def _epic_context(
    ctx: ServiceContext,
    epic_id: UUID,
    who: Identity,
    *,
    edit: EpicForm | None = None,
    refusal: Refusal | None = None,
    ticked: list[str] | None = None,
) -> dict[str, Any]:
    """The epic's page: its roll-up, and for an operator the missions it may take.

    Raises:
        NotFound: no such epic (the 404 page).
    """
    epic = await epics.read_epic(ctx, epic_id=epic_id)
    writable = who.allows(P.MISSIONS_WRITE) and not epic.archived
    return {
        **_shared(),
        "epic": epic,
        "candidates": await epics.missions_without_epic(ctx) if writable else [],
        "edit_form": edit or EpicForm.of(epic),
        "refusal": refusal or Refusal(),
        "ticked": ticked or [],
    }


async def _refused(
    request: Request,
    ctx: ServiceContext,
    epic_id: UUID,
    who: Identity,
    error: MissionControlError,
    **shown: Any,
) -> Response:
    """The epic's page again with ``error`` shown, answered with the error's status."""
    context = await _epic_context(ctx, epic_id, who, **shown)
    return render(request, EPIC_PAGE, context, status_code=status_of(error))


def _to_epic(epic_id: UUID) -> RedirectResponse:
    return RedirectResponse(f"{URL}/{epic_id}", status_code=HTTP_303_SEE_OTHER)


@router.get(URL + "/{epic_id}")
async def epic_page(request: Request, ctx: Context, who: Reader, epic_id: EpicId) -> Response:
    """The epic's roll-up; an unknown or malformed id is the 404 page."""
    return render(request, EPIC_PAGE, await _epic_context(ctx, epic_id, who))


@router.post(URL + "/{epic_id}/edit")
async def edit_epic(
    request: Request,
    ctx: Context,
    who: Operator,
    epic_id: EpicId,
    form: Annotated[EpicForm, Form()],
) -> Response:
    """Change what the edit form changes (nothing sent as it was); on a refusal the page again."""
    current = await epics.read_epic(ctx, epic_id=epic_id)
    try:
        change = form.to_edit(current)
        if change is not None:
            await epics.edit_epic(ctx, epic_id=epic_id, edit=change, actor=who.actor)
    except Refused as exc:
        errors = errors_of(exc, fields=EpicForm.FIELDS, default=FORM_ERROR)
        refusal = Refusal(edit=errors, alert=errors.pop(FORM_ERROR, None))
        return await _refused(request, ctx, epic_id, who, exc, edit=form.shown(), refusal=refusal)
    return _to_epic(epic_id)


class MissionsForm(BaseModel):
    """The "Add missions" form as posted: the ids of the missions ticked."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    mission_ids: list[str] = []


@router.post(URL + "/{epic_id}/missions")
async def add_missions(
    request: Request,
    ctx: Context,
    who: Operator,
    epic_id: EpicId,
    form: Annotated[MissionsForm, Form()],
) -> Response:
    """Put the missions ticked in the epic; on a refusal the page again, still ticked."""
    try:
        data = missions_request(form.mission_ids)
        await epics.add_missions(ctx, epic_id=epic_id, data=data, actor=who.actor)
    except Refused as exc:
        errors = errors_of(exc, fields=("mission_ids",), default="mission_ids")
        refusal = Refusal(add=errors)
        return await _refused(
            request, ctx, epic_id, who, exc, refusal=refusal, ticked=form.mission_ids
        )
    return _to_epic(epic_id)


@router.post(URL + "/{epic_id}/missions/{mission_id}/remove")
async def remove_mission(
    request: Request, ctx: Context, who: Operator, epic_id: EpicId, mission_id: MissionId
) -> Response:
    """Take the mission out of the epic (the mission is untouched)."""
    data = EpicMissions(mission_ids=[mission_id])
    change = epics.remove_missions(ctx, epic_id=epic_id, data=data, actor=who.actor)
    return await _button(request, ctx, epic_id, who, change)


@router.post(URL + "/{epic_id}/archive")
async def archive_epic(request: Request, ctx: Context, who: Operator, epic_id: EpicId) -> Response:
    """Archive the epic: read-only, off the active list, its missions kept."""
    change = epics.archive_epic(ctx, epic_id=epic_id, actor=who.actor)
    return await _button(request, ctx, epic_id, who, change)


@router.post(URL + "/{epic_id}/restore")
async def restore_epic(request: Request, ctx: Context, who: Operator, epic_id: EpicId) -> Response:
    """Bring the archived epic back."""
    change = epics.restore_epic(ctx, epic_id=epic_id, actor=who.actor)
    return await _button(request, ctx, epic_id, who, change)


async def _button(
    request: Request, ctx: ServiceContext, epic_id: UUID, who: Identity, change: Awaitable[object]
) -> Response:
    """A button's answer: ``change`` made, a 303 to the epic's page; refused, ``_alert``."""
    try:
        await change
    except Refused as exc:
        return await _alert(request, ctx, epic_id, who, exc)
    return _to_epic(epic_id)


async def _alert(
    request: Request, ctx: ServiceContext, epic_id: UUID, who: Identity, error: MissionControlError
) -> Response:
    """The page again with the refusal of a button at its top (an unknown epic: 404 page)."""
    [message] = errors_of(error, fields=(), default=FORM_ERROR).values()
    return await _refused(request, ctx, epic_id, who, error, refusal=Refusal(alert=message))
