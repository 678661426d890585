"""``missionctl serve``."""

from typing import Annotated

import typer
import uvicorn

from missionctl.cli._runtime import load_settings


def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Interface to bind [default: MISSIONCTL_SERVER_HOST or 127.0.0.1]."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port [default: MISSIONCTL_SERVER_PORT or 8000]."),
    ] = None,
) -> None:
    """Serve the web UI and the API (upgrades the database first)."""
    settings = load_settings()
    bind_host = host or settings.server.host
    bind_port = port or settings.server.port
    typer.echo(
        f"Mission Control on http://{bind_host}:{bind_port}  (data: {settings.home.resolve()})"
    )
    uvicorn.run(
        "missionctl.app:create_app",
        factory=True,
        host=bind_host,
        port=bind_port,
        log_level=settings.log_level.lower(),
    )
