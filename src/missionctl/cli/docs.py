"""``missionctl docs``: generate, list and export a mission's documents (the document studio).

Works on the local database (the model the local settings configure writes, else the local
writer), or on the server at ``MISSIONCTL_URL`` as ``MISSIONCTL_TOKEN`` (its model writes).
"""

# Schemas and services are imported where used, so `missionctl --help` stays fast.
from __future__ import annotations

import os
import uuid
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from missionctl.cli._ids import id_argument
from missionctl.cli._runtime import EXIT_INVALID, console, err_console
from missionctl.cli.runs import AsJson

if TYPE_CHECKING:
    from missionctl.schemas.documents import DocumentKind

app = typer.Typer(
    help="Generate, list and export a mission's documents: PRD, technical design, engineering "
    "plan, AI execution pack, executive brief, risk register, decision log.",
    no_args_is_help=True,
)

# ``schemas.documents.DOCUMENT_KINDS`` (the members of ``Kind`` but ``all``) and
# ``MAX_DOCUMENT_VERSION``, spelt out so that ``--help`` does not import the schemas
# (tests/cli/test_docs_cli.py checks that they agree).
MAX_DOCUMENT_VERSION = 2**31 - 1


class Kind(StrEnum):
    """A kind of document, or every kind."""

    prd = "prd"
    technical_design = "technical_design"
    engineering_plan = "engineering_plan"
    execution_pack = "execution_pack"
    executive_brief = "executive_brief"
    risk_register = "risk_register"
    decision_log = "decision_log"
    all = "all"


KINDS = tuple(kind.value for kind in Kind if kind is not Kind.all)
"""The kinds of document, in the studio's order."""


class Format(StrEnum):
    """What ``export`` writes."""

    md = "md"
    html = "html"
    pdf = "pdf"


MissionArg = Annotated[uuid.UUID, id_argument("missions", "MISSION_ID", "The mission's id")]


@app.command("generate")
def generate(
    mission_id: MissionArg,
    kind: Annotated[
        Kind, typer.Option("--kind", "-k", help="The kind of document, or all of them.")
    ] = Kind.all,
    as_json: AsJson = False,
) -> None:
    """Write a mission's documents (each a new version) from its newest plan, register and runs.

    The configured model writes them; without one, or when it times out or fails, the local
    writer does and the version's notes say why. The mission must have a plan.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import documents as ops
    from missionctl.schemas.documents import DocumentCreate

    kinds = [cast("DocumentKind", k) for k in (KINDS if kind == Kind.all else [kind.value])]
    with open_backend() as api:  # one request, and one new version, per kind
        written = [
            api.call(ops.GENERATE, body=DocumentCreate(kind=k), mission_id=mission_id)
            for k in kinds
        ]
    if as_json:
        console.print_json(data=[d.model_dump(mode="json") for d in written])
        return
    for document in written:
        by = "the local writer" if document.writer == "local" else f"the model {document.writer}"
        console.print(
            f"{document.kind} v{document.version}: {escape(document.title)} (by {escape(by)})",
            highlight=False,
        )
        for note in document.notes:
            console.print(f"  note: {escape(note)}", highlight=False)


@app.command("list")
def list_documents(mission_id: MissionArg, as_json: AsJson = False) -> None:
    """List each kind of document and the mission's versions of it, newest first."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import documents as ops

    with open_backend() as api:
        kinds = api.call(ops.LIST, mission_id=mission_id)
    if as_json:
        console.print_json(data=[k.model_dump(mode="json") for k in kinds])
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("Kind", "Title", "Versions", "Latest by", "Plan"):
        table.add_column(column)
    for k in kinds:
        latest = k.versions[0] if k.versions else None
        table.add_row(
            k.kind,
            escape(k.title),
            ", ".join(f"v{v.version}" for v in k.versions) or "none yet",
            escape(latest.writer) if latest else "",
            f"v{latest.plan_version}" if latest else "",
        )
    console.print(table)


KindOption = Annotated[
    str,
    typer.Option(
        "--kind", "-k", help=f"The kind of document: {', '.join(KINDS)}.", show_default=False
    ),
]


def _kind(kind: str) -> DocumentKind:
    """``kind`` when it names a kind of document; exits 2 naming the choices otherwise."""
    if kind not in KINDS:
        choices = ", ".join(KINDS)
        raise _fail(f"--kind: {escape(kind)} is not a kind of document; use one of {choices}")
    return cast("DocumentKind", kind)


@app.command("show")
def show(
    mission_id: MissionArg,
    kind: KindOption,
    version: Annotated[
        int | None,
        typer.Option(
            "--version", min=1, max=MAX_DOCUMENT_VERSION, help="The version (default: latest)."
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Print one version of a mission's document as Markdown (or the whole version as JSON)."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import documents as ops

    checked = _kind(kind)
    with open_backend() as api:
        if version is None:
            document = api.call(ops.LATEST, mission_id=mission_id, kind=checked)
        else:
            document = api.call(ops.VERSION, mission_id=mission_id, kind=checked, version=version)
    if as_json:
        console.print_json(data=document.model_dump(mode="json"))
        return
    by = "the local writer" if document.writer == "local" else f"the model {document.writer}"
    err_console.print(
        f"{document.kind} v{document.version} by {escape(by)}, from plan v{document.plan_version}",
        highlight=False,
    )
    for note in document.notes:
        err_console.print(f"note: {escape(note)}", highlight=False)
    console.out(document.body, end="", highlight=False)


@app.command("compare")
def compare(
    mission_id: MissionArg,
    kind: KindOption,
    base: Annotated[
        int, typer.Option("--base", min=1, max=MAX_DOCUMENT_VERSION, help="The older version.")
    ],
    target: Annotated[
        int, typer.Option("--target", min=1, max=MAX_DOCUMENT_VERSION, help="The newer version.")
    ],
    as_json: AsJson = False,
) -> None:
    """Show what changed between two versions of a mission's document, line by line."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import documents as ops

    checked = _kind(kind)
    query = ops.CompareQuery(base=base, target=target)
    with open_backend() as api:
        diff = api.call(ops.COMPARE, query=query, mission_id=mission_id, kind=checked)
    if as_json:
        console.print_json(data=diff.model_dump(mode="json"))
        return
    if diff.same:
        console.print(f"v{base} and v{target} hold the same text", highlight=False)
        return
    console.print(
        f"v{base} → v{target}: {diff.added} lines added, {diff.removed} removed", highlight=False
    )
    for line in diff.lines:
        if line.op == "added":
            console.print(f"[green]+ {escape(line.text)}[/green]", highlight=False)
        elif line.op == "removed":
            console.print(f"[red]- {escape(line.text)}[/red]", highlight=False)


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}")
    return typer.Exit(EXIT_INVALID)


@app.command("export")
def export(
    mission_id: MissionArg,
    kind: KindOption,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="The file to write. An existing one is refused unless --force.",
            dir_okay=False,
            show_default=False,
        ),
    ],
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="md (Markdown), html or pdf.")
    ] = Format.md,
    version: Annotated[
        int | None,
        typer.Option(
            "--version", min=1, max=MAX_DOCUMENT_VERSION, help="The version (default: latest)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write one version of a mission's document as Markdown, HTML or PDF."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import documents as ops

    if kind not in KINDS:
        raise _fail(
            f"--kind: {escape(kind)} is not a kind of document; use one of {', '.join(KINDS)}"
        )
    if output.exists() and not force:
        raise _fail(f"--output: {escape(str(output))} exists; add --force to replace it")
    with open_backend() as api:
        if version is None:
            version = api.call(ops.LATEST, mission_id=mission_id, kind=kind).version
        query = ops.ExportQuery(format=fmt.value)
        content = api.file(
            ops.EXPORT, query=query, mission_id=mission_id, kind=kind, version=version
        )
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    try:
        with os.fdopen(os.open(output, flags, 0o644), "wb") as file:
            file.write(content)
    except OSError as exc:
        raise _fail(f"--output: cannot write {escape(str(output))}: {exc.strerror}") from exc
    console.print(f"wrote {len(content)} bytes to {escape(str(output))}", highlight=False)
