"""REST routes made from operation declarations (``missionctl.operations``).

``add_route(router, op)`` adds the route ``op`` declares: its method and path, its permission
(checked before the body is read, as every route's, ADR 0076), its query, body and answer
models, and an endpoint that calls the declared use case with the path's parameters, the
query's fields, the body, the caller's actor and what it ``needs`` (``NEEDS``). The
endpoint's signature is made for FastAPI from the declaration and the use case's own
annotations, so the path's parameters are validated by the use case's types (a malformed id
is a 422, never a 500).
"""

import functools
import inspect
import operator
import types
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, get_args, get_type_hints

from fastapi import APIRouter, Query, Request, Response

from missionctl.api.deps import Context, Identity, get_runtime, requires
from missionctl.api.errors import BODY_RESPONSES, CONFLICT_RESPONSES
from missionctl.operations import Operation, UseCase, use_case

_KEYWORD = inspect.Parameter.KEYWORD_ONLY


async def _planner(request: Request) -> Any:
    return (await get_runtime(request)).planner


async def _llm(request: Request) -> Any:
    return (await get_runtime(request)).llm


async def _signer(request: Request) -> Any:
    from missionctl.security.signing import sign  # the key is read where it is used

    return sign


NEEDS: dict[str, Callable[[Request], Awaitable[Any]]] = {
    "planner": _planner,
    "llm": _llm,
    "sign": _signer,
}
"""What a declaration may ask the server for by name (``Operation.needs``), from a request."""


def add_route(router: APIRouter, op: Operation[Any]) -> None:
    """Add the route ``op`` declares to ``router`` (whose prefix is ``/api/v1``'s part)."""
    service = use_case(op, provided=NEEDS)
    endpoint = _endpoint(op, service)
    responses: dict[int | str, dict[str, Any]] = {}
    if op.body is not None:
        responses |= BODY_RESPONSES
    if 409 in op.errors:
        responses |= CONFLICT_RESPONSES
    router.add_api_route(
        op.path,
        endpoint,
        methods=[op.method],
        name=op.name,
        summary=op.summary,
        description=op.doc,
        status_code=op.status_code,
        response_model=op.output,
        responses=responses,
    )


def _endpoint(op: Operation[Any], service: UseCase) -> Callable[..., Awaitable[Any]]:
    takes_actor = "actor" in inspect.signature(service).parameters

    async def endpoint(**given: Any) -> Any:
        ctx, who, request = given.pop("ctx"), given.pop("who"), given.pop("request")
        if op.body is not None:
            given[op.body_as] = given.pop("body")
        if op.query is not None:
            query = given.pop("query")
            given |= {name: getattr(query, name) for name in type(query).model_fields}
        if takes_actor:
            given["actor"] = who.actor
        for name in op.needs:
            given[name] = await NEEDS[name](request)
        result = await service(ctx, **given)
        return Response(status_code=op.status_code) if op.output is None else result

    endpoint.__name__ = op.name
    endpoint.__doc__ = op.doc
    endpoint.__signature__ = _signature(op, service)  # type: ignore[attr-defined]
    return endpoint


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
        inspect.Parameter("ctx", _KEYWORD, annotation=Context),
        inspect.Parameter("who", _KEYWORD, annotation=who),
    ]
    parameters += [
        inspect.Parameter(p, _KEYWORD, annotation=_present(hints[p])) for p in op.path_parameters
    ]
    if op.query is not None:
        query = Annotated[op.query, Query()]  # type: ignore[name-defined]
        parameters.append(inspect.Parameter("query", _KEYWORD, annotation=query))
    if op.body is not None:
        parameters.append(inspect.Parameter("body", _KEYWORD, annotation=op.body))
    return inspect.Signature(parameters)
