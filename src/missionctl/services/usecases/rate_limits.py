"""Rate limits every process of one database shares (ADR 0113): their attempts are rows.

``security.limits.SharedLimiter`` counts through these; each call is one short write
transaction (a lock on the bucket, a delete of what left the window, a count, an insert), run
side by side on PostgreSQL and, on SQLite, on the event loop when the write lock is free at
once (``ServiceContext.write_blocking``).
"""

import functools

from sqlalchemy.orm import Session

from missionctl.domain.access import RateDecision
from missionctl.repositories import rate_limits as repo
from missionctl.services.runtime.context import ServiceContext


async def hit(
    ctx: ServiceContext,
    bucket: str,
    *,
    limit: int,
    window_s: float,
    now: float,
    purge_before: float | None = None,
) -> RateDecision:
    """Record an attempt of ``bucket`` at ``now`` if allowed (``repositories.rate_limits.hit``).

    ``purge_before``: also delete every bucket's attempts older than it, in the same
    transaction (the caller does so now and then, so the table holds only live windows).
    """

    def work(session: Session) -> RateDecision:
        if purge_before is not None:
            repo.purge(session, before=purge_before)
        return repo.hit(session, bucket, limit=limit, window_s=window_s, now=now)

    return await ctx.write_blocking(work, inline=True, side_by_side=True)


async def check(
    ctx: ServiceContext, bucket: str, *, limit: int, window_s: float, now: float
) -> RateDecision:
    """Whether an attempt of ``bucket`` would be allowed at ``now`` (a read)."""
    return await ctx.read_blocking(
        functools.partial(repo.check, bucket=bucket, limit=limit, window_s=window_s, now=now)
    )


async def reset(ctx: ServiceContext, bucket: str) -> None:
    """Forget every attempt of ``bucket``."""
    await ctx.write_blocking(
        functools.partial(repo.reset, bucket=bucket), inline=True, side_by_side=True
    )
