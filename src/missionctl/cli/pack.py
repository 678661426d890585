"""``missionctl pack``: a mission's AI execution pack, as a folder and/or a zip.

The pack is the zip the server builds (``GET /api/v1/missions/{id}/pack``; locally the same
service): the folder is that zip unpacked, so both always hold the same files. Every name in
the zip is checked before anything is written (``domain.packs.is_pack_path``): a pack from a
server can place no file outside the folder.

Works on the local database, or on the server at ``MISSIONCTL_URL`` as ``MISSIONCTL_TOKEN``.
"""

# Services are imported where used (through the back-end), so `missionctl --help` stays fast.
from __future__ import annotations

import io
import os
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from missionctl.cli._ids import id_argument
from missionctl.cli._plan_version import MAX_PLAN_VERSION as MAX_PLAN_VERSION  # tests check it
from missionctl.cli._plan_version import plan_version_option
from missionctl.cli._runtime import EXIT_INVALID, console, err_console


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}")
    return typer.Exit(EXIT_INVALID)


def pack(
    mission_id: Annotated[
        uuid.UUID,
        id_argument("missions", "MISSION_ID", "The mission's id"),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="The folder to write the pack into (created if missing). A folder that is not "
            "empty is refused unless --force.",
            file_okay=False,
        ),
    ] = None,
    zip_file: Annotated[
        Path | None,
        typer.Option(
            "--zip",
            help="Also (or only) write the zip here. An existing file is refused unless --force.",
            dir_okay=False,
        ),
    ] = None,
    plan_version: Annotated[
        int | None, plan_version_option("The plan version (default: the newest).")
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Write into a folder that is not empty (files of the same name are "
            "replaced, others kept) and replace an existing --zip file.",
        ),
    ] = False,
) -> None:
    """Write a mission's AI execution pack for a coding agent, as a folder and/or a zip.

    The pack holds AGENTS.md (goal, constraints, stack, conventions, how to run and test, what
    not to touch, task order, requirements), one file per task in execution order
    (tasks/NN-KEY.md) and plan.json. The mission must have a plan (`missionctl mission plan
    MISSION_ID`). Secrets are redacted; the same plan version always gives the same bytes.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import missions as ops

    if output is None and zip_file is None:
        raise _fail("give -o DIR (a folder), --zip FILE, or both: where should the pack go?")
    _check_targets(output, zip_file, force=force)
    with open_backend() as api:
        query = ops.PlanVersionQuery(plan_version=plan_version)
        content = api.file(ops.PACK, query=query, mission_id=mission_id)
    entries = _entries(content)
    if output is not None:
        _write_folder(output, entries)
        console.print(f"wrote {len(entries)} files to {escape(str(output))}", highlight=False)
    if zip_file is not None:
        _write(zip_file, content, what="--zip")
        console.print(
            f"wrote the zip ({len(content)} bytes) to {escape(str(zip_file))}", highlight=False
        )


def _check_targets(output: Path | None, zip_file: Path | None, *, force: bool) -> None:
    """Refuse, before anything is fetched, targets that would overwrite without --force."""
    if output is not None and output.exists():
        if not output.is_dir():
            raise _fail(f"--output: {escape(str(output))} exists and is not a folder")
        if not force and any(output.iterdir()):
            raise _fail(
                f"--output: {escape(str(output))} is not empty; add --force to write the pack "
                "into it (files of the same name are replaced), or choose another folder"
            )
    if zip_file is not None and zip_file.exists() and not force:
        raise _fail(
            f"--zip: {escape(str(zip_file))} exists; add --force to replace it, or choose "
            "another file"
        )


def _entries(content: bytes) -> list[tuple[str, bytes]]:
    """The zip's files as (path, bytes), every path checked; exits 2 on a bad or unsafe zip."""
    import zipfile

    from missionctl.domain.packs import is_pack_path

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = [info.filename for info in archive.infolist() if not info.is_dir()]
            unsafe = [name for name in names if not is_pack_path(name)]
            if unsafe:
                raise _fail(
                    f"the pack holds a file name that is not safe to write ({escape(unsafe[0])}); "
                    "nothing was written"
                )
            return [(name, archive.read(name)) for name in names]
    except zipfile.BadZipFile as exc:
        raise _fail(f"the pack is not a readable zip ({exc}); nothing was written") from exc


def _write_folder(output: Path, entries: list[tuple[str, bytes]]) -> None:
    """Write each entry under ``output``, never through a link planted in its place."""
    try:
        output.mkdir(parents=True, exist_ok=True)
        root = output.resolve()
        for name, data in entries:
            target = output / name
            target.parent.mkdir(exist_ok=True)
            if not target.parent.resolve().is_relative_to(root):
                raise _fail(f"--output: {escape(str(target.parent))} leads outside the folder")
            _write(target, data, what="--output")
    except OSError as exc:
        raise _fail(f"--output: cannot write into {escape(str(output))}: {exc.strerror}") from exc


def _write(path: Path, data: bytes, *, what: str) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    try:
        descriptor = os.open(path, flags, 0o644)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
    except OSError as exc:
        raise _fail(f"{what}: cannot write {escape(str(path))}: {exc.strerror}") from exc
