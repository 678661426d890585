"""Rate limits in the database, shared by every process of it: ``rate_limit_hits`` (ADR 0113).

A sliding-window log, as ``domain.access.RateLimiter`` keeps in memory: each allowed attempt is
a row of its ``bucket`` (one limiter's key), and an attempt is allowed while fewer than
``limit`` rows of the bucket fall in the last ``window_s`` seconds. Refused attempts are not
recorded. :func:`hit` decides and records in the caller's write transaction, with the bucket
locked for its length (SQLite's write lock; a transaction-scoped advisory lock on PostgreSQL),
so two processes counting the same key take turns and never both take the last slot.
"""

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from missionctl.db.models import RateLimitHit
from missionctl.domain.access import RateDecision

# The two-key advisory lock space of the buckets (workflows' names use 1).
_BUCKET_LOCK_SPACE = 2
_LOCK_BUCKET = text("SELECT pg_advisory_xact_lock(:space, hashtext(:bucket))")


def hit(session: Session, bucket: str, *, limit: int, window_s: float, now: float) -> RateDecision:
    """Record an attempt of ``bucket`` at ``now`` if it is allowed; say whether it was.

    Forgets the bucket's attempts that left the window first. Call it in a write transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK_BUCKET, {"space": _BUCKET_LOCK_SPACE, "bucket": bucket})
    session.execute(
        delete(RateLimitHit).where(RateLimitHit.bucket == bucket, RateLimitHit.at <= now - window_s)
    )
    decision = _decide(session, bucket, limit=limit, window_s=window_s, now=now)
    if decision.allowed:
        session.execute(insert(RateLimitHit).values(bucket=bucket, at=now))
    return decision


def check(
    session: Session, bucket: str, *, limit: int, window_s: float, now: float
) -> RateDecision:
    """Whether an attempt of ``bucket`` would be allowed at ``now`` (records nothing)."""
    return _decide(session, bucket, limit=limit, window_s=window_s, now=now)


def reset(session: Session, bucket: str) -> None:
    """Forget every attempt of ``bucket``."""
    session.execute(delete(RateLimitHit).where(RateLimitHit.bucket == bucket))


def purge(session: Session, *, before: float) -> int:
    """Delete every attempt older than ``before``, whatever its bucket; how many went."""
    result = session.execute(delete(RateLimitHit).where(RateLimitHit.at < before))
    return int(getattr(result, "rowcount", 0) or 0)


def count(session: Session) -> int:
    """How many attempts the table holds (every bucket)."""
    return int(session.scalar(select(func.count()).select_from(RateLimitHit)) or 0)


def _decide(
    session: Session, bucket: str, *, limit: int, window_s: float, now: float
) -> RateDecision:
    # The ``limit`` newest attempts in the window: the oldest of them frees the next slot.
    newest = (
        select(RateLimitHit.at)
        .where(RateLimitHit.bucket == bucket, RateLimitHit.at > now - window_s)
        .order_by(RateLimitHit.at.desc())
        .limit(limit)
    ).subquery()
    held, oldest = session.execute(select(func.count(), func.min(newest.c.at))).one()
    if held < limit:
        return RateDecision(True, 0.0)
    return RateDecision(False, max(0.0, float(oldest) + window_s - now))
