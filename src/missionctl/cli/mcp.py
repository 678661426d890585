"""``missionctl mcp``: serve Mission Control to an MCP client over stdin/stdout.

The client starts this command itself (see docs/mcp.md for Claude Code, Codex and others). It
works on the local database (the data directory found as every local command finds it) and acts
as the identity of the API token in ``MISSIONCTL_TOKEN`` or ``--token``: every tool and
resource checks that token's role. Only the protocol is written to stdout; logs go to stderr.
"""

from typing import Annotated

import typer

from missionctl.cli._runtime import EXIT_INVALID, err_console, load_settings, reporting_errors

_NO_TOKEN = (
    "error: missionctl mcp acts as an API token's identity and none was given. Create one with "
    "`missionctl token create NAME --user USER` and set MISSIONCTL_TOKEN to it (or pass "
    "--token)."
)


def mcp(
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="MISSIONCTL_TOKEN",
            show_default=False,
            help="The API token (mc_…) whose identity and role every call acts with. Prefer "
            "MISSIONCTL_TOKEN: a command line is visible to other users of the machine.",
        ),
    ] = None,
) -> None:
    """Serve MCP over stdin/stdout on the local database, as an API token's identity.

    For MCP clients that start their server (Claude Code, Codex, desktop apps): resources
    (missions, plans, packs, runs, artifacts) and tools (create, plan and run missions, report
    task progress and results, approvals, the emergency stop). Runs it starts are executed by
    `missionctl serve` or a `missionctl worker` on the same database. Logs go to stderr.
    """
    if not token or not token.strip():
        err_console.print(_NO_TOKEN, style="red", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID)
    import asyncio

    from missionctl.mcp.stdio import serve_stdio  # the SDK and services: not for --help

    settings = load_settings()
    with reporting_errors():
        asyncio.run(serve_stdio(settings, token=token.strip()))
