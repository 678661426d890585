"""``missionctl verify …``: check what Mission Control signed, offline, with a public key alone.

Nothing here reads settings, a database or a server: a reviewer runs it in an empty directory
with the file and the public key they were given.
"""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from missionctl.cli._runtime import EXIT_INVALID, console, err_console

app = typer.Typer(
    help="Check a file Mission Control signed (a run receipt), offline, with its public key.",
    no_args_is_help=True,
)

EXIT_BROKEN = 1


@app.command("receipt")
def receipt(
    file: Annotated[
        Path,
        typer.Argument(help="The receipt (missionctl runs receipt RUN -o FILE).", dir_okay=False),
    ],
    public_key: Annotated[
        list[Path],
        typer.Option(
            "--public-key",
            help="A public key to trust (PEM file, or a directory of them; "
            "missionctl audit public-key prints it); repeatable.",
        ),
    ],
) -> None:
    """Check a run receipt against the public key, without the server.

    Recomputes the hash of every entry of the chain the receipt holds, checks that each step's
    output digest, each artifact's hash and each approval are the ones those entries recorded,
    and that the signature is the key's over all of it. Prints `OK` with what it vouches for,
    or each problem and the first entry that diverges.

    Exit codes:
    0  the receipt holds
    1  the receipt was changed, or was not signed by a key given
    2  the file or a key cannot be read or is not one
    """
    from missionctl.eventlog.checkpoints import read_public_keys
    from missionctl.eventlog.receipts import ReceiptError, read_receipt, verify_receipt

    try:
        keys = read_public_keys(public_key)
    except (ValueError, OSError) as exc:
        raise _refused(f"--public-key: {exc}") from exc
    if not keys:
        raise _refused("--public-key: no public key found there; give the PEM file")
    try:
        document = read_receipt(file)
    except ReceiptError as exc:
        raise _refused(str(exc)) from exc
    check = verify_receipt(document, keys)
    if not check.ok:
        for problem in check.problems:
            console.print(f"[red]BROKEN {escape(problem)}[/red]", soft_wrap=True)
        if check.first_divergent_seq is not None:
            console.print(
                f"[red]first divergent entry: seq {check.first_divergent_seq}[/red]",
                soft_wrap=True,
            )
        raise typer.Exit(EXIT_BROKEN)
    run = document["run"]
    console.print(
        f"[green]OK run {escape(run['id'])} ({escape(run['workflow'])} v{run['version']}, "
        f"{escape(run['status'])}): {check.entries} entries of the chain, "
        f"{len(document['steps'])} steps, {len(document['artifacts'])} artifacts, "
        f"{len(document['approvals'])} approvals; signed by key {escape(check.key_id)}[/green]",
        soft_wrap=True,
        highlight=False,
    )


def _refused(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_INVALID)
