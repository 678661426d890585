"""The database handle: one async engine, and the two kinds of transaction services open.

SQLite (the embedded default) needs care to behave like a server database under concurrent use;
the reasons are next to each setting below. PostgreSQL's pooled connections are checked only
after they rested in the pool (``db.liveness``, ADR 0038).

A second, blocking engine on the same database serves the execution engine's hot path from
worker threads (ADR 0007): with aiosqlite every statement costs several thread hops, so a
transaction of a dozen statements is an order of magnitude slower than the same work done
synchronously in one thread.
"""

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from missionctl.db.liveness import ping_after_idle
from missionctl.db.turns import WriteTurns
from missionctl.db.types import canonical_json
from missionctl.errors import MissionControlError

# Execution option marking read-only transactions (they need no write lock on SQLite).
_READ_ONLY = "missionctl_read_only"
# Execution option of a connection whose transactions are begun on the driver (BlockingWriter).
_DRIVER_TRANSACTIONS = "missionctl_driver_transactions"


class Database:
    """An async engine plus session factories for read and write transactions.

    Only services open transactions (``write()`` / ``read()`` / ``write_sync()``); helpers
    receive the session keyword-only and never commit. Create one per process and
    ``await dispose()`` at shutdown.
    """

    def __init__(self, url: str | URL, *, busy_timeout_ms: int = 5000, pool_size: int = 5) -> None:
        """Create the engine (no connection is opened until first use).

        Args:
            url: SQLAlchemy URL with an async driver (``sqlite+aiosqlite``, ``postgresql+psycopg``).
            busy_timeout_ms: SQLite only: how long to wait for the write lock.
            pool_size: PostgreSQL only: connections kept open.
        """
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        self._busy_timeout_ms = busy_timeout_ms
        self._pool_size = pool_size
        options: dict[str, Any] = {"json_serializer": canonical_json}
        if self.dialect == "postgresql":
            options.update(pool_size=pool_size)
        if self.dialect == "sqlite":
            _create_private_file(self.url.database)
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine.sync_engine, busy_timeout_ms=busy_timeout_ms)
        else:
            ping_after_idle(self.engine.sync_engine)
        self._write_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        read_options: dict[str, Any] = {_READ_ONLY: True}
        if self.dialect == "postgresql":
            # READ COMMITTED (the default) gives every statement its own snapshot; a read that
            # spans several statements (verifying the chain, a page and its total) needs one.
            read_options["isolation_level"] = "REPEATABLE READ"
        self._read_options = read_options
        self._read_sessions = async_sessionmaker(
            self.engine.execution_options(**read_options), expire_on_commit=False
        )
        self._sync_engine: Engine | None = None
        self._sync_sessions: sessionmaker[Session] | None = None
        self._sync_read_sessions: sessionmaker[Session] | None = None
        self._disposed = False
        # SQLite: each event loop's writers queue here for the write lock (``write_turn``).
        self._write_turns: dict[asyncio.AbstractEventLoop, WriteTurns] = {}

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """Open a write transaction; commit when the block ends, roll back if it raises.

        On SQLite the transaction starts with ``BEGIN IMMEDIATE``, so it holds the write lock from
        its first statement and can never fail half-way with ``database is locked`` on upgrade.
        It asks for that lock on its ``write_turn()``.
        """
        async with self.write_turn(), self._write_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def write_turn(self) -> AsyncIterator[None]:
        """SQLite: wait for this event loop's turn to write, first come first served (ADR 0037).

        The loop's writers then ask for SQLite's write lock one at a time, so none of them
        polls in SQLite's busy handler while others keep taking the lock before it (which
        starved requests of a burst past the busy timeout). A writer waits while the queue
        moves; if one holder keeps the turn past the busy timeout, it asks for the lock as
        before (and SQLite's busy timeout applies). Nothing on PostgreSQL, whose row locks
        queue their waiters themselves.
        """
        if self.dialect != "sqlite":
            yield
            return
        turns = self._write_turns_of_loop()
        mine = await turns.take(self._busy_timeout_ms / 1000)
        try:
            yield
        finally:
            if mine:
                turns.give_back()

    def _write_turns_of_loop(self) -> WriteTurns:
        """The running loop's queue of SQLite writers (made on first use)."""
        loop = asyncio.get_running_loop()
        turns = self._write_turns.get(loop)
        if turns is None:
            # A queue serves one loop; those of loops that have ended are of no more use.
            for ended in [known for known in self._write_turns if known.is_closed()]:
                del self._write_turns[ended]
            turns = self._write_turns[loop] = WriteTurns()
        return turns

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """Open a read-only transaction on one consistent snapshot of the database.

        SQLite's WAL read transactions are snapshots; on PostgreSQL the transaction runs at
        REPEATABLE READ. Ending it writes nothing; loaded objects stay readable (no expiry).
        """
        async with self._read_sessions() as session, session.begin():
            yield session

    @property
    def busy_timeout_ms(self) -> int:
        """SQLite only: how long a transaction waits for the write lock."""
        return self._busy_timeout_ms

    @property
    def sync_engine(self) -> Engine:
        """The blocking engine on the same database (created on first use; threads only)."""
        if self._sync_engine is None:
            url = self.url
            options: dict[str, Any] = {"json_serializer": canonical_json}
            if self.dialect == "sqlite":
                url = url.set(drivername="sqlite+pysqlite")
                # Connections move between the executor's threads, one thread at a time.
                options["connect_args"] = {"check_same_thread": False}
            else:
                options.update(pool_size=self._pool_size)
            # Every transaction here ends in an explicit COMMIT or ROLLBACK, so the pool's own
            # rollback when a connection is returned would only cost a round trip.
            engine = create_engine(url, pool_reset_on_return=None, **options)
            if self.dialect == "sqlite":
                # The engine's writer never stops a tick to copy the log into the database;
                # ``checkpoint_sync`` does it beside the writer, from lease maintenance.
                _configure_sqlite(
                    engine, busy_timeout_ms=self._busy_timeout_ms, autocheckpoint=False
                )
            else:
                ping_after_idle(engine)
            event.listen(engine, "checkin", self._close_if_disposed)
            self._sync_sessions = sessionmaker(engine, expire_on_commit=False)
            self._sync_engine = engine
        return self._sync_engine

    @contextmanager
    def write_sync(self) -> Iterator[Session]:
        """A blocking write transaction (``BEGIN IMMEDIATE`` on SQLite); call it from a thread.

        Commits when the block ends, rolls back if it raises.
        """
        self.sync_engine  # noqa: B018 - creates the session factory on first use
        assert self._sync_sessions is not None
        with self._sync_sessions() as session, session.begin():
            yield session

    @contextmanager
    def read_sync(self) -> Iterator[Session]:
        """A blocking read-only transaction on one snapshot, as :meth:`read`; call it from a thread.

        For a read of many statements (ADR 0112): its statements run one after another in the
        thread, where on the event loop each would wait for the loop's turn.
        """
        if self._sync_read_sessions is None:
            engine = self.sync_engine.execution_options(**self._read_options)
            self._sync_read_sessions = sessionmaker(engine, expire_on_commit=False)
        with self._sync_read_sessions() as session, session.begin():
            yield session

    def blocking_writer(self) -> "BlockingWriter":
        """A writer that keeps one connection for the blocking transactions of one thread."""
        return BlockingWriter(self)

    def checkpoint_sync(self) -> tuple[int, int] | None:
        """Copy what the SQLite write-ahead log holds into the database, beside any writer.

        A ``PASSIVE`` checkpoint on a connection of its own, outside any transaction: it never
        waits for, or blocks, a writer or a reader. The blocking engine's connections do not
        checkpoint on commit (a checkpoint's sync stalls the transaction that triggers it), so
        whoever writes through them calls this now and then; the engine does it with its lease
        maintenance. Call it from a thread.

        Returns:
            ``(frames in the log, frames checkpointed)``, or ``None`` on PostgreSQL.
        """
        if self.dialect != "sqlite":
            return None
        connection = self.sync_engine.raw_connection()
        try:
            cursor = connection.cursor()
            _, frames, done = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            cursor.close()
        finally:
            connection.close()
        return int(frames), int(done)

    async def dispose(self) -> None:
        """Close every pooled connection; a blocking one still in use closes when given back."""
        self._disposed = True
        await self.engine.dispose()
        if self._sync_engine is not None:
            self._sync_engine.dispose()

    def _close_if_disposed(self, _dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # A thread's transaction may outlive the caller that was waiting for it (a cancelled
        # request's pooled write, ``ServiceContext.write_blocking``). Given back after
        # ``dispose()``, its connection would stay open in a pool nothing uses any more.
        if self._disposed:
            record.invalidate()


async def ping(session: AsyncSession) -> None:
    """Ask the database the smallest question (``SELECT 1``): it answers, or this raises.

    What it raises is the driver's error for a database that cannot be reached or opened.
    """
    await session.execute(text("SELECT 1"))


class WriteLockBusy(Exception):
    """A transaction that may not wait found SQLite's write lock held by another connection."""


class BlockingWriter:
    """Blocking write transactions on one connection kept open between them (ADR 0017, 0018).

    For a thread that writes thousands of small transactions a second (the engine's writer
    thread): checking a connection out of the pool, wrapping it and building a session for
    each transaction cost more than a tick's statements. The connection and its session are
    made on first use and kept until ``close()`` or an error. Use it from one thread at a time.

    The database transactions are driven on the driver connection (ADR 0018): ``BEGIN
    IMMEDIATE`` (SQLite; PostgreSQL's driver begins on the first statement) and ``COMMIT`` or
    ``ROLLBACK``. The session's own transaction is begun once and stays open as bookkeeping, so
    that SQLAlchemy's per-transaction machinery is not paid once per tick.
    """

    def __init__(self, db: Database) -> None:
        """A writer on ``db``'s blocking engine; nothing is opened until first use."""
        self._db = db
        self._session: Session | None = None
        self._driver: Any = None
        # Whether the connection's busy timeout is the database's (True) or zero (False).
        self._waits = True

    @contextmanager
    def transaction(self, *, wait: bool = True) -> Iterator[Session]:
        """As ``Database.write_sync()``: commit when the block ends, roll back if it raises.

        The session starts every transaction empty (no objects, no ``info``); objects added in
        the block are flushed before the commit. After an error the connection is discarded and
        the next transaction opens a new one: statements prepared on the driver (ADR 0016) raise
        past SQLAlchemy, which therefore cannot tell whether the connection survived. A
        ``MissionControlError`` (a refusal our own code raised) only rolls back.

        With ``wait=False`` (SQLite) the write lock is taken only if it is free at once: for a
        caller that must not block, such as an event loop (ADR 0021). Once taken, nothing in
        the transaction waits for another connection.

        Raises:
            WriteLockBusy: ``wait=False`` and another connection holds the write lock; nothing
                was begun and the connection is kept.
        """
        session = self._session or self._open()
        driver = self._driver
        if self._db.dialect == "sqlite":
            self._begin_sqlite(driver, wait)
        try:
            yield session
            if len(session.identity_map) or session.new or session.deleted:
                session.flush()
            driver.commit()
        except MissionControlError:
            # A refusal (not found, invalid input, conflict) comes from our code, not the
            # database: roll back and keep the connection, unless it is unusable.
            if not _rolled_back(session, driver):
                self.close(discard=True)
            raise
        except BaseException:
            self.close(discard=True)
            raise
        finally:
            # Objects must not outlive their transaction: ``Session.get`` would answer from them,
            # and one added but never flushed (a refused block's) would be written by the next.
            if len(session.identity_map) or session.new:
                session.expunge_all()
            session.info.clear()

    def _begin_sqlite(self, driver: Any, wait: bool) -> None:
        """``BEGIN IMMEDIATE``, waiting for the lock up to the busy timeout or not at all."""
        if wait is not self._waits:
            # A connection setting, changed only when the kind of caller changes.
            timeout = self._db.busy_timeout_ms if wait else 0
            cursor = driver.cursor()
            try:
                cursor.execute(f"PRAGMA busy_timeout={int(timeout)}")
            except sqlite3.Error:
                self.close(discard=True)
                raise
            finally:
                cursor.close()
            self._waits = wait
        try:
            _sqlite_begin(driver, "BEGIN IMMEDIATE", sqlite3.Error)
        except DBAPIError as exc:
            code = getattr(exc.orig, "sqlite_errorcode", 0)  # extended: the low byte is the primary
            if not wait and code & 0xFF == sqlite3.SQLITE_BUSY:
                raise WriteLockBusy("another connection holds the write lock") from exc
            self.close(discard=True)
            raise
        except BaseException:
            self.close(discard=True)
            raise

    def _open(self) -> Session:
        connection = self._db.sync_engine.connect()
        # SQLAlchemy's transaction on this connection is bookkeeping only: it must not emit
        # BEGIN itself (``_on_begin`` below), the transactions are begun on the driver.
        connection.execution_options(**{_DRIVER_TRANSACTIONS: True})
        session = Session(bind=connection, expire_on_commit=False)
        session.begin()
        session.connection()  # begins the bookkeeping transaction, emitting nothing
        self._driver = connection.connection.dbapi_connection
        self._session = session
        self._waits = True  # a new connection waits for the lock (``_configure_sqlite``)
        return session

    def close(self, *, discard: bool = False) -> None:
        """Close the session; give its connection back to the pool, or ``discard`` it."""
        session, self._session = self._session, None
        driver, self._driver = self._driver, None
        if session is None:
            return
        connection = session.bind
        assert isinstance(connection, Connection)
        if discard:
            # Whatever the failed block left open must not be committed by anyone.
            if driver is not None:
                with contextlib.suppress(Exception):
                    driver.rollback()
            # Before the session closes: its rollback would need a driver that may be gone (a
            # dropped connection), and would raise in place of the error being handled.
            connection.invalidate()
        session.close()
        connection.close()


def _rolled_back(session: Session, driver: Any) -> bool:
    """Roll back the driver's transaction; whether the connection can be used again."""
    transaction = session.get_transaction()
    if transaction is None or not transaction.is_active:
        return False  # SQLAlchemy gave up on the session (a failed flush)
    try:
        driver.rollback()
    except Exception:
        return False  # e.g. the server closed the connection
    return True


def _create_private_file(database: str | None) -> None:
    """Create an SQLite database file readable and writable by this user only.

    SQLite gives the ``-wal`` and ``-shm`` files it makes beside a database the database
    file's own mode, so creating it ``0600`` before SQLite opens it makes all three private
    whatever the process's file-creation mask. An existing file is left as it is; in-memory and
    URI databases are not files here.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    # Any other refusal (no such directory, read-only, no space) is raised here, naming the
    # file: SQLite would say only "unable to open database file", from its driver's thread.
    os.close(fd)


def _configure_sqlite(
    sync_engine: Engine, *, busy_timeout_ms: int, autocheckpoint: bool = True
) -> None:
    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the driver so that we emit BEGIN ourselves (below);
        # the driver's implicit BEGIN is deferred and only takes the write lock on first write.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL: readers never block the writer and the writer never blocks readers.
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL is durable across application crashes and much faster than FULL.
        cursor.execute("PRAGMA synchronous=NORMAL")
        # SQLite ignores foreign keys unless told otherwise, per connection.
        cursor.execute("PRAGMA foreign_keys=ON")
        # Wait for a competing writer instead of failing at once with "database is locked".
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if not autocheckpoint:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that reads and then writes
        # can fail with SQLITE_BUSY without waiting, because upgrading its lock could deadlock.
        options = connection.get_execution_options()
        if options.get(_DRIVER_TRANSACTIONS):
            return  # the BlockingWriter begins each transaction itself
        # Straight to the driver: nothing needs to see it.
        _sqlite_begin(
            connection.connection.dbapi_connection,
            "BEGIN" if options.get(_READ_ONLY) else "BEGIN IMMEDIATE",
            connection.dialect.loaded_dbapi.Error,
        )


def _sqlite_begin(driver: Any, statement: str, error: type[Exception]) -> None:
    """Run ``statement`` (a ``BEGIN``) on a driver connection; its ``error`` as SQLAlchemy's."""
    cursor = driver.cursor()
    try:
        cursor.execute(statement)
    except error as exc:  # raised as SQLAlchemy raises it ("database is locked")
        raise DBAPIError.instance(statement, None, exc, error) from exc
    finally:
        cursor.close()
