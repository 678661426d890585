"""Shared plumbing for commands: run a use case against the local database, print errors.

Start-up time: ``missionctl --help`` imports every command module, so none of them imports the
services, the database, settings or the LLM client at the top: they are imported inside the
command that uses them (``tests/cli/test_startup.py`` keeps ``openai`` out).
"""

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from missionctl import errors

if TYPE_CHECKING:
    from missionctl.schemas.missions import MissionCreate
    from missionctl.services import ServiceContext
    from missionctl.settings import Settings

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)

EXIT_NOT_FOUND = 1
EXIT_INVALID = 2


def load_settings() -> "Settings":
    """Settings from the environment; invalid settings are reported by name, exit 2."""
    from missionctl.settings import get_settings

    try:
        return get_settings()
    except ValidationError as exc:
        for problem in exc.errors():
            name = ".".join(str(p) for p in problem["loc"])
            err_console.print(f"[red]setting {name}:[/red] {problem['msg']}")
        raise typer.Exit(EXIT_INVALID) from exc


def run_service(call: Callable[["ServiceContext"], Awaitable[T]], *, upgrade: bool = True) -> T:
    """Open the local service context, await ``call(ctx)``, and map errors to exit codes.

    Domain errors print their message (and field) in red: ``NotFound`` exits 1, validation and
    other client errors exit 2.
    """
    from missionctl.services import open_context

    settings = load_settings()

    async def go() -> T:
        async with open_context(settings, upgrade=upgrade) as ctx:
            return await call(ctx)

    try:
        return asyncio.run(go())
    except errors.ValidationFailed as exc:
        for problem in exc.problems:
            where = f"{problem.field}: " if problem.field else ""
            err_console.print(f"[red]error:[/red] {where}{problem.message}")
        raise typer.Exit(EXIT_INVALID) from exc
    except errors.NotFound as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(EXIT_NOT_FOUND) from exc
    except errors.MissionControlError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(EXIT_INVALID) from exc


def report_validation_error(exc: ValidationError, *, option_for: dict[str, str]) -> None:
    """Print each Pydantic problem naming the CLI option to fix, then exit 2."""
    for problem in exc.errors():
        field = ".".join(str(p) for p in problem["loc"])
        option = option_for.get(field.split(".")[0], field)
        err_console.print(f"[red]error:[/red] {option}: {problem['msg']}")
    raise typer.Exit(EXIT_INVALID) from exc


_MISSION_OPTIONS = {
    "goal": "GOAL",
    "title": "--title",
    "constraints": "--constraint",
    "repo_context": "--repo-context",
    "budget_usd": "--budget-usd",
}


def mission_from_options(
    *,
    goal: str,
    title: str | None,
    constraints: list[str] | None,
    repo_context: str,
    budget_usd: Decimal | None,
) -> "MissionCreate":
    """Validate the mission options; a bad one is reported by its option name (exit 2)."""
    from missionctl.schemas.missions import MissionCreate

    try:
        return MissionCreate(
            goal=goal,
            title=title,
            constraints=constraints or [],
            repo_context=repo_context,
            budget_usd=budget_usd,
        )
    except ValidationError as exc:
        report_validation_error(exc, option_for=_MISSION_OPTIONS)
        raise  # unreachable: report_validation_error exits


def sign_in_url(host: str, port: int, secret: str) -> str:
    """The URL that redeems the one-time sign-in ``secret`` on the server at ``host:port``."""
    # A wildcard bind address is not somewhere a browser can go; the loopback address is.
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/sign-in?token={secret}"
