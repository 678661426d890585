"""Signing in and out of the pages: a password, or a one-time link, and a server-side session.

``GET /sign-in?token=mcl_…`` redeems a one-time link (first start prints one; ``missionctl
login-link NAME`` makes more) in a browser where nobody is signed in. Where someone is, it only
asks "You are signed in as X. Sign in as Y instead?", and the answer is ``POST /sign-in/link``
with the session's CSRF token: a link another site sends a signed-in browser to never switches
its account (login CSRF). ``POST /sign-in`` checks a password.

Both are rate-limited and answer 429 with ``Retry-After``: a sign-in is refused while its
address has too many failures in the window, and a password sign-in while its account has,
even with the right password, unless the browser is a known device of that account (it signed
in as that user before, ADR 0077): its failures are counted for it alone, so strangers
guessing at a name cannot lock its owner out. Every refusal appends ``user.sign_in_failed``
(the name only when such a user exists), up to 30 per address per minute; the next one
recorded after that carries ``dropped``, how many were left out. ``POST /sign-out`` ends the
session on the server. The forms carry the session's CSRF token, so another site cannot sign
a browser in or out.
"""

import math
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.status import HTTP_303_SEE_OTHER

from missionctl.domain.access import Identity
from missionctl.schemas.identity import PASSWORD_MAX_CHARS
from missionctl.security.guard import (
    GuardedRoute,
    authenticate,
    client_address,
    edge_limits,
    verify_csrf,
)
from missionctl.security.limits import blocked, client_key, count_failure
from missionctl.security.sessions import session_of
from missionctl.services.usecases import identity as identity_service
from missionctl.services.usecases import sessions as sessions_service
from missionctl.services.usecases import sign_in_links
from missionctl.web.deps import Context, public
from missionctl.web.templating import render

PAGE = "pages/sign_in.html"
SWITCH_PAGE = "pages/sign_in_switch.html"
HOME = "/missions"

router = APIRouter(route_class=GuardedRoute)

Next = Annotated[str, Query(max_length=500)]


def safe_next(target: str) -> str:
    """``target`` when it is a path of this site, else the missions page (no open redirect)."""
    parts = urlsplit(target)
    if (
        not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or parts.scheme
        or parts.netloc
    ):
        return HOME
    return target


def _go(target: str) -> RedirectResponse:
    return RedirectResponse(safe_next(target), status_code=HTTP_303_SEE_OTHER)


def _page(
    request: Request,
    *,
    next_url: str,
    name: str = "",
    error: str | None = None,
    status_code: int = 200,
    retry_after_s: float | None = None,
) -> Response:
    headers = {}
    if retry_after_s is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after_s)))
    context = {"next": safe_next(next_url), "name": name, "error": error}
    return render(request, PAGE, context, status_code=status_code, headers=headers)


async def _record_failure(
    request: Request, ctx: Context, *, name: str, method: str, address: str, limited: bool
) -> None:
    """Append ``user.sign_in_failed``, unless this address used up its records of the minute.

    Anonymous clients cannot grow the append-only log without bound (``security.limits``): the
    failures left out are counted in the next one recorded for the address (``dropped``).
    """
    dropped = await edge_limits(request).admit_sign_in_failure(address)
    if dropped is None:
        return
    await identity_service.record_sign_in_failure(
        ctx, name=name, method=method, address=address, limited=limited, dropped=dropped
    )


Token = Annotated[str, Query(max_length=200)]
_BAD_LINK = (
    "This sign-in link is unknown, already used or expired. "
    "Ask an admin for a new one (Users page, Sign-in link; or missionctl login-link NAME), "
    "or sign in below."
)


async def _end_held_session(request: Request, ctx: Context) -> None:
    """End on the server the session this browser held (someone else's, or an older one)."""
    session = session_of(request)
    previous = (await authenticate(request)).identity
    if previous is not None and session.secret is not None:
        await sessions_service.end_session(ctx, secret=session.secret, user_name=previous.user_name)


async def _open_session(request: Request, ctx: Context, *, user_name: str) -> bool:
    """Give this browser a new server-side session of ``user_name``; whether it could.

    A session the browser held (someone else's, or an older one of the same user) ends on the
    server first. ``False`` when the user was disabled in the meantime.
    """
    session = session_of(request)
    await _end_held_session(request, ctx)
    secret = await sessions_service.start_session(
        ctx,
        user_name=user_name,
        address=client_address(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    if secret is None:
        session.sign_out()
        return False
    session.sign_in(secret, user_name=user_name)
    return True


async def _redeem_link(request: Request, ctx: Context, *, token: str, next_url: str) -> Response:
    """Redeem the one-time link ``token`` and go to ``next_url``; the refusals, as pages."""
    address = client_address(request) or "unknown"
    limiter = edge_limits(request).sign_in_address
    # Counted per client (an IPv6 /64 is one): rotating through one's own addresses is no escape.
    client = client_key(address)
    wait = await blocked([(limiter, client)])
    if wait is not None:
        await _record_failure(request, ctx, name="", method="link", address=address, limited=True)
        message = "Too many failed sign-ins from your address; wait and try again."
        return _page(request, next_url=next_url, error=message, status_code=429, retry_after_s=wait)
    identity = await sign_in_links.redeem_sign_in_link(ctx, secret=token)
    if identity is None or not await _open_session(request, ctx, user_name=identity.user_name):
        await limiter.hit(client)
        await _record_failure(request, ctx, name="", method="link", address=address, limited=False)
        return _page(request, next_url=next_url, error=_BAD_LINK, status_code=401)
    return _go(next_url)


async def _ask_to_switch(
    request: Request, ctx: Context, *, current: Identity, token: str, next_url: str
) -> Response:
    """The question a link opened in a signed-in browser gets, instead of switching at once."""
    target = await sign_in_links.peek_sign_in_link(ctx, secret=token)
    if target == current.user_name:
        return _go(next_url)  # already signed in as the link's user: nothing to switch
    if target is None:
        return _page(request, next_url=next_url, error=_BAD_LINK, status_code=401)
    context = {"current": current.user_name, "target": target, "token": token}
    return render(request, SWITCH_PAGE, {**context, "next": safe_next(next_url)})


@router.get("/sign-in", dependencies=[public()])
async def sign_in_page(
    request: Request, ctx: Context, token: Token = "", next: Next = HOME
) -> Response:
    """The sign-in form; with ``token``, redeem a one-time link (or ask first, if signed in)."""
    current = (await authenticate(request)).identity
    if not token:
        return _go(next) if current is not None else _page(request, next_url=next)
    if current is not None:
        return await _ask_to_switch(request, ctx, current=current, token=token, next_url=next)
    return await _redeem_link(request, ctx, token=token, next_url=next)


@router.post("/sign-in/link", dependencies=[public()])
async def sign_in_with_link(
    request: Request,
    ctx: Context,
    token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = HOME,
) -> Response:
    """Redeem a one-time link after the person agreed to leave the account they are in."""
    await verify_csrf(request)
    return await _redeem_link(request, ctx, token=token, next_url=next)


@router.post("/sign-in", dependencies=[public()])
async def sign_in(
    request: Request,
    ctx: Context,
    name: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=PASSWORD_MAX_CHARS)] = "",
    next: Annotated[str, Form(max_length=500)] = HOME,
) -> Response:
    """Check a name and password; on success the browser gets a session of that user."""
    await verify_csrf(request)
    account = name.strip().lower()
    address = client_address(request) or "unknown"
    device = session_of(request).known_device(account)
    checks = edge_limits(request).sign_in_checks(
        account=account, address=address, device_id=None if device is None else device.device_id
    )
    wait = await blocked(checks)
    if wait is not None:
        await _record_failure(
            request, ctx, name=account, method="password", address=address, limited=True
        )
        message = f"Too many failed sign-ins; try again in {max(1, math.ceil(wait))} seconds."
        return _page(
            request,
            next_url=next,
            name=account,
            error=message,
            status_code=429,
            retry_after_s=wait,
        )
    # The session opens in the transaction that accepts the password, so that a password
    # change landing just after the check ends it too.
    origin = identity_service.SessionOrigin(
        address=client_address(request), user_agent=request.headers.get("user-agent", "")
    )
    signed_in = await identity_service.sign_in_with_password(
        ctx, name=account, password=password, origin=origin
    )
    if signed_in is None:
        await count_failure(checks)
        await _record_failure(
            request, ctx, name=account, method="password", address=address, limited=False
        )
        return _page(
            request,
            next_url=next,
            name=account,
            error="Wrong name or password.",
            status_code=401,
        )
    user, secret = signed_in
    await _end_held_session(request, ctx)
    session_of(request).sign_in(secret, user_name=user.name)
    return _go(next)


@router.post("/sign-out", dependencies=[public()])
async def sign_out(request: Request, ctx: Context) -> Response:
    """End the session on the server (the browser keeps an anonymous one); show sign-in."""
    await verify_csrf(request)
    session = session_of(request)
    identity = (await authenticate(request)).identity
    if identity is not None and session.secret is not None:
        await sessions_service.end_session(ctx, secret=session.secret, user_name=identity.user_name)
    session.sign_out()
    return RedirectResponse("/sign-in", status_code=HTTP_303_SEE_OTHER)
