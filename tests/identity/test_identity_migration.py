"""Migration 0002 adds the identity tables and takes them away again, on both databases."""

from sqlalchemy import inspect

from missionctl.db import Database
from missionctl.db.migrate import current_revision, downgrade_database, upgrade_database

IDENTITY_TABLES = {"users", "api_tokens", "sign_in_links"}


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_0002_upgrades_and_downgrades(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        await upgrade_database(db, "0001")
        assert not (await _tables(db)) & IDENTITY_TABLES
        await upgrade_database(db, "0002")
        assert await _tables(db) >= IDENTITY_TABLES | {"missions", "events"}
        await downgrade_database(db, "0001")
        assert await current_revision(db) == "0001"
        tables = await _tables(db)
        assert not tables & IDENTITY_TABLES and {"missions", "events"} <= tables
        await upgrade_database(db)
        assert await _tables(db) >= IDENTITY_TABLES
    finally:
        await db.dispose()
