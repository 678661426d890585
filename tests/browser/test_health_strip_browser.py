"""The system-health strip in a real browser: it follows the system without a reload.

An approval is requested by another process's service context (``seed``), as the CLI or a
worker would: the page learns of it only through the strip's own refresh.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from missionctl.services import ServiceContext
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.web.test_approvals_page import gated_run

pytestmark = pytest.mark.browser


def test_the_strip_shows_a_new_approval_and_badge_without_a_reload(
    live_server: LiveServer, page: Page
) -> None:
    page.goto(f"{live_server.url}/agents")  # a page with no live stream of its own
    strip = page.get_by_test_id("health-strip")
    approvals = strip.locator('[data-health="approvals"] .health-strip__value')
    expect(approvals).to_have_text("0")
    expect(strip.locator('[data-health="workers"] .health-strip__value')).to_have_text("1")
    expect(page.locator("#nav-approvals-badge")).to_be_hidden()
    page.evaluate("window.__marker = 1")  # gone if the page reloads

    async def request_approval(ctx: ServiceContext) -> None:
        await gated_run(ctx)

    seed(live_server.settings, request_approval)

    expect(approvals).to_have_text("1", timeout=15_000)
    expect(page.locator("#nav-approvals-badge")).to_be_visible()
    expect(page.locator("#nav-approvals-badge")).to_contain_text("1")
    assert page.evaluate("window.__marker") == 1
    # The figure leads to the queue.
    strip.locator('[data-health="approvals"]').click()
    expect(page).to_have_url(re.compile(r"/approvals$"))
    expect(page.get_by_test_id("health-strip")).to_be_visible()


def test_a_page_with_its_own_stream_keeps_it_beside_the_strip(
    live_server: LiveServer, page: Page
) -> None:
    page.goto(f"{live_server.url}/missions")
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))
    approvals = page.locator(
        '[data-testid="health-strip"] [data-health="approvals"] .health-strip__value'
    )
    expect(approvals).to_have_text("0")

    async def request_approval(ctx: ServiceContext) -> None:
        await gated_run(ctx)

    seed(live_server.settings, request_approval)
    expect(approvals).to_have_text("1", timeout=15_000)
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))
