"""What every use case needs, and the transaction that publishes events after commit."""

import asyncio
import functools
import threading
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.blobs import Blobs, BlobStore
from missionctl.blobs.bucket import BucketAddress, BucketStore
from missionctl.db import Database
from missionctl.db.database import BlockingWriter, WriteLockBusy
from missionctl.db.migrate import upgrade_database
from missionctl.domain.workflows import WorkflowDag
from missionctl.errors import Problem, ValidationFailed
from missionctl.eventlog import Broadcaster, EventRecord, pending_events
from missionctl.services.runtime.stop_signal import FILE_NAME as STOP_SIGNAL_FILE
from missionctl.services.runtime.stop_signal import StopSignal
from missionctl.services.runtime.writer import WriterBusy, WriterThread
from missionctl.settings import Settings

T = TypeVar("T")

FollowerName = Literal["search", "memory", "analytics", "orchestration", "risks", "webhooks"]
"""The followers of the log a read may catch up (``services.followers.FOLLOWERS``)."""

DAG_STORE_CAPACITY = 256


class DagStore:
    """Parsed workflow versions by id, the ``capacity`` most recently used (thread-safe).

    A version never changes, so an entry is never stale; it is only evicted, and read again
    from the database when next needed. The bound keeps a long-lived server's memory flat
    however many versions its missions create (a 1,000-step DAG holds thousands of objects).
    """

    def __init__(self, capacity: int = DAG_STORE_CAPACITY) -> None:
        """An empty store; ``capacity`` must be at least 1."""
        if capacity < 1:
            raise ValueError("a DAG store holds at least one workflow version")
        self.capacity = capacity
        self._dags: OrderedDict[uuid.UUID, WorkflowDag] = OrderedDict()
        # The engine's writer thread and the event loop both use the store.
        self._lock = threading.Lock()

    def get(self, workflow_id: uuid.UUID) -> WorkflowDag | None:
        """The DAG if it is held (it becomes the most recently used), else ``None``."""
        with self._lock:
            dag = self._dags.get(workflow_id)
            if dag is not None:
                self._dags.move_to_end(workflow_id)
            return dag

    def put(self, workflow_id: uuid.UUID, dag: WorkflowDag) -> None:
        """Hold ``dag``, evicting the least recently used version beyond the capacity."""
        with self._lock:
            self._dags[workflow_id] = dag
            self._dags.move_to_end(workflow_id)
            while len(self._dags) > self.capacity:
                self._dags.popitem(last=False)

    def __len__(self) -> int:
        """How many versions are held."""
        return len(self._dags)


@dataclass(frozen=True, slots=True)
class ServiceContext:
    """The process's shared resources, built once by ``open_context``."""

    settings: Settings
    db: Database
    blobs: Blobs
    broadcaster: Broadcaster
    # The emergency stop where it can always be set, for when the database cannot record it.
    stop_signal: StopSignal
    # Parsed workflow versions, shared by the services and the engines of this process:
    # parsing a large one costs more than running a tick.
    dags: DagStore = field(default_factory=DagStore, repr=False)
    _writer: dict[str, tuple[WriterThread, BlockingWriter]] = field(
        default_factory=dict, repr=False
    )

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction; events appended in it are published only after it commits.

        If the block raises, the transaction is rolled back, nothing is published and the
        exception propagates.
        """
        async with self.db.write() as session:
            yield session
        # Reached only after a successful commit.
        self.broadcaster.publish(pending_events(session))

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only snapshot."""
        async with self.db.read() as session:
            yield session

    async def read_blocking(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` in one read-only snapshot, run in a thread (ADR 0112).

        For reads of many statements written as blocking code (the analytics): the event loop
        waits once for the whole read instead of once per statement, each wait behind whatever
        else the loop has to run. If the caller is cancelled, the read still finishes in its
        thread.
        """

        def read() -> T:
            with self.db.read_sync() as session:
                return work(session)

        return await asyncio.to_thread(read)

    async def catch_up(self, follower: FollowerName, *, quietly: bool = True) -> bool:
        """Bring one follower of the log up to its head, for a read that wants current data.

        A search, a memory read or an analytics read calls this first, so that it finds every
        event committed before it began; the use cases name the follower instead of importing
        it (``services.followers`` is background work the runtime composes, ADR 0086).
        ``quietly``: a failure is logged and ``False`` returned (the read answers from what is
        derived); otherwise it raises what the database raised. ``True``: it is current.
        """
        # Imported here: the followers import this module.
        from missionctl.services.followers import catch_up_named

        return await catch_up_named(self, follower, quietly=quietly)

    async def write_blocking(
        self, work: Callable[[Session], T], *, inline: bool = False, side_by_side: bool = False
    ) -> T:
        """Run ``work(session)`` in one blocking write transaction on the writer's connection.

        For hot paths with many statements per transaction (ADR 0007): ``work`` runs on the
        writer thread (ADR 0017). With ``inline=True`` it runs on the calling event loop instead
        when that costs no wait: on SQLite, with the writer thread idle and the write lock free
        at once (ADR 0021). That saves two thread hops per transaction; it is for short work
        (an engine tick), since the loop does nothing else meanwhile.

        With ``side_by_side=True`` (starting a run) the work runs, on PostgreSQL, in a worker
        thread on a pooled connection instead (ADR 0037): the server runs such transactions side
        by side, where the one writer thread would make each wait for the round trips of all
        the others and of every engine tick. The work must not rely on the order of the
        writer's jobs. On SQLite, whose writers take turns anyway, it changes nothing.

        Events appended with ``append_sync`` are published on the event loop after the commit.
        If the caller is cancelled while the work runs on the thread, the transaction still
        finishes (the database stays the truth; subscribers catch up from it) but nothing is
        published.
        """
        if side_by_side and self.db.dialect == "postgresql":
            result, events = await asyncio.to_thread(self._write_pooled, work)
            self.broadcaster.publish(events)
            return result
        thread, writer = self._writer_thread()

        def run(wait: bool) -> tuple[T, list[EventRecord]]:
            with writer.transaction(wait=wait) as session:
                result = work(session)
                events = pending_events(session)
            return result, events

        if inline and self.db.dialect == "sqlite":
            try:
                result, events = thread.call_if_idle(functools.partial(run, False))
            except (WriterBusy, WriteLockBusy):
                pass  # someone else is writing: wait for the lock on the thread, not here
            else:
                self.broadcaster.publish(events)
                return result
        # In turn with the loop's other writers (ADR 0037): the thread then meets no queue of
        # them at SQLite's write lock.
        async with self.db.write_turn():
            result, events = await thread.run(functools.partial(run, True))
        self.broadcaster.publish(events)
        return result

    def _write_pooled(self, work: Callable[[Session], T]) -> tuple[T, list[EventRecord]]:
        """``work`` in a blocking transaction on a pooled connection; its result and events."""
        with self.db.write_sync() as session:
            result = work(session)
            events = pending_events(session)
        return result, events

    def _writer_thread(self) -> tuple[WriterThread, BlockingWriter]:
        # One thread for every blocking write: writes are serialised by the database anyway,
        # and the thread keeps one connection open (ADR 0017).
        found = self._writer.get("writer")
        if found is None:
            found = self._writer["writer"] = (
                WriterThread("missionctl-writer"),
                self.db.blocking_writer(),
            )
        return found

    def close(self) -> None:
        """Stop the writer thread (after its queued work) and close its connection."""
        self.stop_signal.close()
        found = self._writer.pop("writer", None)
        if found is not None:
            thread, writer = found
            thread.stop(writer.close)


def make_home(home: Path) -> None:
    """Make the data directory ``home`` unless it exists, with its emergency-stop signal.

    The signal's file is made here, while there is room, so that the stop can be written
    to it in place on a full disk (``stop_signal``).

    Raises:
        ValidationFailed: it cannot be made (a file stands in its way, a parent is read-only);
            the problem names ``MISSIONCTL_HOME`` and says what to do.
    """
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        problem = (
            f"the data directory {home} cannot be made ({exc.strerror or exc}); point "
            "MISSIONCTL_HOME at a directory this user may create and write"
        )
        raise ValidationFailed([Problem("MISSIONCTL_HOME", problem)]) from exc
    StopSignal(home / STOP_SIGNAL_FILE).prepare()


def open_blobs(settings: Settings) -> Blobs:
    """The blob store the settings name: their bucket (``MISSIONCTL_BLOBS_URL``) or the home's.

    A bucket's writes are spooled in ``MISSIONCTL_HOME/blob-spool`` while they are hashed.
    """
    blobs = settings.blobs
    if blobs.bucket is None:
        return BlobStore(settings.blob_dir)
    secret = blobs.secret_access_key
    address = BucketAddress(
        bucket=blobs.bucket,
        prefix=blobs.prefix,
        region=blobs.region,
        endpoint=blobs.endpoint,
        access_key_id=blobs.access_key_id,
        secret_access_key=secret.get_secret_value() if secret is not None else None,
    )
    return BucketStore(address, spool=settings.home / "blob-spool")


@asynccontextmanager
async def open_context(
    settings: Settings, *, upgrade: bool = True
) -> AsyncIterator[ServiceContext]:
    """Build the context for ``settings``: data directory, database (upgraded), blobs, broadcaster.

    Disposes of the database connections when the block ends, whether or not it raised.

    Raises:
        ValidationFailed: the data directory cannot be made (field ``MISSIONCTL_HOME``).
    """
    make_home(settings.home)
    db = Database(
        settings.database_url,
        busy_timeout_ms=settings.database.busy_timeout_ms,
        pool_size=settings.database.pool_size,
    )
    try:
        if upgrade:
            await upgrade_database(db)
        ctx = ServiceContext(
            settings=settings,
            db=db,
            blobs=open_blobs(settings),
            broadcaster=Broadcaster(),
            stop_signal=StopSignal(settings.home / STOP_SIGNAL_FILE),
        )
        try:
            yield ctx
        finally:
            ctx.close()
    finally:
        await db.dispose()
