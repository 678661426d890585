"""The insights cockpit in Chromium on the demo history: the filter bar changes every panel,
and each metric's info button shows its definition on hover and on keyboard focus.

The history is the shared demo (seed 42, with its three anomalies) ending the day before
``DEMO_TODAY``; the views name their days, so they hold whatever day the suite runs.
"""

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from missionctl.services.usecases.analytics import read_definitions
from missionctl.settings import Settings
from tests.conftest import LiveServer
from tests.support.demo import DEMO_TODAY, SEEDING

pytestmark = [pytest.mark.browser, SEEDING]

PANELS = ("summary", "kpis", "funnel", "alerts", "retention", "trends", "orchestration")
SHOTS = Path("/tmp/insights-screenshots")
OVERFLOWING = """() => [...document.querySelectorAll('[data-panel], .insights-filters-card')]
    .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.id || el.className)"""
LAST = DEMO_TODAY - timedelta(days=1)
MONTH = f"range=custom&since={LAST - timedelta(days=29)}&until={LAST}"


@pytest.fixture
def live_server(demo_settings: Settings) -> Iterator[LiveServer]:
    """The app served over real HTTP on a copy of the demo history."""
    server = LiveServer(demo_settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _loaded(page: Page) -> None:
    expect(page.locator("[data-panel]")).to_have_count(len(PANELS))
    expect(page.locator('[data-panel][data-state="loading"]')).to_have_count(0)


def _panels(page: Page) -> dict[str, str]:
    """Each panel's text and the attributes that carry its figures."""
    shown = {}
    for name in PANELS:
        panel = page.locator(f"#panel-{name}")
        figures = panel.locator("[data-users], [data-kpi], rect.chart__bar, td.heat").evaluate_all(
            "nodes => nodes.map(n => [n.getAttribute('data-users'), n.getAttribute('height'),"
            " n.getAttribute('aria-label'), n.textContent].join('|')).join(';')"
        )
        shown[name] = panel.inner_text() + "\n" + figures
    return shown


def _unchanged(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return [name for name in PANELS if before[name] == after[name]]


def test_the_filter_bar_changes_every_panel_and_tooltips_show_definitions(
    live_server: LiveServer, page: Page
) -> None:
    page.goto(f"{live_server.url}/insights?{MONTH}")
    _loaded(page)
    alerts = page.locator("#panel-alerts")
    # The demo's three anomalies, as of its last day, with their severities.
    expect(alerts).to_contain_text("Run success rate fell")
    expect(alerts).to_contain_text("Cost was")
    expect(alerts).to_contain_text("Early retention")
    expect(page.locator("#panel-summary")).to_contain_text("deterministic writer")
    month = _panels(page)
    stamp = page.get_by_test_id("insights-updated").locator("time")
    updated = stamp.get_attribute("datetime")

    # A month that ends a week earlier, before the injections: every panel follows.
    earlier = LAST - timedelta(days=7)
    page.get_by_label("Until").fill(str(earlier))
    page.get_by_label("Until").dispatch_event("change")
    expect(page).to_have_url(re.compile(rf"until={earlier}"))
    _loaded(page)
    before = _panels(page)
    assert _unchanged(month, before) == [], "a panel kept the later month's figures"
    expect(alerts).not_to_contain_text("Cost was")
    expect(stamp).not_to_have_attribute("datetime", updated or "")  # the panels' new answer

    page.get_by_label("Segment").select_option("role:operator")
    expect(page).to_have_url(re.compile(r"segment=role%3Aoperator"))
    _loaded(page)
    operators = _panels(page)
    assert _unchanged(before, operators) == [], "a panel ignored the segment"
    expect(
        page.get_by_label("Segment").locator("option", has_text="Workflow: fix-bug")
    ).to_have_count(1)

    # Back restores the previous view, and the address is a link to it.
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"segment="))

    _tooltips_show_definitions(page)
    _screenshots(page, live_server)


def _tooltips_show_definitions(page: Page) -> None:
    definitions = {item.key: item.definition for item in read_definitions().items}
    page.goto(page.url)
    _loaded(page)
    for key, scope in (("trends.success_rate", "#panel-kpis"), ("funnel.planned", "#panel-funnel")):
        button = page.locator(f'{scope} button[data-metric="{key}"]')
        tip = page.locator(f"#{button.get_attribute('aria-describedby')}")
        expect(tip).to_be_hidden()
        button.hover()
        expect(tip).to_be_visible()
        expect(tip).to_have_text(definitions[key])
        page.mouse.move(0, 0)
        expect(tip).to_be_hidden()
        button.focus()
        expect(tip).to_be_visible()
        page.keyboard.press("Escape")
        expect(tip).to_be_hidden()
        page.keyboard.press("Tab")  # focus moves on and the tooltip stays closed
        expect(tip).to_be_hidden()
    name = page.locator('#panel-kpis a.metric__name[href="/insights/definitions#trends.tokens"]')
    name.click()
    expect(page).to_have_url(re.compile(r"/insights/definitions#trends\.tokens$"))
    expect(page.locator('[id="trends.tokens"]')).to_contain_text(definitions["trends.tokens"])


def _screenshots(page: Page, server: LiveServer) -> None:
    """The cockpit at 1440 and 800 px wide, light and dark, under SHOTS; nothing overflows."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for width in (1440, 800):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{server.url}/insights?{MONTH}")
            _loaded(page)
            page.screenshot(path=str(SHOTS / f"insights-{width}-{scheme}.png"), full_page=True)
            wide = page.evaluate(OVERFLOWING)
            assert wide == [], f"overflowing at {width} px: {wide}"
