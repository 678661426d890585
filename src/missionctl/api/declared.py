"""REST routes made from operation declarations (``missionctl.operations``).

``add_route(router, op)`` adds the route ``op`` declares: its method and path, its permission
(checked before the body is read, as every route's, ADR 0076), its query, body and answer
models, and an endpoint that calls the declared use case with the path's parameters, the
query (field by field, or whole with ``query_as``), the body (whole, or field by field with
``body_fields``), the declaration's fixed ``arguments``, the caller's actor, what it ``needs``
(``NEEDS``) and whether the caller holds each permission it ``grants``. The endpoint's
signature is made for FastAPI from the declaration and the use case's own annotations, so the
path's parameters are validated by the use case's types, or by the narrower ones of
``path_types`` (a malformed id or an overlong name is a 422, never a 500). A body left out of
a request that may leave it out (``body_optional``) is its model's defaults, and so is a
``null`` one where the declaration allows it (``body_nullable``); an answer that one of
``other_statuses`` fits is sent with that status (as that status's model, when it has one),
which the route documents, as it documents each failure status of ``errors``. A file
(``FileAnswer``) is sent as one: streamed when it comes in chunks, always with the headers that
keep a download inert (``security.downloads``).
"""

import functools
import inspect
import operator
import types
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, get_args, get_type_hints

from fastapi import APIRouter, Query, Request, Response
from fastapi.datastructures import Default
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, TypeAdapter

from missionctl.api.deps import Context, Identity, get_runtime, requires, run_trigger
from missionctl.api.errors import (
    BODY_RESPONSES,
    CONFLICT_RESPONSES,
    DAMAGE_RESPONSES,
    LLM_RESPONSES,
)
from missionctl.api.refusals import refusals
from missionctl.domain.files import FileAnswer
from missionctl.operations import Operation, UseCase, use_case
from missionctl.security.downloads import (
    INERT_DOWNLOAD_HEADERS,
    content_disposition,
    served_media_type,
)
from missionctl.services.usecases.health import HealthSummaryCache

_KEYWORD = inspect.Parameter.KEYWORD_ONLY


async def _planner(request: Request, who: Identity) -> Any:
    return (await get_runtime(request)).planner


async def _llm(request: Request, who: Identity) -> Any:
    return (await get_runtime(request)).llm


async def _signer(request: Request, who: Identity) -> Any:
    from missionctl.security.signing import sign  # the key is read where it is used

    return sign


async def _user(request: Request, who: Identity) -> Any:
    return who.person


async def _identity(request: Request, who: Identity) -> Any:
    return who


async def _trigger(request: Request, who: Identity) -> Any:
    return run_trigger(request)


async def _health_cache(request: Request, who: Identity) -> Any:
    """The app's one cache of the health figures, shared with the pages.

    ``create_app`` makes it; an app in a command's process makes it on first use.
    """
    cache: HealthSummaryCache | None = getattr(request.app.state, "health_summary", None)
    if cache is None:
        cache = request.app.state.health_summary = HealthSummaryCache()
    return cache


NEEDS: dict[str, Callable[[Request, Identity], Awaitable[Any]]] = {
    "planner": _planner,
    "llm": _llm,
    "sign": _signer,
    "user": _user,
    "identity": _identity,
    "trigger": _trigger,
    "health_cache": _health_cache,
}
"""What a declaration may ask the server for by name (``Operation.needs``), from a request
and its caller (``trigger``: what a run it starts says started it, ``cli`` or ``api``;
``health_cache``: the app's cache of the health figures)."""

FAILURES: dict[int | str, dict[str, Any]] = CONFLICT_RESPONSES | DAMAGE_RESPONSES | LLM_RESPONSES
"""How each failure status a declaration may list in ``errors`` is documented."""


def add_route(router: APIRouter, op: Operation[Any]) -> None:
    """Add the route ``op`` declares to ``router`` (whose prefix is ``/api/v1``'s part)."""
    service = use_case(op, provided=NEEDS)
    endpoint = _endpoint(op, service)
    responses: dict[int | str, dict[str, Any]] = {}
    if op.body is not None:
        responses |= BODY_RESPONSES
    responses |= {status: FAILURES[status] for status in op.errors}
    for other in op.other_statuses:
        model = op.output if other.model is None else other.model
        responses[other.status_code] = {"model": model, "description": other.description}
    if op.file_types:
        responses[op.status_code] = {"description": op.summary, "content": _file_content(op)}
    router.add_api_route(
        op.path,
        endpoint,
        methods=[op.method],
        name=op.name,
        summary=op.summary,
        description=op.doc,
        status_code=op.status_code,
        response_model=None if op.file_types else op.output,
        responses=responses,
        openapi_extra=refusals(op.refusals) if op.refusals else None,
        response_class=Response if op.file_types else Default(JSONResponse),
    )


def _endpoint(op: Operation[Any], service: UseCase) -> Callable[..., Awaitable[Any]]:
    takes_actor = "actor" in inspect.signature(service).parameters
    sent_as = {
        o.status_code: TypeAdapter(o.model) for o in op.other_statuses if o.model is not None
    }

    async def endpoint(**given: Any) -> Any:
        ctx, who, request = given.pop("ctx"), given.pop("who"), given.pop("request")
        response: Response = given.pop("response")
        if op.body is not None:
            body = given.pop("body")
            if body is None:  # a null body, where the declaration allows one
                body = op.body()
            given |= _fields(body) if op.body_fields else {op.body_as: body}
        if op.query is not None:
            query = given.pop("query")
            given |= {op.query_as: query} if op.query_as else _fields(query)
        given |= op.arguments
        if takes_actor:
            given["actor"] = who.actor
        for name in op.needs:
            given[name] = await NEEDS[name](request, who)
        given |= {name: who.allows(permission) for name, permission in op.grants.items()}
        result = await service(ctx, **given)
        if op.output is None:
            return Response(status_code=op.status_code)
        if isinstance(result, FileAnswer):
            return _file_response(result, op.status_code)
        status = next((o.status_code for o in op.other_statuses if o.when(result)), None)
        if status in sent_as:  # another model than the route's: sent as it is
            return JSONResponse(sent_as[status].dump_python(result, mode="json"), status)
        response.status_code = op.status_code if status is None else status
        return result

    endpoint.__name__ = op.name
    endpoint.__doc__ = op.doc
    endpoint.__signature__ = _signature(op, service)  # type: ignore[attr-defined]
    return endpoint


def _file_content(op: Operation[Any]) -> dict[str, Any]:
    """The route's documented answer for each of ``op.file_types``: text, binary, or any."""
    return {media_type: {"schema": _file_schema(media_type)} for media_type in op.file_types}


def _file_schema(media_type: str) -> dict[str, str]:
    if media_type == "*/*":  # whatever a step wrote, JSON included
        return {}
    if media_type.endswith(("/json", "+json")):  # a JSON document, saved as a file
        return {"type": "object"}
    if media_type.startswith("text/") or media_type.endswith("+xml"):
        return {"type": "string"}
    return {"type": "string", "format": "binary"}


def _file_response(answer: FileAnswer, status_code: int) -> Response:
    """``answer`` sent as a file, inert (``nosniff``, a ``sandbox`` policy)."""
    media_type = served_media_type(answer.media_type) if answer.untrusted else answer.media_type
    headers = dict(INERT_DOWNLOAD_HEADERS)
    if answer.name is not None:
        headers["Content-Disposition"] = content_disposition(answer.name, inline=answer.inline)
    if isinstance(answer.content, bytes):
        return Response(answer.content, status_code, headers, media_type)
    if answer.size is not None:
        headers["Content-Length"] = str(answer.size)
    return StreamingResponse(answer.content, status_code, headers, media_type)


def _fields(model: BaseModel) -> dict[str, Any]:
    """Each of ``model``'s fields by name, as validated (not dumped)."""
    return {name: getattr(model, name) for name in type(model).model_fields}


def _present(annotation: Any) -> Any:
    """``annotation`` without ``None``: a path's parameter is always there."""
    if isinstance(annotation, types.UnionType):
        kept = [arg for arg in get_args(annotation) if arg is not type(None)]
        return functools.reduce(operator.or_, kept)
    return annotation


def _signature(op: Operation[Any], service: UseCase) -> inspect.Signature:
    """What FastAPI reads the endpoint's parameters from: the declaration and the use case."""
    hints = get_type_hints(service)
    who = Annotated[Identity, requires(op.permission)]
    parameters = [
        inspect.Parameter("request", _KEYWORD, annotation=Request),
        inspect.Parameter("response", _KEYWORD, annotation=Response),
        inspect.Parameter("ctx", _KEYWORD, annotation=Context),
        inspect.Parameter("who", _KEYWORD, annotation=who),
    ]
    parameters += [
        inspect.Parameter(p, _KEYWORD, annotation=op.path_types.get(p) or _present(hints[p]))
        for p in op.path_parameters
    ]
    if op.query is not None:
        query = Annotated[op.query, Query()]  # type: ignore[name-defined]
        parameters.append(inspect.Parameter("query", _KEYWORD, annotation=query))
    if op.body is not None:
        body: Any = op.body
        default: Any = op.body() if op.body_optional else inspect.Parameter.empty
        if op.body_nullable:
            body, default = op.body | None, None
        parameters.append(inspect.Parameter("body", _KEYWORD, annotation=body, default=default))
    return inspect.Signature(parameters)
