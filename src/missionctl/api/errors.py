"""The one place where errors become HTTP responses.

Services raise ``missionctl.errors.*``; this table maps them to statuses. Request validation
errors name the field and say how to fix it. Anything unexpected becomes a bare 500 whose body
reveals nothing; the details go to the server log.
"""

import asyncio
import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from missionctl import errors
from missionctl.api.methods import allowed_methods
from missionctl.db.faults import OutageLog, database_fault
from missionctl.domain.problems import MAX_PROBLEMS, capped, more_problems
from missionctl.schemas.errors import ErrorBody, ErrorDetail, ErrorInfo

log = logging.getLogger(__name__)

PageRenderer = Callable[[Request, int, str], Response]
"""Renders an HTML error page: ``(request, status, message) -> response``."""

# Paths that always answer JSON, whoever asks.
_JSON_PREFIXES = ("/api/", "/healthz", "/metrics", "/openapi.json", "/docs")

DATABASE_RETRY_AFTER_S = 5
"""How soon a client (and a page, which reloads itself) asks again when the database is out."""


STATUS_BY_ERROR: dict[type[errors.MissionControlError], int] = {
    errors.NotFound: 404,
    errors.InvalidTransition: 409,
    errors.Conflict: 409,
    errors.StateRefused: 409,
    errors.ValidationFailed: 422,
    errors.BudgetExceeded: 409,
    errors.IntegrityError: 500,
    errors.EventLogUnavailable: 503,
    errors.LLMUnavailable: 503,
    errors.BlobStoreUnavailable: 503,
    errors.LLMOutputInvalid: 502,
    errors.NotAuthenticated: 401,
    errors.PermissionDenied: 403,
    errors.RateLimited: 429,
}

_LOCATION_ROOTS = {"body", "query", "path", "header", "cookie", "form"}


def status_for(error: errors.MissionControlError) -> int:
    """The HTTP status of a domain error (most specific class wins; unknown ones are 400)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    details: Sequence[ErrorDetail] = (),
) -> JSONResponse:
    """A JSON response in the shared error shape."""
    body = ErrorBody(
        error=ErrorInfo(code=code, message=message, field=field, details=list(details))
    )
    return JSONResponse(status_code=status, content=body.model_dump(mode="json"))


def field_path(location: Sequence[Any]) -> str | None:
    """``("body", "constraints", 0)`` → ``"constraints.0"``; ``("body",)`` → ``None``."""
    parts = [str(p) for p in location]
    if parts and parts[0] in _LOCATION_ROOTS:
        parts = parts[1:]
    return ".".join(parts) or None


def describe_validation_error(error: dict[str, Any]) -> ErrorDetail:
    """Turn one Pydantic error into a message that says what to do."""
    field = field_path(error.get("loc", ()))
    kind = error.get("type", "")
    message = str(error.get("msg", "is invalid"))
    if kind == "value_error":  # a validator's own words, without Pydantic's prefix
        message = message.removeprefix("Value error, ")
    elif kind == "missing":
        message = "is required"
        if field is None and tuple(error.get("loc", ())) == ("body",):
            field, message = "body", "is required: send JSON (see the schema at /openapi.json)"
    elif kind == "extra_forbidden":
        message = "is not a known field; remove it (see the schema at /openapi.json)"
    elif kind == "json_invalid":
        message = (
            f"the request body is not valid JSON: {error.get('ctx', {}).get('error', '')}".rstrip(
                ": "
            )
        )
    elif kind in {
        "string_type",
        "int_type",
        "list_type",
        "dict_type",
        "decimal_type",
        "float_type",
        "bool_type",
        "model_attributes_type",
        "uuid_type",
        "uuid_parsing",
        "enum",
        "int_parsing",
        "decimal_parsing",
        "float_parsing",
        "bool_parsing",
    }:
        message = f"has the wrong type or format: {message}"
    return ErrorDetail(field=field, message=message)


# Outages whose message names what is down and what to check, and nothing secret: shown. A
# model endpoint's message is the client's, redacted of its key and of what looks like one.
_NAMED_OUTAGES = (errors.EventLogUnavailable, errors.BlobStoreUnavailable, errors.LLMUnavailable)


def _domain_error_parts(exc: errors.MissionControlError) -> tuple[int, JSONResponse]:
    status = status_for(exc)
    # Its message names what an operator must do and reveals nothing else; it was logged once
    # where it was found, so it is neither hidden nor logged again on every request.
    if status >= 500 and not isinstance(exc, _NAMED_OUTAGES):
        log.error("server-side integrity problem: %s", exc.message)
        return status, error_response(status, "internal_error", "internal server error")
    if isinstance(exc, errors.BlobStoreUnavailable):
        log.warning("%s", exc.message)  # one line for the operator, as for the database
    details: list[ErrorDetail] = []
    message = exc.message
    if isinstance(exc, errors.ValidationFailed):
        details = [ErrorDetail(field=p.field, message=p.message) for p in capped(exc.problems)]
        message = _joined(details)
    response = error_response(status, exc.code, message, exc.field, details)
    if isinstance(exc, errors.NotAuthenticated):
        response.headers["www-authenticate"] = 'Bearer realm="missionctl"'
    if isinstance(exc, errors.RateLimited):
        response.headers["retry-after"] = str(max(1, math.ceil(exc.retry_after_s)))
    return status, response


def _joined(details: Sequence[ErrorDetail]) -> str:
    return "; ".join(f"{d.field}: {d.message}" if d.field else d.message for d in details)


def _validation_error_response(exc: RequestValidationError) -> JSONResponse:
    """The 422 of a request its signature refused, in a few kilobytes whatever the body.

    At most ``MAX_PROBLEMS`` details, then one that counts the rest: a body of 300,000 unknown
    keys is not described 300,000 times.
    """
    found = exc.errors()
    details = [describe_validation_error(dict(e)) for e in found[:MAX_PROBLEMS]]
    if len(found) > MAX_PROBLEMS:
        details.append(ErrorDetail(field=None, message=more_problems(len(found) - MAX_PROBLEMS)))
    first = details[0].field if details else None
    message = _joined(details) or "invalid request"
    return error_response(422, "validation_failed", message, first, details)


def _http_error_response(exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
        # FastAPI's JSON reading recursed past Python's limit: a body nested without end.
        message = "the request body is nested too deeply to read; flatten its arrays and objects"
        return error_response(422, "validation_failed", message, "body")
    codes = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    code = codes.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    response = error_response(exc.status_code, code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _wants_page(request: Request) -> bool:
    """A browser asking for a page (not the API, not a JSON client)."""
    if request.url.path.startswith(_JSON_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "") or "hx-request" in request.headers


def install_error_handlers(app: FastAPI, *, page_renderer: PageRenderer | None = None) -> None:
    """Register the error handlers on ``app``.

    Args:
        app: the application.
        page_renderer: renders HTML error pages for browser requests outside the API; without
            it every error answers JSON.
    """

    def respond(request: Request, response: JSONResponse) -> Response:
        if page_renderer is None or not _wants_page(request):
            return response
        body = ErrorBody.model_validate_json(bytes(response.body))
        page = page_renderer(request, response.status_code, body.error.message)
        for name in ("allow", "retry-after", "www-authenticate"):
            if name in response.headers:
                page.headers[name] = response.headers[name]
        if body.error.code == "database_unavailable":  # the page tries again by itself
            page.headers["refresh"] = str(DATABASE_RETRY_AFTER_S)
        return page

    async def on_domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, errors.MissionControlError)
        return respond(request, _domain_error_parts(exc)[1])

    async def on_request_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return respond(request, _validation_error_response(exc))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        # The path is served, not with this method: name every method it is served with.
        if exc.status_code == 405 and (methods := allowed_methods(request.app, request.scope)):
            allow = {"allow": ", ".join(methods)}
            if request.method == "OPTIONS":  # what the path supports, to anyone; no data
                return Response(status_code=204, headers=allow)
            served = ", ".join(m for m in methods if m != "OPTIONS")
            message = f"{request.method} is not supported here; this path answers {served}"
            exc = StarletteHTTPException(405, message, headers={**(exc.headers or {}), **allow})
        return respond(request, _http_error_response(exc))

    async def on_database_fault(request: Request, exc: Exception) -> Response:
        fault = database_fault(exc)
        if fault is None:  # an operational error the code may have caused: a bug's 500
            return await on_unexpected(request, exc)
        outages.note(fault)
        _watch_recovery(request.app, outages)
        response = error_response(503, "database_unavailable", fault.message)
        response.headers["retry-after"] = str(DATABASE_RETRY_AFTER_S)
        return respond(request, response)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return respond(request, error_response(500, "internal_error", "internal server error"))

    app.add_exception_handler(errors.MissionControlError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    outages = OutageLog(log, "requests refused")  # the app's: they share one database
    app.state.database_outages = outages  # /healthz tells of writes refused a moment ago
    # DatabaseError: a damaged SQLite file; its other kinds (integrity…) stay internal errors.
    for fault_class in (sa_exc.DatabaseError, sa_exc.InterfaceError, sa_exc.TimeoutError):
        app.add_exception_handler(fault_class, on_database_fault)
    app.add_exception_handler(Exception, on_unexpected)


def _watch_recovery(app: Any, outages: OutageLog) -> None:
    """Make sure a task records the outage and logs its end once the database takes writes."""
    from missionctl.services.usecases.outages import watch_recovery

    state = app.state
    ctx = getattr(state, "ctx", None)
    running = getattr(state, "outage_watch", None)
    # A quiet log is a command's in-process API: the command ends, it does not wait for this.
    if ctx is None or outages.quiet or (running is not None and not running.done()):
        return
    state.outage_watch = asyncio.get_running_loop().create_task(
        watch_recovery(ctx, outages, process="server")
    )


ERROR_BODY_SCHEMA = "ErrorBody"
"""The name under which ``/openapi.json`` lists the error body's schema."""


def _error_response(description: str) -> dict[str, Any]:
    """An OpenAPI response whose body is an :class:`ErrorBody`, declared by reference.

    Declared as ``{"model": ErrorBody}``, each route and status would make FastAPI build a
    validator for a body it never validates (errors are written by the handlers above): about
    300 of them, 40 % of the time it takes to build the app. By reference it builds none;
    ``error_body_schemas`` puts the schema itself in the document.
    """
    reference = {"$ref": f"#/components/schemas/{ERROR_BODY_SCHEMA}"}
    return {"description": description, "content": {"application/json": {"schema": reference}}}


def error_body_schemas() -> dict[str, dict[str, Any]]:
    """The error body's JSON schema and those of the models it holds, as OpenAPI components."""
    schema = ErrorBody.model_json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    nested: dict[str, dict[str, Any]] = schema.pop("$defs", {})
    return {ERROR_BODY_SCHEMA: schema, **nested}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _error_response("No identity: sign in or send a Bearer token"),
    403: _error_response("The identity lacks the permission"),
    429: _error_response("Rate-limited; `Retry-After` says when to retry"),
    404: _error_response("Not found"),
    422: _error_response("Invalid input; `error.field` names it"),
}
"""OpenAPI ``responses=`` for routes that can fail with these."""

CONFLICT_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: _error_response("The object's state does not allow this now"),
}
"""OpenAPI ``responses=`` for routes that change state the current state may forbid."""

BODY_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error_response("The request body cannot be read (e.g. not UTF-8)"),
}
"""OpenAPI ``responses=`` for routes that read a request body."""

DAMAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    500: _error_response("The stored record is damaged: content missing, or not as recorded"),
}
"""OpenAPI ``responses=`` for routes that vouch for stored bytes (an artifact, a receipt)."""

LLM_RESPONSES: dict[int | str, dict[str, Any]] = {
    502: _error_response("The model's answer was unusable after repairs"),
    503: _error_response("The model could not be reached"),
}
"""OpenAPI ``responses=`` for routes that wait for the configured model."""
