"""Migrated test databases without running the migration chain once per test.

Migrating an empty database costs 0.1 to 0.2 s, and two thousand tests ask for one on each
backend. The chain therefore runs once per session and per backend, into a template:

- SQLite: a migrated database file, copied for each test (a file copy of a few hundred kB).
- PostgreSQL: the statements the chain sent to the server, recorded while it migrated a schema
  of its own, then sent again into each test's schema. Tables are created unqualified, so the
  test schema's ``search_path`` places them; the schema each test gets is exactly what the
  chain builds (the migration tests, which start from an empty database, check the chain
  itself).
"""

import asyncio
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text

from missionctl.db import Database
from missionctl.db.migrate import upgrade_database


def migrate_sqlite_template(path: Path) -> Path:
    """Migrate a new SQLite file at ``path`` to the head revision; returns ``path``."""

    async def migrate() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade_database(db)
        finally:
            await db.dispose()  # the last connection to close checkpoints the WAL into the file

    asyncio.run(migrate())
    return path


def copy_sqlite_template(template: Path, destination: Path) -> str:
    """Copy the migrated ``template`` to ``destination``; returns its async URL."""
    shutil.copyfile(template, destination)
    return f"sqlite+aiosqlite:///{destination}"


@dataclass(frozen=True)
class RecordedStatement:
    """One statement the migration chain sent, with the parameters it was sent with."""

    statement: str
    parameters: Any
    many: bool


def schema_url(base: str, schema: str) -> str:
    """``base`` with every connection's ``search_path`` set to ``schema``."""
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


def record_postgres_migration(base: str) -> list[RecordedStatement]:
    """Migrate a scratch schema on ``base`` and return the statements that changed it.

    Reads (``SELECT``) are left out: on an empty schema they only inform the chain's choices,
    which the recorded writes already reflect.
    """
    schema = f"template_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    recorded: list[RecordedStatement] = []

    def record(*args: Any) -> None:
        _conn, _cursor, statement, parameters, _context, many = args
        if not statement.lstrip().upper().startswith("SELECT"):
            recorded.append(RecordedStatement(statement, parameters, many))

    async def migrate() -> None:
        db = Database(schema_url(base, schema))
        event.listen(db.engine.sync_engine, "before_cursor_execute", record)
        try:
            await upgrade_database(db)
        finally:
            await db.dispose()

    try:
        asyncio.run(migrate())
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return recorded


def replay_postgres_migration(url: str, statements: list[RecordedStatement]) -> None:
    """Send ``statements`` to the (empty) schema that ``url`` points at, in one transaction."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            for recorded in statements:
                if recorded.many:
                    cursor.executemany(recorded.statement, recorded.parameters)
                else:
                    cursor.execute(recorded.statement, recorded.parameters)
    finally:
        engine.dispose()
