"""Signing in and out of the pages: a password, or a one-time link, and a session cookie.

``GET /sign-in?token=mcl_…`` redeems a one-time link (first start prints one; ``missionctl
login-link NAME`` makes more). ``POST /sign-in`` checks a password. Both are rate-limited: a
sign-in is refused while its account (or its address) has too many failures in the window,
even with the right password, and answers 429 with ``Retry-After``. Every refusal appends
``user.sign_in_failed``, up to 30 per address per minute; the next one recorded after that
carries ``dropped``, how many were left out. ``POST /sign-out`` ends the session. The forms
carry the session's CSRF token, so another site cannot sign a browser in or out.
"""

import math
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.status import HTTP_303_SEE_OTHER

from missionctl.domain.access import RateLimiter
from missionctl.schemas.identity import PASSWORD_MAX_CHARS
from missionctl.security.guard import authenticate, client_address, edge_limits, verify_csrf
from missionctl.security.limits import client_key
from missionctl.security.sessions import session_of
from missionctl.services import identity as identity_service
from missionctl.web.deps import Context, public
from missionctl.web.templating import render

PAGE = "pages/sign_in.html"
HOME = "/missions"

router = APIRouter()

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
    dropped = edge_limits(request).admit_sign_in_failure(address)
    if dropped is None:
        return
    await identity_service.record_sign_in_failure(
        ctx, name=name, method=method, address=address, limited=limited, dropped=dropped
    )


def _blocked(checks: list[tuple[RateLimiter, str]]) -> float | None:
    """Seconds until every limiter would allow an attempt, or ``None`` if all allow one now."""
    waits = [d.retry_after_s for d in (lim.check(key) for lim, key in checks) if not d.allowed]
    return max(waits) if waits else None


@router.get("/sign-in", dependencies=[public()])
async def sign_in_page(
    request: Request,
    ctx: Context,
    token: Annotated[str, Query(max_length=200)] = "",
    next: Next = HOME,
) -> Response:
    """The sign-in form; with ``token``, redeem a one-time link and go to ``next``."""
    if not token:
        signed_in = (await authenticate(request)).identity is not None
        return _go(next) if signed_in else _page(request, next_url=next)
    address = client_address(request) or "unknown"
    limiter = edge_limits(request).sign_in_address
    # Counted per client (an IPv6 /64 is one): rotating through one's own addresses is no escape.
    client = client_key(address)
    wait = _blocked([(limiter, client)])
    if wait is not None:
        await _record_failure(request, ctx, name="", method="link", address=address, limited=True)
        message = "Too many failed sign-ins from your address; wait and try again."
        return _page(request, next_url=next, error=message, status_code=429, retry_after_s=wait)
    identity = await identity_service.redeem_sign_in_link(ctx, secret=token)
    if identity is None:
        limiter.hit(client)
        await _record_failure(request, ctx, name="", method="link", address=address, limited=False)
        message = (
            "This sign-in link is unknown, already used or expired. "
            "Ask an admin for a new one (missionctl login-link NAME), or sign in below."
        )
        return _page(request, next_url=next, error=message, status_code=401)
    session_of(request).sign_in(identity.user_name)
    return _go(next)


@router.post("/sign-in", dependencies=[public()])
async def sign_in(
    request: Request,
    ctx: Context,
    name: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=PASSWORD_MAX_CHARS)] = "",
    next: Annotated[str, Form(max_length=500)] = HOME,
) -> Response:
    """Check a name and password; on success the session belongs to that user."""
    await verify_csrf(request)
    account = name.strip().lower()
    address = client_address(request) or "unknown"
    limits = edge_limits(request)
    checks = [(limits.sign_in_account, account), (limits.sign_in_address, client_key(address))]
    wait = _blocked(checks)
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
    user = await identity_service.verify_password(ctx, name=account, password=password)
    if user is None:
        for limiter, key in checks:
            limiter.hit(key)
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
    session_of(request).sign_in(user.name)
    return _go(next)


@router.post("/sign-out", dependencies=[public()])
async def sign_out(request: Request, ctx: Context) -> Response:
    """End the session (the browser keeps an anonymous one) and show the sign-in page."""
    await verify_csrf(request)
    session = session_of(request)
    if session.user is not None:
        await identity_service.record_sign_out(ctx, user_name=session.user)
    session.sign_out()
    return RedirectResponse("/sign-in", status_code=HTTP_303_SEE_OTHER)
