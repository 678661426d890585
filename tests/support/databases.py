"""Migrated test databases without running the migration chain once per test.

Migrating an empty database costs 0.1 to 0.2 s, and two thousand tests ask for one on each
backend. The chain therefore runs once per session and per backend, into a template:

- SQLite: a migrated database file, copied for each test (a file copy of a few hundred kB).
- PostgreSQL: the statements the chain sent to the server, recorded while it migrated a schema
  of its own, then sent again into a test's schema. Tables are created unqualified, so the
  test schema's ``search_path`` places them; the schema each test gets is exactly what the
  chain builds (the migration tests, which start from an empty database, check the chain
  itself). Replaying still costs the server 0.2 to 0.3 s of DDL, so a schema is emptied and
  reused after a test that left its structure as it was (``PostgresSchemas``).
"""

import asyncio
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event, text

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


REUSES = 20
"""How many tests one PostgreSQL schema serves: emptying leaves dead rows, which stay few."""

# A digest of everything a test could change in a schema's structure: relations and their
# columns, triggers (and whether they are enabled), functions, constraints, views, and the
# revision. Names are printed with ``search_path`` on the schema, so two schemas built by the
# same statements have the same digest.
_FINGERPRINT = """
SELECT md5(string_agg(item, ',' ORDER BY item)) FROM (
  SELECT 'rel:' || c.relname || ':' || c.relkind::text || CASE WHEN c.relkind = 'v'
    THEN ':' || md5(pg_get_viewdef(c.oid)) ELSE '' END FROM pg_class c
    WHERE c.relnamespace = to_regnamespace(:schema)
  UNION ALL SELECT 'col:' || c.relname || '.' || a.attname || ':' || format_type(a.atttypid,
    a.atttypmod) || ':' || a.attnotnull || ':' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relnamespace = to_regnamespace(:schema) AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL SELECT 'trg:' || c.relname || '.' || t.tgname || ':' || t.tgenabled::text
    || ':' || t.tgtype || ':' || p.proname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    JOIN pg_proc p ON p.oid = t.tgfoid
    WHERE c.relnamespace = to_regnamespace(:schema) AND NOT t.tgisinternal
  UNION ALL SELECT 'fn:' || p.proname || ':' || md5(p.prosrc) FROM pg_proc p
    WHERE p.pronamespace = to_regnamespace(:schema)
  UNION ALL SELECT 'con:' || conname || ':' || md5(pg_get_constraintdef(oid)) FROM pg_constraint
    WHERE connamespace = to_regnamespace(:schema)
  UNION ALL SELECT 'rev:' || version_num FROM alembic_version
) AS structure(item)
"""


class PostgresSchemas:
    """Migrated PostgreSQL schemas for the tests of one process, reused while unchanged.

    ``schema()`` lends a schema at the head revision holding only what the chain inserts.
    Afterwards, a schema whose structure the test left as it was is emptied (every row deleted,
    the chain's rows copied back from a pristine seed schema, sequences set as in the seed) and
    lent again; one a test changed (a trigger dropped, a downgrade, a table added) or that
    has served ``REUSES`` tests is dropped. Each lent schema is new or emptied: no test sees
    another's rows.
    """

    def __init__(self, base: str, statements: list[RecordedStatement]) -> None:
        self._base = base
        self._statements = statements
        self._admin = create_engine(base)
        self._free: list[tuple[str, int]] = []
        self._seed = self._new_schema()
        with self._admin.begin() as conn:
            self._fingerprint = _fingerprint(conn, self._seed)
            self._refill = _refill_statements(conn, self._seed)

    @contextmanager
    def schema(self) -> Iterator[str]:
        """A URL of a migrated schema for the block's duration."""
        name, uses = self._free.pop() if self._free else (self._new_schema(), 0)
        try:
            yield schema_url(self._base, name)
        finally:
            self._give_back(name, uses + 1)

    def close(self) -> None:
        """Drop every schema this process made."""
        for name in [self._seed, *(name for name, _ in self._free)]:
            self._drop(name)
        self._free.clear()
        self._admin.dispose()

    def _new_schema(self) -> str:
        name = f"test_{uuid.uuid4().hex[:16]}"
        with self._admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        replay_postgres_migration(schema_url(self._base, name), self._statements)
        return name

    def _give_back(self, name: str, uses: int) -> None:
        try:
            if uses < REUSES and self._empty(name):
                self._free.append((name, uses))
                return
        except Exception:  # a lock held past the test, say: a new schema is the safe answer
            pass
        self._drop(name)

    def _empty(self, name: str) -> bool:
        """Empty ``name`` as the chain left it, if its structure is unchanged; else False."""
        with self._admin.begin() as conn:
            if _fingerprint(conn, name) != self._fingerprint:
                return False
            conn.execute(text("SET LOCAL lock_timeout = '5s'"))
            # Rows are deleted with triggers off: the log's own refuse deletes (that is the
            # point of them), and foreign keys need no checking when every row goes.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.exec_driver_sql(self._refill.replace("{schema}", name))
        return True

    def _drop(self, name: str) -> None:
        with self._admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


def _fingerprint(conn: Connection, schema: str) -> str:
    conn.execute(text("SELECT set_config('search_path', :schema, true)"), {"schema": schema})
    digest = conn.execute(text(_FINGERPRINT), {"schema": schema}).scalar_one()
    conn.execute(text("SELECT set_config('search_path', 'public', true)"))
    return str(digest)


def _refill_statements(conn: Connection, seed: str) -> str:
    """SQL (with ``{schema}`` to fill in) that makes a schema's rows and sequences the seed's."""
    tables = conn.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = :s ORDER BY tablename"),
        {"s": seed},
    ).scalars()
    sequences = conn.execute(
        text("SELECT sequencename FROM pg_sequences WHERE schemaname = :s ORDER BY 1"),
        {"s": seed},
    ).scalars()
    sql: list[str] = []
    for table in tables:
        sql.append(f'DELETE FROM "{{schema}}"."{table}"')
        if conn.execute(text(f'SELECT EXISTS (SELECT FROM "{seed}"."{table}")')).scalar_one():
            sql.append(f'INSERT INTO "{{schema}}"."{table}" SELECT * FROM "{seed}"."{table}"')
    for sequence in sequences:
        last, called = conn.execute(
            text(f'SELECT last_value, is_called FROM "{seed}"."{sequence}"')
        ).one()
        sql.append(f'SELECT setval(\'"{{schema}}"."{sequence}"\', {last}, {called})')
    return ";\n".join(sql)


CATALOGS = (
    "pg_attribute", "pg_class", "pg_depend", "pg_type", "pg_constraint", "pg_index",
    "pg_attrdef", "pg_trigger", "pg_proc", "pg_namespace", "pg_sequence", "pg_description",
    "pg_statistic", "pg_rewrite",
)  # fmt: skip
"""The system catalogs a schema's creation and drop write to."""


def compact_catalogs(base: str) -> None:
    """``VACUUM FULL`` the catalogs of ``base``'s database (a superuser's right; skipped if not).

    Takes each catalog's exclusive lock in turn: call it only when no test runs.
    """
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for catalog in CATALOGS:
                conn.execute(text(f"VACUUM FULL pg_catalog.{catalog}"))
    except Exception:  # not a superuser, say: the run is only slower
        pass
    finally:
        admin.dispose()
