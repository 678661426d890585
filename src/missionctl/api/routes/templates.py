"""``/api/v1/templates``: the template gallery (ADR 0065, docs/templates.md).

Reading needs ``workflows:read``; saving, deleting and using a template need
``workflows:write`` (operators), and starting a mission from one ``missions:write``. A bad
input is a 422 naming ``inputs.<name>``; a name taken, or a shipped template deleted, a 409.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from missionctl.api.deps import Context, Identity, P, requires
from missionctl.api.errors import BODY_RESPONSES, CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.api.refusals import refusals
from missionctl.domain.refusals import DECIMAL_PLACES, MISSION_RULES
from missionctl.errors import PermissionDenied
from missionctl.schemas.templates import (
    TEMPLATE_NAME_PATTERN,
    MissionFromTemplate,
    TemplateRead,
    TemplateSave,
    TemplateUse,
    TemplateUsed,
)
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import templates as template_service

router = APIRouter(
    route_class=GuardedRoute, prefix="/templates", tags=["templates"], responses=ERROR_RESPONSES
)

Writer = Annotated[Identity, requires(P.WORKFLOWS_WRITE)]
Name = Annotated[str, Path(pattern=TEMPLATE_NAME_PATTERN)]


@router.get("", response_model=list[TemplateRead], dependencies=[requires(P.WORKFLOWS_READ)])
async def list_templates(
    ctx: Context,
    category: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z][a-z0-9-]*$")] = None,
) -> list[TemplateRead]:
    """The shipped templates, then the saved ones, each by name; `category` filters them."""
    return await template_service.list_templates(ctx, category=category)


@router.get("/{name}", response_model=TemplateRead, dependencies=[requires(P.WORKFLOWS_READ)])
async def read_template(name: Name, ctx: Context) -> TemplateRead:
    """One template, with its inputs, its workflow body and its steps' preview."""
    return await template_service.read_template(ctx, name=name)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TemplateRead,
    responses=CONFLICT_RESPONSES | BODY_RESPONSES,
)
async def save_template(body: TemplateSave, ctx: Context, who: Writer) -> TemplateRead:
    """Save a workflow version (`workflow_id`) or a mission's last-run workflow (`mission_id`).

    409 when the name is taken by a shipped or saved template, or the mission never ran.
    """
    return await template_service.save_template(ctx, data=body, actor=who.actor)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=CONFLICT_RESPONSES)
async def delete_template(name: Name, ctx: Context, who: Writer) -> Response:
    """Delete a saved template (409 for a shipped one, which is part of the product)."""
    await template_service.delete_template(ctx, name=name, actor=who.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{name}/use",
    status_code=status.HTTP_201_CREATED,
    response_model=TemplateUsed,
    responses=CONFLICT_RESPONSES | BODY_RESPONSES,
    openapi_extra=refusals({"budget_usd": DECIMAL_PLACES}),
)
async def use_template(name: Name, body: TemplateUse, ctx: Context, who: Writer) -> TemplateUsed:
    """Render the template with `inputs` into a new workflow version; `start` also runs it.

    Starting needs `runs:control` too (a token capped below it gets a 403).
    """
    if body.start and not who.allows(P.RUNS_CONTROL):
        raise PermissionDenied("starting a run needs runs:control", field="start")
    return await template_service.use_template(ctx, name=name, data=body, actor=who.actor)


@router.post(
    "/{name}/missions",
    status_code=status.HTTP_201_CREATED,
    response_model=TemplateUsed,
    responses=CONFLICT_RESPONSES | BODY_RESPONSES,
    openapi_extra=refusals(MISSION_RULES),
)
async def start_mission(
    name: Name,
    body: MissionFromTemplate,
    ctx: Context,
    who: Annotated[Identity, requires(P.MISSIONS_WRITE)],
) -> TemplateUsed:
    """Create a mission whose workflow is this template rendered (no planning), and run it.

    Running needs `runs:control` too (a token capped below it gets a 403).
    """
    if not who.allows(P.RUNS_CONTROL):
        raise PermissionDenied("starting a run needs runs:control", field="start")
    return await template_service.start_mission_from_template(
        ctx, template=name, data=body, actor=who.actor
    )
