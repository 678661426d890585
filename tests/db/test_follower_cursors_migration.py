"""Revision 0034 moves each follower's position into ``follower_cursors``, and back."""

import sqlalchemy as sa

from missionctl.db import Database
from missionctl.db.migrate import downgrade_database, upgrade_database

OLD_TABLES = {
    "search": "search_progress",
    "memory": "memory_progress",
    "analytics": "analytics_progress",
    "webhooks": "webhook_progress",
}
POSITIONS = {"search": 41, "memory": 17, "analytics": 0, "webhooks": 99}


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))


async def test_each_followers_position_is_kept_across_the_move_and_back(
    empty_database_url: str,
) -> None:
    db = Database(empty_database_url)
    try:
        await upgrade_database(db, "0033")
        async with db.write() as session:
            for name, table in OLD_TABLES.items():
                await session.execute(
                    sa.text(f"UPDATE {table} SET last_seq = :seq WHERE id = 1"),
                    {"seq": POSITIONS[name]},
                )
        await upgrade_database(db, "0034")
        async with db.read() as session:
            rows = await session.execute(sa.text("SELECT name, last_seq FROM follower_cursors"))
            assert {row.name: row.last_seq for row in rows} == POSITIONS
        assert not set(OLD_TABLES.values()) & await _tables(db)

        await downgrade_database(db, "0033")
        assert "follower_cursors" not in await _tables(db)
        async with db.read() as session:
            for name, table in OLD_TABLES.items():
                seq = await session.scalar(sa.text(f"SELECT last_seq FROM {table} WHERE id = 1"))
                assert seq == POSITIONS[name], table
    finally:
        await db.dispose()
