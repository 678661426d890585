"""Run the Alembic migration chain programmatically (the app upgrades on start).

There is no ``alembic.ini``: the chain is located from this package, and the connection is
handed to ``migrations/env.py`` through ``Config.attributes`` so that a migration runs inside
the same transaction (and, on SQLite, under the same ``BEGIN IMMEDIATE`` lock) as our own code.
"""

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from missionctl.db.database import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

VERSION_TABLE = "alembic_version"
"""Where Alembic records the revision the database is at (its default name)."""


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for our chain, optionally bound to an open connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str:
    """The newest revision of the chain (read once per process: the chain ships with the code)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migration chain is empty"
    return head


async def upgrade_database(db: Database, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` (idempotent; a no-op when already there).

    A database already at the head is recognised by one read, without loading the chain:
    every process (and every test) that opens the database asks for this.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database is unreachable or a migration failed; the
            transaction is rolled back, so the schema stays at the revision it had.
    """
    if revision == "head" and await current_revision(db) == head_revision():
        return
    async with db.engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade_database(db: Database, revision: str = "base") -> None:
    """Downgrade the schema to ``revision`` (``base`` drops every table, data included)."""
    async with db.engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


async def current_revision(db: Database) -> str | None:
    """The revision the database is at, or ``None`` for an empty database.

    Reads Alembic's version table itself rather than through a ``MigrationContext``, which logs
    two INFO lines each time it is made: ``/healthz`` calls this on every probe.
    """
    async with db.engine.connect() as connection:
        return await connection.run_sync(_read_revision)


def _read_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    heads = list(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())
    # One chain, so at most one row; more would be a branched database, which Alembic refuses.
    assert len(heads) <= 1, f"the database is at several revisions: {heads}"
    return heads[0] if heads else None
