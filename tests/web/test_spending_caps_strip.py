"""The health strip's spending caps: how many caps announced "reached" or "warning" this period.

A level counts while it was announced in the cap's current UTC day or month; one announced in an
earlier period does not (the cap reopened when the period turned).
"""

import asyncio
import re
import time
import uuid
from datetime import date, timedelta

import httpx2
from sqlalchemy import update

from missionctl.db.models import SpendingCap
from missionctl.db.types import utcnow
from missionctl.domain.access import Role
from missionctl.domain.spending_caps import Level, Period, period_start
from missionctl.services import ServiceContext
from missionctl.services.usecases.health import read_health_summary
from tests.support.auth import bearer_headers
from tests.web.support import HTMX
from tests.web.test_spending_caps_page import a_cap


async def announce(
    ctx: ServiceContext, cap_id: uuid.UUID, level: Level, period: date | None = None
) -> None:
    """Record on the cap's row that ``level`` was announced in ``period`` (default: the current).

    What the engine records when it appends ``spending_cap.warning`` or ``.reached``.
    """
    async with ctx.write() as session:
        row = await session.get(SpendingCap, cap_id)
        assert row is not None
        when = period or period_start(Period(row.period), utcnow())
        await session.execute(
            update(SpendingCap)
            .where(SpendingCap.id == cap_id)
            .values(notified_period=when, notified_level=level.value)
        )


async def strip_of(client: httpx2.AsyncClient, headers: dict[str, str], want: str) -> str:
    """The strip's refresh once ``want`` is in it (or not, for ``!want``): figures are kept 1 s."""
    deadline = time.monotonic() + 10
    while True:
        html = (await client.get("/health/strip", headers={**headers, **HTMX})).text
        if (want.removeprefix("!") in html) != want.startswith("!"):
            return html
        assert time.monotonic() < deadline, html
        await asyncio.sleep(0.2)


async def test_the_strip_shows_the_caps_reached_and_at_80_percent_this_period(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    viewer = await bearer_headers(ctx, "watcher", Role.VIEWER)
    writer = await a_cap(ctx, "llm:*", Period.day)
    everyone = await a_cap(ctx, "*", Period.month, "100")
    coder = await a_cap(ctx, "coding:*", Period.day)
    stale = await a_cap(ctx, "*", Period.day)
    html = await strip_of(client, viewer, 'data-health="workers"')
    assert 'data-health="caps_' not in html  # none announced: no item at all

    await announce(ctx, writer.id, Level.reached)
    await announce(ctx, everyone.id, Level.warning)
    await announce(ctx, coder.id, Level.warning)
    # Announced yesterday: the day turned since, the cap reopened.
    await announce(ctx, stale.id, Level.reached, period_start(Period.day, utcnow()) - timedelta(1))

    summary = await read_health_summary(ctx)
    assert (summary.caps_reached, summary.caps_warning) == (1, 2)
    html = await strip_of(client, viewer, 'data-health="caps_reached"')
    reached = re.search(r'<a class="([^"]+)" href="([^"]+)" data-health="caps_reached"', html)
    assert reached and reached.groups() == (
        "health-strip__item health-strip__item--bad",
        "/settings/spending-caps",
    )
    warning = re.search(r'<a class="([^"]+)" href="([^"]+)" data-health="caps_warning"', html)
    assert warning and warning.groups() == (
        "health-strip__item health-strip__item--attention",
        "/settings/spending-caps",
    )
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "1 cap reached" in words and "2 caps at 80 %" in words

    api = await client.get("/api/v1/health/summary", headers=viewer)
    assert api.status_code == 200
    assert (api.json()["caps_reached"], api.json()["caps_warning"]) == (1, 2)

    # Raising a cap forgets its announced level: it is announced again as it fills.
    await a_cap(ctx, "llm:*", Period.day, "50")
    await a_cap(ctx, "coding:*", Period.day, "50")
    await a_cap(ctx, "*", Period.month, "500")
    html = await strip_of(client, viewer, '!data-health="caps_')
    assert 'data-health="workers"' in html
    assert (await read_health_summary(ctx)).caps_warning == 0


async def test_the_summary_documents_the_caps_figures(client: httpx2.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    fields = document["components"]["schemas"]["HealthSummaryRead"]["properties"]
    for name in ("caps_warning", "caps_reached"):
        assert fields[name]["type"] == "integer" and fields[name]["default"] == 0
        assert "spending_cap." in fields[name]["description"]
