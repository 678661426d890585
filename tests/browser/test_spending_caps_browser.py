"""Spending caps in a real browser, on a wide screen and on a phone.

An admin goes from Settings to Spending caps, sets a cap with the form and finds it in the
table, is told beside the field what is wrong with an amount (nothing stored), and removes the
cap after confirming. A cap 85 % spent shows its amber bar, and the health strip says so. Full
page screenshots go to ``test-results/screenshots/`` and, when ``MISSIONCTL_CAPS_SHOTS`` names
a directory, there too (light and dark, 1440 and 390 pixels wide).
"""

import os
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect
from sqlalchemy import update

from missionctl.db.models import SpendingCap, UsageDay
from missionctl.domain.spending_caps import Level, Period, period_start
from missionctl.schemas.spending_caps import SpendingCapSet
from missionctl.services import ServiceContext
from missionctl.services.usecases.spending_caps import list_caps, set_cap
from tests.browser.conftest import SCREENSHOT_DIR, seed, sign_in
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

WIDE: ViewportSize = {"width": 1440, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
# What sticks out past the right edge of the window, for the failure message.
SPILL = """() => [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 8).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
        + (typeof el.className === 'string' && el.className ? '.' + el.className : ''))"""


@pytest.fixture
def signed_in() -> bool:
    """Each test opens its own pages at the width it needs."""
    return False


async def _a_cap_85_percent_spent(ctx: ServiceContext) -> None:
    """The cap on llm:* per UTC day at $5, $4.25 of it spent today, its warning announced."""
    data = SpendingCapSet(agent="llm:*", period=Period.day, cap_usd=Decimal("5"))
    cap = await set_cap(ctx, data=data, actor="user:tester")
    today = period_start(Period.day, datetime.now(UTC))
    async with ctx.write() as session:
        session.add(
            UsageDay(
                day=today,
                agent="llm:writer",
                model="gpt-4o-mini",
                steps=3,
                input_tokens=9000,
                output_tokens=3000,
                cost_micros=4_250_000,
            )
        )
        await session.execute(
            update(SpendingCap)
            .where(SpendingCap.id == cap.id)
            .values(notified_period=today, notified_level=Level.warning.value)
        )


def _shot(page: Page, name: str) -> None:
    """A full-page screenshot ``caps-<name>.png``, and a copy where MISSIONCTL_CAPS_SHOTS says."""
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"caps-{name}.png"), full_page=True)
    if extra := os.environ.get("MISSIONCTL_CAPS_SHOTS"):
        Path(extra).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(extra) / f"caps-{name}.png"), full_page=True)


def _fits(page: Page) -> None:
    """The page is no wider than the window (a wide table scrolls inside its own box)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert width <= inner, (width, page.evaluate(SPILL))


def _person(browser: Browser, live_server: LiveServer, viewport: ViewportSize) -> Page:
    context = browser.new_context(viewport=viewport, color_scheme="light")
    page = context.new_page()
    sign_in(page, live_server)
    return page


def _set_remove_and_refuse(page: Page, live_server: LiveServer, name: str) -> None:
    """Set a cap on every agent per UTC month, see a refused amount, remove the cap."""
    form = page.locator("#cap-form")
    form.get_by_label("Agent").fill("*")
    form.get_by_label("Per").select_option("month")
    form.get_by_label("Amount").fill("250")
    form.locator('[data-control="set-cap"]').click()
    row = page.locator('tr[data-agent="*"][data-period="month"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text("All agents")
    expect(row).to_contain_text("$250.00")
    expect(page.locator(".toast")).to_contain_text("Cap saved")
    _fits(page)
    _shot(page, f"{name}-set")

    form.get_by_label("Agent").fill("llm:writer")
    form.get_by_label("Amount").fill("1.1234567")
    form.locator('[data-control="set-cap"]').click()
    error = page.locator('#cap-form [data-field="cap_usd"] .field__error')
    expect(error).to_have_text("Use at most six decimal places.")
    expect(page.locator("#cap-form .alert--error")).to_contain_text("Nothing was saved.")
    expect(page.locator('#cap-form [name="cap_usd"]')).to_have_value("1.1234567")
    expect(page.locator('tr[data-agent="llm:writer"]')).to_have_count(0)
    _fits(page)
    _shot(page, f"{name}-refused")

    row.locator('[data-control="remove-cap"]').click()
    dialog = page.get_by_role("dialog", name="Remove the cap on all agents per UTC month?")
    expect(dialog).to_be_visible()
    _shot(page, f"{name}-confirm")
    dialog.get_by_role("button", name="Remove the cap").click()
    expect(row).to_have_count(0)
    expect(page.locator(".toast").last).to_contain_text("Cap removed")
    caps = seed(live_server.settings, list_caps)
    assert [(c.agent, c.period.value) for c in caps] == [("llm:*", "day")]


def test_an_admin_sets_and_removes_a_cap_from_settings(
    live_server: LiveServer,
    browser: Browser,
    allowed_console_errors: list[re.Pattern[str]],
) -> None:
    allowed_console_errors.append(re.compile(r"Failed to load resource.*422"))  # the refusal
    seed(live_server.settings, _a_cap_85_percent_spent)
    page = _person(browser, live_server, WIDE)
    page.goto(f"{live_server.url}/settings")
    page.locator('a.admin-card[href="/settings/spending-caps"]').click()
    expect(page).to_have_url(f"{live_server.url}/settings/spending-caps")
    expect(page.get_by_role("heading", name="Spending caps", level=1)).to_be_visible()
    warned = page.locator('tr[data-agent="llm:*"][data-period="day"]')
    expect(warned).to_have_attribute("data-level", "warning")
    expect(warned.locator("[data-budget]")).to_have_attribute("data-budget", "warning")
    expect(warned).to_contain_text("$4.25 spent of $5.00")
    strip = page.locator('[data-health="caps_warning"]')
    expect(strip).to_have_accessible_name("1 cap at 80 %")
    expect(strip).to_have_attribute("href", "/settings/spending-caps")
    _shot(page, "wide")
    page.emulate_media(color_scheme="dark")
    _shot(page, "wide-dark")
    page.emulate_media(color_scheme="light")
    _set_remove_and_refuse(page, live_server, "wide")
    page.context.close()


def test_the_caps_page_works_on_a_phone(
    live_server: LiveServer,
    browser: Browser,
    allowed_console_errors: list[re.Pattern[str]],
) -> None:
    allowed_console_errors.append(re.compile(r"Failed to load resource.*422"))
    seed(live_server.settings, _a_cap_85_percent_spent)
    page = _person(browser, live_server, PHONE)
    page.goto(f"{live_server.url}/settings/spending-caps")
    expect(page.locator('tr[data-agent="llm:*"]')).to_be_visible()
    _fits(page)
    _shot(page, "phone")
    page.emulate_media(color_scheme="dark")
    _shot(page, "phone-dark")
    page.emulate_media(color_scheme="light")
    _set_remove_and_refuse(page, live_server, "phone")
    page.context.close()
