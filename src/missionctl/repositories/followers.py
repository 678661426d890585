"""Where each follower of the log has read to: one row per follower in ``follower_cursors``.

A follower reads the log in windows: :func:`claim` locks its row and says which events come
next (at most a batch of them, up to the log's head), the follower writes what it derives from
them, and :func:`advance` moves the row, all in one write transaction, so what is derived and
the position commit together or not at all (revision 0034, ADR 0086).
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.db.models import Event, EventLogHead, FollowerCursor


@dataclass(frozen=True, slots=True)
class Window:
    """The events ``after < seq <= upto`` a follower reads next; ``head`` is the log's last."""

    after: int
    upto: int
    head: int

    @property
    def empty(self) -> bool:
        """Whether there is nothing to read (the follower is at the head)."""
        return self.upto <= self.after

    @property
    def current(self) -> bool:
        """Whether, once this window is folded, the follower has read the whole log."""
        return self.upto >= self.head


@dataclass(frozen=True, slots=True)
class Position:
    """How far one follower has read, and the age of the oldest event it has not."""

    name: str
    read_to: int
    head: int
    oldest_unread_at: datetime | None

    @property
    def behind(self) -> int:
        """Events appended that the follower has not read."""
        return max(0, self.head - self.read_to)


def claim(session: Session, name: str, *, max_events: int) -> Window:
    """The next window of ``name``'s events (at most ``max_events``), its row locked till commit.

    The row is made at ``seq`` 0 the first time a follower reads (a new follower derives from
    the whole log). On PostgreSQL the row stays locked until the caller's transaction ends, so a
    follower in another process waits its turn; on SQLite the write lock does the same.
    """
    _ensure_row(session, name)
    last = session.execute(
        select(FollowerCursor.last_seq).where(FollowerCursor.name == name).with_for_update()
    ).scalar_one()
    head = log_head(session)
    return Window(after=last, upto=max(last, min(head, last + max_events)), head=head)


def advance(session: Session, name: str, *, upto: int) -> None:
    """Move ``name``'s cursor to ``upto``, in the transaction that folded up to it."""
    session.execute(update(FollowerCursor).where(FollowerCursor.name == name).values(last_seq=upto))


def rewind(session: Session, name: str) -> None:
    """Send ``name`` back to the log's start (its derived data is rebuilt from every event)."""
    _ensure_row(session, name)
    advance(session, name, upto=0)


def log_head(session: Session) -> int:
    """The ``seq`` of the last event appended (0 for an empty log)."""
    head = session.execute(select(EventLogHead.last_seq).where(EventLogHead.id == 1)).scalar()
    return int(head or 0)


def read_to(session: Session, name: str) -> int:
    """The last ``seq`` ``name`` has folded (0 before its first batch)."""
    found = session.execute(
        select(FollowerCursor.last_seq).where(FollowerCursor.name == name)
    ).scalar()
    return int(found or 0)


async def is_behind(session: AsyncSession, name: str) -> bool:
    """Whether the log holds events ``name`` has not read (a cheap read, no lock)."""
    return bool(await session.run_sync(lambda s: read_to(s, name) < log_head(s)))


async def positions(session: AsyncSession, names: Collection[str]) -> list[Position]:
    """How far each of ``names`` has read, in the order given: one snapshot of the log."""
    rows = await session.execute(
        select(FollowerCursor.name, FollowerCursor.last_seq).where(
            FollowerCursor.name.in_(list(names))
        )
    )
    cursors = {row.name: row.last_seq for row in rows}
    head = await session.run_sync(log_head)
    found: list[Position] = []
    for name in names:
        last = int(cursors.get(name, 0))
        oldest = None
        if last < head:
            oldest = await session.scalar(select(Event.ts).where(Event.seq == last + 1))
        found.append(Position(name=name, read_to=last, head=head, oldest_unread_at=oldest))
    return found


def _ensure_row(session: Session, name: str) -> None:
    """Make ``name``'s row at 0 unless it exists (a twin making it at once is no error)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(FollowerCursor)
        .values(name=name, last_seq=0)
        .on_conflict_do_nothing(index_elements=["name"])
    )
