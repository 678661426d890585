"""The writer thread's kept connection: shared, clean per transaction, replaced after an error
(kept after a refusal)."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from missionctl.db import Database
from missionctl.db.migrate import upgrade_database
from missionctl.db.models import Mission
from missionctl.errors import NotFound


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await upgrade_database(database)
    yield database
    await database.dispose()


def _mission(title: str) -> Mission:
    return Mission(title=title, goal=f"goal of {title}", status="draft", created_by="user:test")


def _driver(session: object) -> object:
    return session.connection().connection.dbapi_connection  # type: ignore[attr-defined]


async def test_transactions_share_one_connection_and_start_clean(db: Database) -> None:
    writer = db.blocking_writer()
    with writer.transaction() as session:
        mission = _mission("first")
        session.add(mission)
        session.info["note"] = "left behind"
        first_driver = _driver(session)
    with writer.transaction() as session:
        assert _driver(session) is first_driver  # no pool checkout per transaction
        assert session.info == {}
        assert len(session.identity_map) == 0  # nothing from the last transaction answers gets
        stored = session.get(Mission, mission.id)
        assert stored is not None and stored is not mission
        stored.title = "renamed"
    with writer.transaction() as session:
        assert session.scalar(select(Mission.title).where(Mission.id == mission.id)) == "renamed"
    writer.close()
    async with db.read() as session:
        assert (await session.get(Mission, mission.id)) is not None


async def test_an_error_rolls_back_and_the_next_transaction_gets_a_fresh_connection(
    db: Database,
) -> None:
    writer = db.blocking_writer()
    with writer.transaction() as session:
        first_driver = _driver(session)
    with pytest.raises(RuntimeError, match="boom"), writer.transaction() as session:
        session.add(_mission("lost"))
        session.flush()
        raise RuntimeError("boom")
    with writer.transaction() as session:
        assert _driver(session) is not first_driver
        assert session.scalar(select(Mission.id).where(Mission.title == "lost")) is None
    writer.close()
    writer.close()  # closing twice is harmless


async def test_a_refusal_rolls_back_and_keeps_the_connection(db: Database) -> None:
    """A ``MissionControlError`` is our own decision, not a broken connection."""
    writer = db.blocking_writer()
    with writer.transaction() as session:
        first_driver = _driver(session)
    with pytest.raises(NotFound), writer.transaction() as session:
        session.add(_mission("refused"))
        session.flush()
        session.add(_mission("refused, unflushed"))
        raise NotFound("no such thing")
    with writer.transaction() as session:
        assert _driver(session) is first_driver
        assert len(session.identity_map) == 0 and not session.new
        session.add(_mission("after"))
    assert await _titles(db) == {"after"}
    writer.close()


@pytest.mark.parametrize("error", [NotFound("no such thing"), RuntimeError("boom")])
async def test_an_error_on_a_lost_connection_is_raised_and_the_connection_replaced(
    db: Database, error: Exception
) -> None:
    writer = db.blocking_writer()
    with pytest.raises(type(error)), writer.transaction() as session:
        lost = _driver(session)
        lost.close()  # type: ignore[attr-defined]  # as if the server had dropped it
        raise error
    with writer.transaction() as session:
        assert _driver(session) is not lost
        session.add(_mission("after"))
    assert await _titles(db) == {"after"}
    writer.close()


async def _titles(db: Database) -> set[str]:
    async with db.read() as session:
        return set((await session.scalars(select(Mission.title))).all())


async def test_each_transaction_commits_when_its_block_ends(db: Database) -> None:
    writer = db.blocking_writer()
    with writer.transaction() as session:
        session.add(_mission("pending"))
        session.flush()
        assert await _titles(db) == set()  # other connections do not see it yet
    assert await _titles(db) == {"pending"}  # committed, while the writer stays open
    with writer.transaction() as session:
        session.add(_mission("unflushed"))  # flushed by the commit
    assert await _titles(db) == {"pending", "unflushed"}
    with pytest.raises(RuntimeError), writer.transaction() as session:
        session.add(_mission("rolled back"))
        session.flush()
        raise RuntimeError("boom")
    assert await _titles(db) == {"pending", "unflushed"}
    writer.close()


async def test_closed_writer_opens_again_on_use(db: Database) -> None:
    writer = db.blocking_writer()
    with writer.transaction() as session:
        session.add(_mission("one"))
    writer.close()
    with writer.transaction() as session:
        session.add(_mission("two"))
    writer.close()
    assert await _titles(db) == {"one", "two"}
