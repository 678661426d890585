"""The calendar in a real browser at 1440 and 390 px: it adopts the browser's time zone and
shows a schedule of another zone at the viewer's local time, moves between months and weeks,
and opens a day's runs; without JavaScript it is in UTC and says so, and its zone picker works."""

import os
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from missionctl.schemas.schedules import ScheduleCreate
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.schedules import create_schedule
from missionctl.services.usecases.workflows import create_workflow
from tests.browser.conftest import seed, sign_in
from tests.conftest import LiveServer
from tests.web.support import start_steps, wait_for_run

pytestmark = pytest.mark.browser

# Screenshots are for a person to look at, outside the repository.
SHOTS = Path(os.environ.get("MISSIONCTL_CALENDAR_SHOTS", "/tmp/cal-shots"))
VIEWER_ZONE = "Asia/Kolkata"
SCHEDULE_ZONE = "America/New_York"


@pytest.fixture
def open_page(
    browser: Browser, allowed_console_errors: list[re.Pattern[str]]
) -> Iterator[Callable[..., Page]]:
    """Open pages in contexts of their own; fails the test on any console or page error it
    did not allow."""
    contexts: list[Any] = []
    problems: list[str] = []

    def make(width: int, **options: Any) -> Page:
        height = 844 if width < 600 else 900
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
        return page

    yield make
    for context in contexts:
        context.close()
    problems = [p for p in problems if not any(a.search(p) for a in allowed_console_errors)]
    assert not problems, "browser reported errors:\n" + "\n".join(problems)


async def _standup_and_runs(ctx: ServiceContext) -> list[uuid.UUID]:
    """A daily schedule at 09:00 in New York, and a completed and a failed run made now."""
    spec = WorkflowSpec.model_validate(
        {"name": f"wf-{uuid.uuid4().hex[:8]}", "steps": [{"id": "a", "agent": "builtin:noop"}]}
    )
    workflow = await create_workflow(ctx, spec=spec, actor="user:test")
    data = ScheduleCreate(
        name="standup", cron="0 9 * * *", timezone=SCHEDULE_ZONE, workflow_id=workflow.id
    )
    await create_schedule(ctx, data=data, actor="user:test")
    runs = []
    for agent in ("builtin:noop", "builtin:fail"):
        inputs = {"retryable": False} if agent == "builtin:fail" else {}
        run = await start_steps(ctx, None, [{"id": "a", "agent": agent, "inputs": inputs}])
        runs.append((await wait_for_run(ctx, run.id)).id)
    return runs


def _expected_time(day: str) -> str:
    """09:00 in New York on ``day``, at the viewer's time (the same day, east of it)."""
    moment = datetime.combine(datetime.fromisoformat(day).date(), time(9), ZoneInfo(SCHEDULE_ZONE))
    return f"{moment.astimezone(ZoneInfo(VIEWER_ZONE)):%H:%M}"


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _heading(page: Page) -> str:
    return page.get_by_test_id("calendar-heading").inner_text()


@pytest.mark.parametrize("width", [1440, 390])
def test_the_calendar_adopts_the_browsers_zone_and_moves_between_windows_and_days(
    live_server: LiveServer, open_page: Callable[..., Page], width: int
) -> None:
    completed, failed = seed(live_server.settings, _standup_and_runs)
    page = open_page(width, timezone_id=VIEWER_ZONE)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/calendar")
    # Without tz in the URL the page reloads itself in the browser's zone.
    expect(page).to_have_url(re.compile(r"/calendar\?tz=Asia%2FKolkata$"))
    expect(page.locator("#calendar")).to_have_attribute("data-tz", VIEWER_ZONE)
    expect(page.locator('[data-testid="zone-form"] [name="tz"]')).to_have_value(VIEWER_ZONE)
    expect(page.get_by_test_id("zone-note")).to_have_count(0)
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))
    today = datetime.now(ZoneInfo(VIEWER_ZONE))
    assert _heading(page) == f"{today:%B %Y}"
    # The first firing shown is at 09:00 New York time, in Kolkata's hours, on its own day.
    firing = page.locator(".cal-day .cal-firing:visible").first
    expect(firing).to_be_visible()
    day = firing.locator("xpath=ancestor::li[@data-day]").get_attribute("data-day") or ""
    assert firing.locator(".cal-firing__time").inner_text() == _expected_time(day)
    assert firing.locator(".cal-firing__name").inner_text() == "standup"
    _no_sideways_scroll(page)
    _shot(page, f"calendar-{width}-month")

    # Next, previous and back to today; the page moves in place (no reload).
    page.evaluate("window.__marker = 1")
    page.locator('[data-control="cal-next"]').click()
    following = datetime(today.year + today.month // 12, today.month % 12 + 1, 1)
    expect(page.get_by_test_id("calendar-heading")).to_have_text(f"{following:%B %Y}")
    expect(page).to_have_url(re.compile(rf"date={following:%Y-%m-%d}"))
    page.locator('[data-control="cal-previous"]').click()
    expect(page.get_by_test_id("calendar-heading")).to_have_text(f"{today:%B %Y}")
    page.locator('[data-control="cal-previous"]').click()
    earlier = datetime(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    expect(page.get_by_test_id("calendar-heading")).to_have_text(f"{earlier:%B %Y}")
    page.locator('[data-control="cal-today"]').click()
    expect(page.get_by_test_id("calendar-heading")).to_have_text(f"{today:%B %Y}")
    assert page.evaluate("window.__marker") == 1, "the calendar reloaded instead of moving"

    # The week holding today: seven days, then the month again.
    page.locator('[data-control="cal-week"]').click()
    expect(page.locator(".cal-grid--week .cal-day")).to_have_count(7)
    expect(page.locator(".cal-day--today")).to_be_visible()
    expect(page.locator('.cal-views [aria-current="page"]')).to_have_text("Week")
    _no_sideways_scroll(page)
    _shot(page, f"calendar-{width}-week")
    page.locator('[data-control="cal-month"]').click()
    expect(page.locator(".cal-grid--month .cal-day")).to_have_count(42)

    # Today's runs, counted by colour; a click opens the day, whose runs link to theirs.
    runs = page.locator(".cal-day--today [data-testid=day-runs]")
    expect(runs.locator('[data-status="completed"]')).to_contain_text("1")
    expect(runs.locator('[data-status="failed"]')).to_contain_text("1")
    runs.click()
    detail = page.get_by_test_id("day-detail")
    expect(detail).to_be_visible()
    expect(detail).to_be_focused()
    expect(detail.locator(f'a[href="/runs/{completed}"]')).to_be_visible()
    expect(detail.locator(f'a[href="/runs/{failed}"]')).to_be_visible()
    _no_sideways_scroll(page)
    _shot(page, f"calendar-{width}-day")
    detail.locator('[data-control="all-runs"]').click()
    expect(page).to_have_url(re.compile(r"/runs\?created_after="))
    expect(page.locator(f'a[href="/runs/{failed}"]').first).to_be_visible()
    page.go_back()
    expect(page.get_by_test_id("day-detail")).to_be_visible()
    page.get_by_test_id("day-detail").locator(f'a[href="/runs/{completed}"]').click()
    expect(page).to_have_url(re.compile(rf"/runs/{completed}$"))


def test_without_javascript_the_calendar_is_in_utc_and_the_zone_picker_works(
    live_server: LiveServer, open_page: Callable[..., Page]
) -> None:
    seed(live_server.settings, _standup_and_runs)
    page = open_page(1440, timezone_id=VIEWER_ZONE, java_script_enabled=False)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/calendar?view=week")
    expect(page.get_by_test_id("zone-note")).to_have_text(
        "Times are in UTC: choose your time zone."
    )
    page.locator('[data-testid="zone-form"] [name="tz"]').fill(VIEWER_ZONE)
    page.locator('[data-testid="zone-form"] button[type="submit"]').click()
    expect(page).to_have_url(re.compile(r"/calendar\?view=week&tz=Asia%2FKolkata$"))
    expect(page.locator("#calendar")).to_have_attribute("data-tz", VIEWER_ZONE)
    expect(page.locator(".cal-grid--week .cal-day")).to_have_count(7)
