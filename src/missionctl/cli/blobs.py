"""``missionctl blobs …``: where artifacts and reports are kept, and moving them to a bucket."""

from pathlib import Path
from typing import Annotated

import typer

from missionctl.cli._runtime import (
    EXIT_INVALID,
    EXIT_NOT_FOUND,
    console,
    err_console,
    load_settings,
    reporting_errors,
)

app = typer.Typer(help="The blob store: artifacts and run reports.", no_args_is_help=True)


@app.command()
def copy(
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="The blobs directory to copy [default: MISSIONCTL_HOME/blobs].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Copy a data directory's blobs into the bucket MISSIONCTL_BLOBS_URL names, checking each.

    Every blob is hashed before it is sent (one that no longer matches its name is damaged
    and left out) and read back from the bucket and hashed again after. Blobs already in the
    bucket are not sent again, only checked. Exit 0 when every blob is in the bucket with its
    digest; 1 when one is damaged or does not read back the same; 3 when the bucket does not
    answer. Then set MISSIONCTL_BLOBS_URL on every server and worker.
    """
    from missionctl.blobs import BlobStore
    from missionctl.blobs.copying import copy_blobs
    from missionctl.services.runtime.context import open_blobs

    settings = load_settings()
    if settings.blobs.bucket is None:
        err_console.print(
            "[red]error:[/red] MISSIONCTL_BLOBS_URL is not set: name the bucket to copy to, "
            "e.g. s3://mission-control/blobs (and MISSIONCTL_BLOBS_ENDPOINT and credentials)"
        )
        raise typer.Exit(EXIT_INVALID)
    directory = source or settings.blob_dir
    if not directory.is_dir():
        where = "--from: no directory at" if source else "this home has stored no blobs: no"
        err_console.print(f"error: {where} {directory}", style="red", soft_wrap=True)
        raise typer.Exit(EXIT_NOT_FOUND)
    target = open_blobs(settings)
    with reporting_errors():
        report = copy_blobs(BlobStore(directory), target)
    console.print(
        f"{report.found} blobs in {directory}: {report.copied} copied, {report.present} already "
        f"in {settings.blobs.url}; {report.verified} read back with their digest "
        f"({report.bytes_checked:,} bytes)",
        highlight=False,
        markup=False,
        soft_wrap=True,  # paths and digests stay whole, to be copied
    )
    for sha256 in report.damaged:
        err_console.print(
            f"damaged here (its bytes no longer match its name): {sha256}", soft_wrap=True
        )
    for sha256 in report.mismatched:
        err_console.print(
            f"does not read back from the bucket with its digest: {sha256}", soft_wrap=True
        )
    if not report.ok:
        raise typer.Exit(EXIT_NOT_FOUND)
