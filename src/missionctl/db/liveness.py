"""PostgreSQL connections are checked before use only after they sat idle (ADR 0038).

SQLAlchemy's ``pool_pre_ping`` sends a ``SELECT 1`` at every checkout. A run request opens four
transactions, so a burst of them paid four extra round trips each (and as many statements on
the server, which shares the machine's cores), to check connections given back milliseconds
before. A connection that has just been used is as alive as a check would find it; one that
sat idle in the pool may have been closed by the server, a restart or a proxy, so that one is
pinged. A connection dropped between two uses close together fails its transaction, as it
would have with a ping too if it dropped after the ping; SQLAlchemy then invalidates the pool.
"""

import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry

IDLE_BEFORE_PING_S = 5.0
"""Seconds a connection may rest in the pool and still be used without a ping."""

# Key in the connection's ``info`` (cleared when the connection is invalidated or replaced).
_RETURNED_AT = "missionctl_returned_at"


def ping_after_idle(engine: Engine, *, idle_s: float = IDLE_BEFORE_PING_S) -> None:
    """Ping ``engine``'s pooled connections at checkout when they rested over ``idle_s``.

    A connection that fails its ping is replaced: the pool tries a new one (up to three times)
    before the checkout raises. New connections are not pinged: connecting proved them.
    """

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is None or time.monotonic() - returned_at < idle_s:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # any failure: the pool replaces the connection
            raise DisconnectionError(f"a pooled connection failed its ping: {error}") from error
        if not alive:
            raise DisconnectionError("a pooled connection failed its ping")
