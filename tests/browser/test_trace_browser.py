"""The traceability page as a person sees it: the graph with a planted gap flagged, reachable
from the mission page, in light and dark themes at 1440 and 800 px wide."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from missionctl.schemas.missions import MissionRead
from missionctl.services import ServiceContext
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.services.test_tracemap import GappedPlanner, planned

pytestmark = pytest.mark.browser

# Screenshots are for a person to look at, outside the repository.
SHOTS = Path(os.environ.get("MISSIONCTL_TRACE_SHOTS", "/tmp/trace-screenshots"))


async def _gapped(ctx: ServiceContext) -> MissionRead:
    return await planned(ctx, GappedPlanner())


def test_the_map_shows_the_graph_and_flags_the_planted_gap(
    live_server: LiveServer, page: Page
) -> None:
    mission = seed(live_server.settings, _gapped)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/missions/{mission.id}")
    expect(page.get_by_test_id("trace-gaps-flag")).to_contain_text(re.compile(r"\d+ gaps"))
    page.get_by_test_id("trace-link").click()
    expect(page).to_have_url(f"{live_server.url}/missions/{mission.id}/trace")

    graph = page.get_by_test_id("trace-graph")
    expect(graph).to_be_visible()
    untraced = graph.locator('[data-node="requirement:R999"]')
    expect(untraced).to_have_class(re.compile(r"trace__node--gap"))
    expect(untraced).to_contain_text("Gap")
    gaps = page.get_by_test_id("trace-gaps")
    expect(gaps.locator('[data-gap="untraced_requirement"]')).to_have_count(1)
    expect(gaps.locator('[data-gap="task_traces_nothing"]')).to_have_count(1)
    expect(page.get_by_test_id("trace-table")).to_contain_text("Links can be exported as CSV")

    SHOTS.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for width in (1440, 800):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(SHOTS / f"trace-{width}-{scheme}.png"))
            frame = page.locator(".graph-frame")
            frame.screenshot(path=str(SHOTS / f"trace-{width}-{scheme}-graph.png"))
            table = page.get_by_test_id("trace-table")
            table.screenshot(path=str(SHOTS / f"trace-{width}-{scheme}-table.png"))
            overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
            assert overflow <= 0, (scheme, width, overflow)

    page.get_by_label("Show the path of").select_option("R1")
    page.get_by_role("button", name="Show").click()
    expect(graph.locator('[data-node="requirement:R999"]')).to_have_count(0)
    expect(graph.locator('[data-node^="requirement:"]')).to_have_count(1)
