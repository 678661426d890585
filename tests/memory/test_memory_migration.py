"""Revision 0020 on a database with history: the first catch-up remembers the missions already
finished, and going down to 0018 and up again keeps everything else (both databases)."""

import uuid
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import insert, text

from missionctl.db import Database
from missionctl.db.migrate import downgrade_database, upgrade_database
from missionctl.db.models import Mission
from missionctl.eventlog import NewEvent, append
from missionctl.services import open_context
from missionctl.services.usecases.memory import search_memory
from missionctl.settings import DatabaseSettings, Settings


@pytest.mark.parametrize("status", ["completed", "canceled"])
async def test_missions_finished_before_the_upgrade_are_remembered(
    empty_database_url: str, tmp_path: Path, status: str
) -> None:
    mission_id = uuid.uuid4()
    db = Database(empty_database_url)
    try:
        await upgrade_database(db, "0018")
        async with db.write() as session:
            await session.execute(
                insert(Mission).values(
                    id=mission_id,
                    title="Old bookshop",
                    goal="Build a web shop for second-hand books",
                    status=status,
                    created_by="system",
                )
            )
            event = NewEvent(f"mission.{status}", "system", {}, mission_id=mission_id)
            await append(session, [event])
    finally:
        await db.dispose()
    settings = Settings(
        home=tmp_path / "home", database=DatabaseSettings(url=SecretStr(empty_database_url))
    )

    async with open_context(settings) as ctx:  # upgrades to the newest revision
        found = await search_memory(ctx, q="books")

    assert [item.mission_id for item in found.items] == [mission_id]
    assert found.items[0].outcome == status
    db = Database(empty_database_url)
    try:
        await downgrade_database(db, "0018")
        async with db.engine.connect() as conn:
            titles = (await conn.execute(text("SELECT title FROM missions"))).scalars().all()
        assert titles == ["Old bookshop"]
        await upgrade_database(db)
    finally:
        await db.dispose()
    async with open_context(settings) as ctx:
        again = await search_memory(ctx, q="bookshop")
    assert [item.mission_id for item in again.items] == [mission_id]
