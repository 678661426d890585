"""The mission page's decision log and risk register forms: add and edit, htmx or plain.

Each form posts to a route here, which turns the form into the API's contract
(``DecisionCreate``, ``DecisionEdit``, ``RiskCreate``, ``RiskEdit``) and calls the same service.
htmx gets a toast and the page re-renders through its live stream; without JavaScript the
route redirects back to the page's section (303). Lists are sent one item per line (deciders
also by commas); an empty date or link is none.
"""

import uuid
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError
from starlette.status import HTTP_303_SEE_OTHER

from missionctl.errors import NotFound, Problem, ValidationFailed
from missionctl.schemas.register import (
    TEXT_MAX_CHARS,
    DecisionCreate,
    DecisionEdit,
    RiskCreate,
    RiskEdit,
)
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import decision_log, risk_register
from missionctl.web.deps import Context, Fragment, MissionId, WriteMissions
from missionctl.web.errors import render_toast

router = APIRouter(route_class=GuardedRoute)

# What one form field may send: twice the largest valid text, so that a text that is too long
# gets the contract's message naming the field rather than a bare refusal.
FIELD_MAX = 2 * TEXT_MAX_CHARS
Field = Annotated[str | None, Form(max_length=FIELD_MAX)]
_LISTS = ("reasons", "trade_offs", "alternatives", "mitigation_tasks")
_Body = TypeVar("_Body", bound=BaseModel)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def form_body(model: type[_Body], form: BaseModel) -> _Body:
    """The form's fields as ``model``: lists split by line, empty optional values left out.

    ``form`` holds at least ``model``'s fields, each text or None.

    Raises:
        ValidationFailed: the contract refuses a field; each problem names it.
    """
    posted = form.model_dump()
    body: dict[str, Any] = {}
    for name in model.model_fields:
        value = posted[name]
        if value is None:
            continue
        if name == "version":
            # The contract wants a JSON integer; a form sends text.
            body[name] = int(value) if value.strip().isdigit() else value
        elif name in _LISTS:
            body[name] = _lines(value)
        elif name == "deciders":
            body[name] = [d.strip() for d in value.replace("\n", ",").split(",") if d.strip()]
        elif name in {"decided_on", "supersedes"} and not value.strip():
            if name == "supersedes" and issubclass(model, DecisionEdit):
                body[name] = None  # the edit form's "none": remove the link
        else:
            body[name] = value
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = [
            Problem(".".join(str(p) for p in e["loc"]) or None, str(e["msg"])) for e in exc.errors()
        ]
        raise ValidationFailed(problems) from None


def _item_id(raw: str, name: str) -> uuid.UUID:
    """The item id of the path; a malformed one names nothing, like an unknown one (404)."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"no item with id {raw}", field=name) from None


def _done(
    request: Request, fragment: bool, mission_id: object, section: str, title: str
) -> Response:
    if not fragment:
        return RedirectResponse(f"/missions/{mission_id}#{section}", status_code=HTTP_303_SEE_OTHER)
    return render_toast(request, title, "The page shows the change in a moment.")


class DecisionForm(BaseModel):
    """The decision form as posted: every field text, an absent or empty one None."""

    title: Field = None
    status: Field = None
    decided_on: Field = None
    deciders: Field = None
    context: Field = None
    choice: Field = None
    consequences: Field = None
    reasons: Field = None
    trade_offs: Field = None
    alternatives: Field = None
    supersedes: Field = None


class RiskForm(BaseModel):
    """The risk form as posted: every field text, an absent or empty one None."""

    title: Field = None
    description: Field = None
    owner: Field = None
    status: Field = None
    severity: Field = None
    likelihood: Field = None
    mitigation: Field = None
    mitigation_tasks: Field = None


class _Version(BaseModel):
    """The version an edit form's page was read at."""

    version: Field = None


# The last base's fields come first: the version leads, as in the contracts, so a refused
# form lists its problems in the contracts' order.
class DecisionEditForm(DecisionForm, _Version):
    """The edit form of a decision: its fields and the version the page was read at.

    The form always posts ``supersedes``, its "Nothing" as an empty value, which FastAPI reads
    as not sent: so not sent is "Nothing" here, and removes the link.
    """

    supersedes: Field = ""


class RiskEditForm(RiskForm, _Version):
    """The edit form of a risk: its fields and the version the page was read at."""


@router.post("/missions/{mission_id}/decisions")
async def add_decision(
    request: Request,
    ctx: Context,
    who: WriteMissions,
    fragment: Fragment,
    mission_id: MissionId,
    form: Annotated[DecisionForm, Form()],
) -> Response:
    """Add a decision to the mission's log.

    Raises:
        ValidationFailed: a field breaks a rule; nothing is added (a toast names it).
    """
    data = form_body(DecisionCreate, form)
    added = await decision_log.add_decision(ctx, mission_id=mission_id, actor=who.actor, data=data)
    return _done(request, fragment, mission_id, "decision-log", f"Decision {added.number} added")


@router.post("/missions/{mission_id}/decisions/{decision_id}")
async def edit_decision(
    request: Request,
    ctx: Context,
    who: WriteMissions,
    fragment: Fragment,
    mission_id: MissionId,
    decision_id: Annotated[str, Path()],
    form: Annotated[DecisionEditForm, Form()],
) -> Response:
    """Edit a decision: the form sends every field and the version it was read at.

    Raises:
        NotFound: no such decision in the mission.
        Conflict: it changed since the page was read (a toast says to reload).
        ValidationFailed: a field breaks a rule; nothing changes (a toast names it).
    """
    edit = form_body(DecisionEdit, form)
    item = _item_id(decision_id, "decision_id")
    done = await decision_log.edit_decision(
        ctx, mission_id=mission_id, decision_id=item, actor=who.actor, edit=edit
    )
    return _done(request, fragment, mission_id, "decision-log", f"Decision {done.number} saved")


@router.post("/missions/{mission_id}/risks")
async def add_risk(
    request: Request,
    ctx: Context,
    who: WriteMissions,
    fragment: Fragment,
    mission_id: MissionId,
    form: Annotated[RiskForm, Form()],
) -> Response:
    """Add a risk to the mission's register.

    Raises:
        ValidationFailed: a field breaks a rule; nothing is added (a toast names it).
    """
    data = form_body(RiskCreate, form)
    await risk_register.add_risk(ctx, mission_id=mission_id, actor=who.actor, data=data)
    return _done(request, fragment, mission_id, "risk-register", "Risk added")


@router.post("/missions/{mission_id}/risks/{risk_id}")
async def edit_risk(
    request: Request,
    ctx: Context,
    who: WriteMissions,
    fragment: Fragment,
    mission_id: MissionId,
    risk_id: Annotated[str, Path()],
    form: Annotated[RiskEditForm, Form()],
) -> Response:
    """Edit a risk: the form sends every field and the version it was read at.

    Raises:
        NotFound: no such risk in the mission.
        Conflict: it changed since the page was read (a toast says to reload).
        ValidationFailed: a field breaks a rule; nothing changes (a toast names it).
    """
    edit = form_body(RiskEdit, form)
    item = _item_id(risk_id, "risk_id")
    await risk_register.edit_risk(
        ctx, mission_id=mission_id, risk_id=item, actor=who.actor, edit=edit
    )
    return _done(request, fragment, mission_id, "risk-register", "Risk saved")
