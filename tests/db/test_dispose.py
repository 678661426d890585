"""Disposing of a database while a thread's transaction is still under way (a cancelled request
whose pooled write goes on, a server stopping mid-write) keeps the write and leaves no
connection open behind it."""

import asyncio
import gc
import threading
import warnings

from sqlalchemy import select

from missionctl.db import Database
from missionctl.db.migrate import upgrade_database
from missionctl.db.models import Mission
from tests.support import connection_leaks


async def test_a_write_that_outlives_dispose_commits_and_its_connection_closes(
    database_url: str,
) -> None:
    db = Database(database_url)
    await upgrade_database(db)
    inside, release = threading.Event(), threading.Event()

    def write(database: Database) -> None:
        with database.write_sync() as session:
            session.add(Mission(title="late", goal="g", status="draft", created_by="user:t"))
            inside.set()
            release.wait(10)

    writing = asyncio.create_task(asyncio.to_thread(write, db))
    assert await asyncio.to_thread(inside.wait, 10)
    await db.dispose()  # while the thread holds its connection
    release.set()
    await writing
    leaks = connection_leaks.recorded()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del db
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []
    assert connection_leaks.recorded() == leaks  # the suite's watcher saw no open one either

    again = Database(database_url)
    try:
        async with again.read() as session:
            assert (await session.scalars(select(Mission.title))).all() == ["late"]
    finally:
        await again.dispose()
