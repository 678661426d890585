"""The databases a benchmark measures: SQLite always, PostgreSQL when a server is named.

Set MISSIONCTL_BENCH_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to
measure PostgreSQL too; each run works in a schema of its own, dropped afterwards.
"""

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import create_engine, text

from missionctl.settings import DatabaseSettings, Settings


def backends() -> Iterator[tuple[str, Settings]]:
    """``("sqlite", settings)``, then ``("postgresql", settings)`` if a server is named.

    Each database, and its data directory, is removed once the caller's loop moves on.
    """
    with tempfile.TemporaryDirectory() as home:
        yield "sqlite", Settings(home=Path(home))
    base = os.environ.get("MISSIONCTL_BENCH_POSTGRES_URL")
    if not base:
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
        with tempfile.TemporaryDirectory() as home:
            database = DatabaseSettings(url=SecretStr(url))
            yield "postgresql", Settings(home=Path(home), database=database)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
