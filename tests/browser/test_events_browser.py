"""The Events page in a real browser: a type filter kept in the URL, live rows, Pause and Resume.

Events are appended by another process's service context (``seed``), as a worker would: the
server learns of them from the database, and the page from its stream.
"""

import re
import time

import pytest
from playwright.sync_api import Page, expect

from missionctl.eventlog import NewEvent, append
from missionctl.services import ServiceContext
from tests.browser.conftest import seed
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

ROWS = "#event-rows tr[data-seq]"


def _append(server: LiveServer, *types: str) -> None:
    """Append one event of each of ``types``, in one transaction of another process."""

    async def work(ctx: ServiceContext) -> None:
        async with ctx.write() as session:
            await append(session, [NewEvent(t, "user:ops", {"note": t}) for t in types])

    seed(server.settings, work)


def test_the_events_page_filters_by_type_and_pauses_its_live_rows(
    live_server: LiveServer, page: Page
) -> None:
    _append(live_server, "deploy.started", "probe.failed", "deploy.started")
    page.goto(f"{live_server.url}/events")
    rows = page.locator(ROWS)
    expect(rows.filter(has_text="probe.failed")).to_have_count(1)

    page.get_by_test_id("filter-type").fill("deploy.started")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"/events\?(.*&)?type=deploy\.started"))
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="probe.failed")).to_have_count(0)

    page.reload()  # the filter lives in the URL: a reload (or a shared link) keeps it
    expect(page).to_have_url(re.compile(r"type=deploy\.started"))
    expect(page.get_by_test_id("filter-type")).to_have_value("deploy.started")
    expect(rows).to_have_count(2)
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))

    _append(live_server, "probe.failed", "deploy.started")  # live: only the match shows
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="probe.failed")).to_have_count(0)

    pause = page.locator("[data-feed-pause]")
    pause.click()
    expect(pause).to_have_text("Resume")
    expect(page.locator("[data-feed-state]")).to_contain_text("Paused")
    _append(live_server, "deploy.started", "deploy.started")
    time.sleep(3)  # longer than the server takes to find them (it polls every second)
    expect(rows).to_have_count(3)  # paused: nothing new applied

    pause.click()  # resume: what happened meanwhile arrives, once each, newest on top
    expect(pause).to_have_text("Pause")
    expect(rows).to_have_count(5)
    seqs = [int(s) for s in rows.evaluate_all("rows => rows.map(r => r.dataset.seq)")]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 5
    expect(rows.filter(has_text="probe.failed")).to_have_count(0)
