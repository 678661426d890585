"""The Templates page (ADR 0065): the gallery's cards, and the forms that use and save templates.

- ``GET /templates``: a card per template (``workflows:read``), with its description, its
  steps and phases, and for operators a form with its inputs: "Start a mission" and "Make a
  workflow"; ``?category=`` filters the cards.
- ``POST /templates/{name}/mission``: a new mission from the template, run at once
  (``missions:write``); 303 to the mission's page.
- ``POST /templates/{name}/workflow``: a workflow version from the template
  (``workflows:write``); 303 to the workflow's page.
- ``POST /templates/save``: "Save as template" on a workflow or a finished mission's page
  (``workflows:write``); 303 to the card.
- ``POST /templates/{name}/delete``: delete a saved template (``workflows:write``).

Plain forms: refused input stores nothing and the page comes back (422) with the message on
the card at fault, the values kept.
"""

import json
import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.status import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_CONTENT

from missionctl.errors import Problem, ValidationFailed
from missionctl.schemas.templates import (
    TEMPLATE_NAME_PATTERN,
    MissionFromTemplate,
    TemplateRead,
    TemplateSave,
    TemplateUse,
)
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import templates as template_service
from missionctl.web.deps import Context, Identity, P, WriteMissions, requires
from missionctl.web.templating import render

PAGE = "pages/templates.html"
URL = "/templates"
FIELD_MAX_CHARS = 20_000
MAX_FIELDS = 60

router = APIRouter(route_class=GuardedRoute)

WriteWorkflows = Annotated[Identity, requires(P.WORKFLOWS_WRITE)]
Name = Annotated[str, Path(pattern=TEMPLATE_NAME_PATTERN)]


async def _context(
    ctx: Context,
    *,
    category: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    templates = await template_service.list_templates(ctx)
    categories = sorted({t.category for t in templates})
    shown = [t for t in templates if category is None or t.category == category]
    return {
        "templates": shown,
        "categories": categories,
        "category": category,
        "errors": errors or {},
        "values": values or {},
    }


@router.get(URL, dependencies=[requires(P.WORKFLOWS_READ)])
async def templates_page(
    request: Request,
    ctx: Context,
    category: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z][a-z0-9-]*$")] = None,
) -> Response:
    """The gallery: shipped templates first, then saved ones; ``category`` filters them."""
    return render(request, PAGE, await _context(ctx, category=category))


def form_inputs(template: TemplateRead, form: FormData) -> tuple[dict[str, Any], dict[str, str]]:
    """The template's inputs from the form's ``input.<name>`` fields, typed as declared.

    Returns:
        The inputs (an empty field is left out, so a default applies) and the fields as typed,
        to show again. A value that does not read as its type is passed on as text: the
        service's check then names the input.
    """
    inputs: dict[str, Any] = {}
    typed: dict[str, str] = {}
    for name, spec in template.inputs.items():
        raw = form.get(f"input.{name}")
        text = raw.strip() if isinstance(raw, str) else ""
        typed[name] = text[:FIELD_MAX_CHARS]
        if spec.type == "boolean":
            inputs[name] = text in ("on", "true", "1")
        elif text:
            inputs[name] = _typed(spec.type, text)
    return inputs, typed


def _typed(kind: str, text: str) -> Any:
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
        if kind in ("array", "object"):
            return json.loads(text)
    except (ValueError, RecursionError):
        return text
    return text


async def _read_form(request: Request) -> FormData:
    return await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=FIELD_MAX_CHARS)


async def _refused(
    request: Request, ctx: Context, name: str, message: str, typed: dict[str, str]
) -> Response:
    context = await _context(ctx, errors={name: message}, values={name: typed})
    return render(request, PAGE, context, status_code=HTTP_422_UNPROCESSABLE_CONTENT)


def _message(exc: ValidationFailed | ValidationError) -> str:
    if isinstance(exc, ValidationFailed):
        return "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in exc.problems)
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in exc.errors()
    )


@router.post(URL + "/{name}/mission")
async def start_mission(request: Request, ctx: Context, who: WriteMissions, name: Name) -> Response:
    """Start a mission from the template: its workflow runs at once, without planning.

    Raises:
        NotFound: no such template (a 404 page).
    """
    template = await template_service.read_template(ctx, name=name)
    form = await _read_form(request)
    inputs, typed = form_inputs(template, form)
    goal = str(form.get("goal") or "").strip() or _goal(template, inputs)
    typed["goal"] = goal[:FIELD_MAX_CHARS]
    try:
        data = MissionFromTemplate(goal=goal, inputs=inputs)
        used = await template_service.start_mission_from_template(
            ctx, name=name, data=data, actor=who.actor, may_run=who.allows(P.RUNS_CONTROL)
        )
    except (ValidationFailed, ValidationError) as exc:
        return await _refused(request, ctx, name, _message(exc), typed)
    return RedirectResponse(f"/missions/{used.mission_id}", status_code=HTTP_303_SEE_OTHER)


def _goal(template: TemplateRead, inputs: dict[str, Any]) -> str:
    """A mission's goal when the form gives none: the ``goal`` input, or title and inputs."""
    if isinstance(inputs.get("goal"), str):
        return str(inputs["goal"])
    given = ", ".join(f"{k} {v}" for k, v in inputs.items() if isinstance(v, str | int | float))
    return f"{template.title}: {given}" if given else template.title


@router.post(URL + "/{name}/workflow")
async def make_workflow(
    request: Request, ctx: Context, who: WriteWorkflows, name: Name
) -> Response:
    """Make a workflow version from the template (not run); 303 to the workflow's page.

    Raises:
        NotFound: no such template (a 404 page).
    """
    template = await template_service.read_template(ctx, name=name)
    inputs, typed = form_inputs(template, await _read_form(request))
    try:
        used = await template_service.use_template(
            ctx, name=name, data=TemplateUse(inputs=inputs), actor=who.actor, may_run=False
        )
    except (ValidationFailed, ValidationError) as exc:
        return await _refused(request, ctx, name, _message(exc), typed)
    target = f"/workflows/{quote(used.workflow_name, safe='/')}"
    return RedirectResponse(target, status_code=HTTP_303_SEE_OTHER)


@router.post(URL + "/save")
async def save_template(
    request: Request,
    ctx: Context,
    who: WriteWorkflows,
    name: Annotated[str, Form(max_length=200)],
    workflow_id: Annotated[uuid.UUID | None, Form()] = None,
    mission_id: Annotated[uuid.UUID | None, Form()] = None,
    title: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Save a workflow version, or a mission's last-run workflow, as a template.

    Raises:
        ValidationFailed: a name the rules refuse (a toast or an error page names it).
        Conflict: the name is taken, or the mission never ran.
        NotFound: no such workflow or mission.
    """
    try:
        data = TemplateSave(
            name=name.strip(),
            title=title.strip() or None,
            workflow_id=workflow_id,
            mission_id=mission_id,
        )
    except ValidationError as exc:
        problems = [
            Problem(".".join(str(part) for part in e["loc"]) or "name", e["msg"])
            for e in exc.errors()
        ]
        raise ValidationFailed(problems) from None
    saved = await template_service.save_template(ctx, data=data, actor=who.actor)
    return RedirectResponse(f"{URL}#template-{saved.name}", status_code=HTTP_303_SEE_OTHER)


@router.post(URL + "/{name}/delete")
async def delete_template(ctx: Context, who: WriteWorkflows, name: Name) -> Response:
    """Delete a saved template; 303 back to the gallery.

    Raises:
        Conflict: a shipped template (it cannot be deleted).
        NotFound: no saved template has that name.
    """
    await template_service.delete_template(ctx, name=name, actor=who.actor)
    return RedirectResponse(URL, status_code=HTTP_303_SEE_OTHER)
