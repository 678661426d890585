"""The ``missionctl`` command line (Typer + Rich): one module per noun."""

from typing import Annotated

import typer
from rich.markup import escape

from missionctl import __version__
from missionctl.cli import (
    _help,
    agents,
    analytics,
    approvals,
    artifacts,
    audit,
    blobs,
    board,
    calendar,
    caps,
    config,
    controls,
    costs,
    db,
    demo,
    docs,
    epics,
    events,
    find,
    health,
    keys,
    mcp,
    memory,
    missions,
    models,
    pack,
    prices,
    register,
    remote,
    replay,
    run,
    runs,
    schedules,
    search,
    serve,
    specs,
    templates,
    users,
    verify,
    webhooks,
    worker,
    workers,
    workflows,
)
from missionctl.cli._faults import debug_wanted, fault_line
from missionctl.cli._runtime import EXIT_UNAVAILABLE, err_console

app = typer.Typer(
    name="missionctl",
    help="Mission Control: the system of record between a software goal and its execution by "
    "AI agents. Settings come from MISSIONCTL_* environment variables "
    "(see `missionctl config show`).\n\n"
    "Remote server: with MISSIONCTL_URL (the server's base URL, e.g. http://127.0.0.1:8000) and"
    " MISSIONCTL_TOKEN (an API token, mc_…) set, every command that has an API counterpart "
    "(mission, pack, docs, decisions, risks, runs, artifact, workflow, approvals, approve, "
    "reject, controls, stop, release, agents, prices, models, caps, search, find, memory, "
    "costs, board, calendar, epic, schedule, events, health, followers, webhooks, analytics "
    "(but rebuild), workers, audit search|export, user add|list|set-role|disable, token, "
    "whoami) goes through the server's API and acts as token:NAME; the others (run, replay, "
    "serve, worker, mcp, db, blobs, config, audit verify|checkpoint|public-key, keys, user set-"
    "password, login-link) work on the local database, and verify needs neither: it checks a "
    "signed file offline.\n\n"
    "Exit codes: 0 done; 1 something named was not found (or a run failed); 2 the command "
    "was refused (invalid input, 401, 403, 429); 3 something around the command failed: the "
    "database, the disk, a file's permissions, the network, an unreachable or unavailable "
    "server. A fault of the last kind is one line naming the cause and the fix; `--debug` (or "
    "MISSIONCTL_LOG_LEVEL=DEBUG) shows its traceback as well.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"missionctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help="Show the traceback of a fault (database, disk, permissions, network) as well "
            "as its one line.",
        ),
    ] = False,
) -> None:
    """Mission Control command line."""
    _state["debug"] = debug


_state = {"debug": False}  # what the root options set, for ``main``


app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
app.command("run")(run.run)
app.command("replay")(replay.replay)
app.command("search")(search.search)
app.command("find")(find.find)
app.command("pack")(pack.pack)
app.add_typer(db.app, name="db")
app.add_typer(blobs.app, name="blobs")
app.add_typer(config.app, name="config")
app.add_typer(missions.app, name="mission")
app.add_typer(memory.app, name="memory")
app.add_typer(register.decisions_app, name="decisions")
app.add_typer(register.risks_app, name="risks")
app.add_typer(docs.app, name="docs")
app.add_typer(runs.app, name="runs")
app.add_typer(artifacts.app, name="artifact")
app.add_typer(workflows.app, name="workflow")
app.add_typer(audit.app, name="audit")
app.add_typer(verify.app, name="verify")
app.add_typer(keys.app, name="keys")
app.add_typer(prices.app, name="prices")
app.add_typer(models.app, name="models")
app.add_typer(users.app, name="user")
app.add_typer(users.token_app, name="token")
app.add_typer(analytics.app, name="analytics")
app.add_typer(demo.app, name="demo")
app.command("login-link")(users.login_link)
app.command("whoami")(remote.whoami)
app.command("approvals")(approvals.approvals)
app.command("approve")(approvals.approve)
app.command("reject")(approvals.reject)
app.command("controls")(controls.controls)
app.command("stop")(controls.stop)
app.command("release")(controls.release)
app.command("costs")(costs.costs)
app.command("board")(board.board)
app.command("calendar")(calendar.calendar)
app.add_typer(epics.app, name="epic")
app.add_typer(caps.app, name="caps")
app.add_typer(agents.app, name="agents")
app.command("events")(events.events)
app.command("health")(health.health)
app.command("followers")(health.followers)
app.add_typer(workers.app, name="workers")
app.add_typer(webhooks.app, name="webhooks")
app.add_typer(schedules.app, name="schedule")
app.add_typer(specs.app, name="specs")
app.command("mcp")(mcp.mcp)
app.add_typer(templates.app, name="templates")
_help.reflow_help(app)  # help reads as paragraphs, not as the docstrings' wrapped lines


def main() -> None:
    """Console-script entry point: what the command creates is private, its logs redacted."""
    from missionctl.security.process import restrict_process  # imports settings: not for --help

    restrict_process()
    try:
        app()
    except Exception as exc:  # a database out of reach, a full disk: the environment's, not a bug
        line = fault_line(exc)
        if line is None:
            raise
        if debug_wanted(_state["debug"]):
            err_console.print_exception()
        err_console.print(f"[red]error:[/red] {escape(line)}", highlight=False)
        raise SystemExit(EXIT_UNAVAILABLE) from None
