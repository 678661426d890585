"""Authentication of requests and the permission every route declares (ADR 0011).

Every API and page route declares what it needs with a dependency: ``requires(PERMISSION)``
(an ``Identity`` holding it) or ``public()`` (anyone; no credentials are read).
``undeclared_routes`` lists routes that declare neither; ``create_app`` refuses to start with
one, and the authorization-matrix test derives its cases from the same declarations. Every
router is made with ``route_class=GuardedRoute``, which checks the declarations before the
body is read (ADR 0076); ``unguarded_routes`` lists routes served otherwise, and ``create_app``
refuses to start with one.

Who is asking:
- ``Authorization: Bearer mc_…`` — an API token (never falls back to the cookie; a bad token is
  a 401 even with a valid session). Each token is rate-limited per minute (429).
- otherwise the session cookie's server-side session (ADR 0077), read at each request with
  its user, so that a revoked session, a disabled user or a changed role applies at once.

A state-changing request authenticated by the cookie must carry the session's CSRF token
(``X-CSRF-Token`` header, which htmx sends, or a ``csrf_token`` form field). Tokens need none:
a browser never attaches them on its own.

Refusals are 401 (no identity) or 403 (identity without the permission, or no CSRF token), and
each is appended to the event log as ``access.denied`` with the identity (at most
``RECORDS_PER_MINUTE`` per client, an IPv4 address or an IPv6 /64, and for anonymous ones at
most ``ANONYMOUS_RECORDS_PER_MINUTE`` across all clients, so that knocking cannot flood the log;
the next one recorded says how many were ``dropped``, see ``security.limits``).
"""

import contextlib
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from fastapi import Depends, FastAPI, Request, Response, params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute

from missionctl.domain.access import ROLES, Identity, Permission, allows
from missionctl.errors import (
    CsrfRejected,
    EventLogUnavailable,
    NotAuthenticated,
    PermissionDenied,
    Problem,
    RateLimited,
    ValidationFailed,
)
from missionctl.security.bodies import StrictJsonRequest, body_slot, is_json
from missionctl.security.limits import EdgeLimits
from missionctl.security.sessions import CSRF_FIELD, CSRF_HEADER, session_of
from missionctl.services import ServiceContext
from missionctl.services.usecases import identity as identity_service
from missionctl.services.usecases import sessions as sessions_service

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
IN_PROCESS_IDENTITY = "missionctl.identity"
"""The ASGI scope key of a request made in this process (ADR 0089): its ``Identity``.

No server puts this key in a scope, so only code in the same process can act this way.
"""
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True, slots=True)
class Declaration:
    """What a route needs: ``permission``, or nothing (``None``: public)."""

    permission: Permission | None


def _ctx(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


def edge_limits(request: Request) -> EdgeLimits:
    """The app's rate limiters (built by ``create_app``)."""
    limits: EdgeLimits = request.app.state.limits
    return limits


def client_address(request: Request) -> str | None:
    """The peer's address (what rate limits and denial records key on)."""
    return request.client.host if request.client else None


@dataclass(frozen=True, slots=True)
class Authentication:
    """The outcome of reading a request's credentials."""

    identity: Identity | None
    via: str | None  # "token", "session", "process" (IN_PROCESS_IDENTITY) or None
    problem: str | None  # why a presented credential did not let anyone in


async def authenticate(request: Request) -> Authentication:
    """Who is asking (cached on the request). See the module docstring for the rules.

    Raises:
        RateLimited: the token spent its requests of this minute (``Retry-After`` says when).
    """
    cached: Authentication | None = getattr(request.state, "authentication", None)
    if cached is not None:
        return cached
    result = await _authenticate(request)
    request.state.authentication = result
    request.state.identity = result.identity
    return result


async def _authenticate(request: Request) -> Authentication:
    here: Identity | None = request.scope.get(IN_PROCESS_IDENTITY)
    if here is not None:
        return Authentication(here, "process", None)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, secret = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return Authentication(None, None, "use 'Authorization: Bearer <token>'")
        identity = await identity_service.authenticate_token(_ctx(request), secret=secret.strip())
        if identity is None:
            return Authentication(None, None, "the token is unknown, revoked or expired")
        decision = await edge_limits(request).api_token.hit(identity.actor)
        if not decision.allowed:
            raise RateLimited(
                "too many requests with this token; slow down",
                retry_after_s=decision.retry_after_s,
            )
        return Authentication(identity, "token", None)
    session = session_of(request)
    if session.secret is None:
        return Authentication(None, None, None)
    identity = await sessions_service.authenticate_session(_ctx(request), secret=session.secret)
    if identity is None:  # signed out elsewhere, revoked, expired or disabled: forget it here
        session.sign_out()
        return Authentication(None, None, "your session has ended; sign in again")
    return Authentication(identity, "session", None)


async def current_identity(request: Request) -> Identity | None:
    """Who ``request``'s credential names now, read again; ``None`` if it lets nobody in.

    For a response that outlives its admission (a live stream, ``security.streams``): unlike
    :func:`authenticate` it caches nothing, spends none of a token's requests and records
    nothing, so that asking again and again costs one indexed read each time.
    """
    here: Identity | None = request.scope.get(IN_PROCESS_IDENTITY)
    if here is not None:
        return here
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, secret = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return None
        return await identity_service.authenticate_token(_ctx(request), secret=secret.strip())
    held = session_of(request).secret
    if held is None:
        return None
    return await sessions_service.authenticate_session(_ctx(request), secret=held)


async def verify_csrf(request: Request) -> None:
    """Refuse a state-changing request that lacks the session's CSRF token.

    Raises:
        CsrfRejected: no token, or not this session's (field ``csrf_token``).
    """
    candidate = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if candidate is None and content_type.startswith(_FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        candidate = value if isinstance(value, str) else None
    if not session_of(request).csrf_matches(candidate):
        await _record(request, None, 403, None, "missing or wrong CSRF token")
        raise CsrfRejected(
            "the form is out of date or came from another site; reload the page and try again",
            field=CSRF_FIELD,
        )


def _least_rank(permission: Permission) -> int:
    return next(index for index, role in enumerate(ROLES) if allows(role, permission))


def least_role(permission: Permission) -> str:
    """The least role that holds ``permission`` (for messages)."""
    return ROLES[_least_rank(permission)].value


async def _record(
    request: Request,
    identity: Identity | None,
    status: int,
    permission: Permission | None,
    reason: str,
) -> None:
    actor = identity.actor if identity is not None else None
    address = client_address(request)
    dropped = await edge_limits(request).admit_denial(actor, address)
    if dropped is None:
        return
    # The refusal stands whether or not it is recorded: while the event log refuses appends
    # (reported once where that was found), a 401 or 403 must not become a 503.
    with contextlib.suppress(EventLogUnavailable):
        await identity_service.record_denial(
            _ctx(request),
            actor=actor,
            status=status,
            method=request.method,
            path=request.url.path,
            permission=None if permission is None else permission.value,
            reason=reason,
            address=address,
            dropped=dropped,
        )


async def _deny(
    request: Request, auth: Authentication, permission: Permission, status: int
) -> NoReturn:
    if status == 401:
        reason = auth.problem or "no credentials"
        await _record(request, None, 401, permission, reason)
        raise NotAuthenticated(
            f"sign in first ({reason}); API clients send 'Authorization: Bearer <token>'"
        )
    assert auth.identity is not None
    role = auth.identity.role.value
    await _record(request, auth.identity, 403, permission, f"role {role} lacks {permission}")
    raise PermissionDenied(
        f"{permission.value} needs the {least_role(permission)} role or above; you act as {role}"
    )


class Requires(Declaration):
    """Dependency: the identity, which must hold ``permission`` (401/403 otherwise)."""

    __slots__ = ()

    async def __call__(self, request: Request) -> Identity:
        """Authenticate, check CSRF for cookie-authenticated writes, then the permission."""
        assert self.permission is not None
        auth = await authenticate(request)
        if auth.identity is None:
            await _deny(request, auth, self.permission, 401)
        if auth.via == "session" and request.method not in SAFE_METHODS:
            await verify_csrf(request)
        if not auth.identity.allows(self.permission):
            await _deny(request, auth, self.permission, 403)
        return auth.identity


class Public(Declaration):
    """Dependency: anyone may call the route.

    It reads no credentials (a health probe must not depend on the database answering a token
    lookup); a route that wants to know who is asking awaits ``authenticate(request)`` itself.
    """

    __slots__ = ()

    async def __call__(self) -> None:
        """Nothing to check."""


async def admit(request: Request, declarations: Sequence[Declaration]) -> Identity | None:
    """Check ``declarations`` the way their dependencies will, before the body is read.

    The identity and each declared permission, in order; the CSRF token is left to the
    dependency (it may be a field of the body). Returns the identity, or ``None`` for a route
    that declares only ``public()``.

    Raises:
        NotAuthenticated: no identity (recorded as ``access.denied``).
        PermissionDenied: the identity lacks a declared permission (recorded).
        RateLimited: the token spent its requests of this minute.
    """
    needed = [d.permission for d in declarations if d.permission is not None]
    if not needed:
        return None
    auth = await authenticate(request)
    for permission in needed:
        if auth.identity is None:
            await _deny(request, auth, permission, 401)
        if not auth.identity.allows(permission):
            await _deny(request, auth, permission, 403)
    return auth.identity


class GuardedRoute(APIRoute):
    """The route class of every router: who may call is checked before the body is read.

    FastAPI reads and parses a route's body (a model, a form) before it solves any
    dependency, and dependencies in the order they are written: a declared permission alone
    would let anyone make the server parse a body (ADR 0076). This route's handler first
    admits the caller against the route's declarations (:func:`admit`), then holds a slot of
    the caller's for a large body and reads a JSON body with the one strict parser
    (``security.bodies``), and only then hands the request to FastAPI. ``create_app`` refuses
    to start with a route of another class (:func:`unguarded_routes`).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler for this route, behind the admission and the body's bounds."""
        handler = super().get_route_handler()
        declarations = tuple(_declarations(self.dependant))
        field = self.body_field
        reads_json = field is not None and not isinstance(field.field_info, params.Form)
        accepted = _query_names(self.dependant)

        async def guarded(request: Request) -> Response:
            await admit(request, declarations)
            # Pages ignore what they do not read (a link may carry tracking parameters); the
            # API refuses it, so that a misspelt filter is not answered with everything. The
            # route learns its full path only per request: an included route is not copied.
            if request.url.path.startswith(API_PATH):
                refuse_unknown_query(request, accepted)
            strict = StrictJsonRequest(request.scope, request.receive)
            with body_slot(strict):
                try:
                    if reads_json and is_json(strict) and await strict.body():
                        await strict.json()  # refusals here are mapped like any route's
                except ClientDisconnect:  # gone, or cut off by the body limit (its 413 is sent)
                    return Response(status_code=400)
                return await handler(strict)

        return guarded


API_PATH = "/api/"
"""Routes under this path refuse query parameters they do not declare."""


def _query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameters a route declares, by the names a client sends.

    A parameter may be one model of them (a declared operation's query): its fields count.
    """
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        pending.extend(current.dependencies)
        for field in current.query_params:
            model = field.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):
                names.update(info.alias or name for name, info in model.model_fields.items())
            else:
                names.add(field.alias)
    return frozenset(names)


def refuse_unknown_query(request: Request, accepted: frozenset[str]) -> None:
    """Refuse a query parameter the route does not take, naming those it does.

    Raises:
        ValidationFailed: one problem per unknown name (a 422), before any work is done.
    """
    unknown = sorted({name for name in request.query_params if name not in accepted})
    if not unknown:
        return
    takes = "it takes " + ", ".join(sorted(accepted)) if accepted else "it takes no query parameter"
    raise ValidationFailed(
        [
            Problem(
                field=_clipped(name), message=f"is not a query parameter of this endpoint; {takes}"
            )
            for name in unknown[:20]
        ]
    )


UNKNOWN_NAME_CHARS = 64
"""How much of an unknown parameter's name a refusal repeats: enough to recognise a typo; a
hostile name of megabytes is not sent back."""


def _clipped(name: str) -> str:
    return name if len(name) <= UNKNOWN_NAME_CHARS else name[: UNKNOWN_NAME_CHARS - 1] + "…"


def requires(permission: Permission) -> Any:
    """Declare that a route needs ``permission``.

    Annotate a parameter with it (``Annotated[Identity, requires(P)]``) to get the identity, or
    list it in the decorator's ``dependencies`` when the route only needs the check.
    """
    return Depends(Requires(permission))


def public() -> Any:
    """Declare that a route is open to anyone (sign-in, health, static pages)."""
    return Depends(Public(None))


def _declarations(dependant: Dependant) -> Iterator[Declaration]:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, Declaration):
            yield dependency.call
        yield from _declarations(dependency)


@dataclass(frozen=True, slots=True)
class RouteEntry:
    """One served route as the app resolves it: its methods, full path and declarations."""

    methods: tuple[str, ...]
    path: str
    declarations: tuple[Declaration, ...]
    is_api_route: bool

    @property
    def declared(self) -> bool:
        """Whether the route says what it needs (a permission or ``public()``)."""
        return bool(self.declarations)

    @property
    def permission(self) -> Permission | None:
        """The permission the route needs: the strongest of its declarations, or ``None``."""
        needed = [d.permission for d in self.declarations if d.permission is not None]
        return max(needed, key=_least_rank, default=None)


def route_table(app: FastAPI) -> list[RouteEntry]:
    """Every route ``app`` serves, with the declarations in its (effective) dependency tree.

    Routers included into the app are resolved the way FastAPI serves them: prefixes joined,
    and dependencies given at ``include_router`` time counted with the route's own.
    """
    entries: list[RouteEntry] = []
    for context in iter_route_contexts(app.routes):
        dependant: Dependant | None = getattr(context, "dependant", None)
        declarations = () if dependant is None else tuple(_declarations(dependant))
        entries.append(
            RouteEntry(
                methods=tuple(sorted(context.methods or ())),
                path=context.path or "",
                declarations=declarations,
                is_api_route=isinstance(context.original_route, APIRoute),
            )
        )
    return entries


def undeclared_routes(app: FastAPI, *, public_paths: frozenset[str]) -> list[str]:
    """Routes of ``app`` that declare no permission (nor ``public()``), as ``METHODS path``.

    Routes that cannot take a dependency (mounts such as static files, the framework's own
    ``/openapi.json``) count as declared only when their path is in ``public_paths``.

    Resolving every route's dependency tree costs about 0.4 s; each app of a process is built
    from the same module-level routers, so the answer is kept per shape of the route tree (the
    same routers, routes, endpoints and dependencies give the same answer).
    """
    key = (_shape(app.routes), public_paths)
    if (known := _UNDECLARED.get(key)) is None:
        known = _UNDECLARED[key] = tuple(
            f"{','.join(entry.methods) or 'MOUNT'} {entry.path}"
            for entry in route_table(app)
            if not entry.declared and entry.path not in public_paths
        )
    return list(known)


_UNDECLARED: dict[tuple[object, ...], tuple[str, ...]] = {}


def unguarded_routes(app: FastAPI) -> list[str]:
    """Routes of ``app`` that could read a body before checking who asks, as ``METHODS path``.

    A route is guarded when it is a :class:`GuardedRoute` (its router was made with
    ``APIRouter(route_class=GuardedRoute)``) and every permission it needs is declared on the
    route or its router, where the guard sees it; one given to ``include_router`` is checked
    only by the dependency, after the body. Kept per shape of the route tree, like
    :func:`undeclared_routes`.
    """
    key = _shape(app.routes)
    if (known := _UNGUARDED.get(key)) is None:
        known = _UNGUARDED[key] = tuple(_unguarded(app))
    return list(known)


_UNGUARDED: dict[tuple[object, ...], tuple[str, ...]] = {}


def _unguarded(app: FastAPI) -> Iterator[str]:
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        dependant: Dependant | None = getattr(context, "dependant", None)
        effective = () if dependant is None else tuple(_declarations(dependant))
        if not isinstance(route, GuardedRoute) or effective != tuple(
            _declarations(route.dependant)
        ):
            yield f"{','.join(sorted(context.methods or ()))} {context.path}"


def _shape(routes: Sequence[BaseRoute]) -> tuple[object, ...]:
    """What decides the routes' declarations: each router, route, endpoint and dependency.

    Identities, not values: two apps that include the same router objects, holding the same
    route objects, share a shape; a route added to a router later changes it.
    """
    parts: list[object] = []
    for route in routes:
        router = getattr(route, "original_router", None)
        if router is not None:  # a router included into the app (or into another router)
            context = route.include_context  # type: ignore[attr-defined]
            depends = tuple(id(d.dependency) for d in context.dependencies)
            parts.append((id(router), context.prefix, depends, _shape(router.routes)))
        else:  # made per app (a mount, the framework's /openapi.json): by path and endpoint
            endpoint = getattr(route, "endpoint", None)
            depends = tuple(id(d.dependency) for d in getattr(route, "dependencies", ()))
            methods = tuple(sorted(getattr(route, "methods", None) or ()))
            where = getattr(endpoint, "__module__", None), getattr(endpoint, "__qualname__", None)
            parts.append((type(route), getattr(route, "path", None), methods, where, depends))
    return tuple(parts)
