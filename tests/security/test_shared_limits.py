"""Rate limits that every process of one database counts (ADR 0113), on both databases.

Two service contexts on one database are two server processes as far as the limits can tell:
each has its own connections and its own ``SharedCounts``, and nothing in memory is shared.
"""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from missionctl.db.models import RateLimitHit
from missionctl.security.limits import (
    PURGE_EVERY_S,
    EdgeLimits,
    ProcessLimiter,
    SharedCounts,
    SharedLimiter,
    shares_limits,
)
from missionctl.services import ServiceContext, open_context
from missionctl.settings import DatabaseSettings, ServerSettings, Settings

pytestmark = pytest.mark.both_databases


class Clock:
    """Wall-clock seconds the test moves (both processes read the same one)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def twin(settings: Settings, ctx: ServiceContext) -> AsyncIterator[ServiceContext]:
    """A second context on the test's database: another server process."""
    async with open_context(settings, upgrade=False) as other:
        yield other


def _limiter(ctx: ServiceContext, clock: Clock, *, limit: int = 3) -> SharedLimiter:
    return SharedLimiter(
        SharedCounts(lambda: ctx, clock=clock), "api_token", limit=limit, window_s=60
    )


async def test_two_processes_count_against_one_limit(
    ctx: ServiceContext, twin: ServiceContext
) -> None:
    clock = Clock()
    here, there = _limiter(ctx, clock), _limiter(twin, clock)
    assert (await here.hit("token:ci")).allowed
    clock.now += 10
    assert (await there.hit("token:ci")).allowed
    assert (await here.hit("token:ci")).allowed
    refused = await there.hit("token:ci")
    assert not refused.allowed
    # The oldest of the three leaves the window 60 s after it came, 50 s from now.
    assert refused.retry_after_s == pytest.approx(50.0)
    assert not (await here.check("token:ci")).allowed
    assert (await here.hit("token:other")).allowed  # another key counts on its own
    clock.now += 50.01
    assert (await there.hit("token:ci")).allowed  # the first attempt left the window
    assert not (await here.hit("token:ci")).allowed
    await here.reset("token:ci")
    assert (await there.check("token:ci")).allowed


async def test_a_refused_attempt_is_not_counted(ctx: ServiceContext, twin: ServiceContext) -> None:
    clock = Clock()
    here, there = _limiter(ctx, clock, limit=1), _limiter(twin, clock, limit=1)
    assert (await here.hit("k")).allowed
    for _ in range(5):
        clock.now += 10
        assert not (await there.hit("k")).allowed
    clock.now += 10.01  # 60 s after the one allowed: knocking did not extend the wait
    assert (await there.hit("k")).allowed


async def test_concurrent_attempts_from_two_processes_take_exactly_the_limit(
    ctx: ServiceContext, twin: ServiceContext
) -> None:
    clock = Clock()
    here, there = _limiter(ctx, clock, limit=7), _limiter(twin, clock, limit=7)
    decisions = await asyncio.gather(
        *(limiter.hit("token:burst") for _ in range(15) for limiter in (here, there))
    )
    assert sum(decision.allowed for decision in decisions) == 7
    async with ctx.read() as session:
        rows = (await session.scalars(select(RateLimitHit))).all()
    assert len(rows) == 7


async def test_the_table_holds_no_key_and_forgets_old_attempts(ctx: ServiceContext) -> None:
    clock = Clock()
    limiter = _limiter(ctx, clock, limit=5)
    hostile = ["mc_" + "s3cr3t" * 20_000, "ada@example.com", "10.0.0.1", "名前\x00'; DROP TABLE x"]
    for key in hostile:
        assert (await limiter.hit(key)).allowed
    async with ctx.read() as session:
        rows = (await session.scalars(select(RateLimitHit))).all()
    assert len(rows) == len(hostile)
    assert all(len(row.bucket) == 64 and set(row.bucket) <= set("0123456789abcdef") for row in rows)
    kept = " ".join(row.bucket for row in rows)
    assert not any(part in kept for part in ("s3cr3t", "ada", "10.0.0.1"))
    # A day and a purge interval later, the next attempt of any key deletes every old row.
    clock.now += limiter.counts.longest_window_s + PURGE_EVERY_S + 1
    assert (await limiter.hit("token:new")).allowed
    async with ctx.read() as session:
        left = (await session.scalars(select(RateLimitHit.bucket))).all()
    assert left == [limiter.bucket("token:new")]


async def test_the_edge_limits_share_every_limiter_when_told(
    settings: Settings, ctx: ServiceContext, twin: ServiceContext
) -> None:
    clock = Clock()
    server = ServerSettings(sign_in_attempts=2, api_requests_per_minute=2)
    first = EdgeLimits.from_settings(server, shared=SharedCounts(lambda: ctx, clock=clock))
    second = EdgeLimits.from_settings(server, shared=SharedCounts(lambda: twin, clock=clock))
    assert all(
        isinstance(getattr(first, name), SharedLimiter)
        for name in ("sign_in_account", "sign_in_device", "sign_in_address", "api_token")
    )
    # Two failed sign-ins of one account, one through each server: the account is held.
    for limits in (first, second):
        for limiter, key in limits.sign_in_checks(
            account="ada", address="192.0.2.7", device_id=None
        ):
            await limiter.hit(key)
    checks = first.sign_in_checks(account="ada", address="192.0.2.7", device_id=None)
    assert not (await checks[0][0].check(checks[0][1])).allowed
    assert (await checks[1][0].check(checks[1][1])).allowed  # the address may fail 10 times
    # In memory, each process would have counted one failure and let a third guess in.
    alone = EdgeLimits.from_settings(server)
    assert isinstance(alone.sign_in_account, ProcessLimiter)


def test_where_the_limits_count_by_default(tmp_path: Path) -> None:
    sqlite = DatabaseSettings()
    postgres = DatabaseSettings.model_validate({"url": "postgresql+psycopg://db.internal/mc"})
    assert not shares_limits(Settings(home=tmp_path, database=sqlite))
    assert shares_limits(Settings(home=tmp_path, database=postgres))
    assert shares_limits(Settings(home=tmp_path, database=sqlite, server=ServerSettings(workers=2)))
    assert not shares_limits(
        Settings(home=tmp_path, database=postgres, server=ServerSettings(rate_limits="process"))
    )
    assert shares_limits(
        Settings(home=tmp_path, database=sqlite, server=ServerSettings(rate_limits="database"))
    )
