"""The mission cockpit in a real browser: one live stream per page, what Run says under the
emergency stop, one word per state, and plan versions (planning again, viewing, comparing)."""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

GOAL = "Build a URL shortener with click analytics and custom aliases using FastAPI and PostgreSQL"
RUN_TIMEOUT_MS = 20_000

AUDIT_SEQS = "els => els.map(e => e.dataset.seq)"


def _audit(page: Page) -> list[str]:
    """The ``seq`` of every Audit Trail line, top to bottom (an event may have several lines)."""
    return page.locator("#audit-list .audit__line").evaluate_all(AUDIT_SEQS)


def _whole_audit(page: Page) -> list[str]:
    """Every Audit Trail line of ``page``, after loading older events until there are none."""
    more = page.locator("#audit-more a")
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
    page.on(
        "request",
        lambda r: streams.append(r.url) if r.url.split("?")[0].endswith("/stream") else None,
    )
    page.goto(f"{live_server.url}/missions")
    page.get_by_label("Goal").fill(GOAL)
    page.get_by_label("Budget").fill("40")
    page.get_by_role("button", name="Create and plan").click()

    expect(page).to_have_url(re.compile(r"/missions/[0-9a-f-]{36}$"))
    expect(page.locator("#live")).to_have_class(re.compile(r"\blive--connected\b"))
    page.locator('[data-control="run"]').click()
    expect(page.locator("#mission-status")).to_contain_text("Completed", timeout=RUN_TIMEOUT_MS)
    expect(page.locator('#artifact-list [data-artifact="report.json"]')).to_have_count(1)

    assert len(streams) == 1, f"the page opened {len(streams)} live streams: {streams}"
    mission_url = page.url
    reloaded = page.context.new_page()
    for _ in range(20):  # the run's last events may still be arriving
        live = _audit(page)
        reloaded.goto(mission_url)
        if _whole_audit(reloaded) == live:
            break
        page.wait_for_timeout(250)
    events = _events(live)
    assert live == _audit(reloaded), "the live Audit Trail differs from the page reloaded"
    assert len(events) > 50  # more than one page of events: "Load older" was used
    expect(page.locator("#audit-count")).to_have_text(str(len(events)))
    assert uuid.UUID(mission_url.rsplit("/", 1)[1])
