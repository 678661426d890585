"""``missionctl audit …``: verify the event log, and anchor it with signed checkpoints."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from missionctl import errors
from missionctl.cli._runtime import EXIT_INVALID, console, err_console, load_settings, run_service

if TYPE_CHECKING:
    from missionctl.services.audit import AuditReport

app = typer.Typer(
    help="Verify the event log and anchor it with signed checkpoints.", no_args_is_help=True
)

EXIT_BROKEN = 1


@app.command()
def verify(
    public_key: Annotated[
        list[Path] | None,
        typer.Option(
            "--public-key",
            help="Trust only this public key (PEM file, or a directory of them) for the "
            "checkpoints; repeatable. Default: the keys kept beside the checkpoints.",
        ),
    ] = None,
) -> None:
    """Recompute the hash chain, then check every signed checkpoint against it.

    Prints `OK n events` and the checkpoints that hold, or each break (exit 1): the first
    broken seq of the chain and why, and every checkpoint the log contradicts (events removed
    after it, or rewritten up to it) or whose signature does not verify.
    """
    from missionctl.services.audit import verify_audit_log

    report = run_service(lambda ctx: verify_audit_log(ctx, trusted_keys=public_key or []))
    _print_report(report)
    if not report.ok:
        raise typer.Exit(EXIT_BROKEN)


def _print_report(report: "AuditReport") -> None:
    chain, checkpoints = report.chain, report.checkpoints
    console.print(f"[green]{chain}[/green]" if chain.ok else f"[red]{chain}[/red]", soft_wrap=True)
    for problem in checkpoints.problems:
        console.print(f"[red]BROKEN checkpoint {problem}[/red]", soft_wrap=True)
    latest = checkpoints.latest
    if latest is None:
        if not checkpoints.problems:
            console.print(
                f"[yellow]no checkpoints in {report.checkpoint_dir}: nothing outside the "
                "database anchors the chain yet (missionctl audit checkpoint writes one)[/yellow]",
                soft_wrap=True,
            )
        return
    unanchored = max(0, chain.count - latest.seq) if chain.ok else 0
    console.print(
        f"OK {checkpoints.verified} checkpoint{'' if checkpoints.verified == 1 else 's'}; "
        f"the latest at seq {latest.seq} "
        f"({latest.time}, key {latest.key_id})"
        + (f"; {unanchored} events after it are not checkpointed yet" if unanchored else ""),
        soft_wrap=True,
    )


@app.command()
def checkpoint() -> None:
    """Sign the chain head now and write it to the checkpoint directory.

    Also POSTs it to MISSIONCTL_AUDIT_CHECKPOINT_URL when that is set (exit 1 if that fails;
    the file is written either way). Refuses (exit 2) a head the log contradicts.
    """
    from missionctl.services.audit import write_audit_checkpoint

    written = run_service(write_audit_checkpoint)
    console.print(
        f"checkpoint at seq {written.checkpoint.seq} (key {written.checkpoint.key_id}) "
        f"written to {written.path}",
        soft_wrap=True,
    )
    if written.post_error is not None:
        err_console.print(f"[red]error:[/red] {written.post_error}")
        raise typer.Exit(EXIT_BROKEN)


@app.command("public-key")
def public_key(
    raw: Annotated[
        bool, typer.Option("--raw", help="Print the 32-byte raw key in base64 instead of PEM.")
    ] = False,
) -> None:
    """Print the public key that verifies checkpoints (PEM, SubjectPublicKeyInfo).

    Give it to whoever checks the checkpoints independently. Creates the signing key
    (MISSIONCTL_AUDIT_KEY_PATH) if it does not exist yet.
    """
    from missionctl.eventlog.checkpoints import public_key_pem, public_key_raw_base64
    from missionctl.services.audit import signing_key

    try:
        key = signing_key(load_settings())
    except errors.ValidationFailed as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(EXIT_INVALID) from exc
    if raw:
        console.print(public_key_raw_base64(key.public_key))
        return
    console.print(public_key_pem(key.public_key).rstrip("\n"))
    err_console.print(f"key id {key.key_id}")
