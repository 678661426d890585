"""The Account page: a signed-in person's own password and API tokens.

- ``GET /account``: who one is (name, role, how one signs in), the form that changes one's
  password, one's own API tokens with Revoke, and the form that makes one.
- ``POST /account/password``: change one's own password. The current password is required
  when one has one (a person who signed in by one-time link, such as the first admin, has
  none and sets one). A wrong current password counts as a failed sign-in: the same limits
  (per account, or per known browser, and per address) and the same ``user.sign_in_failed``
  event. Every other session of the person ends; this browser gets a new one in the same
  transaction, so the person stays signed in here.
- ``POST /account/tokens``: make a token for oneself, never above the role one acts with; the
  answer shows its secret this once. ``POST /account/tokens/{name}/revoke``: revoke one's own.

Every role may open it (``missions:read``, which every role holds); the use cases
(``identity.change_own_password``, ``create_own_token``, ``revoke_own_token``) make sure a
person only ever touches their own account.
"""

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import SecretStr
from starlette.status import HTTP_303_SEE_OTHER, HTTP_429_TOO_MANY_REQUESTS

from missionctl.domain.access import NAME_PATTERN, ROLES, rank
from missionctl.errors import Conflict, NotFound, ValidationFailed
from missionctl.schemas.identity import PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS
from missionctl.security.guard import GuardedRoute, client_address, edge_limits
from missionctl.security.limits import Limiter, blocked, count_failure
from missionctl.security.sessions import session_of
from missionctl.services.usecases import identity
from missionctl.web.deps import Context, Identity, P, requires
from missionctl.web.form_errors import errors_of, status_of
from missionctl.web.routes.admin_pages import MAX_TOKEN_DAYS, TokenForm
from missionctl.web.templating import render

PAGE = "pages/account.html"
URL = "/account"
PASSWORD_FIELDS = ("current_password", "password", "confirm")

router = APIRouter(route_class=GuardedRoute)
# Every role holds missions:read: the page is for anyone signed in; the use cases decide whose.
SignedIn = Annotated[Identity, requires(P.MISSIONS_READ)]
TokenName = Annotated[str, Path(max_length=63, pattern=f"^{NAME_PATTERN.pattern}$")]
_NO_STORE = {"Cache-Control": "no-store"}


async def _context(
    ctx: Context,
    who: Identity,
    *,
    password_errors: dict[str, str] | None = None,
    token_form: TokenForm | None = None,
    token_errors: dict[str, str] | None = None,
    created: dict[str, Any] | None = None,
    notice: str | None = None,
) -> dict[str, Any]:
    me = await identity.read_user(ctx, name=who.user_name)
    return {
        "me": me,
        "acting_role": who.role,
        "via_token": who.actor.startswith("token:"),
        "tokens": await identity.list_tokens(ctx, user_name=who.user_name),
        "ceilings": [r.value for r in ROLES if rank(r) <= rank(who.role)],
        "password_errors": password_errors or {},
        "new_token": token_form or TokenForm(),
        "now": datetime.now(UTC),
        "token_errors": token_errors or {},
        "created": created,
        "notice": notice,
        "password_min": PASSWORD_MIN_CHARS,
        "password_max": PASSWORD_MAX_CHARS,
        "max_days": MAX_TOKEN_DAYS,
    }


@router.get(URL)
async def account_page(
    request: Request, ctx: Context, who: SignedIn, changed: bool = False
) -> Response:
    """One's account: the password form, one's tokens and the form that makes one."""
    notice = (
        "Password changed. Every other browser signed in as you was signed out."
        if changed
        else None
    )
    return render(request, PAGE, await _context(ctx, who, notice=notice))


@router.post(URL + "/password")
async def change_password(
    request: Request,
    ctx: Context,
    who: SignedIn,
    current_password: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Change one's own password; the form again, with the field at fault, when refused."""
    if password != confirm:
        errors = {"confirm": "The two new passwords differ; type the same one twice."}
        return await _password_refused(request, ctx, who, errors, 422)
    address = client_address(request)
    session = session_of(request)
    device = session.known_device(who.user_name)
    checks = edge_limits(request).sign_in_checks(
        account=who.user_name,
        address=address,
        device_id=None if device is None else device.device_id,
    )
    if (wait := await blocked(checks)) is not None:
        message = f"Too many wrong passwords; try again in {max(1, math.ceil(wait))} seconds."
        errors = {"current_password": message}
        return await _password_refused(request, ctx, who, errors, HTTP_429_TOO_MANY_REQUESTS)
    by_session = session.secret is not None and not who.actor.startswith("token:")
    origin = identity.SessionOrigin(
        address=address, user_agent=request.headers.get("user-agent", "")
    )
    try:
        _, secret = await identity.change_own_password(
            ctx,
            name=who.user_name,
            current=SecretStr(current_password) if current_password else None,
            new=SecretStr(password),
            origin=origin if by_session else None,
            actor=who.actor,
        )
    except (ValidationFailed, Conflict, NotFound) as exc:
        if exc.field == "current_password":
            await _count_failure(request, ctx, checks, name=who.user_name, address=address)
        errors = errors_of(exc, fields=PASSWORD_FIELDS, default="password")
        return await _password_refused(request, ctx, who, errors, status_of(exc))
    if secret is not None:  # this browser stays signed in; every other session ended
        session.sign_in(secret, user_name=who.user_name)
    return RedirectResponse(f"{URL}?changed=true", status_code=HTTP_303_SEE_OTHER)


async def _count_failure(
    request: Request,
    ctx: Context,
    checks: list[tuple[Limiter, str]],
    *,
    name: str,
    address: str | None,
) -> None:
    """A wrong current password is a failed sign-in: counted and recorded as one."""
    await count_failure(checks)
    dropped = await edge_limits(request).admit_sign_in_failure(address)
    if dropped is not None:
        await identity.record_sign_in_failure(
            ctx, name=name, method="password", address=address, limited=False, dropped=dropped
        )


async def _password_refused(
    request: Request, ctx: Context, who: Identity, errors: dict[str, str], status_code: int
) -> Response:
    context = await _context(ctx, who, password_errors=errors)
    return render(request, PAGE, context, status_code=status_code)


@router.post(URL + "/tokens")
async def add_token(
    request: Request, ctx: Context, who: SignedIn, form: Annotated[TokenForm, Form()]
) -> Response:
    """Make a token for oneself; the answer shows its secret this once."""
    try:
        token, secret = await identity.create_own_token(
            ctx,
            who=who,
            name=form.token_name(),
            role_ceiling=form.ceiling(),
            expires_in=form.expires_in(),
        )
    except (ValidationFailed, Conflict, NotFound) as exc:
        errors = errors_of(exc, fields=TokenForm.FIELDS, default="name")
        context = await _context(ctx, who, token_form=form, token_errors=errors)
        return render(request, PAGE, context, status_code=status_of(exc))
    context = await _context(ctx, who, created={"token": token, "secret": secret})
    return render(request, PAGE, context, headers=_NO_STORE)


@router.post(URL + "/tokens/{name}/revoke")
async def revoke_token(request: Request, ctx: Context, who: SignedIn, name: TokenName) -> Response:
    """Revoke one of one's own tokens (someone else's is as unknown as none)."""
    try:
        await identity.revoke_own_token(ctx, who=who, name=name)
    except NotFound as exc:
        errors = {"revoke": exc.message[0].upper() + exc.message[1:] + "."}
        context = await _context(ctx, who, token_errors=errors)
        return render(request, PAGE, context, status_code=status_of(exc))
    return RedirectResponse(URL, status_code=HTTP_303_SEE_OTHER)
