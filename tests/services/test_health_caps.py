"""The health summary's spending caps figures, on both databases, across UTC period turns.

``caps_reached`` and ``caps_warning`` count the caps whose announced level (``notified_level``)
was announced in their current UTC day or month (``notified_period``).
"""

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import update

from missionctl.db.clock import MovedClock, moved_clock
from missionctl.db.models import SpendingCap
from missionctl.domain.spending_caps import Level, Period
from missionctl.schemas.spending_caps import SpendingCapSet
from missionctl.services import ServiceContext
from missionctl.services.usecases.health import read_health_summary
from missionctl.services.usecases.spending_caps import set_cap


@pytest.fixture
def clock() -> Iterator[MovedClock]:
    """The application's clock at the last minute of November 2026 (UTC)."""
    with moved_clock(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) as moved:
        yield moved


async def _cap(ctx: ServiceContext, agent: str, period: Period) -> uuid.UUID:
    data = SpendingCapSet(agent=agent, period=period, cap_usd=Decimal("5"))
    return (await set_cap(ctx, data=data, actor="user:test")).id


async def _announce(ctx: ServiceContext, cap_id: uuid.UUID, level: Level, on: date) -> None:
    async with ctx.write() as session:
        await session.execute(
            update(SpendingCap)
            .where(SpendingCap.id == cap_id)
            .values(notified_period=on, notified_level=level.value)
        )


async def _counts(ctx: ServiceContext) -> tuple[int, int]:
    summary = await read_health_summary(ctx)
    return summary.caps_reached, summary.caps_warning


async def test_levels_count_in_their_current_period_only(
    ctx: ServiceContext, clock: MovedClock
) -> None:
    assert await _counts(ctx) == (0, 0)
    daily = await _cap(ctx, "llm:*", Period.day)
    monthly = await _cap(ctx, "*", Period.month)
    old_month = await _cap(ctx, "coding:*", Period.month)
    await _announce(ctx, daily, Level.reached, date(2026, 11, 30))
    await _announce(ctx, monthly, Level.warning, date(2026, 11, 1))
    await _announce(ctx, old_month, Level.reached, date(2026, 10, 1))  # last month's
    assert await _counts(ctx) == (1, 1)

    clock.move_to(datetime(2026, 12, 1, 0, 1, tzinfo=UTC))  # a new UTC day and month
    assert await _counts(ctx) == (0, 0)
    await _announce(ctx, monthly, Level.reached, date(2026, 12, 1))
    assert await _counts(ctx) == (1, 0)
