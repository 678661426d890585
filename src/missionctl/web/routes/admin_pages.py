"""The administration pages, for admins only: Users, API tokens and the effective settings.

- ``GET /users`` (``users:admin``): every user with their role, state and last sign-in, the form
  that adds one, and on each row: change the role, set or reset the password, make a one-time
  sign-in link, disable.
- ``POST /users``: add a user. ``POST /users/{name}/role|password|sign-in-link|disable``: the
  row's controls. A change answers with a 303 back to the list; a new sign-in link answers
  with the page that shows it this once (``Cache-Control: no-store``, in no URL). A refused
  form answers with the page again, a message naming the field at fault and its status (422
  invalid, 409 conflict, 404 unknown user), and nothing changed.
- ``GET /tokens`` (``tokens:admin``): every API token (prefix, owner, ceiling, expiry, last use,
  state) with Revoke, and the form that makes one (owner, ceiling, days until it expires); the
  answer to that form shows the secret this once, with a copy button.
- ``GET /settings`` (``policies:admin``): the links to every administration page and the
  server's effective settings, read-only and with every secret masked
  (``Settings.masked``). Settings come from the environment when a process starts; what may
  change while it runs has pages of its own (prices, agents, webhooks, users, tokens).

Every change goes through the use cases the API and the command line call
(``services.usecases.identity``, and ``services.usecases.sign_in_links`` for a link), so the
permissions, validation, events and limits are theirs.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError
from starlette.status import (
    HTTP_303_SEE_OTHER,
    HTTP_404_NOT_FOUND,
    HTTP_422_UNPROCESSABLE_CONTENT,
)

from missionctl.domain.access import NAME_PATTERN, ROLES, Role
from missionctl.errors import Conflict, MissionControlError, NotFound, Problem, ValidationFailed
from missionctl.schemas.identity import (
    DISPLAY_NAME_MAX_CHARS,
    NAME_RULE,
    PASSWORD_MAX_CHARS,
    PASSWORD_MIN_CHARS,
    UserCreate,
)
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import identity, sign_in_links
from missionctl.web.deps import Context, Identity, P, requires
from missionctl.web.form_errors import errors_of, first_per_field, status_of
from missionctl.web.templating import render

USERS_PAGE = "pages/users.html"
TOKENS_PAGE = "pages/tokens.html"
SETTINGS_PAGE = "pages/settings.html"
USERS_URL = "/users"
TOKENS_URL = "/tokens"
SETTINGS_URL = "/settings"
MAX_TOKEN_DAYS = 3650
"""The longest expiry a token may be given, in days (as the API's ``expires_in_days``)."""

router = APIRouter(route_class=GuardedRoute)
UsersAdmin = Annotated[Identity, requires(P.USERS_ADMIN)]
TokensAdmin = Annotated[Identity, requires(P.TOKENS_ADMIN)]
UserName = Annotated[str, Path(max_length=63, pattern=f"^{NAME_PATTERN.pattern}$")]
TokenName = Annotated[str, Path(max_length=63, pattern=f"^{NAME_PATTERN.pattern}$")]
_NO_STORE = {"Cache-Control": "no-store"}
ROLE_CHOICE = "Choose one of viewer, operator, approver or admin."


def parse_role(value: str, *, optional: bool = False) -> Role | None:
    """The role a form's select sent; ``None`` for a blank optional one.

    Raises:
        ValidationFailed: not one of the roles (field ``role``).
    """
    if optional and not value.strip():
        return None
    try:
        return Role(value.strip())
    except ValueError:
        raise ValidationFailed([Problem("role", ROLE_CHOICE)]) from None


# --- Users -------------------------------------------------------------------------------


class UserForm(BaseModel):
    """The "Add a user" form as posted: every field text, absent ones empty."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str = ""
    display_name: str = ""
    role: str = Role.VIEWER.value
    password: str = ""

    FIELDS: ClassVar[tuple[str, ...]] = ("name", "display_name", "role", "password")

    def to_create(self) -> UserCreate:
        """The service request (a blank password: the user signs in by one-time link).

        Raises:
            pydantic.ValidationError: the input breaks a rule of ``UserCreate``.
        """
        return UserCreate.model_validate(
            {
                "name": self.name.strip(),
                "display_name": self.display_name.strip(),
                "role": self.role.strip(),
                "password": SecretStr(self.password) if self.password else None,
            }
        )


def user_form_errors(error: ValidationError) -> dict[str, str]:
    """One readable message per field of the "Add a user" form (the first of each)."""
    return first_per_field(error, fields=UserForm.FIELDS, default="name", wording=_user_message)


def _user_message(field: str, detail: Mapping[str, Any]) -> str:
    kind = str(detail.get("type", ""))
    if field == "name":
        if kind == "string_too_long":
            return "Too long: a name has at most 63 characters."
        return f"Give a sign-in name: {NAME_RULE}."
    if field == "display_name":
        return f"Too long: keep it to {DISPLAY_NAME_MAX_CHARS} characters."
    if field == "role":
        return ROLE_CHOICE
    return f"Use {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS:,} characters, or leave it blank."


async def _users_context(
    ctx: Context,
    *,
    form: UserForm | None = None,
    errors: dict[str, str] | None = None,
    row: dict[str, str] | None = None,
    link: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "users": await identity.list_users(ctx),
        "roles": [r.value for r in ROLES],
        "form": form or UserForm(),
        "errors": errors or {},
        "row": row,  # a refused row control: {"user", "field", "message"}
        "link": link,  # a sign-in link made just now: {"user", "url", "lifetime"}
        "password_min": PASSWORD_MIN_CHARS,
        "password_max": PASSWORD_MAX_CHARS,
        "display_max": DISPLAY_NAME_MAX_CHARS,
    }


@router.get(USERS_URL, dependencies=[requires(P.USERS_ADMIN)])
async def users_page(request: Request, ctx: Context) -> Response:
    """Every user, the controls of each, and the form that adds one."""
    return render(request, USERS_PAGE, await _users_context(ctx))


@router.post(USERS_URL)
async def add_user(
    request: Request, ctx: Context, who: UsersAdmin, form: Annotated[UserForm, Form()]
) -> Response:
    """Add a user; on a refusal the form again, with the message beside the field at fault."""
    try:
        await identity.create_user(ctx, data=form.to_create(), actor=who.actor)
    except ValidationError as exc:
        context = await _users_context(ctx, form=form, errors=user_form_errors(exc))
        return render(request, USERS_PAGE, context, status_code=HTTP_422_UNPROCESSABLE_CONTENT)
    except (ValidationFailed, Conflict, NotFound) as exc:
        errors = errors_of(exc, fields=UserForm.FIELDS, default="name")
        context = await _users_context(ctx, form=form, errors=errors)
        return render(request, USERS_PAGE, context, status_code=status_of(exc))
    return _back_to_users()


async def _row_refused(
    request: Request, ctx: Context, *, name: str, error: MissionControlError, field: str
) -> Response:
    """The list again, with the refusal of one row's control named at the top (nothing done)."""
    message = errors_of(error, fields=(field,), default=field)
    shown = next(iter(message.values()))
    row = {"user": name, "field": field, "message": shown}
    context = await _users_context(ctx, row=row)
    return render(request, USERS_PAGE, context, status_code=status_of(error))


def _back_to_users() -> RedirectResponse:
    return RedirectResponse(USERS_URL, status_code=HTTP_303_SEE_OTHER)


@router.post(USERS_URL + "/{name}/role")
async def change_role(
    request: Request,
    ctx: Context,
    who: UsersAdmin,
    name: UserName,
    role: Annotated[str, Form()] = "",
) -> Response:
    """Give the user another role (their sessions end; their tokens follow at once)."""
    try:
        chosen = parse_role(role)
        assert chosen is not None
        await identity.set_role(ctx, name=name, role=chosen, actor=who.actor)
    except (ValidationFailed, Conflict, NotFound) as exc:
        return await _row_refused(request, ctx, name=name, error=exc, field="role")
    return _back_to_users()


@router.post(USERS_URL + "/{name}/password")
async def set_password(
    request: Request,
    ctx: Context,
    who: UsersAdmin,
    name: UserName,
    password: Annotated[str, Form()] = "",
) -> Response:
    """Set or reset the user's password (their sessions end)."""
    try:
        await identity.set_password(ctx, name=name, password=SecretStr(password), actor=who.actor)
    except (ValidationFailed, Conflict, NotFound) as exc:
        return await _row_refused(request, ctx, name=name, error=exc, field="password")
    return _back_to_users()


@router.post(USERS_URL + "/{name}/disable")
async def disable_user(request: Request, ctx: Context, who: UsersAdmin, name: UserName) -> Response:
    """Disable the user: sessions, tokens and links stop working at once."""
    try:
        await identity.disable_user(ctx, name=name, actor=who.actor)
    except (ValidationFailed, Conflict, NotFound) as exc:
        return await _row_refused(request, ctx, name=name, error=exc, field="name")
    return _back_to_users()


def sign_in_link_url(request: Request, ctx: Context, secret: str) -> str:
    """The address that redeems ``secret``: on the public URL when one is set, else this one."""
    base = ctx.settings.server.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/sign-in?token={secret}"


@router.post(USERS_URL + "/{name}/sign-in-link")
async def make_sign_in_link(
    request: Request, ctx: Context, who: UsersAdmin, name: UserName
) -> Response:
    """Make a one-time sign-in link for the user; the answer shows it this once."""
    ttl_s = sign_in_links.SIGN_IN_LINK_TTL_S
    try:
        secret = await sign_in_links.create_sign_in_link(
            ctx, user_name=name, ttl_s=ttl_s, actor=who.actor
        )
    except (ValidationFailed, Conflict, NotFound) as exc:
        return await _row_refused(request, ctx, name=name, error=exc, field="name")
    link = {
        "user": name,
        "url": sign_in_link_url(request, ctx, secret),
        "lifetime": sign_in_links.lifetime_words(ttl_s),
    }
    context = await _users_context(ctx, link=link)
    return render(request, USERS_PAGE, context, headers=_NO_STORE)


# --- API tokens ------------------------------------------------------------------------------


class TokenForm(BaseModel):
    """A "Create a token" form as posted (the Tokens page's, or the Account page's)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str = ""
    user_name: str = ""
    role_ceiling: str = ""
    expires_in_days: str = ""

    FIELDS: ClassVar[tuple[str, ...]] = ("name", "user_name", "role_ceiling", "expires_in_days")

    def ceiling(self) -> Role | None:
        """The ceiling chosen (blank: the owner's role).

        Raises:
            ValidationFailed: not a role (field ``role_ceiling``).
        """
        try:
            return parse_role(self.role_ceiling, optional=True)
        except ValidationFailed:
            raise ValidationFailed([Problem("role_ceiling", ROLE_CHOICE)]) from None

    def expires_in(self) -> timedelta | None:
        """Days until the token expires (blank: never).

        Raises:
            ValidationFailed: not a whole number from 1 to 3650 (field ``expires_in_days``).
        """
        text = self.expires_in_days.strip()
        if not text:
            return None
        days = int(text) if text.isascii() and text.isdecimal() and len(text) <= 5 else 0
        if not 1 <= days <= MAX_TOKEN_DAYS:
            message = f"Give a whole number of days from 1 to {MAX_TOKEN_DAYS}, or leave it blank."
            raise ValidationFailed([Problem("expires_in_days", message)])
        return timedelta(days=days)

    def token_name(self) -> str:
        """The name typed, trimmed (the use case checks it)."""
        return self.name.strip()


async def _tokens_context(
    ctx: Context,
    *,
    form: TokenForm | None = None,
    errors: dict[str, str] | None = None,
    created: dict[str, Any] | None = None,
    refused: str | None = None,
) -> dict[str, Any]:
    users = [u for u in await identity.list_users(ctx) if not u.disabled]
    return {
        "tokens": await identity.list_tokens(ctx),
        "users": users,
        "roles": [r.value for r in ROLES],
        "form": form or TokenForm(),
        "errors": errors or {},
        "created": created,
        "refused": refused,
        "max_days": MAX_TOKEN_DAYS,
        "now": datetime.now(UTC),
    }


@router.get(TOKENS_URL, dependencies=[requires(P.TOKENS_ADMIN)])
async def tokens_page(request: Request, ctx: Context) -> Response:
    """Every API token, with Revoke, and the form that makes one."""
    return render(request, TOKENS_PAGE, await _tokens_context(ctx))


@router.post(TOKENS_URL)
async def add_token(
    request: Request, ctx: Context, who: TokensAdmin, form: Annotated[TokenForm, Form()]
) -> Response:
    """Make a token; the answer shows its secret this once (the form again when refused)."""
    try:
        token, secret = await identity.create_token(
            ctx,
            user_name=form.user_name.strip(),
            name=form.token_name(),
            role_ceiling=form.ceiling(),
            expires_in=form.expires_in(),
            actor=who.actor,
        )
    except (ValidationFailed, Conflict, NotFound) as exc:
        errors = errors_of(exc, fields=TokenForm.FIELDS, default="name")
        context = await _tokens_context(ctx, form=form, errors=errors)
        return render(request, TOKENS_PAGE, context, status_code=status_of(exc))
    created = {"token": token, "secret": secret}
    context = await _tokens_context(ctx, created=created)
    return render(request, TOKENS_PAGE, context, headers=_NO_STORE)


@router.post(TOKENS_URL + "/{name}/revoke")
async def revoke_token(
    request: Request, ctx: Context, who: TokensAdmin, name: TokenName
) -> Response:
    """Revoke a token: it stops authenticating at once."""
    try:
        await identity.revoke_token(ctx, name=name, actor=who.actor)
    except NotFound as exc:
        [message] = errors_of(exc, fields=(), default="name").values()
        context = await _tokens_context(ctx, refused=message)
        return render(request, TOKENS_PAGE, context, status_code=HTTP_404_NOT_FOUND)
    return RedirectResponse(TOKENS_URL, status_code=HTTP_303_SEE_OTHER)


# --- Settings --------------------------------------------------------------------------------


@router.get(SETTINGS_URL, dependencies=[requires(P.POLICIES_ADMIN)])
async def settings_page(request: Request, ctx: Context) -> Response:
    """The administration pages and the effective settings, read-only, secrets masked."""
    return render(request, SETTINGS_PAGE, {"groups": ctx.settings.masked()})
