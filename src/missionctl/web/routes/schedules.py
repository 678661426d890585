"""The schedules page (ADR 0059): every schedule with its next and last run, and its controls.

- ``GET /schedules``: the list (``workflows:read``), and for operators the "Add a schedule"
  form and each schedule's pause, resume, run-now and delete buttons.
- ``POST /schedules``: add one (``schedules:write``). Invalid input stores nothing: the page
  comes back (422) with a message beside each field at fault.
- ``POST /schedules/{id}/pause`` (``/resume``, ``/run-now``, ``/delete``): the buttons; a plain
  form post comes back with a 303 to the list, htmx is told to reload it (``HX-Refresh``).
"""

import json
from collections.abc import Mapping
from functools import partial
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.status import HTTP_303_SEE_OTHER

from missionctl.schemas.schedules import MAX_INPUTS, ScheduleCreate
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import scheduler
from missionctl.services.usecases import schedules as schedule_service
from missionctl.services.usecases import workflows as workflow_service
from missionctl.web.deps import Context, Fragment, Identity, P, RuntimeDep, ScheduleId, requires
from missionctl.web.form_errors import first_per_field
from missionctl.web.page_reload import reload_or_redirect
from missionctl.web.routes.add_forms import request_or_page
from missionctl.web.templating import render

PAGE = "pages/schedules.html"
URL = "/schedules"
INPUTS_MAX_CHARS = 20_000

router = APIRouter(route_class=GuardedRoute)

Operator = Annotated[Identity, requires(P.SCHEDULES_WRITE)]


class ScheduleForm(BaseModel):
    """The "Add a schedule" form exactly as posted: every field is text, absent ones empty.

    ``target`` is ``workflow`` or ``mission``; ``inputs`` is a JSON object (or empty).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str = ""
    cron: str = ""
    timezone: str = "UTC"
    target: str = "workflow"
    workflow_id: str = ""
    mission_id: str = ""
    mission_action: str = "run"
    inputs: str = ""
    budget_usd: str = ""
    misfire_policy: str = "skip"
    overlap_policy: str = "skip"

    FIELDS: ClassVar[tuple[str, ...]] = (
        "name",
        "cron",
        "timezone",
        "workflow_id",
        "mission_id",
        "inputs",
        "budget_usd",
        "misfire_policy",
        "overlap_policy",
    )

    def to_create(self) -> ScheduleCreate:
        """The service request.

        Raises:
            pydantic.ValidationError: the input breaks a rule of ``ScheduleCreate``.
            ValueError: ``inputs`` is not a JSON object (reported on ``inputs``).
        """
        data: dict[str, Any] = {
            "name": self.name,
            "cron": self.cron,
            "timezone": self.timezone or "UTC",
            "misfire_policy": self.misfire_policy,
            "overlap_policy": self.overlap_policy,
        }
        if self.target == "mission":
            data["mission_id"] = self.mission_id.strip() or None
            data["mission_action"] = self.mission_action
        else:
            data["workflow_id"] = self.workflow_id.strip() or None
            data["inputs"] = _inputs(self.inputs)
        if budget := self.budget_usd.strip():
            data["budget_usd"] = budget
        return ScheduleCreate.model_validate(data)


def _inputs(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    if len(text) > INPUTS_MAX_CHARS:
        raise ValueError(f"keep the inputs under {INPUTS_MAX_CHARS:,} characters")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError('write the inputs as a JSON object, like {"region": "eu"}') from None
    if not isinstance(value, dict) or len(value) > MAX_INPUTS:
        raise ValueError(f"write the inputs as a JSON object of at most {MAX_INPUTS} names")
    return value


def form_errors(error: ValidationError) -> dict[str, str]:
    """One readable message per field of the form (the first problem of each): Pydantic's."""
    return first_per_field(error, fields=ScheduleForm.FIELDS, default="name", wording=_message)


def _message(field: str, detail: Mapping[str, Any]) -> str:
    return str(detail.get("msg", "Check this value.")).removeprefix("Value error, ")


async def _context(
    ctx: Context, *, form: ScheduleForm | None = None, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "schedules": await schedule_service.list_schedules(ctx),
        "workflows": await workflow_service.list_workflows(ctx),
        "form": form or ScheduleForm(),
        "errors": errors or {},
    }


@router.get(URL, dependencies=[requires(P.WORKFLOWS_READ)])
async def schedules_page(request: Request, ctx: Context) -> Response:
    """Every schedule: its expression, next tick, last run and success rate."""
    return render(request, PAGE, await _context(ctx))


@router.post(URL)
async def add_schedule(
    request: Request, ctx: Context, who: Operator, form: Annotated[ScheduleForm, Form()]
) -> Response:
    """Add a schedule; on invalid input nothing is stored and the form says why (422)."""
    refused = partial(_context, ctx, form=form)
    data = await request_or_page(
        request, PAGE, form.to_create, form_errors, refused, value_error_field="inputs"
    )
    if isinstance(data, Response):
        return data
    await schedule_service.create_schedule(ctx, data=data, actor=who.actor)
    return RedirectResponse(URL, status_code=HTTP_303_SEE_OTHER)


def _back(fragment: bool) -> Response:
    """Reload the list under htmx (the schedule's row changed); send a plain post back to it."""
    return reload_or_redirect(URL, fragment=fragment)


@router.post(URL + "/{schedule_id}/pause")
async def pause(
    schedule_id: ScheduleId, ctx: Context, who: Operator, fragment: Fragment
) -> Response:
    """Pause the schedule."""
    await schedule_service.pause_schedule(ctx, schedule_id=schedule_id, actor=who.actor)
    return _back(fragment)


@router.post(URL + "/{schedule_id}/resume")
async def resume(
    schedule_id: ScheduleId, ctx: Context, who: Operator, fragment: Fragment
) -> Response:
    """Resume the schedule (missed ticks follow its misfire policy)."""
    await schedule_service.resume_schedule(ctx, schedule_id=schedule_id, actor=who.actor)
    return _back(fragment)


@router.post(URL + "/{schedule_id}/run-now")
async def run_now(
    schedule_id: ScheduleId,
    ctx: Context,
    runtime: RuntimeDep,
    who: Operator,
    fragment: Fragment,
) -> Response:
    """Start the schedule's run now."""
    await scheduler.run_now(ctx, schedule_id=schedule_id, actor=who.actor, planner=runtime.planner)
    return _back(fragment)


@router.post(URL + "/{schedule_id}/delete")
async def delete(
    schedule_id: ScheduleId, ctx: Context, who: Operator, fragment: Fragment
) -> Response:
    """Delete the schedule."""
    await schedule_service.delete_schedule(ctx, schedule_id=schedule_id, actor=who.actor)
    return _back(fragment)
