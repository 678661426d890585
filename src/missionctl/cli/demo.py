"""``missionctl demo …``: a demo history to look at (``seed``, ADR 0071), a coding mission to try.

``demo coding`` runs a coding mission on the example repository with a real coding CLI (Claude
Code, Codex CLI or aider), on an engine here (``missionctl.demo.coding`` sets it up), and stops
at the gated merge.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from missionctl.cli._runtime import (
    EXIT_INVALID,
    console,
    err_console,
    load_settings,
    run_to_end,
)
from missionctl.errors import Conflict

if TYPE_CHECKING:
    from rich.live import Live

    from missionctl.demo.seed import DemoSummary
    from missionctl.engine.worker import Engine
    from missionctl.schemas.runs import RunRead
    from missionctl.services import ServiceContext
    from missionctl.settings import Settings

T = TypeVar("T")

app = typer.Typer(
    help="Demos: a history to explore the insights cockpit with, a coding mission to try.",
    no_args_is_help=True,
)

# Kept here as well as in demo.history: `--help` must not import the engine.
MIN_DAYS, MAX_DAYS = 28, 366

Days = Annotated[
    int,
    typer.Option(
        "--days", help=f"Days of history, ending yesterday (UTC): {MIN_DAYS} to {MAX_DAYS}."
    ),
]
Seed = Annotated[int, typer.Option("--seed", help="The same seed writes the same history.")]
Home = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="The data directory to write into (created, with its SQLite database); default "
        "MISSIONCTL_HOME or the nearest .missionctl. MISSIONCTL_DATABASE_URL still names the "
        "database when set.",
        file_okay=False,
    ),
]
NoAnomalies = Annotated[
    bool,
    typer.Option("--no-anomalies", help="Write the history without the three injected anomalies."),
]
Reset = Annotated[
    bool,
    typer.Option(
        "--reset",
        help="First empty the demo history the database holds (its tables, blobs, reports and "
        "checkpoints), then write the new one. A database whose log is not a demo's is refused.",
    ),
]


@app.command()
def seed(
    days: Days = 90,
    seed: Seed = 42,
    home: Home = None,
    no_anomalies: NoAnomalies = False,
    reset: Reset = False,
) -> None:
    """Write DAYS days of people, missions and runs into an empty database, then say how to look.

    The history goes through the same services and events as real use, dated on a moved
    clock: people join and sign in, create missions the local planner plans, and run
    workflows whose model steps an engine here executes against a scripted model on
    127.0.0.1 (real token counts and prices). Unless --no-anomalies, it holds three anomalies:
    run success drops over the last 10 days, cost per run triples over the last 3, and the
    cohorts of 3-4 weeks ago come back half as often in their first week. A database whose
    event log holds anything is refused (exit 2) and left as it was, unless --reset empties it
    first; --reset refuses (exit 2) a database whose log does not start as a demo's.
    """
    import asyncio

    if not MIN_DAYS <= days <= MAX_DAYS:
        err_console.print(
            f"[red]error:[/red] --days: give {MIN_DAYS} to {MAX_DAYS} days (the retention dip "
            f"needs cohorts of at least four weeks before today); got {days}"
        )
        raise typer.Exit(EXIT_INVALID)
    settings = load_settings(create_home=True, home=home)
    started = time.monotonic()
    try:
        if reset:
            emptied = asyncio.run(_reset(settings))
            console.print(f"emptied the demo history ({emptied} events)", highlight=False)
        with _quiet_model_refusals():
            summary = asyncio.run(_seed(settings, days=days, seed=seed, anomalies=not no_anomalies))
    except Conflict as exc:
        err_console.print(f"[red]error:[/red] {escape(exc.message)}", highlight=False)
        raise typer.Exit(EXIT_INVALID) from exc
    _print_summary(summary, settings, time.monotonic() - started)


@contextmanager
def _quiet_model_refusals() -> Iterator[None]:
    """Keep the scripted refusals (the failing runs) out of the terminal; errors still show."""
    logger = logging.getLogger("missionctl.llm")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


async def _reset(settings: Settings) -> int:
    from missionctl.services.usecases.demo import reset_demo

    return await reset_demo(settings)


async def _seed(settings: Settings, *, days: int, seed: int, anomalies: bool) -> DemoSummary:
    from missionctl.demo.seed import seed as write_history
    from missionctl.services import open_context

    async with open_context(settings) as ctx:
        return await write_history(ctx, days=days, seed=seed, anomalies=anomalies)


def _print_summary(summary: DemoSummary, settings: Settings, seconds: float) -> None:
    console.print(
        f"[green]wrote {summary.days} days of history[/green] "
        f"({summary.first_day} to {summary.last_day}, seed {summary.seed}) in {seconds:.1f} s",
        highlight=False,
    )
    table = Table(title="demo history", title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    for label, value in (
        ("people", summary.people),
        ("test users (not counted)", summary.test_users),
        ("missions", summary.missions),
        ("runs", summary.runs),
        ("  completed", summary.completed_runs),
        ("  failed", summary.failed_runs),
        ("report downloads", summary.downloads),
    ):
        table.add_row(label, str(value))
    console.print(table)
    if summary.injections:
        injected = Table(title="injected anomalies", title_justify="left")
        for column in ("anomaly", "from", "to", "what"):
            injected.add_column(column, overflow="fold")
        for item in summary.injections:
            injected.add_row(item.name, str(item.since), str(item.until), item.description)
        console.print(injected)
    else:
        console.print("no anomalies injected (--no-anomalies)", highlight=False)
    home = f"MISSIONCTL_HOME={settings.home} "
    console.print("look at it:", highlight=False)
    console.print(
        f"  {escape(home)}missionctl serve   then, in another terminal:",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"  {escape(home)}missionctl login-link {escape(summary.admin)}   open the link it "
        "prints (you are the demo's admin), then /insights",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"  {escape(home)}missionctl analytics trends --since {summary.first_day}",
        highlight=False,
        soft_wrap=True,
    )


class CodingCli(StrEnum):
    """The coding CLIs ``demo coding`` runs (``demo.coding.CLIS``; each has a scripted model)."""

    CLAUDE = "claude"
    CODEX = "codex"
    AIDER = "aider"


CliOption = Annotated[
    CodingCli,
    typer.Option(
        "--cli",
        help="The coding CLI to run, as installed by `make coding-clis`: claude (Claude Code, "
        "coding:claude), codex (Codex CLI, coding:codex) or aider (coding:aider).",
    ),
]
ScriptedModel = Annotated[
    bool,
    typer.Option(
        "--scripted-model",
        help="Play the model with a scripted stand-in on 127.0.0.1 (no key, no cost) that "
        "speaks the CLI's protocol: fixed turns that make the real CLI write top_words. Said "
        "plainly in the output.",
    ),
]
ModelEndpoint = Annotated[
    str | None,
    typer.Option(
        "--model-endpoint",
        metavar="URL",
        help="A real model endpoint instead; needs --model-secret. One the CLI speaks to: "
        "https://api.anthropic.com for claude (Messages API), https://api.openai.com/v1 for "
        "codex (Responses API) and for aider (Chat Completions).",
        show_default=False,
    ),
]
ModelSecret = Annotated[
    str | None,
    typer.Option(
        "--model-secret",
        metavar="NAME",
        help="The NAME of the secret holding the endpoint's key: set MISSIONCTL_SECRET_<NAME> "
        "to the key. Never the key itself.",
        show_default=False,
    ),
]
ModelName = Annotated[
    str | None,
    typer.Option(
        "--model", metavar="NAME",
        help="The model to ask for (say claude-sonnet-4-5, gpt-5-codex, gpt-4.1; default: the "
        "CLI's own).",
        show_default=False,
    ),
]  # fmt: skip
Repository = Annotated[
    Path | None,
    typer.Option(
        "--repository",
        help="Run on this git repository (its checked-out branch is the base) instead of a "
        "fresh copy of examples/wordcount. The scripted model knows only the example.",
        file_okay=False,
        show_default=False,
    ),
]
ReviewLoop = Annotated[
    bool,
    typer.Option(
        "--review",
        help="Give the mission the review loop: each code task is built, tested by another "
        "agent, reviewed read-only and reworked on the reviewer's findings before its merge. "
        "With --scripted-model, --cli claude only.",
    ),
]
_RUN_ENDED = frozenset({"completed", "failed", "canceled", "aborted"})
_SCRIPTED_REVIEW = (
    "; in the review loop it adds a test, requests one change as the reviewer and makes it"
)
_FOLLOW_S = 0.25  # how often the demo reads its run while following it
_MODEL_OPTIONS = {"base_url": "--model-endpoint", "secret": "--model-secret", "name": "--model"}


@dataclass(frozen=True, slots=True)
class _Setup:
    """What ``demo coding`` checked before writing anything."""

    model: dict[str, str] | None  # None: the scripted model, on an address known once it runs
    cli: CodingCli
    program: Path  # where the CLI is
    repository: Path | None  # None: a fresh copy of the example
    review: bool = False  # the mission's review loop (repository.review)


@app.command()
def coding(
    cli: CliOption = CodingCli.CLAUDE,
    scripted_model: ScriptedModel = False,
    model_endpoint: ModelEndpoint = None,
    model_secret: ModelSecret = None,
    model: ModelName = None,
    repository: Repository = None,
    review: ReviewLoop = False,
    home: Home = None,
) -> None:
    """Run a coding mission on the example repository with a real CLI; stop at the merge.

    It copies examples/wordcount (a Python package whose top_words is missing) into a new git
    repository under the data directory; allows that repository, the CLI (--cli: claude,
    codex or aider) and `python` (the test command's program) as the local admin, recorded as
    agent:demo-coding in the audit log; creates and plans the mission "Add top_words to
    wordcount …" (coding agent coding:claude, coding:codex or coding:aider, test command
    `python -m pytest -q -p no:cacheprovider`) and runs it on an engine here with a live
    table. The run stops where a person must decide: each code task's merge into main waits
    for an approver who reads its diff. It ends saying where to look: the mission page, the
    approvals and how to decide them, the branches and diffs. Choose the model:
    --scripted-model (a stand-in on 127.0.0.1 speaking the CLI's protocol; the CLI is still
    the real one and runs every tool) or --model-endpoint URL --model-secret NAME [--model
    NAME] with MISSIONCTL_SECRET_<NAME> set. --review gives the mission the review loop
    (builder, tester, read-only reviewer, rework on its findings, then the merge); the
    scripted model plays it with claude only, so --scripted-model --review with codex or
    aider is refused. Codex needs a data directory outside /tmp. Exit 0 when the run reached
    its approvals (or completed), 1 when it failed, 2 for invalid options or a missing
    prerequisite (nothing is written then).
    """
    fields = _model_fields(cli, scripted_model, model_endpoint, model_secret, model)
    _checked_review(cli, scripted=scripted_model, review=review)
    own = _checked_repository(repository)
    setup = _Setup(fields, cli, _found_cli(cli, example=own is None), own, review)
    settings = load_settings(create_home=True, home=home)
    _checked_home(cli, settings.home)
    if scripted_model:
        networks = [*settings.http_agent.allowed_networks, "127.0.0.1/32"]
        http_agent = settings.http_agent.model_copy(update={"allowed_networks": networks})
        settings = settings.model_copy(update={"http_agent": http_agent})
    repo = setup.repository or _copy_example(settings.home)
    status = _run_coding_demo(settings, setup, repo)
    if status == "failed":
        raise typer.Exit(1)


def _model_fields(
    cli: CodingCli, scripted: bool, endpoint: str | None, secret: str | None, name: str | None
) -> dict[str, str] | None:
    """The real model endpoint's fields, checked; None for the scripted model (else exit 2)."""
    from missionctl.demo.coding import CLIS

    given = {"base_url": endpoint, "secret": secret, "name": name}
    named = {key: value for key, value in given.items() if value is not None}
    example = CLIS[cli.value]
    problem = None
    if scripted and named:
        problem = "--scripted-model or --model-endpoint, not both: choose one model"
    elif not scripted and endpoint is None:
        problem = (
            "choose the model: --scripted-model (a stand-in on 127.0.0.1, no key), or "
            f"--model-endpoint URL --model-secret NAME (for {cli.value}, say "
            f"{example.endpoint} and {example.secret}, with "
            f"{_secret_variable(example.secret)} set to the key)"
        )
    elif not scripted and secret is None:
        problem = "--model-endpoint needs --model-secret NAME: the secret that holds its key"
    if problem is not None:
        err_console.print(f"[red]error:[/red] {escape(problem)}", highlight=False)
        raise typer.Exit(EXIT_INVALID)
    return _checked_model(named) if named else None


def _checked_model(named: dict[str, str]) -> dict[str, str]:
    """``named`` checked as a mission's model endpoint, with its key set (else exit 2)."""
    import os

    from pydantic import ValidationError

    from missionctl.cli._runtime import report_validation_error
    from missionctl.schemas.missions import MissionModel

    try:
        checked = MissionModel.model_validate(named).model_dump(exclude_none=True)
    except ValidationError as exc:
        report_validation_error(exc, option_for=_MODEL_OPTIONS)  # exits 2
        raise  # not reached: the line above exits
    variable = _secret_variable(checked["secret"])
    if not os.environ.get(variable):
        err_console.print(
            f"[red]error:[/red] --model-secret {escape(checked['secret'])}: set {variable} to "
            "the endpoint's key in this environment (it is read there, never from the command "
            "line)",
            highlight=False,
        )
        raise typer.Exit(EXIT_INVALID)
    return checked


def _checked_review(cli: CodingCli, *, scripted: bool, review: bool) -> None:
    """Exit 2 for --scripted-model --review with a CLI whose scripted model plays no review."""
    if not (scripted and review) or cli is CodingCli.CLAUDE:
        return
    err_console.print(
        f"[red]error:[/red] --review with --scripted-model and --cli {cli.value}: the scripted "
        "model plays the review loop with Claude Code only. Run --cli claude --scripted-model "
        f"--review, or --cli {cli.value} --scripted-model without --review, or --cli "
        f"{cli.value} --review with a real model (--model-endpoint URL --model-secret NAME)",
        highlight=False,
    )
    raise typer.Exit(EXIT_INVALID)


def _checked_home(cli: CodingCli, home: Path) -> None:
    """Exit 2 when Codex would run under /tmp, where its own sandbox cannot start."""
    if cli is not CodingCli.CODEX or not home.resolve().is_relative_to(Path("/tmp").resolve()):
        return
    # Codex keeps its state in $HOME/.codex, the step's workspace under the data directory,
    # and will not link the helper programs of its sandbox below /tmp: every shell command
    # it ran would fail (docs/coding-agents.md, "Codex CLI against your own endpoint").
    err_console.print(
        f"[red]error:[/red] --cli codex: the data directory {escape(str(home))} is under /tmp, "
        "where Codex cannot start its sandbox; give --home (or MISSIONCTL_HOME) a directory "
        "outside /tmp",
        highlight=False,
    )
    raise typer.Exit(EXIT_INVALID)


def _found_cli(cli: CodingCli, *, example: bool) -> Path:
    """Where the coding CLI is, once it and the example's pytest are known to be here (exit 2)."""
    import importlib.util

    from missionctl.demo.coding import find_cli

    found = find_cli(cli.value)
    problem = None
    if found is None:
        problem = (
            f"--cli {cli.value}: the program {cli.value} is neither on PATH nor installed here: "
            "run `make coding-clis` in the checkout"
        )
    elif example and importlib.util.find_spec("pytest") is None:
        problem = (
            "the example's test command runs pytest with this Python, which has none: run "
            "`make install-dev` in the checkout (or pip install pytest into this environment)"
        )
    if problem is not None or found is None:
        err_console.print(f"[red]error:[/red] {escape(problem or '')}", highlight=False)
        raise typer.Exit(EXIT_INVALID)
    return found


def _secret_variable(name: str) -> str:
    return f"MISSIONCTL_SECRET_{name.upper()}"


def _checked_repository(repository: Path | None) -> Path | None:
    """``--repository`` as an absolute path to a git repository (exit 2 if it is not one)."""
    if repository is None:
        return None
    from missionctl.demo.coding import current_branch

    path = repository.expanduser().resolve()
    try:
        current_branch(path)
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] --repository: {escape(str(exc))}", highlight=False)
        raise typer.Exit(EXIT_INVALID) from exc
    return path


def _copy_example(home: Path) -> Path:
    """A fresh git copy of examples/wordcount under ``home``; exit 2 when there is no example."""
    from missionctl.demo.coding import copy_example, example_source

    source = example_source()
    if source is None:
        err_console.print(
            "[red]error:[/red] examples/wordcount is not beside this installation (it ships "
            "with the checkout): name a git repository with --repository PATH",
            highlight=False,
        )
        raise typer.Exit(EXIT_INVALID)
    repo = copy_example(source, home.resolve() / "demo-repositories")
    console.print(f"copied {source} to {repo} (a git repository on main)", highlight=False)
    return repo


@dataclass(frozen=True, slots=True)
class _Ended:
    """Where the demo's run stopped, and what to show about it."""

    run: RunRead
    mission_id: str
    approvals: dict[str, str]  # approval id by the step it gates


def _run_coding_demo(settings: Settings, setup: _Setup, repo: Path) -> str:
    """Run the mission with the model chosen, print where to look; the run's status."""
    import os

    from missionctl.demo.coding import TEST_COMMAND, current_branch, environment

    base = "main" if setup.repository is None else current_branch(repo)
    tests = TEST_COMMAND if setup.repository is None else None
    path = f"{setup.program.parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    console.print(f"coding CLI: {setup.program} (the real program; it runs every tool it is "
                  "asked for, in the step sandbox)", highlight=False)  # fmt: skip
    if setup.model is None:
        ended = _run_scripted(settings, setup, repo, base, tests, path)
    else:
        console.print(f"model: {escape(setup.model['base_url'])} (key: the secret "
                      f"{escape(setup.model['secret'])})", highlight=False)  # fmt: skip
        with environment({"PATH": path}):
            ended = run_to_end(_demo(settings, repo, base, setup.model, tests, setup))
        _print_ended(settings, repo, base, ended)
    return ended.run.status.value


def _run_scripted(
    settings: Settings,
    setup: _Setup,
    repo: Path,
    base: str,
    tests: tuple[str, ...] | None,
    path: str,
) -> _Ended:
    """Run the mission against the CLI's scripted model, saying so before and after.

    The stand-in serves on 127.0.0.1 for this command only; its placeholder key is the secret
    :data:`~missionctl.demo.coding.SCRIPTED_SECRET`, set in this process while it runs.
    """
    from missionctl.demo.coding import CLIS, SCRIPTED_KEY, SCRIPTED_SECRET, environment
    from missionctl.demo.scripted_models import stand_in

    scripted = stand_in(setup.cli.value)
    secret = {_secret_variable(SCRIPTED_SECRET): SCRIPTED_KEY}
    with environment({"PATH": path} | secret), scripted.server as server:
        console.print(
            f"[yellow]model: SCRIPTED[/yellow], a stand-in on {server.base_url}, not a real "
            f"model: it plays fixed turns (missionctl/demo/{scripted.script}) that "
            f"{scripted.plays}" + _SCRIPTED_REVIEW * setup.review,
            highlight=False,
        )
        model = {"base_url": server.base_url, "secret": SCRIPTED_SECRET}
        if scripted.model is not None:
            model["name"] = scripted.model
        ended = run_to_end(_demo(settings, repo, base, model, tests, setup))
    _print_ended(settings, repo, base, ended)
    real = CLIS[setup.cli.value]
    console.print(
        "[yellow]the model was scripted[/yellow]: what the CLI wrote came from the script; "
        f"with a key, rerun with --cli {setup.cli.value} --model-endpoint {real.endpoint} "
        f"--model-secret {real.secret} {escape(f'[--model {real.model}]')} "
        f"({_secret_variable(real.secret)} set)",
        highlight=False,
    )
    for problem in scripted.problems:
        console.print(f"  the script stopped early: {escape(problem)}", highlight=False)
    return ended


async def _demo(
    settings: Settings,
    repo: Path,
    base: str,
    model: dict[str, str],
    tests: tuple[str, ...] | None,
    setup: _Setup,
) -> _Ended:
    """Allow, create, plan and run the mission on an engine here until it ends or pauses."""
    from missionctl.cli.run import print_planning_outcome
    from missionctl.demo.coding import CLIS, DEMO_ACTOR, allow_for_demo, create_demo_mission
    from missionctl.engine.worker import Engine, EngineConfig
    from missionctl.schemas.clarifications import ClarificationRead
    from missionctl.services import open_context
    from missionctl.services.runtime.composition import open_runtime
    from missionctl.services.usecases.approvals import list_approvals
    from missionctl.services.usecases.plans import run_mission

    async with open_context(settings) as ctx, open_runtime(settings) as runtime:
        if warning := (await runtime.agents.sandbox.check()).warning:
            console.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
        cli = CLIS[setup.cli.value]
        programs = {cli.program: (cli.key_variable,), "python": ()}
        for allowed in await allow_for_demo(ctx, repo, programs):
            console.print(f"allowed {escape(allowed)} (as the admin; the audit log records "
                          f"{DEMO_ACTOR})", highlight=False, soft_wrap=True)  # fmt: skip
        made = await create_demo_mission(
            ctx,
            runtime.planner,
            repository=repo,
            base=base,
            agent=cli.agent,
            model=model,
            test_command=tests,
            review=setup.review,
        )
        mission = made.mission
        console.print(f"[bold]{escape(mission.title)}[/bold]  [dim]{mission.id}[/dim]")
        print_planning_outcome(made.planned, mission.id)
        if isinstance(made.planned, ClarificationRead):
            raise typer.Exit(1)
        run = await run_mission(ctx, mission_id=mission.id, actor=DEMO_ACTOR, trigger="cli")
        engine = Engine(ctx, runtime.agents, config=EngineConfig.from_settings(settings.engine))
        titles = {task.key: task.title for task in made.planned.tasks}
        final = await _follow(ctx, engine, run, titles)
        pending = await list_approvals(ctx, run_id=run.id)
    return _Ended(final, str(mission.id), {a.step_id: str(a.id) for a in pending})


async def _follow(
    ctx: ServiceContext, engine: Engine, run: RunRead, titles: dict[str, str]
) -> RunRead:
    """Run ``engine`` here, drawing the run, until it ends or waits for a person only.

    A coding step of a plan's write task waits for an approver before its CLI runs; the demo
    approves it as the admin (its own copy of the example, on a branch), saying so. It stops
    once the run pauses with only other approvals left: the merges, for a person to decide.
    """
    import asyncio

    from rich.live import Live

    from missionctl.cli._live import Progress
    from missionctl.engine.heap import freeze_startup_heap
    from missionctl.services.usecases.approvals import list_approvals
    from missionctl.services.usecases.runs import read_run

    freeze_startup_heap()  # this command runs an engine: see engine.heap (ADRs 0019, 0022)
    stop = asyncio.Event()
    worker = asyncio.create_task(engine.run(stop))
    progress = Progress(run, titles)
    try:
        with Live(progress, console=console, refresh_per_second=4) as live:
            while True:
                progress.run = await read_run(ctx, run_id=run.id)
                if progress.run.status.value in _RUN_ENDED:
                    break
                waiting = await list_approvals(ctx, run_id=run.id)
                coding = [a for a in waiting if a.agent.startswith("coding:")]
                for approval in coding:
                    await _approve_coding_step(ctx, approval.id, approval.step_id, live)
                if progress.run.status.value == "paused" and not coding:
                    break
                await asyncio.sleep(_FOLLOW_S)
        if not console.is_terminal:
            console.line()  # a Live drawn to a file or pipe ends without one
    finally:
        stop.set()
        await worker
    return await read_run(ctx, run_id=run.id)


async def _approve_coding_step(
    ctx: ServiceContext, approval_id: uuid.UUID, step_id: str, live: Live
) -> None:
    """Approve a coding step's run of its CLI as the demo, and say so on the table's console."""
    from missionctl.demo.coding import DEMO_ACTOR, RUN_CLI_REASON
    from missionctl.services.usecases.approvals import decide_approval

    reason = RUN_CLI_REASON
    await decide_approval(ctx, ref=approval_id, approve=True, actor=DEMO_ACTOR, reason=reason)
    live.console.print(
        f"[magenta]approved[/magenta] step {escape(step_id)}: {escape(reason)} "
        f"(as the admin, recorded as {DEMO_ACTOR})",
        highlight=False,
    )


def _print_ended(settings: Settings, repo: Path, base: str, ended: _Ended) -> None:
    from missionctl.cli._runtime import server_address
    from missionctl.demo.coding import WhereToLook, where_to_look

    run = ended.run
    colour = {"failed": "red", "paused": "magenta"}.get(run.status.value, "green")
    if run.status.value == "paused":
        shown, sentence = "paused, waiting for approvers", _headline_so_far(run)
    else:
        shown, sentence = run.status.value, run.headline
    console.print(f"[{colour}]run {shown}:[/{colour}] {escape(sentence)}", highlight=False)
    if run.error:
        console.print(f"[red]{escape(run.error)}[/red]", highlight=False)
    branches = {
        step.step_id: str(step.outputs["branch"])
        for step in run.steps
        if step.agent.startswith("coding:") and step.outputs.get("files_changed")
    }
    seen = WhereToLook(
        home=settings.home.resolve(),
        server=server_address(settings.server, home=settings.home),
        mission_id=ended.mission_id,
        run_id=str(run.id),
        repository=repo,
        base=base,
        branches=branches,
        approvals=ended.approvals,
    )
    for line in where_to_look(seen):
        console.print(escape(line), highlight=False, soft_wrap=True)


def _headline_so_far(run: RunRead) -> str:
    """The headline of a paused run (a task whose merge waits is what its coding step made)."""
    return f"{run.headline} so far"
