"""The Search page in a browser: type a query, see the match marked, follow it to the step."""

import re

import pytest
from playwright.sync_api import Page, expect

from missionctl.schemas.runs import RunRead
from missionctl.services import ServiceContext
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.engine.helpers import start, step, wait_for_run

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000
LINE = "the <em>hydraulic</em> pump lost pressure"


async def _failing_run(ctx: ServiceContext) -> RunRead:
    """A run the server's engine fails: its step logs ``LINE`` and fails with it."""
    failing = step("pump", "builtin:fail", inputs={"message": LINE, "retryable": False})
    run = await start(ctx, [failing])
    return await wait_for_run(ctx, run.id, within_s=30)


def test_a_typed_query_shows_the_marked_line_linking_to_its_step(
    page: Page, live_server: LiveServer
) -> None:
    run = seed(live_server.settings, _failing_run)
    page.goto(f"{live_server.url}/missions")
    page.get_by_role("link", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search$"))
    page.wait_for_load_state("load")  # htmx must be listening before the query is typed

    page.get_by_label("Search logs and errors").fill("hydraul*")
    page.get_by_label("Kind").select_option("log")
    hit = page.locator(".search-hit").first
    expect(hit.locator("mark")).to_have_text("hydraulic", timeout=TIMEOUT_MS)
    # The line's markup is shown as text; only the match is marked.
    expect(hit.locator(".search-hit__text")).to_have_text(f"attempt 1: {LINE}")
    expect(hit.locator("em")).to_have_count(0)
    # The query and the kind are in the address, in whichever order the two inputs sent them.
    expect(page).to_have_url(
        re.compile(r"/search\?(q=hydraul(\*|%2A)&kind=log|kind=log&q=hydraul(\*|%2A))$")
    )

    hit.get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.url}/runs/{run.id}/steps/pump", timeout=TIMEOUT_MS)
    expect(page.get_by_text("hydraulic").first).to_be_visible()
