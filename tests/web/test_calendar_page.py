"""The calendar page: a schedule's firings on the viewer's day at their local time (month and
week), UTC when the URL names no zone, each day's runs counted by colour and listed in its
detail, the live stream's days, bad parameters (a 422 naming them) and who may read it."""

import asyncio
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx2
from sqlalchemy import update

from missionctl.db.models import Run
from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from tests.support.auth import bearer_headers
from tests.web.conftest import LiveApp
from tests.web.support import HTMX, messages, start_steps, wait_for_run

PAGE = {"accept": "text/html"}
RUN_DAY = date(2031, 3, 12)


async def _schedule(http: httpx2.AsyncClient, name: str, cron: str, tz: str, **extra: Any) -> str:
    spec = {"name": f"wf-{uuid.uuid4().hex[:8]}", "steps": [{"id": "a", "agent": "builtin:noop"}]}
    workflow = (await http.post("/api/v1/workflows", json=spec)).json()["id"]
    body = {"name": name, "cron": cron, "timezone": tz, "workflow_id": workflow} | extra
    made = await http.post("/api/v1/schedules", json=body)
    assert made.status_code == 201, made.text
    schedule_id: str = made.json()["id"]
    return schedule_id


def _days(html: str) -> dict[str, str]:
    """Each day's cell of the grid, by its date (YYYY-MM-DD)."""
    grid = html.split('<ol class="cal-grid', 1)[1].split("</ol>\n", 1)[0]
    return dict(
        re.findall(r'data-day="([\d-]{10})">(.*?)</li>\s*(?=<li class="cal-day|$)', grid, re.S)
    )


def _firings(cell: str) -> list[tuple[str, str]]:
    """``(local time, schedule)`` of each firing a day's cell shows."""
    found = re.findall(
        r'data-schedule="([^"]+)"><span class="cal-firing__time"[^>]*>(\d\d:\d\d)</span>', cell
    )
    return [(at, name) for name, at in found]


def _future_day() -> date:
    """A Wednesday a few weeks ahead: every firing of its week is after now."""
    day = datetime.now(UTC).date() + timedelta(days=40)
    return day + timedelta(days=(2 - day.weekday()) % 7)


def _local(day: date, at: time, zone: str, viewer: str) -> tuple[str, str]:
    moment = datetime.combine(day, at, ZoneInfo(zone)).astimezone(ZoneInfo(viewer))
    return moment.date().isoformat(), f"{moment:%H:%M}"


async def test_a_viewer_sees_a_schedules_firings_on_their_day_at_their_local_time(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    standup = await _schedule(client, "standup", "0 9 * * *", "America/New_York")
    await _schedule(client, "sleeper", "30 6 * * *", "UTC", paused=True)
    viewer = await bearer_headers(ctx, "vic", Role.VIEWER)
    day = _future_day()
    params = {"date": day.isoformat(), "tz": "Asia/Kolkata"}
    answer = await client.get("/calendar", params=params, headers=viewer | PAGE)
    assert answer.status_code == 200, answer.text[:300]
    html = answer.text
    days = _days(html)
    assert len(days) == 42 and 'class="cal-grid cal-grid--month"' in html
    local_day, local_time = _local(day, time(9), "America/New_York", "Asia/Kolkata")
    assert local_day == day.isoformat() and local_time in ("18:30", "19:30")
    assert _firings(days[local_day]) == [(local_time, "standup")]
    assert f'href="/schedules#schedule-{standup}"' in days[local_day]
    assert f"{day:%B %Y}</h2>" in html
    assert 'data-tz-chosen="true"' in html and 'value="Asia/Kolkata"' in html
    # The days of the neighbouring months are dimmed; the paused schedule fires nothing.
    first = min(days)
    assert ("cal-day--out" in html.split(f'data-day="{first}"')[0].rsplit("<li", 1)[1]) == (
        first[5:7] != day.isoformat()[5:7]
    )
    assert all(name != "sleeper" for cell in days.values() for _, name in _firings(cell))
    schedules = html.split('data-testid="calendar-schedules"', 1)[1]
    assert 'data-schedule="sleeper"' in schedules and 'data-testid="paused"' in schedules
    assert f'href="/api/v1/schedules/{standup}/calendar.ics"' in schedules
    assert "Subscribe (iCalendar)" in schedules and "API token" in schedules
    # No inline script (the CSP): the page's behaviour is a file of its own.
    assert '<script src="/static/js/calendar.js' in html and "<script>" not in html
    assert (await client.get("/static/js/calendar.js")).status_code == 200
    assert 'href="/calendar" aria-current="page"' in html, "the sidebar's Calendar is current"

    week = await client.get("/calendar", params={"view": "week"} | params, headers=viewer | PAGE)
    assert week.status_code == 200
    week_days = _days(week.text)
    monday = day - timedelta(days=day.weekday())
    assert sorted(week_days) == [(monday + timedelta(days=n)).isoformat() for n in range(7)]
    for cell_day, cell in week_days.items():
        expected = _local(date.fromisoformat(cell_day), time(9), "America/New_York", "Asia/Kolkata")
        assert _firings(cell) == [(expected[1], "standup")], cell_day
    assert 'aria-current="page">Week</a>' in week.text


async def test_without_a_zone_the_page_is_in_utc_and_says_so(client: httpx2.AsyncClient) -> None:
    await _schedule(client, "standup", "0 9 * * *", "America/New_York")
    day = _future_day()
    answer = await client.get("/calendar", params={"view": "week", "date": day.isoformat()})
    assert answer.status_code == 200
    html = answer.text
    assert 'data-tz-chosen="false"' in html and 'data-testid="zone-note"' in html
    assert "Times are in UTC" in html and 'name="tz" value="UTC"' in html
    _, at = _local(day, time(9), "America/New_York", "UTC")
    assert _firings(_days(html)[day.isoformat()]) == [(at, "standup")]
    # The zone picker works without JavaScript: a plain GET form keeping the view and date.
    form = html.split('data-testid="zone-form"', 1)[1].split("</form>", 1)[0]
    assert 'name="view" value="week"' in form and f'name="date" value="{day}"' in form
    # Links keep no zone the URL did not name, so the browser's can still be adopted.
    assert "tz=" not in html.split('class="cal-toolbar"', 1)[1].split("</nav>", 1)[0]


async def _runs_on(ctx: ServiceContext, moment: datetime) -> list[uuid.UUID]:
    """A completed and a failed run, created at ``moment``."""
    ended = []
    for agent in ("builtin:noop", "builtin:fail"):
        inputs = {"retryable": False} if agent == "builtin:fail" else {}
        run = await start_steps(ctx, None, [{"id": "a", "agent": agent, "inputs": inputs}])
        ended.append((await wait_for_run(ctx, run.id)).id)

    def backdate(session: Any) -> None:
        session.execute(update(Run).where(Run.id.in_(ended)).values(created_at=moment))

    await ctx.write_blocking(backdate)
    return ended


async def test_a_days_runs_are_counted_by_colour_and_its_detail_lists_them(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    completed, failed = await _runs_on(ctx, datetime.combine(RUN_DAY, time(10), UTC))
    viewer = await bearer_headers(ctx, "vic", Role.VIEWER)
    params = {"date": RUN_DAY.isoformat(), "tz": "UTC"}
    html = (await client.get("/calendar", params=params, headers=viewer)).text
    cell = _days(html)[RUN_DAY.isoformat()]
    summary = re.findall(r'data-status="(\w+)" title="(\d+) ([\w ]+)"', cell)
    assert summary == [("completed", "1", "completed"), ("failed", "1", "failed")]
    assert f"day={RUN_DAY}" in cell and "day-detail" not in html
    assert "Nothing on the calendar yet" not in html
    # Counted on their own day only.
    assert not _days(html)[(RUN_DAY + timedelta(days=1)).isoformat()].count("data-status")

    opened = await client.get("/calendar", params=params | {"day": str(RUN_DAY)}, headers=viewer)
    detail = opened.text.split('data-testid="day-detail"', 1)[1].split("</aside>", 1)[0]
    assert f'href="/runs/{completed}"' in detail and f'href="/runs/{failed}"' in detail
    assert "badge--failed" in detail and ">10:00</span>" in detail
    all_runs = re.search(r'href="([^"]+)" data-control="all-runs">All 2 runs<', detail)
    assert all_runs and all_runs.group(1).startswith("/runs?created_after=2031-03-12T00")
    listed = await client.get(all_runs.group(1).replace("&amp;", "&"))
    assert str(completed) in listed.text and str(failed) in listed.text
    # htmx (a day's link, previous, next): the calendar and a live element for its window.
    fragment = await client.get("/calendar", params=params | {"day": str(RUN_DAY)}, headers=HTMX)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="calendar"')
    assert '<hx-partial hx-target="#live" hx-swap="outerHTML">' in fragment.text
    assert f"/calendar/stream?view=month&amp;date={RUN_DAY}&amp;tz=UTC&amp;day={RUN_DAY}" in (
        fragment.text
    )


async def test_an_empty_calendar_says_what_it_shows_and_operators_may_add_a_schedule(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    viewer = await bearer_headers(ctx, "vic", Role.VIEWER)
    operator = await bearer_headers(ctx, "ola", Role.OPERATOR)
    for headers, link in [(viewer, False), (operator, True)]:
        html = (await client.get("/calendar", params={"date": "2031-01-15"}, headers=headers)).text
        assert "Nothing on the calendar yet" in html
        assert (
            'class="btn btn--secondary btn--sm" href="/schedules">Add a schedule' in html
        ) == link


async def test_bad_parameters_are_a_422_naming_them(client: httpx2.AsyncClient) -> None:
    for params, field in [
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"tz": "../../etc/passwd"}, "tz"),
        ({"tz": "x" * 500}, "tz"),
        ({"tz": "Europe/Paris\x00"}, "tz"),
        ({"date": "2030-02-30"}, "date"),
        ({"date": "tomorrow"}, "date"),
        ({"view": "year"}, "view"),
        ({"day": "2030-13-01"}, "day"),
        ({"day": "20300101"}, "day"),
    ]:
        for path in ("/calendar", "/calendar/stream"):
            refused = await client.get(path, params=params, headers=PAGE)
            assert refused.status_code == 422, (path, params, refused.text[:200])
            assert field in refused.text, (path, params)
    page = await client.get("/calendar", params={"tz": "Mars/Olympus"}, headers=PAGE)
    assert "Check the address" in page.text and "IANA time zone" in page.text


async def test_someone_not_signed_in_is_sent_to_sign_in(client: httpx2.AsyncClient) -> None:
    anonymous = {"Authorization": ""}
    page = await client.get("/calendar", params={"tz": "UTC"}, headers=anonymous | PAGE)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/sign-in?next=%2Fcalendar")
    stream = await client.get("/calendar/stream", headers=anonymous | HTMX)
    assert stream.status_code == 401


async def test_the_stream_sends_the_days_again_when_a_schedule_is_added(live_app: LiveApp) -> None:
    http = live_app.http
    day = _future_day()
    page = await http.get("/calendar", params={"view": "week", "date": str(day), "tz": "UTC"})
    found = re.search(r'id="live" hx-sse:connect="([^"]+)"', page.text)
    assert found and found.group(1).startswith("/calendar/stream?view=week&amp;date=")
    async with http.stream("GET", found.group(1).replace("&amp;", "&"), headers=HTMX) as response:
        assert response.status_code == 200
        stream = messages(response)
        await _schedule(http, "nightly", "0 2 * * *", "UTC")
        message = await asyncio.wait_for(anext(stream), 10)
    assert message.text.startswith('<hx-partial hx-target="#calendar-days" hx-swap="outerHTML">')
    assert _firings(_days(message.text)[str(day)]) == [("02:00", "nightly")]
