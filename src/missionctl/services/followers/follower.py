"""A follower of the log, and the one loop that keeps every follower up with it (ADR 0086).

A follower derives data from the events as they are appended (the search index, mission
memory, the analytics facts, the webhook outbox). It is declared once as a :class:`Follower`:
its name (its row in ``follower_cursors``), what it keeps, and ``fold``, which writes what one
window of events says. Everything else is here, the same for all of them:

- :func:`catch_up` reads whether the follower is behind (a read, so an idle system writes
  nothing), then folds windows of at most ``batch_events`` events, each in a write transaction
  of its own on the blocking writer, whose cursor moves with what it wrote;
- :func:`following` runs :func:`catch_up` every ``every_s`` while a block runs, backs off while
  it fails, and lets a batch under way finish at shutdown (``services.runtime.periodic``);
- :func:`read_lags` says how far behind each follower is, in events and in seconds.
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from missionctl.repositories import followers as repo
from missionctl.repositories.followers import Window
from missionctl.schemas.health import FollowerRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.runtime.periodic import repeating

log = logging.getLogger(__name__)

BATCH_EVENTS = 5_000
"""Events folded per transaction: bounds how long one holds SQLite's write lock."""


@dataclass(frozen=True, slots=True)
class Follower:
    """One follower of the log, declared once.

    ``fold(session, window, ctx)`` writes what the events ``window.after < seq <= window.upto``
    say, in the caller's write transaction (``ctx`` gives the settings and the blob store); the
    cursor moves in the same one, so each window is folded exactly once and a fold that raises
    leaves nothing behind.
    """

    name: str
    description: str
    fold: Callable[[Session, Window, ServiceContext], None]
    every_s: float = 1.0
    batch_events: int = BATCH_EVENTS


async def catch_up(ctx: ServiceContext, follower: Follower) -> int:
    """Fold every event appended up to now; returns the last ``seq`` folded.

    Raises what the database raises; nothing is half-folded, since what a window derives and
    the cursor commit together. Two callers at once (two processes, or a search and the
    background loop) take turns on the cursor's row, so no window is folded twice.
    """
    async with ctx.read() as session:
        if not await repo.is_behind(session, follower.name):
            return await session.run_sync(lambda s: repo.read_to(s, follower.name))

    def batch(session: Session) -> Window:
        window = repo.claim(session, follower.name, max_events=follower.batch_events)
        if not window.empty:
            follower.fold(session, window, ctx)
            repo.advance(session, follower.name, upto=window.upto)
        return window

    while True:
        window = await ctx.write_blocking(batch)
        if window.current:
            return window.upto


async def catch_up_quietly(ctx: ServiceContext, follower: Follower) -> bool:
    """:func:`catch_up`, logging instead of raising; whether the follower is current.

    A read that wants current data (a search) still answers from what is derived when the
    follower cannot catch up (the database is busy, say).
    """
    try:
        await catch_up(ctx, follower)
    except Exception:
        log.warning("%s could not catch up with the log", follower.description, exc_info=True)
        return False
    return True


@asynccontextmanager
async def following(ctx: ServiceContext, followers: Sequence[Follower]) -> AsyncIterator[None]:
    """Keep each of ``followers`` up with the log while the block runs (a task each)."""
    async with AsyncExitStack() as stack:
        for follower in followers:
            await stack.enter_async_context(
                repeating(
                    _catch_up_of(ctx, follower),
                    every_s=follower.every_s,
                    what=f"{follower.description} catching up",
                )
            )
        yield


def _catch_up_of(ctx: ServiceContext, follower: Follower) -> Callable[[], Awaitable[int]]:
    async def job() -> int:
        return await catch_up(ctx, follower)

    return job


async def read_lags(ctx: ServiceContext, followers: Sequence[Follower]) -> list[FollowerRead]:
    """How far behind the log each of ``followers`` is now, in events and in seconds."""
    async with ctx.read() as session:
        positions = await repo.positions(session, [f.name for f in followers])
    now = datetime.now(UTC)
    return [
        FollowerRead(
            name=follower.name,
            description=follower.description,
            read_to=position.read_to,
            head=position.head,
            lag_events=position.behind,
            lag_s=_age_s(position.oldest_unread_at, now),
            as_of=now,
        )
        for follower, position in zip(followers, positions, strict=True)
    ]


def _age_s(then: datetime | None, now: datetime) -> float:
    if then is None:
        return 0.0
    return max(0.0, round((now - then).total_seconds(), 3))
