"""``missionctl user …``, ``missionctl token …`` and ``missionctl login-link``.

Locally these commands work on the database directly, so they act as ``system``: whoever can
run them can already read and write the database. With ``MISSIONCTL_URL`` and
``MISSIONCTL_TOKEN`` set, ``user add|list|set-role|disable`` and ``token create|list|revoke`` go
to that server's API as ``token:NAME`` (an admin's); ``user set-password``, ``user sessions``,
``user sign-out`` and ``login-link`` have no API and always work on the local database.
"""

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from missionctl.cli._runtime import (
    EXIT_INVALID,
    console,
    err_console,
    load_settings,
    report_validation_error,
    run_service,
    server_address,
    sign_in_url,
    validated_body,
)
from missionctl.domain.access import SIGN_IN_LINK_TTL_S, Role

if TYPE_CHECKING:  # imported where used, so that `missionctl --help` loads neither
    from pydantic import SecretStr

    from missionctl.schemas.identity import TokenRead, UserRead

T = TypeVar("T")

app = typer.Typer(
    help="People who may sign in, and their roles (viewer < operator < approver < admin).",
    no_args_is_help=True,
)
token_app = typer.Typer(
    help="API tokens: made per user with a role ceiling and optional expiry, shown once, "
    "stored only as a hash.",
    no_args_is_help=True,
)

_ACTOR = "system"
# ``schemas.identity.PASSWORD_MIN_CHARS``, spelt out so that ``--help`` does not import the
# schemas (tests/cli/test_startup.py checks that the two agree).
PASSWORD_MIN_CHARS = 12


def _read_password() -> "SecretStr":
    """The first line of standard input, checked for length (exit 2 naming the option)."""
    from pydantic import SecretStr

    from missionctl.schemas.identity import PASSWORD_MAX_CHARS

    # At most the longest password and its line ending are read: a readline with no size
    # would read an endless line (`yes | tr -d '\n'`, /dev/zero) until memory runs out. A
    # longer line is cut at one character past the limit, which the check below refuses.
    password = sys.stdin.readline(PASSWORD_MAX_CHARS + len("\r\n")).rstrip("\r\n")
    if not PASSWORD_MIN_CHARS <= len(password) <= PASSWORD_MAX_CHARS:
        err_console.print(
            f"[red]error:[/red] --password-stdin: the password must be {PASSWORD_MIN_CHARS} to "
            f"{PASSWORD_MAX_CHARS} characters long"
        )
        raise typer.Exit(EXIT_INVALID)
    return SecretStr(password)


def _when(value: datetime | None, *, never: str = "never") -> str:
    return never if value is None else f"{value:%Y-%m-%d %H:%M}Z"


def _print_user(user: "UserRead") -> None:
    state = "[red]disabled[/red]" if user.disabled else "enabled"
    sign_in = "password or link" if user.has_password else "one-time link only"
    console.print(f"[bold]{user.name}[/bold]  {user.role.value}  {state}  [dim]{sign_in}[/dim]")


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Sign-in name: a lower-case slug, e.g. ada.")],
    role: Annotated[Role, typer.Option(help="What the user may do.")] = Role.VIEWER,
    display_name: Annotated[str, typer.Option(help="How pages greet the user.")] = "",
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help=f"Read the password ({PASSWORD_MIN_CHARS}+ characters) from the first line of "
            "standard input. Without it the user signs in with `missionctl login-link` only.",
        ),
    ] = False,
) -> None:
    """Add a user (stored with an argon2id password hash, or no password at all)."""
    from pydantic import ValidationError

    from missionctl.cli._backend import USER_OPTIONS, open_backend
    from missionctl.operations import access as ops
    from missionctl.schemas.identity import UserCreate

    password = _read_password() if password_stdin else None
    try:
        data = UserCreate(name=name, display_name=display_name, role=role, password=password)
    except ValidationError as exc:
        report_validation_error(exc, option_for=USER_OPTIONS)
        return
    with open_backend() as api:
        user = api.call(ops.CREATE_USER, body=data, options=USER_OPTIONS)
    console.print("[green]added[/green]")
    _print_user(user)


@app.command("list")
def list_users(
    as_json: Annotated[bool, typer.Option("--json", help="Print the users as JSON.")] = False,
) -> None:
    """List every user (disabled ones included) with role and last sign-in."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import access as ops

    with open_backend() as api:
        users = api.call(ops.LIST_USERS)
    if as_json:
        typer.echo(json.dumps([u.model_dump(mode="json") for u in users], indent=2))
        return
    table = Table(title=f"Users ({len(users)})")
    for column in ("name", "display name", "role", "state", "password", "last sign-in"):
        table.add_column(column)
    for user in users:
        table.add_row(
            user.name,
            user.display_name,
            user.role.value,
            "disabled" if user.disabled else "enabled",
            "yes" if user.has_password else "no",
            _when(user.last_sign_in_at),
        )
    console.print(table)


@app.command("set-role")
def set_role(
    name: Annotated[str, typer.Argument(help="The user.")],
    role: Annotated[Role, typer.Argument(help="The new role.")],
) -> None:
    """Change a user's role; their API tokens follow at once (never above the new role)."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import access as ops

    with open_backend() as api:
        user = api.call(ops.SET_ROLE, body=ops.RoleChange(role=role), name=name)
    _print_user(user)


@app.command("set-password")
def set_password(
    name: Annotated[str, typer.Argument(help="The user.")],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the new password from the first line of standard input (required).",
        ),
    ] = False,
) -> None:
    """Set or replace a user's password (stored as an argon2id hash)."""
    from missionctl.services.usecases import identity

    if not password_stdin:
        err_console.print(
            "[red]error:[/red] --password-stdin: pass it and pipe the password in, e.g. "
            "`printf '%s\\n' \"$PW\" | missionctl user set-password NAME --password-stdin`"
        )
        raise typer.Exit(EXIT_INVALID)
    password = _read_password()
    user = run_service(
        lambda ctx: identity.set_password(ctx, name=name, password=password, actor=_ACTOR)
    )
    console.print("[green]password set[/green]")
    _print_user(user)


@app.command("sessions")
def sessions(
    name: Annotated[str, typer.Argument(help="The user.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the sessions as JSON.")] = False,
) -> None:
    """List a user's browser sessions (newest first): when, where from, which browser, state."""
    from missionctl.services.usecases import sessions as sessions_service

    found = run_service(
        lambda ctx: sessions_service.list_sessions(ctx, user_name=name, viewer=None)
    )
    if as_json:
        typer.echo(json.dumps([s.model_dump(mode="json") for s in found], indent=2))
        return
    table = Table(title=f"Sessions of {name} ({len(found)})")
    for column in ("id", "signed in", "last seen", "address", "browser", "state"):
        table.add_column(column)
    for item in found:
        state = "active" if item.active else ("revoked" if item.revoked_at else "ended")
        table.add_row(
            str(item.id),
            _when(item.created_at),
            _when(item.last_seen_at),
            # A browser names itself: its text is shown as written, never read as markup.
            escape(item.address or "unknown"),
            escape(item.user_agent[:60]),
            state,
        )
    console.print(table)


@app.command("sign-out")
def sign_out(
    name: Annotated[str, typer.Argument(help="The user.")],
    everywhere: Annotated[
        bool,
        typer.Option(
            "--everywhere",
            help="End every browser session of the user (required: there is no other kind).",
        ),
    ] = False,
) -> None:
    """Sign a user out of every browser at once; each is refused from its next request on.

    Their password, tokens and sign-in links keep working: to lock someone out, `disable` them
    (or set a new password, which also signs them out everywhere).
    """
    from missionctl.services.usecases import sessions as sessions_service

    if not everywhere:
        err_console.print(
            "[red]error:[/red] --everywhere: pass it to end every session of the user "
            "(`missionctl user sessions NAME` lists them)"
        )
        raise typer.Exit(EXIT_INVALID)
    count = run_service(
        lambda ctx: sessions_service.revoke_user_sessions(
            ctx, user_name=name, viewer=None, actor=_ACTOR
        )
    )
    console.print(f"[green]signed out everywhere[/green] {name}: {count} session(s) ended")


@app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="The user.")]) -> None:
    """Disable a user: password, tokens and sign-in links stop working at once.

    Users are never deleted, so that the audit log keeps naming someone real. The only
    enabled admin cannot be disabled.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import access as ops

    with open_backend() as api:
        user = api.call(ops.DISABLE_USER, name=name)
    _print_user(user)


def login_link(
    name: Annotated[str, typer.Argument(help="The user who will sign in.")],
    ttl_minutes: Annotated[
        int, typer.Option(min=1, max=1440, help="Minutes the link stays valid.")
    ] = SIGN_IN_LINK_TTL_S // 60,
) -> None:
    """Print a one-time sign-in link for a user (valid once, for --ttl-minutes).

    The link points at MISSIONCTL_SERVER_PUBLIC_URL when set; else at the address where
    `missionctl serve` listens on this data directory while it runs (its --host and --port
    too); else at http://MISSIONCTL_SERVER_HOST:MISSIONCTL_SERVER_PORT.
    """
    from missionctl.services.usecases import sign_in_links

    settings = load_settings()
    secret = run_service(
        lambda ctx: sign_in_links.create_sign_in_link(
            ctx, user_name=name, ttl_s=ttl_minutes * 60, actor=_ACTOR
        )
    )
    typer.echo(sign_in_url(server_address(settings.server, home=settings.home), secret))
    err_console.print(f"[dim]valid once, for {ttl_minutes} minutes[/dim]")


def _print_token(token: "TokenRead") -> None:
    console.print(
        f"[bold]{token.name}[/bold]  {token.prefix}…  user {token.user_name}  "
        f"ceiling {token.role_ceiling.value}  expires {_when(token.expires_at)}"
    )


@token_app.command("create")
def create_token(
    name: Annotated[str, typer.Argument(help="Token name: a lower-case slug, never reused.")],
    user: Annotated[str, typer.Option("--user", help="The user the token acts for.")],
    role_ceiling: Annotated[
        Role | None,
        typer.Option(help="Highest role the token may act with (default: the user's role)."),
    ] = None,
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, help="Days until the token expires (default: never).")
    ] = None,
) -> None:
    """Create an API token and print its secret once (only its SHA-256 is stored)."""
    from missionctl.cli._backend import TOKEN_OPTIONS, open_backend
    from missionctl.operations import access as ops
    from missionctl.schemas.identity import TokenCreate

    fields = {
        "name": name,
        "user_name": user,
        "role_ceiling": role_ceiling,
        "expires_in_days": expires_in_days,
    }
    data = validated_body(TokenCreate, fields, option_for=TOKEN_OPTIONS)
    with open_backend() as api:
        created = api.call(ops.CREATE_TOKEN, body=data, options=TOKEN_OPTIONS)
    token = created.token
    # The secret alone on standard output, first: `$(missionctl token create …)` is the secret,
    # and nothing that looks like it (the prefix) is printed beside it to be copied instead.
    typer.echo(created.secret)
    err_console.print(
        f"token [bold]{escape(token.name)}[/bold]  user {escape(token.user_name)}  "
        f"ceiling {token.role_ceiling.value}  expires {_when(token.expires_at)}"
    )
    err_console.print(
        "[yellow]Copy the secret above now: it is not stored and cannot be shown again."
    )


@token_app.command("list")
def list_tokens(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's tokens.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the tokens as JSON.")] = False,
) -> None:
    """List tokens with prefix, ceiling, expiry and last use (never a secret or a hash)."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import access as ops

    with open_backend() as api:  # the API lists every token: filtered here by user
        tokens = [t for t in api.call(ops.LIST_TOKENS) if user is None or t.user_name == user]
    if as_json:
        typer.echo(json.dumps([t.model_dump(mode="json") for t in tokens], indent=2))
        return
    table = Table(title=f"API tokens ({len(tokens)})")
    for column in ("name", "prefix", "user", "ceiling", "expires", "last used", "revoked"):
        table.add_column(column)
    for token in tokens:
        table.add_row(
            token.name,
            f"{token.prefix}…",
            token.user_name,
            token.role_ceiling.value,
            _when(token.expires_at),
            _when(token.last_used_at),
            _when(token.revoked_at, never="no"),
        )
    console.print(table)


@token_app.command("revoke")
def revoke_token(name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """Revoke a token: it stops working as soon as this command returns."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import access as ops

    with open_backend() as api:
        token = api.call(ops.REVOKE_TOKEN, name=name)
    console.print(f"[green]revoked[/green] {token.name} ({token.prefix}…)")
