"""``missionctl artifact show|download``: what runs produced (``runs artifacts`` lists them).

Works on the local database, or on the server at ``MISSIONCTL_URL`` as ``MISSIONCTL_TOKEN``.
"""

# Schemas and services are imported where used, so `missionctl --help` stays fast.
from __future__ import annotations

import hashlib
import json
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from missionctl.cli._ids import id_argument
from missionctl.cli._runtime import EXIT_INVALID, console, err_console

if TYPE_CHECKING:
    from missionctl.schemas.artifacts import ArtifactRead

app = typer.Typer(
    help="Describe and download artifacts (`runs artifacts RUN_ID` and `mission artifacts "
    "MISSION_ID` list them).",
    no_args_is_help=True,
)

ArtifactId = Annotated[uuid.UUID, id_argument("artifacts", "ARTIFACT_ID", "The artifact's id")]


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def print_artifacts(found: list[ArtifactRead], *, as_json: bool, title: str) -> None:
    """``found`` as a table (id, name, size, step), or as a JSON array.

    The kind, media type and digest are in ``artifact show`` and ``--json``: with them, a
    table 80 columns wide would cut the names short.
    """
    if as_json:
        typer.echo(json.dumps([a.model_dump(mode="json") for a in found], indent=2))
        return
    if not found:
        console.print("no artifacts yet", highlight=False)
        return
    table = Table(title=f"{title} ({len(found)})", title_justify="left", box=box.SIMPLE)
    table.add_column("id", no_wrap=True)  # every character of an id matters
    table.add_column("name", overflow="fold")  # folded onto more lines, never cut
    table.add_column("size", no_wrap=True, justify="right")
    table.add_column("step", overflow="fold")
    for artifact in found:
        table.add_row(
            str(artifact.id),
            escape(artifact.name),
            _size(artifact.size),
            escape(artifact.step_id or "(run)"),
        )
    console.print(table)
    console.print("download one with: missionctl artifact download ID", highlight=False)


@app.command()
def show(
    artifact_id: ArtifactId,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Describe an artifact: its name, kind, media type, size, digest and where it came from."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import artifacts as ops

    with open_backend() as api:
        artifact = api.call(ops.READ, artifact_id=artifact_id)
    if as_json:
        typer.echo(artifact.model_dump_json(indent=2))
        return
    console.print(f"[bold]{escape(artifact.name)}[/bold]  [dim]{artifact.id}[/dim]")
    console.print(f"kind     {artifact.kind} ({escape(artifact.media_type)})", highlight=False)
    console.print(f"size     {_size(artifact.size)}  sha256 {artifact.sha256}", highlight=False)
    console.print(f"run      {artifact.run_id or '—'}", highlight=False)
    console.print(f"step     {escape(artifact.step_id or '(the run itself)')}", highlight=False)
    console.print(f"mission  {artifact.mission_id or '—'}", highlight=False)
    console.print(f"created  {artifact.created_at:%Y-%m-%d %H:%M:%S}Z", highlight=False)


@app.command()
def download(
    artifact_id: ArtifactId,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Where to write it ('-' for standard output). Default: its name, in the "
            "current directory.",
            allow_dash=True,
            dir_okay=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a file already there.")] = False,
) -> None:
    """Download an artifact's bytes (checked against its digest) to a file or stdout."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import artifacts as ops

    with open_backend() as api:
        artifact = api.call(ops.READ, artifact_id=artifact_id)
        content = api.file(ops.CONTENT, artifact_id=artifact_id)
    if hashlib.sha256(content).hexdigest() != artifact.sha256:  # damaged on the way or stored
        err_console.print(
            f"[red]error:[/red] the content of {artifact_id} does not match its sha256; "
            "nothing was written"
        )
        raise typer.Exit(EXIT_INVALID)
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return
    # Only the base name of a stored name: it may come from a server, never a path to follow.
    target = output or Path(Path(artifact.name).name or str(artifact_id))
    if target.exists() and not force:
        err_console.print(
            f"[red]error:[/red] --output: {escape(str(target))} exists; add --force to replace "
            "it, or give another --output"
        )
        raise typer.Exit(EXIT_INVALID)
    try:
        target.write_bytes(content)
    except OSError as exc:
        err_console.print(
            f"[red]error:[/red] --output: cannot write {escape(str(target))}: {exc.strerror}"
        )
        raise typer.Exit(EXIT_INVALID) from exc
    console.print(f"wrote {len(content)} bytes to {escape(str(target))}", highlight=False)
