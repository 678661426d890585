"""SQLite is configured to behave under concurrent use (WAL, FKs, busy timeout, BEGIN IMMEDIATE)."""

import asyncio
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy.exc
from sqlalchemy import DateTime, text
from sqlalchemy.dialects import sqlite as sqlite_dialect

from missionctl.db import Database
from missionctl.db.database import BlockingWriter, WriteLockBusy
from missionctl.db.migrate import upgrade_database
from missionctl.db.types import UTCDateTime


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", busy_timeout_ms=200)
    await upgrade_database(db)
    return db


async def test_pragmas(sqlite_db: Database) -> None:
    async with sqlite_db.read() as session:
        assert (await session.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await session.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await session.execute(text("PRAGMA busy_timeout"))).scalar() == 200
    await sqlite_db.dispose()


async def test_foreign_keys_are_enforced(sqlite_db: Database) -> None:
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        async with sqlite_db.write() as session:
            await session.execute(
                text(
                    "INSERT INTO plans (id, mission_id, version, summary, source, phases, tasks, "
                    "validation, created_at) VALUES ('0123456789abcdef0123456789abcdef', "
                    "'fedcba9876543210fedcba9876543210', 1, '', 'local', '[]', '[]', '{}', "
                    "'2026-01-01 00:00:00')"
                )
            )
    await sqlite_db.dispose()


async def test_write_transaction_takes_the_lock_up_front(sqlite_db: Database) -> None:
    """A write transaction that has only read still excludes a second writer (BEGIN IMMEDIATE)."""
    holding = asyncio.Event()
    release = asyncio.Event()

    async def first_writer() -> None:
        async with sqlite_db.write() as session:
            await session.execute(text("SELECT 1"))  # reads only, yet holds the write lock
            holding.set()
            await release.wait()

    task = asyncio.create_task(first_writer())
    await holding.wait()
    with pytest.raises(sqlalchemy.exc.OperationalError, match="database is locked"):
        async with sqlite_db.write() as session:
            await session.execute(text("SELECT 1"))
    # Readers are not blocked by the writer (WAL).
    async with sqlite_db.read() as session:
        assert (await session.execute(text("SELECT count(*) FROM missions"))).scalar() == 0
    release.set()
    await task
    await sqlite_db.dispose()


async def test_a_writer_that_may_not_wait_is_refused_at_once_and_keeps_its_connection(
    tmp_path: Path,
) -> None:
    """``transaction(wait=False)`` (an event loop's) never waits for another connection's lock.

    The busy timeout is the default five seconds: ample for the other writer to let go on a
    busy machine, and far from the refusal's moment.
    """
    sqlite_db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    await upgrade_database(sqlite_db)
    writer = sqlite_db.blocking_writer()
    try:
        await _refused_at_once_then_waits(sqlite_db, writer)
        writer.close()
        async with sqlite_db.read() as session:
            assert (await session.execute(text("SELECT count(*) FROM written"))).scalar() == 1
    finally:  # a failure leaves no connection open for a later test to be blamed for
        writer.close()
        await sqlite_db.dispose()


async def _refused_at_once_then_waits(sqlite_db: Database, writer: BlockingWriter) -> None:
    with writer.transaction(wait=False) as session:
        first = session.connection().connection.dbapi_connection
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 0
    holding = asyncio.Event()
    release = asyncio.Event()

    async def other_writer() -> None:
        async with sqlite_db.write() as session:
            await session.execute(text("SELECT 1"))
            holding.set()
            await release.wait()

    task = asyncio.create_task(other_writer())
    try:
        await holding.wait()
        started = time.monotonic()
        with pytest.raises(WriteLockBusy), writer.transaction(wait=False):
            pytest.fail("began while another connection held the write lock")
        assert time.monotonic() - started < 1.0  # not the five-second busy timeout

        def waiting_write() -> tuple[object, int]:
            with writer.transaction() as session:  # may wait: the busy timeout is back
                session.execute(text("CREATE TABLE written (x INTEGER)"))
                timeout = session.execute(text("PRAGMA busy_timeout")).scalar()
                return session.connection().connection.dbapi_connection, int(timeout or 0)

        waiting = asyncio.create_task(asyncio.to_thread(waiting_write))
        await asyncio.sleep(0.05)
    finally:
        release.set()
        await task
    connection, timeout = await waiting
    assert connection is first and timeout == 5000  # the refusal kept the connection
    with writer.transaction(wait=False) as session:  # the lock is free: taken at once
        session.execute(text("INSERT INTO written (x) VALUES (1)"))


async def test_the_blocking_writer_leaves_the_checkpoint_to_checkpoint_sync(
    tmp_path: Path,
) -> None:
    """An engine commit never stalls on copying the log; ``checkpoint_sync`` copies it."""
    path = tmp_path / "x.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade_database(db)
    assert db.checkpoint_sync() is not None  # start from a database that holds everything
    before = path.stat().st_size
    with db.write_sync() as session:
        session.execute(text("CREATE TABLE bulk (x TEXT)"))
        # About 2,000 pages: twice what would make SQLite checkpoint on commit by default.
        session.execute(
            text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
                "INSERT INTO bulk (x) SELECT hex(randomblob(2000)) FROM n"
            )
        )
    assert path.stat().st_size - before < 1_000_000  # the commit left the pages in the log
    frames, done = db.checkpoint_sync() or (0, 0)
    assert frames >= 2000 and done == frames
    assert path.stat().st_size - before > 8_000_000  # now they are in the database
    async with db.read() as session:
        assert (await session.execute(text("SELECT count(*) FROM bulk"))).scalar() == 2000
    await db.dispose()


def test_utc_timestamps_are_stored_as_sqlalchemy_stores_them_and_read_in_any_stored_form() -> None:
    """The fast SQLite conversions of ``UTCDateTime`` keep SQLAlchemy's text, so old rows and
    text comparisons in SQL (``not_before <= now``) still agree."""
    dialect = sqlite_dialect.dialect()
    reference = DateTime().dialect_impl(dialect).bind_processor(dialect)
    bind = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    read = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    assert reference is not None and bind is not None and read is not None
    plus_two = timezone(timedelta(hours=2))
    for value in (
        datetime(2026, 11, 21, 9, 30, 15, 123456, tzinfo=UTC),
        datetime(2026, 11, 21, 9, 30, 15, tzinfo=UTC),  # no microseconds: still six digits
        datetime(5, 1, 2, tzinfo=UTC),
        datetime(2026, 11, 21, 11, 30, 15, 7, tzinfo=plus_two),  # converted to UTC
    ):
        text_value = bind(value)
        assert text_value == reference(value.astimezone(UTC).replace(tzinfo=None))
        assert read(text_value) == value and read(text_value).tzinfo is UTC
    assert bind(None) is None and read(None) is None
    with pytest.raises(ValueError, match="naive"):
        bind(datetime(2026, 11, 21))
    # The database's own clock (milliseconds) and whole seconds read as UTC too.
    assert read("2026-11-21 09:30:15.123") == datetime(2026, 11, 21, 9, 30, 15, 123000, tzinfo=UTC)
    assert read("2026-11-21 09:30:15") == datetime(2026, 11, 21, 9, 30, 15, tzinfo=UTC)
