"""PostgreSQL's pooled connections are pinged at checkout only after resting in the pool.

A connection the server dropped while it sat idle is replaced without the caller noticing; one
given back a moment ago is used without a round trip (ADR 0038).
"""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from missionctl.db import Database
from missionctl.db.liveness import ping_after_idle
from tests.conftest import POSTGRES_URL_VAR, postgres_base_url


@pytest.fixture
def base_url() -> str:
    url = postgres_base_url()
    if url is None:
        pytest.skip(f"{POSTGRES_URL_VAR} is not set")
    return url


@pytest.fixture
def admin(base_url: str) -> Iterator[Engine]:
    engine = create_engine(base_url)
    yield engine
    engine.dispose()


def _terminate(admin: Engine, pid: int) -> None:
    with admin.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        pid: int = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        return pid


def test_a_connection_dropped_while_idle_is_replaced_unnoticed(
    base_url: str, admin: Engine
) -> None:
    engine = create_engine(base_url, pool_size=1, max_overflow=0)
    ping_after_idle(engine, idle_s=0)  # every pooled connection counts as rested
    try:
        first = _backend_pid(engine)
        _terminate(admin, first)
        second = _backend_pid(engine)  # no error: the ping found it dead, the pool replaced it
        assert second != first
    finally:
        engine.dispose()


def test_a_connection_given_back_just_now_is_used_without_a_ping(
    base_url: str, admin: Engine
) -> None:
    engine = create_engine(base_url, pool_size=1, max_overflow=0)
    ping_after_idle(engine, idle_s=60)
    try:
        first = _backend_pid(engine)
        _terminate(admin, first)
        # Not pinged, so its death shows in the transaction (the trade-off of ADR 0038)...
        with pytest.raises(OperationalError):
            _backend_pid(engine)
        # ...and SQLAlchemy replaces it for the next one.
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()


async def test_the_async_engine_replaces_a_connection_dropped_while_idle(
    base_url: str, admin: Engine
) -> None:
    engine = create_async_engine(base_url, pool_size=1, max_overflow=0)
    ping_after_idle(engine.sync_engine, idle_s=0)
    try:
        async with engine.connect() as conn:
            first = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        _terminate(admin, first)
        async with engine.connect() as conn:
            second = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert second != first
    finally:
        await engine.dispose()


async def test_the_database_handle_pings_after_idle_and_not_before(base_url: str) -> None:
    database = Database(base_url)
    try:
        async with database.read() as session:
            await session.execute(text("SELECT 1"))
        pinged: list[str] = []
        # A ping runs on the driver connection, outside SQLAlchemy's statement events.
        original = database.engine.dialect.do_ping

        def counting_ping(dbapi_connection: object) -> bool:
            pinged.append("ping")
            return original(dbapi_connection)  # type: ignore[arg-type]

        database.engine.dialect.do_ping = counting_ping  # type: ignore[method-assign]
        async with database.read() as session:
            await session.execute(text("SELECT 1"))
        assert pinged == []  # given back a moment ago: used as it is
    finally:
        await database.dispose()
