"""Run receipts: one signed file that proves what a run did, checkable without the server.

A receipt (``eventlog.receipts``, ADR 0098) holds the run's entries of the hash chain, the
digest of each step's outputs, each artifact's hash and each approval decision, signed with the
audit signing key. A reviewer checks it offline with the public key alone
(``missionctl verify receipt``). It is issued only for a run the log still vouches for: a run
whose entries or stored outputs disagree with the chain gets no receipt.
"""

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from missionctl.db.models import Approval, Artifact, Event, StepRun
from missionctl.domain.events import OUTPUTS_DIGEST_KEY
from missionctl.domain.files import FileAnswer
from missionctl.errors import IntegrityError, NotFound
from missionctl.eventlog import EventRecord
from missionctl.eventlog.chain import format_ts
from missionctl.eventlog.checkpoints import read_head
from missionctl.eventlog.receipts import (
    build_receipt,
    entry_of,
    outputs_digest,
    receipt_text,
    sign_receipt,
    verify_receipt,
)
from missionctl.repositories import approvals as approval_repo
from missionctl.repositories import artifacts as artifact_repo
from missionctl.repositories import events as event_repo
from missionctl.repositories import runs as run_repo
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.audit import signing_key


async def issue_receipt(ctx: ServiceContext, *, run_id: uuid.UUID) -> dict[str, Any]:
    """The run's receipt, signed now with the audit signing key (a JSON-ready document).

    Raises:
        NotFound: no such run (``field="run_id"``).
        IntegrityError: the run's entries or stored outputs disagree with the chain; nothing is
            signed (``missionctl audit verify`` says where).
        ValidationFailed: the signing key cannot be used (``MISSIONCTL_AUDIT_KEY_PATH``).
    """
    document = await _unsigned(ctx, run_id)
    key = await asyncio.to_thread(signing_key, ctx.settings)
    signed = sign_receipt(document, key)
    check = verify_receipt(signed, {key.key_id: key.public_key})
    if not check.ok:
        raise IntegrityError(
            f"run {run_id} disagrees with the chain, so no receipt is signed: "
            f"{check.problems[0]} (missionctl audit verify says more)"
        )
    return signed


async def download_receipt(
    ctx: ServiceContext, *, run_id: uuid.UUID, download: bool = False
) -> FileAnswer:
    """``issue_receipt``'s document as JSON text, named as a file to save when ``download``.

    Raises:
        NotFound | IntegrityError | ValidationFailed: as :func:`issue_receipt`.
    """
    document = await issue_receipt(ctx, run_id=run_id)
    name = f"run-{run_id}-receipt.json" if download else None
    return FileAnswer(receipt_text(document).encode("utf-8"), "application/json", name=name)


async def _unsigned(ctx: ServiceContext, run_id: uuid.UUID) -> dict[str, Any]:
    """The receipt's document, read in one snapshot."""
    async with ctx.read() as session:
        run = await run_repo.read_run(session, run_id=run_id)
        if run is None:
            raise NotFound(f"no run with id {run_id}", field="run_id")
        workflow = await run_repo.read_workflow(session, workflow_id=run.workflow_id)
        events = await event_repo.read_run_events(session, run_id=run_id)
        steps = await run_repo.read_step_runs(session, run_id=run_id)
        artifacts = await artifact_repo.read_run_artifacts(session, run_id=run_id)
        approvals = await approval_repo.read_approvals(
            session, state="decided", run_id=run_id, limit=10_000
        )
        head_seq, head_hash = await read_head(session)
    assert workflow is not None  # runs keep a foreign key to their workflow
    return build_receipt(
        run={
            "id": str(run.id),
            "workflow": workflow.name,
            "version": workflow.version,
            "status": str(run.status),
            "mission_id": str(run.mission_id) if run.mission_id else None,
        },
        entries=[entry_of(EventRecord.from_row(event)) for event in events],
        steps=_steps(steps, events),
        artifacts=[_artifact(a) for a in artifacts],
        approvals=[_approval(a.approval) for a in approvals],
        head_seq=head_seq,
        head_hash=head_hash,
        issued_at=datetime.now(UTC),
    )


def _steps(rows: Sequence[StepRun], events: Sequence[Event]) -> list[dict[str, Any]]:
    """Each step's state and the digest of its stored outputs (``None``: none recorded)."""
    vouched = {e.step_id for e in events if OUTPUTS_DIGEST_KEY in (e.payload or {})}
    return [
        {
            "step_id": row.step_id,
            "status": str(row.status),
            "attempt": row.attempt,
            "outputs_sha256": (
                outputs_digest(row.outputs or {}) if row.step_id in vouched or row.outputs else None
            ),
        }
        for row in rows
    ]


def _artifact(row: Artifact) -> dict[str, Any]:
    return {
        "artifact_id": str(row.id),
        "name": row.name,
        "sha256": row.sha256,
        "size": row.size,
        "step_id": (row.meta or {}).get("step_id"),
    }


def _approval(row: Approval) -> dict[str, Any]:
    return {
        "approval_id": str(row.id),
        "step_id": row.step_id,
        "decision": row.decision,
        "decided_by": row.decided_by,
        "decided_by_user": row.decided_by_user,
        "decided_at": format_ts(row.decided_at) if row.decided_at else None,
    }


__all__ = ["download_receipt", "issue_receipt"]
