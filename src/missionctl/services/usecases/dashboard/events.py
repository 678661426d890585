"""Following the event log live: what the dashboard's Server-Sent Events streams read.

``follow_events`` yields every event of a mission or a run after a cursor exactly once, in
``seq`` order, first from the database and then as they are published, for as long as the
caller keeps iterating. ADR 0009 says why it works the way it does:

- it subscribes to the broadcaster *before* it reads the backlog, so nothing published while
  the backlog is read is missed; what arrives twice (read and published) is dropped by ``seq``;
- it trusts a published event only when it is the next one of the *global* log (the
  broadcaster carries every event, so the global ``seq`` is gapless there). A hole means an
  event was published out of commit order, the subscriber lagged, or another process (a
  ``worker``) appended it: then it reads the database, which is the truth, and goes on;
- when nothing is published for ``poll_s`` it reads the database too, so events appended by
  other processes arrive within that delay;
- those reads (a hole, a quiet spell, a filter only the database decides) are shared: the
  followers of one process that need the log's newest events at the same time wait for one
  read (``SharedReads``), which brings each event with its run's workflow and its step's agent
  so that every filter is matched in memory. N followers cost one query per poll, not N
  (ADR 0040); only a follower far behind reads its own filtered pages (``_catch_up``);
- a follower cancelled mid-read (the browser left the page) lets the read finish in the
  background (``read_to_end``): a query or rollback cut short makes the drivers log warnings
  and tracebacks (psycopg closes the connection), although nothing went wrong.
"""

import asyncio
import uuid
import weakref
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.database import Database
from missionctl.db.models import Event
from missionctl.domain.events import severity_of
from missionctl.domain.numbers import ascii_int
from missionctl.eventlog import EventRecord
from missionctl.repositories import events as event_repo
from missionctl.schemas.dashboard import EventBatch, EventItem
from missionctl.schemas.events import MAX_SEQ, EventFilters
from missionctl.services.runtime.context import ServiceContext

POLL_S = 1.0
"""How long the live phase waits for a published event before it reads the database anyway."""

PAGE = 500
"""Events read from the database per query while catching up."""

LIVE_PAGE = 1000
"""The most events one shared read brings; a follower further behind reads its own pages."""

T = TypeVar("T")

# The reads still finishing for cancelled callers: the loop keeps only weak references to tasks.
_finishing: set["asyncio.Task[Any]"] = set()


async def read_to_end(read: Coroutine[Any, Any, T]) -> T:
    """Await ``read`` (a short database read) in a task that cancelling the caller does not cut.

    Returns:
        What ``read`` returns.

    Raises:
        asyncio.CancelledError: the caller was cancelled; ``read`` still runs to its end and
            returns its connection, and its result (or error) is dropped.
    """
    task = asyncio.create_task(read)
    _finishing.add(task)
    task.add_done_callback(_finishing.discard)
    return await asyncio.shield(task)


def to_event_item(row: Event | EventRecord) -> EventItem:
    """Map an ORM row or a published record to the dashboard's event item."""
    return EventItem(
        seq=row.seq,
        ts=row.ts,
        type=row.type,
        actor=row.actor,
        run_id=row.run_id,
        step_id=row.step_id,
        payload=row.payload,
        mission_id=row.mission_id,
    )


def resume_cursor(last_event_id: str | None, after: int) -> int:
    """Where a stream resumes: after ``Last-Event-ID`` when a client reconnects, else ``after``.

    A header that is not a number is ignored (``after`` holds); a larger one than any ``seq``
    is capped at ``MAX_SEQ``.
    """
    seq = ascii_int((last_event_id or "").strip())
    return after if seq is None else min(seq, MAX_SEQ)


def matches(filters: EventFilters, record: EventRecord | EventItem) -> bool:
    """Whether ``record`` passes the filters that need only the event itself.

    The SQL of ``repositories.events`` applies the same filters; ``workflow`` and ``agent``
    need the runs' rows (``EventFilters.needs_database``): ``LoggedEvent.matches`` has them.
    """
    if filters.type and not any(
        record.type.startswith(t) if t.endswith(".") else record.type == t for t in filters.type
    ):
        return False
    if filters.run_id is not None and record.run_id != filters.run_id:
        return False
    if filters.mission_id is not None and record.mission_id != filters.mission_id:
        return False
    if filters.actor is not None and record.actor != filters.actor:
        return False
    if filters.since is not None and record.ts < filters.since:
        return False
    if filters.until is not None and record.ts >= filters.until:
        return False
    return not filters.severity or severity_of(record.type, record.payload) in filters.severity


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """An event read from the log with the name of its run's workflow and its step's agent."""

    item: EventItem
    workflow: str | None
    agent: str | None

    def matches(self, filters: EventFilters) -> bool:
        """Whether the event passes every filter, as the SQL of ``repositories.events``."""
        if filters.workflow is not None and self.workflow != filters.workflow:
            return False
        if filters.agent is not None and self.agent != filters.agent:
            return False
        return matches(filters, self.item)


@dataclass(frozen=True, slots=True)
class SharedRead:
    """The log's events after a ``seq``, oldest first, and the head when they were read."""

    after: int
    head: int
    events: list[LoggedEvent]

    @property
    def complete(self) -> bool:
        """Whether ``events`` holds every event up to ``head`` (not cut at ``LIVE_PAGE``)."""
        return len(self.events) < LIVE_PAGE


@dataclass(slots=True)
class _Round:
    """A read that followers join until it starts; they all get its result."""

    after: int
    result: "asyncio.Future[SharedRead]" = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class SharedReads:
    """One database read of the log's newest events for all the followers waiting for one.

    A follower asks for the events after the last ``seq`` it has seen; the requests made
    before a read starts are served by it (reading from the oldest of them), those made while
    it runs by the next one. So a read always starts after the request it answers, and 200
    followers polling at once cost one query. The read runs in a task of its own: a follower
    cancelled while waiting leaves it to finish for the others.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = asyncio.Lock()
        self._next: _Round | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def after(self, seen: int) -> SharedRead:
        """The log's events after ``seen`` (up to ``LIVE_PAGE``), read after this call began."""
        round_ = self._next
        if round_ is None:
            round_ = self._next = _Round(seen)
            task = asyncio.create_task(self._read(round_))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        round_.after = min(round_.after, seen)
        return await asyncio.shield(round_.result)

    async def _read(self, round_: _Round) -> None:
        async with self._lock:
            if self._next is round_:
                self._next = None  # from now on, requests wait for the next read
            try:
                async with self._db.read() as session:
                    # The head first: every event up to it is committed, hence in the page.
                    head = await event_repo.read_head_seq(session)
                    rows = await event_repo.read_log_after(
                        session, after_seq=round_.after, limit=LIVE_PAGE
                    )
            except Exception as exc:  # every waiting follower gets the error
                round_.result.set_exception(exc)
                return
        events = [LoggedEvent(to_event_item(e), workflow, agent) for e, workflow, agent in rows]
        round_.result.set_result(SharedRead(round_.after, head, events))


_shared_reads: "weakref.WeakKeyDictionary[Database, SharedReads]" = weakref.WeakKeyDictionary()


def shared_reads(db: Database) -> SharedReads:
    """The ``SharedReads`` of this database's followers (one per ``Database``, so per process)."""
    reads = _shared_reads.get(db)
    if reads is None:
        reads = _shared_reads[db] = SharedReads(db)
    return reads


class _Cursor:
    """Where a follower is: the last event it yielded, and how far it has seen the global log."""

    def __init__(self, after_seq: int, filters: EventFilters) -> None:
        self.last = after_seq
        self.seen = 0
        self.filters = filters

    async def read_page(self, session: AsyncSession) -> list[EventItem]:
        rows = await event_repo.read_events_after(
            session, after_seq=self.last, limit=PAGE, filters=self.filters
        )
        return [to_event_item(row) for row in rows]

    def take_published(self, records: Sequence[EventRecord]) -> tuple[list[EventItem], bool]:
        """The wanted records that continue the global log, and whether to read the database.

        The database is read when a hole is found, and when a record may match filters that
        only the database can decide (a workflow or an agent): it then yields that record.
        """
        items: list[EventItem] = []
        for record in records:
            if record.seq <= self.seen:
                continue  # already read from the database
            if record.seq != self.seen + 1:
                return items, True
            if record.seq > self.last and matches(self.filters, record):
                if self.filters.needs_database:
                    return items, True  # unseen yet: the read after the hole yields it
                items.append(to_event_item(record))
            self.seen = record.seq
        return items, False

    def take_read(self, read: SharedRead) -> list[EventItem]:
        """The wanted events of a shared read not yielded yet; moves ``seen`` past the read."""
        items: list[EventItem] = []
        for event in read.events:
            if event.item.seq <= self.seen:
                continue
            if event.item.seq > self.last and event.matches(self.filters):
                items.append(event.item)
            self.seen = event.item.seq
        if read.complete:
            self.seen = max(self.seen, read.head)
        return items


async def _catch_up(ctx: ServiceContext, cursor: _Cursor) -> AsyncIterator[EventBatch]:
    """Yield every wanted event after ``cursor.last`` that is in the database now.

    Each page is read in a short transaction of its own, closed before the batch is yielded,
    so a slow reader holds no connection or snapshot while its batch is sent.
    """
    head: int | None = None
    while True:
        head, items = await read_to_end(_read_page(ctx, cursor, head))
        if items:
            cursor.last = items[-1].seq
            yield EventBatch(items=items)
        if len(items) < PAGE:
            break
    cursor.seen = max(cursor.seen, head or 0)


async def _read_page(
    ctx: ServiceContext, cursor: _Cursor, head: int | None
) -> tuple[int, list[EventItem]]:
    async with ctx.read() as session:
        if head is None:
            # Read the head first: every event up to it is committed, so this page and the
            # later ones (read in newer snapshots) see all of them.
            head = await event_repo.read_head_seq(session)
        return head, await cursor.read_page(session)


async def follow_events(
    ctx: ServiceContext,
    *,
    after_seq: int,
    mission_id: uuid.UUID | None = None,
    run_id: uuid.UUID | None = None,
    filters: EventFilters | None = None,
    poll_s: float = POLL_S,
) -> AsyncIterator[EventBatch]:
    """Yield the events matching the filters after ``after_seq``, live, each exactly once.

    Args:
        ctx: the service context (its broadcaster and database).
        after_seq: the cursor: the last event the caller already has (0 for all).
        mission_id: only events of this mission (``None``: no filter on missions).
        run_id: only events of this run (``None``: no filter on runs).
        filters: only events matching these (the event feed's filters); ``mission_id`` and
            ``run_id``, when given, replace theirs.
        poll_s: the longest wait before the database is read although nothing was published.

    Yields:
        Non-empty batches in ``seq`` order; no event is yielded twice and none is skipped.
        Never returns on its own: the caller stops iterating (or is cancelled), which ends
        the subscription; a read under way when it is cancelled finishes first.
    """
    scope = {"mission_id": mission_id, "run_id": run_id}
    filters = (filters or EventFilters()).model_copy(
        update={name: value for name, value in scope.items() if value is not None}
    )
    cursor = _Cursor(after_seq, filters)
    reads = shared_reads(ctx.db)
    while True:
        async with ctx.broadcaster.subscribe() as subscription:
            async for batch in _catch_up(ctx, cursor):
                yield batch
            while not subscription.lagged:
                published = await subscription.get_many_within(poll_s)
                if published:
                    items, hole = cursor.take_published(published)
                else:  # quiet: read the database (another process may have appended)
                    items, hole = [], True
                if items:
                    cursor.last = items[-1].seq
                    yield EventBatch(items=items)
                if hole and not subscription.lagged:
                    async for batch in _read_shared(ctx, reads, cursor):
                        yield batch
        # The broadcaster dropped the subscription (it lagged): subscribe again, catch up.


async def _read_shared(
    ctx: ServiceContext, reads: SharedReads, cursor: _Cursor
) -> AsyncIterator[EventBatch]:
    """Yield the wanted events after ``cursor.seen`` from a read shared with the other followers.

    A follower further behind than one shared read reaches reads its own pages after it.
    """
    read = await reads.after(cursor.seen)
    items = cursor.take_read(read)
    if items:
        cursor.last = items[-1].seq
        yield EventBatch(items=items)
    if cursor.seen < read.head:
        async for batch in _catch_up(ctx, cursor):
            yield batch


async def count_events(
    ctx: ServiceContext,
    *,
    up_to: int,
    mission_id: uuid.UUID | None = None,
    run_id: uuid.UUID | None = None,
) -> int:
    """How many events of a mission or run have ``seq <= up_to`` (the audit trail's count)."""
    async with ctx.read() as session:
        return await event_repo.count_events(
            session, up_to=up_to, mission_id=mission_id, run_id=run_id
        )


async def read_head_seq(ctx: ServiceContext) -> int:
    """The newest event's ``seq`` (0 for an empty log): where a list page's live stream starts.

    Read it *before* the list: every event after it changes the list the stream re-renders, so
    nothing committed between the two reads is lost (at worst the list is rendered twice).
    """
    async with ctx.read() as session:
        return await event_repo.read_head_seq(session)
