"""``/api/v1/workflows``: check and save definitions.

A definition is sent as the request body, either as JSON (``Content-Type: application/json``)
or as YAML text (``application/yaml``, ``text/yaml`` or ``text/plain``; YAML reads most JSON
too). Bodies over ``MAX_DEFINITION_BYTES`` are refused with 413, other media types with 415,
and a body that is not JSON or YAML, or not a mapping, with 422 (line and column named).
Every save adds a version of the workflow's name.

Listing workflows, reading a version or a name's versions, the definition's schema and running a
version are made from their declarations in ``missionctl.operations.workflows``.
"""

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from starlette.exceptions import HTTPException

from missionctl.api.declared import add_route
from missionctl.api.deps import Context, Identity, P, requires
from missionctl.api.errors import CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.api.refusals import refusals
from missionctl.domain.numbers import ascii_int
from missionctl.domain.refusals import DEFINITION_RULES
from missionctl.errors import Problem, ValidationFailed
from missionctl.operations import workflows as ops
from missionctl.schemas.errors import ErrorBody
from missionctl.schemas.workflows import WorkflowCheckRead, WorkflowRead, WorkflowSpec
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import workflows as workflow_service
from missionctl.services.usecases.workflow_checks import (
    MAX_DEFINITION_BYTES,
    Syntax,
    read_definition_text,
)

router = APIRouter(route_class=GuardedRoute, tags=["workflows"], responses=ERROR_RESPONSES)

_YAML_TYPES = frozenset(
    {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"}
)


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every ``#/$defs/…`` reference replaced by its definition.

    An OpenAPI request body resolves ``$ref`` against the OpenAPI document, not the schema, so
    the definition's schema goes in self-contained (it has no recursive definitions).
    """
    definitions = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                merged = {**definitions[ref.removeprefix("#/$defs/")], **node}
                merged.pop("$ref")
                return resolve(merged)
            return {key: resolve(value) for key, value in node.items() if key != "$defs"}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    inlined: dict[str, Any] = resolve(schema)
    return inlined


_DEFINITION_SCHEMA = _inline_refs(WorkflowSpec.model_json_schema())
_YAML_TEXT = {"schema": {"type": "string", "description": "The definition as YAML (or JSON) text."}}
_ANY_DEFINITION = {
    "schema": {
        "type": "object",
        "description": "A definition to check, valid or not (its problems are the answer).",
    }
}
_SIZE = f"at most {MAX_DEFINITION_BYTES} bytes"
SAVE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A workflow definition (`GET /api/v1/workflows/schema`) as JSON, or as "
        f"YAML (`application/yaml`, `text/yaml`, or `text/plain` text); {_SIZE}.",
        "content": {
            "application/json": {"schema": _DEFINITION_SCHEMA},
            "application/yaml": {"schema": _DEFINITION_SCHEMA},
            "text/yaml": {"schema": _DEFINITION_SCHEMA},
            "text/plain": _YAML_TEXT,
        },
    }
}
VALIDATE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A definition as JSON, or as YAML (`application/yaml`, `text/yaml`; "
        f"`text/plain` is read as YAML too); {_SIZE}.",
        "content": {
            "application/json": _ANY_DEFINITION,
            "application/yaml": _ANY_DEFINITION,
            "text/yaml": _ANY_DEFINITION,
        },
    }
}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorBody, "description": f"The body is over {MAX_DEFINITION_BYTES} bytes"},
    415: {
        "model": ErrorBody,
        "description": "Neither JSON nor YAML (send application/json, application/yaml, "
        "text/yaml or text/plain)",
    },
}


async def definition_body(request: Request) -> Mapping[str, Any]:
    """The request body read as a definition: JSON or YAML text parsed to a mapping.

    Only called once the caller holds the route's permission (``security.guard.GuardedRoute``);
    the text is parsed beside the event loop (``workflow_checks.read_definition_text``).

    Raises:
        HTTPException: 415 for another media type, 413 for a body over the limit.
        ValidationFailed: the body is not UTF-8, not JSON or YAML (the problem names the line
            and column), or not a mapping; field ``definition``.
    """
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    syntax: Syntax
    if media == "application/json" or (media.startswith("application/") and "+json" in media):
        syntax = "json"
    elif not media or media in _YAML_TYPES:
        syntax = "yaml"
    else:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            "a definition is sent as application/json, or as YAML text (application/yaml, "
            f"text/yaml, text/plain), not {media}",
        )
    declared = ascii_int(request.headers.get("content-length", ""))
    if declared is not None and declared > MAX_DEFINITION_BYTES:
        raise _too_large()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_DEFINITION_BYTES:
            raise _too_large()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            [Problem("definition", f"the body is not UTF-8 text (byte {exc.start} is not)")]
        ) from None
    # Seconds of CPU for a megabyte of YAML: beside the event loop (ADR 0076).
    data, problems = await read_definition_text(text.removeprefix("\ufeff"), syntax=syntax)
    if problems:
        raise ValidationFailed(problems)
    definition: Mapping[str, Any] = data
    return definition


def _too_large() -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        f"the definition is larger than {MAX_DEFINITION_BYTES} bytes; split it into smaller "
        "workflows",
    )


Definition = Annotated[Mapping[str, Any], Depends(definition_body)]

# In the order of the document: list, save, check, then the reads and the run.
add_route(router, ops.LIST)


@router.post(
    "/workflows",
    status_code=status.HTTP_201_CREATED,
    response_model=WorkflowRead,
    responses=CONFLICT_RESPONSES | BODY_ERRORS,
    openapi_extra=SAVE_BODY | refusals(DEFINITION_RULES),
)
async def save_workflow(
    body: Definition, ctx: Context, who: Annotated[Identity, requires(P.WORKFLOWS_WRITE)]
) -> WorkflowRead:
    """Save a definition as the next version of its name (version 1 for a new name).

    422 lists every problem (syntax with line and column, schema, graph, agents, templates,
    conditions), each with its field; nothing is stored then.
    """
    return await workflow_service.save_workflow(ctx, definition=body, actor=who.actor)


@router.post(
    "/workflows/validate",
    response_model=WorkflowCheckRead,
    responses=BODY_ERRORS,
    openapi_extra=VALIDATE_BODY | refusals({"definition": DEFINITION_RULES["definition"]}),
    dependencies=[requires(P.WORKFLOWS_READ)],
)
async def validate_workflow(body: Definition, ctx: Context) -> WorkflowCheckRead:
    """Check a definition without saving it: validity, every problem, graph and step preview.

    Once the body reads as a mapping, the answer is a 200 even when the definition has
    problems (`valid: false`, each problem with its field): this feeds an editor that checks
    as one types. A body that is not JSON or YAML, or not a mapping, is a 422 whose details
    name the line and column. A step's `gated` is what the engine would decide now, under
    the command agent's allow-list.
    """
    return await workflow_service.preview_workflow(ctx, definition=body)


for operation in ops.OPERATIONS:
    if operation is not ops.LIST:
        add_route(router, operation)
