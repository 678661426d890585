"""``missionctl serve``."""

import os
import shutil
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from missionctl.cli import _serving as serving
from missionctl.cli._runtime import load_settings, run_service, server_address, sign_in_url


def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Interface to bind [default: MISSIONCTL_SERVER_HOST or 127.0.0.1]."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port [default: MISSIONCTL_SERVER_PORT or 8000]."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Server processes sharing the port [default: MISSIONCTL_SERVER_WORKERS or 1]. "
            "With more than one, the rate limits count in the database.",
        ),
    ] = None,
) -> None:
    """Serve the web UI and the API (upgrades the database first).

    Data: MISSIONCTL_HOME, else the nearest .missionctl in this directory or its parents, else
    a new ./.missionctl (the command says where it created it).

    On the first start (no users yet) it creates the admin ``admin`` and prints a one-time
    sign-in link, valid for 15 minutes; `missionctl login-link NAME` makes another, pointing
    at this server's address while it runs.

    It also sends the outbound webhooks (unless MISSIONCTL_WEBHOOKS_DELIVER=false).

    With --workers N, N processes answer on the port, each with the whole app (and, unless
    MISSIONCTL_ENGINE_EMBEDDED=false, an engine); they share the database, and through it the
    rate limits, the streams' events and the followers' work.
    """
    import uvicorn

    from missionctl.services.usecases import sign_in_links

    settings = load_settings(create_home=True)
    bind_host = host or settings.server.host
    bind_port = port or settings.server.port
    processes = workers or settings.server.workers
    # Each process reads its settings from the environment: tell them they are several.
    os.environ["MISSIONCTL_SERVER_WORKERS"] = str(processes)
    typer.echo(
        f"Mission Control on http://{bind_host}:{bind_port}  (data: {settings.home.resolve()})"
    )
    first_link = run_service(sign_in_links.ensure_first_admin)
    if first_link is not None:
        base_url = server_address(settings.server, host=bind_host, port=bind_port)
        program = sign_in_links.program_as_typed(
            sys.argv[0], found_on_path=shutil.which("missionctl"), cwd=Path.cwd()
        )
        link_url = sign_in_url(base_url, first_link)
        typer.echo(sign_in_links.first_start_message(link_url=link_url, program=program))
    # `login-link` and the links other commands print point here while this server runs.
    serving.announce(settings.home, serving.listening_url(bind_host, bind_port))
    _withdraw_on_sigterm(settings.home)
    try:
        uvicorn.run(
            "missionctl.app:create_app",
            factory=True,
            host=bind_host,
            port=bind_port,
            log_level=settings.log_level.lower(),
            # uvloop and httptools for throughput; the app has no WebSocket route (ADR 0087).
            loop="uvloop",
            http="httptools",
            ws="none",
            workers=processes,
        )
    finally:
        serving.withdraw(settings.home)


def _withdraw_on_sigterm(home: Path) -> None:
    """Remove the address record when SIGTERM ends the server, which then dies of it as before.

    uvicorn shuts down gracefully on SIGTERM, puts back the handler it found and raises the
    signal again; the default handler ends the process there, before any ``finally`` runs.
    """

    def withdraw_then_die(signum: int, frame: FrameType | None) -> None:
        serving.withdraw(home)
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)

    signal.signal(signal.SIGTERM, withdraw_then_die)
