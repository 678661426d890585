"""The mission cockpit in a real browser: one live stream per page, what Run says under the
emergency stop, one word per state, and plan versions (planning again, viewing, comparing)."""

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from missionctl.services import ServiceContext
from missionctl.services.usecases.controls import engage_emergency_stop
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.web.support import ACTOR, planned_mission, start_steps, wait_for_run

pytestmark = pytest.mark.browser

GOAL = "Build a URL shortener with click analytics and custom aliases using FastAPI and PostgreSQL"
RUN_TIMEOUT_MS = 20_000
LONG_STEP = [{"id": "long", "agent": "builtin:sleep", "inputs": {"seconds": 60}}]

AUDIT_SEQS = "els => els.map(e => e.dataset.seq)"


def _audit(page: Page) -> list[str]:
    """The ``seq`` of every Audit Trail line, top to bottom (an event may have several lines)."""
    return page.locator("#audit-list .audit__line").evaluate_all(AUDIT_SEQS)


def _whole_audit(page: Page) -> list[str]:
    """Every Audit Trail line of ``page``, after loading older events until there are none.

    A live page keeps only the newest events a reload shows; its link to older ones waits
    hidden until it drops some, so only a visible link is followed."""
    more = page.locator("#audit-more a:visible")
    while more.count():
        shown = page.locator("#audit-list .audit__line").count()
        more.click()
        expect(page.locator("#audit-list .audit__line")).not_to_have_count(shown)
    return _audit(page)


def _events(lines: list[str]) -> list[str]:
    """The events of ``lines`` in order, each once however many lines it has."""
    return list(dict.fromkeys(lines))


def test_a_mission_created_planned_and_run_in_the_page_holds_one_stream_and_lists_each_event_once(
    live_server: LiveServer, page: Page
) -> None:
    streams: list[str] = []
    ended: list[str] = []
    page.on(
        "request",
        lambda r: streams.append(r.url) if r.url.split("?")[0].endswith("/stream") else None,
    )
    page.on("requestfinished", lambda r: ended.append(r.url))
    page.on("requestfailed", lambda r: ended.append(r.url))
    page.goto(f"{live_server.url}/missions")
    page.get_by_label("Goal").fill(GOAL)
    page.get_by_label("Budget").fill("40")
    page.get_by_role("button", name="Create and plan").click()

    expect(page).to_have_url(re.compile(r"/missions/[0-9a-f-]{36}$"))
    expect(page.locator("#live")).to_have_class(re.compile(r"\blive--connected\b"))
    page.locator('[data-control="run"]').click()
    expect(page.locator("#mission-status")).to_contain_text("Completed", timeout=RUN_TIMEOUT_MS)
    expect(page.locator('#artifact-list [data-artifact="report.json"]')).to_have_count(1)

    # The list's own live stream, opened on /missions, closes when the mission page replaces it.
    list_streams = [url for url in streams if url.split("?")[0].endswith("/missions/stream")]
    mission_streams = [url for url in streams if url not in list_streams]
    assert len(list_streams) == 1, f"the list opened {len(list_streams)} live streams"
    assert len(mission_streams) == 1, f"the page opened {len(mission_streams)}: {mission_streams}"
    assert list_streams[0] in ended, "the list's stream stayed open on the mission page"
    mission_url = page.url
    reloaded = page.context.new_page()
    for _ in range(20):  # the run's last events may still be arriving
        live = _whole_audit(page)  # the live page kept 50 events; the older ones load on
        reloaded.goto(mission_url)
        if _whole_audit(reloaded) == live:
            break
        page.wait_for_timeout(250)
    events = _events(live)
    assert live == _audit(reloaded), "the live Audit Trail differs from the page reloaded"
    assert len(events) > 50  # more than one page of events: "Load older" was used
    expect(page.locator("#audit-count")).to_have_text(str(len(events)))
    assert uuid.UUID(mission_url.rsplit("/", 1)[1])


def test_under_the_emergency_stop_run_says_it_waits_and_an_aborted_mission_reads_aborted(
    live_server: LiveServer, page: Page
) -> None:
    async def stopped(ctx: ServiceContext) -> tuple[uuid.UUID, uuid.UUID]:
        aborted = await planned_mission(ctx, "Build a URL shortener with click analytics")
        run = await start_steps(ctx, aborted.id, LONG_STEP)
        await wait_for_run(ctx, run.id, lambda r: r.status == "running")
        waiting = await planned_mission(ctx, GOAL)
        await engage_emergency_stop(ctx, actor=ACTOR, reason="drill")
        return aborted.id, waiting.id

    aborted_id, waiting_id = seed(live_server.settings, stopped)

    page.goto(f"{live_server.url}/missions/{aborted_id}")
    expect(page.locator("#mission-status")).to_have_text("Aborted")
    expect(page.get_by_test_id("stepper-status")).to_have_text("Aborted")
    expect(page.locator("#mission-overview .fact .badge")).to_have_text("Aborted")
    page.goto(f"{live_server.url}/missions")
    row = page.locator(f'tr[data-mission-id="{aborted_id}"]')
    expect(row.locator(".badge")).to_have_text("Aborted")

    page.goto(f"{live_server.url}/missions/{waiting_id}")
    expect(page.locator("#live")).to_have_class(re.compile(r"\blive--connected\b"))
    page.locator('[data-control="run"]').click()
    toast = page.locator("#toasts")
    expect(toast).to_contain_text("Run halted: the emergency stop is on")
    expect(toast).to_contain_text("wait until an admin releases the stop")
    expect(toast).not_to_contain_text("Run started")
    expect(page.locator("#mission-status")).to_have_text("Halted")  # live, without a reload
    expect(page.get_by_test_id("stepper-status")).to_have_text("Halted")
    expect(page.get_by_test_id("stepper-halted")).to_contain_text("Dispatch is halted")


def test_planning_again_with_changes_then_viewing_and_comparing_plan_versions(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    async def planned(ctx: ServiceContext) -> uuid.UUID:
        return (await planned_mission(ctx, GOAL)).id

    mission_id = seed(live_server.settings, planned)
    page.goto(f"{live_server.url}/missions/{mission_id}")
    expect(page.locator("#live")).to_have_class(re.compile(r"\blive--connected\b"))
    form = page.get_by_test_id("plan-again")
    form.locator("summary").click()
    expect(form.get_by_label("Constraints")).to_have_value("")
    form.get_by_label("Constraints").fill(
        "Mobile app with offline sync\nNo new runtime dependencies"
    )
    form.get_by_label("Repository context").fill("An existing Django monolith")
    form.get_by_role("button", name="Plan again with these").click()

    expect(page.locator("#toasts")).to_contain_text("Plan v2 ready")
    overview = page.locator("#mission-overview")
    expect(overview).to_contain_text("Mobile app with offline sync")  # live, without a reload
    expect(overview).to_contain_text("An existing Django monolith")
    expect(page.get_by_test_id("plan-version-link")).to_have_text("Plan v2")
    screenshot("planned-again")

    page.get_by_test_id("plan-compare-link").click()
    expect(page).to_have_url(re.compile(rf"/missions/{mission_id}/plans/2\?compare=1$"))
    diff = page.locator("#plan-diff")
    expect(diff).to_contain_text("From v1 to v2")
    expect(diff.locator("[data-change]").first).to_be_visible()
    screenshot("plan-diff")

    page.get_by_test_id("plan-versions").get_by_role("link", name="v1").click()
    expect(page.locator("h1")).to_contain_text("Plan v1")
    expect(page.locator("#plan-diff")).to_have_count(0)
    page.get_by_label("Compare v1 with").select_option("2")
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("#plan-diff")).to_contain_text("From v2 to v1")
    page.set_viewport_size({"width": 800, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    screenshot("plan-diff-800")
