"""A database that cannot be used answers 503 naming the cause, quietly, and recovers alone.

The server's database is swapped for one that cannot be opened (the volume under it went
away) or one opened read-only: every API call says 503 with ``Retry-After`` and what to do, a
page says so and reloads itself, the log gets one line per cause rather than one per request, and
once the database is back the same server answers as before.
"""

import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy import exc as sa_exc

from missionctl.db import Database
from missionctl.db.faults import DatabaseFault, OutageLog, database_fault
from tests.support.filesystems import broken_database

pytestmark = pytest.mark.one_database  # the fault is the subject, made on SQLite


@asynccontextmanager
async def database_swapped(app: FastAPI, broken: Database) -> AsyncIterator[None]:
    """The app's context on ``broken`` for a while, then on its own database again."""
    original = app.state.ctx.db
    object.__setattr__(app.state.ctx, "db", broken)
    try:
        yield
    finally:
        object.__setattr__(app.state.ctx, "db", original)
        await broken.dispose()


async def test_an_unreachable_database_is_a_503_that_says_what_to_do_and_recovers(
    client: httpx2.AsyncClient, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    with caplog.at_level(logging.WARNING):
        async with database_swapped(app, broken_database(tmp_path)):
            answers = [await client.get("/api/v1/missions") for _ in range(20)]
            page = await client.get("/missions", headers={"accept": "text/html"})
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "5"
        error = answer.json()["error"]
        assert error["code"] == "database_unavailable"
        assert "cannot reach the database" in error["message"]
        assert "secret-name" not in answer.text and "volume-that-goes-away" not in answer.text
    assert page.status_code == 503 and page.headers["refresh"] == "5"
    assert "cannot reach the database" in page.text and "<html" in page.text.lower()
    lines = [r for r in caplog.records if r.name == "missionctl.api.errors"]
    assert len(lines) == 1 and not lines[0].exc_info  # one line for the cause, no traceback
    back = await client.get("/api/v1/missions")
    assert back.status_code == 200  # no restart needed


async def test_a_read_only_database_refuses_writes_with_503_and_still_reads(
    client: httpx2.AsyncClient, tmp_path: Path
) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    made = await client.post("/api/v1/missions", json={"goal": "A quiz night scoreboard"})
    assert made.status_code == 201
    database = Path(str(app.state.ctx.db.url.database))
    read_only = f"sqlite+aiosqlite:///file:{database}?mode=ro&uri=true"
    async with database_swapped(app, Database(read_only)):
        refused = await client.post("/api/v1/missions", json={"goal": "A darts league"})
        listed = await client.get("/api/v1/missions")
    assert refused.status_code == 503, refused.text
    assert "read-only" in refused.json()["error"]["message"]
    assert listed.status_code == 200 and listed.json()["total"] == 1


def test_only_an_unavailable_database_is_a_fault() -> None:
    def operational(text: str) -> sa_exc.OperationalError:
        return sa_exc.OperationalError("SELECT 1", {}, Exception(text))

    refused = 'connection to server at "10.0.0.5", port 5432 failed: Connection refused'
    assert database_fault(operational(refused)) == DatabaseFault(
        "unreachable",
        database_fault(operational("could not connect")).message,  # type: ignore[union-attr]
    )
    assert database_fault(operational("database or disk is full")).cause == "disk_full"  # type: ignore[union-attr]
    assert database_fault(operational("database is locked")).cause == "busy"  # type: ignore[union-attr]
    # The code's mistakes stay internal errors: SQLite reports them as operational errors too.
    assert database_fault(operational('near "SELEC": syntax error')) is None
    assert database_fault(sa_exc.IntegrityError("INSERT", {}, Exception("UNIQUE"))) is None
    assert database_fault(ValueError("no")) is None


def test_the_drivers_own_errors_are_faults_too() -> None:
    # The engine's prepared statements run on the driver's cursor: PostgreSQL going away
    # mid-tick raises psycopg's error, not SQLAlchemy's wrapper, and is an outage all the same.
    lost = psycopg.OperationalError("consuming input failed: server closed the connection")
    assert database_fault(lost).cause == "unreachable"  # type: ignore[union-attr]
    assert database_fault(sqlite3.OperationalError("database is locked")).cause == "busy"  # type: ignore[union-attr]
    assert database_fault(psycopg.errors.UniqueViolation("duplicate key")) is None


def test_the_outage_log_repeats_a_cause_at_most_every_30_s_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    outages = OutageLog(logging.getLogger("t"), "requests refused", 30, lambda: now[0])
    fault = DatabaseFault("unreachable", "cannot reach the database")
    with caplog.at_level(logging.WARNING):
        for second in range(0, 61):
            now[0] = float(second)
            for _ in range(10):
                outages.note(fault)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 3, said
    assert said[1].startswith("database still unavailable (unreachable): 300 requests refused")
