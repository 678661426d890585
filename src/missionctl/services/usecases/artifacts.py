"""Artifact use cases: list and read artifacts and their content; store new ones.

Content lives in the content-addressed blob store; an ``Artifact`` row says what it is and
where it came from, and every row is announced by one ``artifact.created`` event in the same
transaction (the engine does the same for the artifacts agents return). Names, descriptions and
content pass through the one redaction (``missionctl.llm.redaction``) before they are stored:
names and descriptions lose secrets and credential-looking tokens, content (through
:func:`put_blob`, which every artifact's content passes, the engine's too) only the exact
registered secrets, so a file stays what its program wrote otherwise.

Names are unique within a run (a unique index says so): a name already taken in the run is
replaced by its first free variant (``domain.artifact_names.distinct_name``: the producing
step's id in front, else a counter), by :func:`add_artifacts` and, for the artifacts agents
return, by :func:`assign_distinct_names` in the engine's transaction. A mission's runs each
write their own documents: a later run's ``scope.md`` is the next version of that document,
told apart by its run (ADR 29).
"""

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.agents.base import ContentStream
from missionctl.blobs import BlobRef
from missionctl.db.models import Artifact, Mission, Run
from missionctl.domain import events as ev
from missionctl.domain.artifact_names import distinct_name
from missionctl.domain.files import FileAnswer
from missionctl.errors import IntegrityError, NotFound, Problem, ValidationFailed
from missionctl.eventlog import NewEvent, append
from missionctl.llm.redaction import redact, redact_chunks
from missionctl.repositories import artifacts as repo
from missionctl.schemas.artifacts import ArtifactRead
from missionctl.services.runtime.context import ServiceContext

log = logging.getLogger(__name__)

MAX_ARTIFACTS = 5000
_CHUNK_BYTES = 1 << 20  # what a streamed artifact is read and written by


@dataclass(frozen=True, slots=True)
class NewArtifact:
    """An artifact to store: its description and content."""

    name: str
    kind: str
    media_type: str
    content: bytes
    meta: dict[str, Any] = field(default_factory=dict)


def to_artifact_read(artifact: Artifact, step_id: str | None) -> ArtifactRead:
    """Map the ORM row (and its step's id, if a step produced it) to the public contract."""
    return ArtifactRead(
        id=artifact.id,
        mission_id=artifact.mission_id,
        run_id=artifact.run_id,
        step_id=step_id,
        kind=artifact.kind,
        name=artifact.name,
        asked_name=(artifact.meta or {}).get("asked_name"),
        media_type=artifact.media_type,
        sha256=artifact.sha256,
        size=artifact.size,
        created_at=artifact.created_at,
    )


async def read_artifacts(
    ctx: ServiceContext,
    *,
    mission_id: uuid.UUID | None = None,
    run_id: uuid.UUID | None = None,
    limit: int = 1000,
) -> list[ArtifactRead]:
    """Artifacts in creation order, filtered by mission and/or run (both ``None``: all).

    Raises:
        NotFound: no such mission (``field="mission_id"``) or run (``field="run_id"``).
        ValidationFailed: ``limit`` is not between 1 and 5000.
    """
    if not 1 <= limit <= MAX_ARTIFACTS:
        raise ValidationFailed([Problem("limit", f"must be between 1 and {MAX_ARTIFACTS}")])
    async with ctx.read() as session:
        if mission_id is not None and await session.get(Mission, mission_id) is None:
            raise NotFound(f"no mission with id {mission_id}", field="mission_id")
        if run_id is not None and await session.get(Run, run_id) is None:
            raise NotFound(f"no run with id {run_id}", field="run_id")
        rows = await repo.read_artifacts_with_steps(
            session, limit=limit, mission_id=mission_id, run_id=run_id
        )
        return [to_artifact_read(artifact, step_id) for artifact, step_id in rows]


async def _read_one(session: AsyncSession, artifact_id: uuid.UUID) -> ArtifactRead:
    row = await repo.read_artifact_with_step(session, artifact_id=artifact_id)
    if row is None:
        raise NotFound(f"no artifact with id {artifact_id}", field="artifact_id")
    return to_artifact_read(row[0], row[1])


async def read_artifact(ctx: ServiceContext, *, artifact_id: uuid.UUID) -> ArtifactRead:
    """One artifact's description.

    Raises:
        NotFound: no such artifact (``field="artifact_id"``).
    """
    async with ctx.read() as session:
        return await _read_one(session, artifact_id)


async def read_artifact_content(
    ctx: ServiceContext, *, artifact_id: uuid.UUID
) -> tuple[ArtifactRead, bytes]:
    """An artifact and its content, checked against the stored digest.

    Raises:
        NotFound: no such artifact (``field="artifact_id"``).
        IntegrityError: the blob is missing or its bytes do not match the recorded sha256.
    """
    artifact = await read_artifact(ctx, artifact_id=artifact_id)
    try:
        content = await asyncio.to_thread(ctx.blobs.read_bytes, artifact.sha256)
    except NotFound:
        raise _missing(artifact) from None
    if hashlib.sha256(content).hexdigest() != artifact.sha256:
        raise IntegrityError(
            f"the content of artifact {artifact_id} does not match its sha256", field="artifact_id"
        )
    return artifact, content


async def download_artifact(ctx: ServiceContext, *, artifact_id: uuid.UUID) -> FileAnswer:
    """An artifact's content as a file of chunks (blocking: iterated in a thread), untrusted.

    The first chunk is read here, so a missing blob is an ``IntegrityError`` before anything
    is sent. The bytes are hashed as they go, and the last chunk is given only once they match
    the recorded sha256 and size: otherwise ``IntegrityError`` is raised in its place, so a
    download is cut off rather than completed with bytes the record does not vouch for.

    Raises:
        NotFound: no such artifact (``field="artifact_id"``).
        IntegrityError: the blob is missing.
    """
    artifact = await read_artifact(ctx, artifact_id=artifact_id)
    chunks = ctx.blobs.iter_chunks(artifact.sha256)
    try:
        first = await asyncio.to_thread(next, chunks, b"")
    except NotFound:
        raise _missing(artifact) from None
    return FileAnswer(
        _checked(artifact, first, chunks),
        artifact.media_type,
        name=artifact.name,
        untrusted=True,
        size=artifact.size,
    )


def _missing(artifact: ArtifactRead) -> IntegrityError:
    return IntegrityError(
        f"the content of artifact {artifact.id} ({artifact.sha256}) is missing from the blob store",
        field="artifact_id",
    )


def _checked(artifact: ArtifactRead, first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    # Each chunk goes out once the next is read, and the last only once the digest is checked:
    # a download of other bytes never completes.
    digest = hashlib.sha256(first)
    size = len(first)
    held = first
    for chunk in rest:
        yield held
        digest.update(chunk)
        size += len(chunk)
        held = chunk
    if digest.hexdigest() != artifact.sha256 or size != artifact.size:
        message = f"the content of artifact {artifact.id} does not match its sha256"
        log.error("%s: its download was cut short", message)  # the response has begun
        raise IntegrityError(message, field="artifact_id")
    yield held


def put_blob(ctx: ServiceContext, content: bytes | ContentStream) -> BlobRef:
    """Write one artifact's content to the blob store, blocking; redacted first.

    Every registered secret is replaced by ``[REDACTED]``; nothing else changes (no credential
    patterns: a patch must still apply, a digest must be that of what the program wrote when
    it held no secret). The returned reference is that of the redacted bytes.

    A stream (a large file an agent spooled) is read and written a chunk at a time, redacted on
    the way (``redact_chunks``: a secret split between two chunks is replaced too), so memory
    holds a chunk, never the whole content. It is read to its end, not closed: its owner
    closes it.
    """
    if isinstance(content, bytes):
        return ctx.blobs.put_bytes(redact(content, patterns=False))
    chunks = iter(lambda: content.read(_CHUNK_BYTES), b"")
    return ctx.blobs.put_chunks(redact_chunks(chunks))


async def put_blobs(ctx: ServiceContext, artifacts: Sequence[NewArtifact]) -> list[BlobRef]:
    """Write the contents to the blob store (off the event loop), before any transaction.

    A blob whose row is never committed is harmless: it is content-addressed and unreferenced.
    The content stored is redacted as by :func:`put_blob`.
    """
    return await asyncio.to_thread(lambda: [put_blob(ctx, a.content) for a in artifacts])


async def add_artifacts(
    session: AsyncSession,
    *,
    stored: Sequence[tuple[NewArtifact, BlobRef]],
    run_id: uuid.UUID | None,
    mission_id: uuid.UUID | None,
    step_run_id: uuid.UUID | None = None,
    step_id: str | None = None,
    actor: str = "system",
) -> list[ArtifactRead]:
    """Add artifact rows for already-stored blobs and one ``artifact.created`` event each.

    Runs inside the caller's transaction (the caller commits); the events are published after
    that commit. A name already taken in the run becomes its first free variant (see the
    module docstring).
    """
    taken = await _names_in_run(session, run_id)
    names = []
    for new in stored:
        name = distinct_name(redact(new[0].name), taken, owner=step_id)
        taken.add(name)
        names.append(name)
    asked = [redact(new.name) for new, _ in stored]
    rows = [
        Artifact(
            mission_id=mission_id,
            run_id=run_id,
            step_run_id=step_run_id,
            kind=new.kind,
            name=name,
            media_type=new.media_type,
            sha256=blob.sha256,
            size=blob.size,
            uri=blob.uri,
            meta=_with_asked_name(redact(dict(new.meta)), given, name),
        )
        for (new, blob), name, given in zip(stored, names, asked, strict=True)
    ]
    session.add_all(rows)
    await session.flush()
    await append(
        session,
        [
            NewEvent(
                type=ev.ARTIFACT_CREATED,
                actor=actor,
                run_id=run_id,
                mission_id=mission_id,
                step_id=step_id,
                payload={
                    "artifact_id": str(row.id),
                    "name": row.name,
                    "kind": row.kind,
                    "sha256": row.sha256,
                    "size": row.size,
                },
            )
            for row in rows
        ],
    )
    return [to_artifact_read(row, step_id) for row in rows]


async def _names_in_run(session: AsyncSession, run_id: uuid.UUID | None) -> set[str]:
    if run_id is None:
        return set()  # names are unique within a run; run-less artifacts have none to share
    return await repo.read_run_names(session, run_id=run_id)


def assign_distinct_names(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Give each new artifact row (``Artifact`` column values) a name free in its run.

    For the engine's synchronous transaction: reads the names the rows' runs already have,
    then renames, in order, every row whose ``name`` is taken, by the run or an earlier row
    (its step's id is ``meta["step_id"]``). The rows are changed in place.
    """
    run_ids = {row["run_id"] for row in rows if row["run_id"] is not None}
    if not run_ids:
        return
    taken = repo.read_names_by_run(session, run_ids=run_ids)
    for row in rows:
        if row["run_id"] is None:
            continue
        names = taken[row["run_id"]]
        asked = row["name"]
        row["name"] = distinct_name(asked, names, owner=row["meta"].get("step_id"))
        row["meta"] = _with_asked_name(row["meta"], asked, row["name"])
        names.add(row["name"])


def _with_asked_name(meta: dict[str, Any], asked: str, name: str) -> dict[str, Any]:
    """``meta``, with the name its producer asked for when it is stored under another one.

    A step that lists its documents by name ("answer.md") still finds the one the run stored
    as ``review-answer.md`` (see ``ArtifactRead.asked_name``).
    """
    return meta if asked == name else {**meta, "asked_name": asked}


__all__ = [
    "NewArtifact",
    "add_artifacts",
    "assign_distinct_names",
    "put_blob",
    "put_blobs",
    "read_artifact",
    "read_artifact_content",
    "read_artifacts",
    "to_artifact_read",
]
