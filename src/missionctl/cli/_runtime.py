"""Shared plumbing for commands: run a use case against the local database, print errors.

Start-up time: ``missionctl --help`` imports every command module, so none of them imports the
services, the database, settings or the LLM client at the top: they are imported inside the
command that uses them (``tests/cli/test_startup.py`` keeps ``openai`` out). Nor do Pydantic
and ``asyncio`` load here: they too are imported where used, and annotations naming them are
strings.
"""

import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from missionctl import errors

if TYPE_CHECKING:
    import asyncio
    import uuid

    from fastapi import FastAPI
    from pydantic import BaseModel, ValidationError

    from missionctl.cli._drafts import DraftPrinter
    from missionctl.schemas.missions import MissionCreate
    from missionctl.services import ServiceContext
    from missionctl.services.runtime.composition import Runtime
    from missionctl.settings import ServerSettings, Settings

T = TypeVar("T")
M = TypeVar("M", bound="BaseModel")

log = logging.getLogger(__name__)
console = Console()
err_console = Console(stderr=True)

EXIT_NOT_FOUND = 1
# How long a response's app may take to end once its reader is done with it.
_SETTLE_S = 5.0
EXIT_INVALID = 2
# Something around the command failed (database, disk, permissions, network): fix it, retry.
EXIT_UNAVAILABLE = 3


AsUser = Annotated[
    str | None,
    typer.Option(
        "--as",
        metavar="NAME",
        help="On this machine's database, act as this user (recorded as user:NAME), who must "
        "be enabled and hold the permission the action needs; without it the command acts as "
        "`system`. Refused against a server, which acts as its token's user.",
        show_default=False,
    ),
]
"""The ``--as NAME`` of the commands a person may need to do as themselves (decisions)."""


def refuse_as_on_a_server() -> None:
    """Exit 2 naming ``--as``, before anything is sent: a server acts as its token's user."""
    with reporting_errors():
        raise errors.ValidationFailed(
            [errors.Problem("--as", "a server acts as its token's user; drop --as")]
        )


# The commands that start something, and so may create the data directory where they run.
HOME_CREATORS = "`missionctl serve`, `worker`, `run` or `db upgrade`"


def load_settings(*, create_home: bool = False, home: Path | None = None) -> "Settings":
    """Settings from the environment, with the data directory found; exit 2 when it is not.

    A ``home`` given (a command's ``--home``) is the data directory, created if missing.

    The home is ``MISSIONCTL_HOME`` when set (created on first use, as before), else the nearest
    ``.missionctl`` in the current directory or its parents (``missionctl.settings.find_home``).
    When there is none, a command that starts something (``create_home``) creates
    ``./.missionctl`` and says so on stderr; any other command exits 2 naming the fix and
    creates nothing. Invalid settings are reported by name, exit 2.
    """
    from pydantic import ValidationError

    from missionctl.settings import HOME_DIR_NAME, Settings, locate_home, setting_variable

    try:
        settings = Settings()
    except ValidationError as exc:
        for problem in exc.errors():  # never ``input``: it may be a password
            name = setting_variable(exc.title, problem["loc"])
            message = str(problem["msg"]).removeprefix("Value error, ")  # the validator's words
            err_console.print(f"[red]setting {name}:[/red] {escape(message)}")
        raise typer.Exit(EXIT_INVALID) from exc
    if home is not None:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        return settings.model_copy(update={"home": home.resolve()})
    cwd = Path.cwd()
    home = locate_home(settings, cwd)
    if home is None and not create_home:
        err_console.print(
            "error: no data directory: MISSIONCTL_HOME is not set and there is no "
            f"{HOME_DIR_NAME} directory in {cwd} or its parents. Set MISSIONCTL_HOME to the "
            f"data directory or run this where one is; {HOME_CREATORS} creates one in the "
            "current directory.",
            style="red",
            highlight=False,
            markup=False,
            soft_wrap=True,  # the path stays whole, to be copied
        )
        raise typer.Exit(EXIT_INVALID)
    if home is None:
        home = cwd / HOME_DIR_NAME
        home.mkdir(mode=0o700, exist_ok=True)  # exist_ok: another command may have just made it
        err_console.print(
            f"created data directory at {home}", highlight=False, markup=False, soft_wrap=True
        )
    return settings.model_copy(update={"home": home})


def run_service(call: Callable[["ServiceContext"], Awaitable[T]], *, upgrade: bool = True) -> T:
    """Open the local service context, await ``call(ctx)``, and map errors to exit codes.

    Domain errors print their message (and field) in red: ``NotFound`` exits 1, validation and
    other client errors exit 2.
    """
    import asyncio

    from missionctl.services import open_context

    settings = load_settings()

    async def go() -> T:
        async with open_context(settings, upgrade=upgrade) as ctx:
            return await call(ctx)

    with reporting_errors():
        return asyncio.run(go())


def run_to_end(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``; invalid input exits 2 naming each field, other refusals exit 1."""
    import asyncio

    from missionctl.errors import MissionControlError, ValidationFailed

    try:
        return asyncio.run(work)
    except ValidationFailed as exc:
        for problem in exc.problems:
            where = f"{problem.field}: " if problem.field else ""
            err_console.print(f"[red]error:[/red] {escape(where + problem.message)}")
        raise typer.Exit(EXIT_INVALID) from exc
    except MissionControlError as exc:
        err_console.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(1) from exc


@contextmanager
def reporting_errors() -> Iterator[None]:
    """Print a domain error raised inside in red and exit: 1 ``NotFound``, 3 no blob store, or 2.

    Messages repeat what was typed (a name, a path): they are printed as text, never read as
    Rich markup, so that ``[/]`` in a name is shown rather than a traceback.
    """
    try:
        yield
    except errors.ValidationFailed as exc:
        for problem in exc.problems:
            where = f"{problem.field}: " if problem.field else ""
            err_console.print(f"[red]error:[/red] {escape(where + problem.message)}")
        raise typer.Exit(EXIT_INVALID) from exc
    except errors.NotFound as exc:
        err_console.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(EXIT_NOT_FOUND) from exc
    except errors.BlobStoreUnavailable as exc:  # around the command: fix it and retry
        err_console.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(EXIT_UNAVAILABLE) from exc
    except errors.MissionControlError as exc:
        err_console.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(EXIT_INVALID) from exc


class LocalSession:
    """One service context on one event loop, for a command that makes several calls.

    The context is opened (and the schema upgraded) on the first ``call`` and closed when the
    ``with`` block ends, so that a command pays for it once, and one that never calls (a
    check that needs no database) not at all. Use it as a context manager.
    """

    def __init__(self) -> None:
        self._runner: asyncio.Runner | None = None
        self._stack = AsyncExitStack()
        self._ctx: ServiceContext | None = None
        self._api: FastAPI | None = None

    def __enter__(self) -> "LocalSession":
        """The session, with no context open yet."""
        import asyncio

        self._runner = asyncio.Runner()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the context (if one was opened) and the event loop."""
        assert self._runner is not None
        try:
            self._runner.run(self._stack.aclose())
        finally:
            self._runner.close()

    def call(self, call: Callable[["ServiceContext"], Awaitable[T]]) -> T:
        """Await ``call(ctx)`` on the session's context; errors exit as ``run_service``'s do."""
        assert self._runner is not None, "use LocalSession as a context manager"
        with reporting_errors():
            return self._runner.run(self._call(call))

    async def _call(self, call: Callable[["ServiceContext"], Awaitable[T]]) -> T:
        return await call(await self._context())

    async def _context(self) -> "ServiceContext":
        if self._ctx is None:
            from missionctl.services import open_context

            self._ctx = await self._stack.enter_async_context(open_context(load_settings()))
        return self._ctx

    def api(self) -> "FastAPI":
        """The API's app on this session's context (``missionctl.api.app``).

        Built, and the context opened, on first use; the runtime is opened when a route first
        needs it. Errors exit as ``call``'s do.
        """
        if self._api is None:
            with reporting_errors():
                self._api = self.wait(self._open_api())
        return self._api

    async def _open_api(self) -> "FastAPI":
        from missionctl.api.app import api_app

        ctx = await self._context()
        app = api_app(ctx.settings)
        # The command prints a database fault itself, in one line: the API's log of it
        # (meant for a server's operator) would say it twice.
        app.state.database_outages.quiet = True
        app.state.ctx = ctx
        app.state.open_runtime = self._open_runtime
        return app

    async def _open_runtime(self) -> "Runtime":
        """The runtime, built the first time a route needs it and closed with the session."""
        from missionctl.services.runtime.composition import open_runtime

        settings = (await self._context()).settings
        return await self._stack.enter_async_context(open_runtime(settings))

    def start(self, work: Coroutine[Any, Any, T]) -> "asyncio.Task[T]":
        """Schedule ``work`` on the session's loop; it runs whenever the loop next runs."""
        assert self._runner is not None, "use LocalSession as a context manager"
        return self._runner.get_loop().create_task(work)

    def wait(self, work: Coroutine[Any, Any, T]) -> T:
        """Run the session's loop until ``work`` is done (tasks started meanwhile go on)."""
        assert self._runner is not None, "use LocalSession as a context manager"
        return self._runner.run(work)

    @contextmanager
    def drafts(self, mission_id: "uuid.UUID", printer: "DraftPrinter") -> Iterator[None]:
        """Around a request that plans: the mission's drafts to ``printer`` as they come.

        They are followed from the newest event on the session's loop, which runs while the
        request does; once the block ends, those still on their way are waited for a moment.
        """
        import asyncio

        from missionctl.cli._drafts import END_WAIT_S, follow_drafts
        from missionctl.services.usecases.dashboard import read_head_seq

        async def head(ctx: "ServiceContext") -> tuple["ServiceContext", int]:
            return ctx, await read_head_seq(ctx)

        ctx, after = self.call(head)
        task = self.start(
            follow_drafts(ctx, mission_id=mission_id, after_seq=after, printer=printer)
        )
        try:
            yield
            self.wait(asyncio.wait({task}, timeout=END_WAIT_S))
        finally:
            task.cancel()
            self.settle(task)

    def settle(self, task: "asyncio.Task[Any]") -> None:
        """Let ``task`` end (a moment's grace, then cancelled), its outcome consumed."""
        import asyncio

        async def end() -> None:
            if not task.done():
                await asyncio.wait({task}, timeout=_SETTLE_S)
                if not task.done():
                    task.cancel()
                    await asyncio.wait({task})
            if not task.cancelled() and (failure := task.exception()) is not None:
                # The answer (a 500) has said something went wrong; the cause is for the log,
                # as a server's would be.
                log.error("the request failed in this process", exc_info=failure)

        self.wait(end())


def report_validation_error(exc: "ValidationError", *, option_for: dict[str, str]) -> None:
    """Print each Pydantic problem naming the CLI option to fix, then exit 2."""
    for problem in exc.errors():
        field = ".".join(str(p) for p in problem["loc"])
        option = _option_for(field, option_for)
        message = str(problem["msg"]).removeprefix("Value error, ")  # the validator's own words
        # Printed as written: a pattern's brackets are not markup.
        err_console.print(f"[red]error:[/red] {escape(f'{option}: {message}')}")
    raise typer.Exit(EXIT_INVALID) from exc


def validated_body(model: type[M], data: dict[str, Any], *, option_for: dict[str, str]) -> M:
    """``data`` as ``model``; a problem exits 2 naming the option to fix."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        report_validation_error(exc, option_for=option_for)
        raise AssertionError("report_validation_error exits") from None


def _option_for(field: str, option_for: dict[str, str]) -> str:
    """The option that sets ``field`` (``a.b.0``): its own, else its nearest parent's."""
    parts = field.split(".")
    for end in range(len(parts), 0, -1):
        option = option_for.get(".".join(parts[:end]))
        if option is not None:
            return option
    return field


_MISSION_OPTIONS = {
    "goal": "GOAL",
    "title": "--title",
    "constraints": "--constraint",
    "repo_context": "--repo-context",
    "budget_usd": "--budget-usd",
    "repository.source": "--repository",
    "repository.base": "--base",
    "repository.agent": "--coding-agent",
    "repository.model": "--model-endpoint",
    "repository.model.base_url": "--model-endpoint",
    "repository.model.secret": "--model-secret",
    "repository.model.name": "--model",
    "repository.test_command": "--test-command",
}


@dataclass(frozen=True, slots=True)
class CodingOptions:
    """A mission's coding options as typed: the model endpoint and the test command line."""

    model_endpoint: str | None = None
    model_secret: str | None = None
    model: str | None = None
    test_command: str | None = None
    review: bool = False  # the review loop (--review)

    def fields(self) -> dict[str, Any]:
        """The repository fields these set; a test command that cannot be split exits 2."""
        from missionctl.domain.test_commands import split_test_command

        fields: dict[str, Any] = {}
        if self.model_endpoint is not None or self.model_secret is not None:
            fields["model"] = {"base_url": self.model_endpoint, "secret": self.model_secret}
            if self.model is not None:
                fields["model"]["name"] = self.model
        if self.test_command is not None:
            try:
                fields["test_command"] = split_test_command(self.test_command)
            except ValueError as exc:
                err_console.print(f"[red]error:[/red] --test-command: {escape(str(exc))}")
                raise typer.Exit(EXIT_INVALID) from exc
        if self.review:
            fields["review"] = True
        return fields


def mission_from_options(
    *,
    goal: str,
    title: str | None,
    constraints: list[str] | None,
    repo_context: str,
    budget_usd: Decimal | None,
    repository: str | None = None,
    base: str = "main",
    coding_agent: str | None = None,
    coding: CodingOptions | None = None,
) -> "MissionCreate":
    """Validate the mission options; a bad one is reported by its option name (exit 2)."""
    from pydantic import ValidationError

    from missionctl.schemas.missions import MissionCreate

    named = {"source": repository, "base": base, "agent": coding_agent}
    named |= (coding or CodingOptions()).fields()
    try:
        return MissionCreate.model_validate(
            {
                "goal": goal,
                "title": title,
                "constraints": constraints or [],
                "repo_context": repo_context,
                "budget_usd": budget_usd,
                "repository": None if repository is None else named,
            }
        )
    except ValidationError as exc:
        report_validation_error(exc, option_for=_MISSION_OPTIONS)
        raise  # unreachable: report_validation_error exits


def server_address(
    server: "ServerSettings",
    *,
    host: str | None = None,
    port: int | None = None,
    home: Path | None = None,
) -> str:
    """The base URL people reach the server at, without a trailing slash.

    ``MISSIONCTL_SERVER_PUBLIC_URL`` when set; else ``http://HOST:PORT`` from ``host`` and
    ``port`` (a ``serve`` bound elsewhere than its settings say); else where a ``serve`` on
    the data directory ``home`` listens while it runs (``cli._serving``); else the settings.
    """
    from missionctl.cli._serving import listening_url, served_url

    if server.public_url:
        return server.public_url
    if host is None and port is None and home is not None:
        served = served_url(home)
        if served is not None:
            return served
    return listening_url(host or server.host, port or server.port)


def sign_in_url(base_url: str, secret: str) -> str:
    """The URL that redeems the one-time sign-in ``secret`` on the server at ``base_url``."""
    return f"{base_url}/sign-in?token={secret}"
