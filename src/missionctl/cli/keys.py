"""``missionctl keys …``: replace the keys kept in the data directory after a suspected leak.

``rotate-session-key`` signs every browser out; ``rotate-audit-key`` retires the checkpoint
signing key (its old checkpoints still verify, nothing it signs afterwards does); ``rotate``
does both, the audit key first. They work on this machine's data directory and database, whatever
``MISSIONCTL_URL`` says, and act as ``system``. Exit 0: done; 2: refused, nothing changed.
Neither key is ever printed (docs/security.md, "Recovering from a leak").
"""

# Settings and services are imported where used, so `missionctl --help` stays fast.
from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from missionctl.cli._runtime import console, err_console, load_settings, reporting_errors

if TYPE_CHECKING:
    from missionctl.services import ServiceContext
    from missionctl.services.usecases.keys import AuditKeyRotated, SessionKeyRotated

app = typer.Typer(
    help="Rotate the session key and the audit signing key (recovery after a leak).",
    no_args_is_help=True,
)

_ACTOR = "system"


def _refuse_session_setting() -> None:
    """Exit 2 before anything changes when MISSIONCTL_SERVER_SECRET_KEY signs the sessions."""
    from missionctl.services.usecases.keys import refuse_session_key_setting

    with reporting_errors():
        refuse_session_key_setting(load_settings())


@app.command("rotate-session-key")
def rotate_session_key() -> None:
    """Write a new random session key: every browser session is signed out.

    Replaces MISSIONCTL_HOME/secret_key (mode 0600, in one step) and records
    `security.key_rotated`. Running servers on this data directory take the new key within a
    second; users sign in again. Refused (exit 2, nothing changed) when
    MISSIONCTL_SERVER_SECRET_KEY is set: change that variable and restart the servers instead.
    """
    from missionctl.cli._runtime import run_service
    from missionctl.services.usecases.keys import rotate_session_key as rotate

    _refuse_session_setting()
    done = run_service(lambda ctx: rotate(ctx, actor=_ACTOR))
    _print_session(done)


@app.command("rotate-audit-key")
def rotate_audit_key() -> None:
    """Make a new checkpoint signing key and retire the old one.

    The new Ed25519 key replaces MISSIONCTL_AUDIT_KEY_PATH (mode 0600, in one step) and signs
    a first checkpoint at once. The old key's public half stays in the checkpoint directory's
    keys/, with its retirement: `missionctl audit verify` still accepts the checkpoints it
    signed before, and refuses any it signs afterwards. Records `security.key_rotated` with
    both key ids. Give auditors the new public key (`missionctl audit public-key`).
    """
    from missionctl.cli._runtime import run_service
    from missionctl.services.usecases.keys import rotate_audit_key as rotate

    done = run_service(lambda ctx: rotate(ctx, actor=_ACTOR))
    _print_audit(done)


@app.command("rotate")
def rotate_all() -> None:
    """Rotate both keys: the audit signing key, then the session key (signs everyone out).

    The audit key goes first because only it can be refused by the log's state (a chain head
    the log contradicts): then neither key changes. Refused (exit 2, nothing changed) when
    MISSIONCTL_SERVER_SECRET_KEY is set: change that variable and restart the servers, then
    run `missionctl keys rotate-audit-key`.
    """
    from missionctl.cli._runtime import run_service
    from missionctl.services.usecases import keys

    _refuse_session_setting()

    async def both(ctx: ServiceContext) -> tuple[AuditKeyRotated, SessionKeyRotated]:
        audit = await keys.rotate_audit_key(ctx, actor=_ACTOR)
        return audit, await keys.rotate_session_key(ctx, actor=_ACTOR)

    audit, session = run_service(both)
    _print_audit(audit)
    _print_session(session)


def _print_session(done: SessionKeyRotated) -> None:
    console.print(
        f"session key rotated: {done.path} holds a new key. Every browser session is signed "
        "out; servers on this data directory use the new key within a second.",
        soft_wrap=True,
        highlight=False,
    )


def _print_audit(done: AuditKeyRotated) -> None:
    retired = (
        f"key {done.old_key_id} retired after seq {done.last_seq}"
        if done.old_key_id is not None
        else "there was no key to retire"
    )
    console.print(
        f"audit signing key rotated: {retired}; new key {done.new_key_id}.",
        soft_wrap=True,
        highlight=False,
    )
    if done.first is not None:
        console.print(
            f"first checkpoint with the new key at seq {done.first.checkpoint.seq} written to "
            f"{done.first.path}",
            soft_wrap=True,
            highlight=False,
        )
        if done.first.post_error is not None:
            err_console.print(f"[yellow]warning:[/yellow] {done.first.post_error}")
    else:
        err_console.print(
            f"[yellow]warning:[/yellow] no checkpoint signed yet with the new key "
            f"({done.problem}); the next one will be (`missionctl audit checkpoint`)",
            soft_wrap=True,
        )
    console.print("give auditors the new public key: missionctl audit public-key", highlight=False)
