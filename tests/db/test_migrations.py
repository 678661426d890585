"""The one migration chain runs on both databases, both ways, and matches the ORM."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from missionctl.db import Database
from missionctl.db.base import Base
from missionctl.db.migrate import (
    current_revision,
    downgrade_database,
    head_revision,
    upgrade_database,
)

DOMAIN_TABLES = {
    "missions",
    "plans",
    "requirements",
    "risks",
    "decisions",
    "next_steps",
    "workflows",
    "runs",
    "step_runs",
    "events",
    "event_log_head",
    "artifacts",
    "agents",
    "approvals",
    "model_prices",
    "users",
    "api_tokens",
    "sign_in_links",
}


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert await current_revision(db) is None
        await upgrade_database(db)
        assert await current_revision(db) == head_revision()
        assert await _tables(db) >= DOMAIN_TABLES

        await downgrade_database(db, "base")
        assert await current_revision(db) is None
        assert not (await _tables(db)) & DOMAIN_TABLES

        await upgrade_database(db)
        assert await current_revision(db) == head_revision()
        assert await _tables(db) >= DOMAIN_TABLES
    finally:
        await db.dispose()


async def test_upgrade_is_idempotent(database_url: str) -> None:
    db = Database(database_url)
    try:
        await upgrade_database(db)
        await upgrade_database(db)
        assert await current_revision(db) == head_revision()
    finally:
        await db.dispose()


async def test_migrated_schema_matches_the_orm(database_url: str) -> None:
    """A model change without its migration fails here, on each dialect."""
    db = Database(database_url)
    try:
        await upgrade_database(db)
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
        assert diff == []
    finally:
        await db.dispose()
