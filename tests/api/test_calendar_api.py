"""The calendar: each schedule's firings on the viewer's days (read in the schedule's zone,
shown in the viewer's), runs counted on the day they were created whatever the zone's
offset, the iCalendar feed a team's calendar reads with a token, and refusals."""

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx2
from icalendar import Calendar
from sqlalchemy import update

from missionctl.db.models import Run
from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from missionctl.services.usecases.calendar import read_calendar, schedule_feed
from tests.engine.helpers import wait_for_run
from tests.support.auth import bearer_headers
from tests.web.support import start_steps

NOW = datetime(2030, 4, 3, 12, 0, tzinfo=UTC)  # a Wednesday


async def _schedule(client: httpx2.AsyncClient, name: str, cron: str, tz: str, **extra: Any) -> str:
    spec = {"name": f"wf-{uuid.uuid4().hex[:8]}", "steps": [{"id": "a", "agent": "builtin:noop"}]}
    workflow = (await client.post("/api/v1/workflows", json=spec)).json()["id"]
    body = {"name": name, "cron": cron, "timezone": tz, "workflow_id": workflow} | extra
    made = await client.post("/api/v1/schedules", json=body)
    assert made.status_code == 201, made.text
    schedule_id: str = made.json()["id"]
    return schedule_id


def _firings(calendar: Any, name: str) -> list[tuple[date, str]]:
    return [(d.date, f.local_time) for d in calendar.days for f in d.firings if f.schedule == name]


async def test_firings_are_the_schedules_ticks_after_now_on_the_viewers_days(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    await _schedule(client, "standup", "0 9 * * MON-FRI", "America/New_York")
    await _schedule(client, "sleeper", "0 9 * * *", "UTC", paused=True)
    week = await read_calendar(ctx, view="week", date=NOW.date(), tz="Asia/Kolkata", now=NOW)
    assert (week.first, week.last) == (date(2030, 4, 1), date(2030, 4, 7))
    # 09:00 in New York (EDT, UTC-4) is 18:30 in Kolkata; Monday's and Tuesday's are past.
    assert _firings(week, "standup") == [(date(2030, 4, d), "18:30") for d in (3, 4, 5)]
    assert _firings(week, "sleeper") == []
    assert [s.paused for s in week.schedules if s.name == "sleeper"] == [True]
    assert [d.today for d in week.days].index(True) == 2

    month = await read_calendar(ctx, date=date(2030, 11, 15), tz="UTC", now=NOW)
    assert (month.first, month.last, month.previous, month.next) == (
        date(2030, 10, 28), date(2030, 12, 8), date(2030, 10, 1), date(2030, 12, 1)
    )  # fmt: skip
    days = {d.date: d for d in month.days}
    assert not days[date(2030, 10, 31)].in_view and days[date(2030, 11, 1)].in_view
    # New York leaves daylight time on 3 November 2030: 09:00 is 13:00 UTC, then 14:00.
    standup = dict(_firings(month, "standup"))
    assert (standup[date(2030, 11, 1)], standup[date(2030, 11, 4)]) == ("13:00", "14:00")
    assert date(2030, 11, 2) not in standup, "no firing on a Saturday"


async def test_runs_fall_on_the_viewers_day_whatever_the_offset(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    runs = []
    for _ in range(3):
        run = await start_steps(ctx, None, [{"id": "a", "agent": "builtin:noop"}])
        runs.append((await wait_for_run(ctx, run.id)).id)
    # 23:50 UTC is 05:35 the next day in Kathmandu (UTC+5:45); 18:14 UTC is 23:59 there.
    created = [
        datetime(2030, 4, 1, 23, 50, tzinfo=UTC),
        datetime(2030, 4, 2, 18, 14, tzinfo=UTC),
        datetime(2030, 4, 2, 18, 15, tzinfo=UTC),
    ]

    def backdate(session: Any) -> None:
        for run_id, moment in zip(runs, created, strict=True):
            session.execute(update(Run).where(Run.id == run_id).values(created_at=moment))

    await ctx.write_blocking(backdate)
    in_utc = await read_calendar(ctx, view="week", date=NOW.date(), tz="UTC", now=NOW)
    counts = {d.date.day: d.run_count for d in in_utc.days if d.run_count}
    assert counts == {1: 1, 2: 2}
    nepal = await read_calendar(ctx, view="week", date=NOW.date(), tz="Asia/Kathmandu", now=NOW)
    counts = {d.date.day: d.run_count for d in nepal.days if d.run_count}
    assert counts == {2: 2, 3: 1}, "18:15 UTC is 00:00 on the 3rd in Kathmandu"
    day = next(d for d in nepal.days if d.date.day == 2)
    assert {r.id for r in day.runs} == {runs[0], runs[1]}
    assert day.runs_by_status == {"completed": 2}
    assert "created_after=2030-04-01T18%3A15%3A00%2B00%3A00" in day.runs_url
    page = await client.get(day.runs_url)
    assert page.status_code == 200 and str(runs[2]) not in page.text and str(runs[0]) in page.text


async def test_the_feed_is_an_icalendar_file_a_viewer_token_reads(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    standup = await _schedule(client, "standup", "0 9 * * MON-FRI", "America/New_York")
    paused = await _schedule(client, "sleeper", "0 9 * * *", "UTC", paused=True)
    viewer = await bearer_headers(ctx, "vic", Role.VIEWER)
    answer = await client.get(f"/api/v1/schedules/{standup}/calendar.ics", headers=viewer)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/calendar")
    feed = Calendar.from_ical(answer.content)
    events = list(feed.walk("VEVENT"))
    assert 40 <= len(events) <= 45, "about 43 weekdays in 60 days"
    first = events[0]
    assert str(first["dtstart"].dt.tzinfo) == "America/New_York"
    starts = [e["dtstart"].dt for e in events]
    assert all((s.hour, s.minute) == (9, 0) and s.weekday() < 5 for s in starts)
    again = Calendar.from_ical((await schedule_feed(ctx, schedule_id=uuid.UUID(standup))).content)
    assert [str(e["uid"]) for e in again.walk("VEVENT")][:5] == [str(e["uid"]) for e in events][:5]
    none = Calendar.from_ical(
        (await client.get(f"/api/v1/schedules/{paused}/calendar.ics")).content
    )
    assert list(none.walk("VEVENT")) == []
    missing = await client.get(f"/api/v1/schedules/{uuid.uuid4()}/calendar.ics")
    assert missing.status_code == 404
    anonymous = await client.get(
        f"/api/v1/schedules/{standup}/calendar.ics", headers={"Authorization": ""}
    )
    assert anonymous.status_code == 401


async def test_bad_windows_are_422s_naming_the_parameter_and_twins_agree(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    viewer = await bearer_headers(ctx, "val", Role.VIEWER)
    for params, field in [
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"tz": "../../etc/passwd"}, "tz"),
        ({"tz": "x" * 500}, "tz"),
        ({"date": "2030-02-30"}, "date"),
        ({"date": "0"}, "date"),
        ({"view": "year"}, "view"),
        ({"since": "2030-01-01"}, "since"),
    ]:
        refused = await client.get("/api/v1/calendar", params=params, headers=viewer)
        assert refused.status_code == 422, (params, refused.text)
        assert field in refused.text
    twins = await asyncio.gather(
        *(client.get("/api/v1/calendar", params={"tz": "Europe/Paris"}, headers=viewer)
          for _ in range(3))
    )  # fmt: skip
    assert all(t.status_code == 200 for t in twins)
    assert len({t.text for t in twins}) == 1
    assert (await client.get("/api/v1/calendar", headers={"Authorization": ""})).status_code == 401
