"""Callbacks of external HTTP agents: single-use tokens that carry an answer back (ADR 0061).

An ``http`` step whose agent answers later gets a callback: the engine running the step opens
one (:func:`open_callback`: a random token, of which only the SHA-256 is stored, bound to the
step run and attempt, expiring with the step's timeout) and sends its URL; the external agent
POSTs its answer there, which the server, whichever process it is, stores through
:func:`receive_callback`; the engine holding the step polls :func:`read_callback_answer`. The
token is the credential: it is 256 random bits, redeemable once (a conditional UPDATE, so two
concurrent callbacks cannot both win) and only before it expires.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from missionctl.db.models import HttpCallback
from missionctl.db.types import utcnow
from missionctl.errors import Conflict, NotFound
from missionctl.llm.redaction import redact
from missionctl.repositories import callbacks as repo
from missionctl.schemas.http_agent import AgentAnswer
from missionctl.services.runtime.context import ServiceContext

TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 100  # a token is 43 characters; anything longer is not one of ours


@dataclass(frozen=True, slots=True)
class OpenedCallback:
    """A callback waiting for its answer: its row's id and the token (shown once, never kept)."""

    id: uuid.UUID
    token: str


def token_hash(token: str) -> str:
    """The SHA-256 hex digest a token is stored and looked up by."""
    return hashlib.sha256(token.encode()).hexdigest()


async def open_callback(
    ctx: ServiceContext, *, step_run_id: uuid.UUID, attempt: int, expires_in_s: float
) -> OpenedCallback:
    """Open a callback for ``attempt`` of the step run, valid for ``expires_in_s`` seconds."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = HttpCallback(
        step_run_id=step_run_id,
        attempt=attempt,
        token_hash=token_hash(token),
        expires_at=utcnow() + timedelta(seconds=expires_in_s),
    )
    async with ctx.write() as session:
        session.add(row)
        await session.flush()
        return OpenedCallback(id=row.id, token=token)


async def receive_callback(ctx: ServiceContext, *, token: str, answer: AgentAnswer) -> None:
    """Store ``answer`` for the callback of ``token``, once.

    The answer is redacted (every registered secret and credential-looking token) before it is
    stored: the row is a record like any other.

    Raises:
        NotFound: no callback has this token.
        Conflict: the token was already used, or it expired (the step gave up waiting).
    """
    if len(token) > MAX_TOKEN_CHARS:
        raise NotFound(
            "no callback has this token; use the callback_url of the request", field="token"
        )
    stored: dict[str, Any] = redact(answer.model_dump(mode="json"))
    async with ctx.write() as session:
        row = await repo.read_callback_by_hash(session, token_hash=token_hash(token))
        if row is None:
            raise NotFound(
                "no callback has this token; use the callback_url of the request", field="token"
            )
        now = utcnow()
        if await repo.redeem_callback(session, callback_id=row.id, now=now, result=stored):
            return
        if row.used_at is not None or row.expires_at > now:
            raise Conflict(
                "this callback token was already used: a step takes one answer; "
                "the first one sent was kept",
                field="token",
            )
        raise Conflict(
            "this callback token expired: the step stopped waiting at "
            f"{row.expires_at.isoformat()}; run the step again for a new one",
            field="token",
        )


async def read_callback_answer(
    ctx: ServiceContext, *, callback_id: uuid.UUID
) -> dict[str, Any] | None:
    """The answer posted to the callback (``AgentAnswer`` as JSON), or ``None`` while none came."""
    async with ctx.read() as session:
        return await repo.read_callback_result(session, callback_id=callback_id)
