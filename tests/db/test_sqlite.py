"""SQLite is configured to behave under concurrent use (WAL, FKs, busy timeout, BEGIN IMMEDIATE)."""

import asyncio
from pathlib import Path

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from missionctl.db import Database
from missionctl.db.migrate import upgrade_database


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
