"""Mission memory in a browser: a new mission's similar past missions, the Memory page's search,
at 1440 and 800 pixels, light and dark (screenshots)."""

import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from missionctl.planning import LocalPlanner
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from missionctl.services.followers import MEMORY_INDEX, catch_up
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import plans as plan_service
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.memory.helpers import FOURTH, SHOPS

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000


async def _start(ctx: ServiceContext, title: str, goal: str) -> uuid.UUID:
    mission = await mission_service.create_mission(
        ctx, data=MissionCreate(title=title, goal=goal), actor="user:test"
    )
    await plan_service.plan_mission(
        ctx, mission_id=mission.id, actor="user:test", planner=LocalPlanner()
    )
    await plan_service.run_mission(ctx, mission_id=mission.id, actor="user:test")
    return mission.id


def _finished(server: LiveServer, title: str, goal: str) -> uuid.UUID:
    """A mission planned and run to its end by the live server's engine."""
    mission_id = seed(server.settings, lambda ctx: _start(ctx, title, goal))
    deadline = time.monotonic() + 60
    while True:
        read = seed(
            server.settings, lambda ctx: mission_service.read_mission(ctx, mission_id=mission_id)
        )
        if read.status in ("completed", "failed"):
            return mission_id
        assert time.monotonic() < deadline, read.status
        time.sleep(0.1)


def test_a_new_mission_shows_similar_past_missions_and_memory_finds_them(
    page: Page, live_server: LiveServer, screenshot: Callable[[str], Path]
) -> None:
    past = [_finished(live_server, title, goal) for title, goal in SHOPS]
    new = seed(
        live_server.settings,
        lambda ctx: mission_service.create_mission(
            ctx, data=MissionCreate(title=FOURTH[0], goal=FOURTH[1]), actor="user:test"
        ),
    )

    # What the server's follower does every few seconds.
    seed(live_server.settings, lambda ctx: catch_up(ctx, MEMORY_INDEX))
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/missions/{new.id}")
    section = page.locator("#similar-missions")
    expect(section.locator(".similar__item")).to_have_count(3, timeout=TIMEOUT_MS)
    for title, _ in SHOPS:
        expect(section.get_by_role("link", name=title)).to_be_visible()
    expect(section.locator(".similar__lessons li").first).to_contain_text("The mission ended")
    screenshot("mission-1440-light")
    page.emulate_media(color_scheme="dark")
    screenshot("mission-1440-dark")

    page.get_by_role("link", name="Memory").click()
    expect(page).to_have_url(re.compile(r"/memory$"))
    page.wait_for_load_state("load")  # htmx must be listening before the search is typed
    expect(page.get_by_test_id("memory-mode")).to_have_text(re.compile("full text|semantic"))
    page.get_by_label("Search memory").fill("tea")
    result = page.locator(".memory-result").first
    expect(result.locator("mark").first).to_have_text(re.compile("tea", re.I), timeout=TIMEOUT_MS)
    expect(result.get_by_role("link", name="Tea web shop")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/memory\?q=tea"))
    screenshot("memory-1440-dark")
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 800, "height": 900})
    screenshot("memory-800-light")
    page.emulate_media(color_scheme="dark")
    screenshot("memory-800-dark")
    page.emulate_media(color_scheme="light")

    result.get_by_role("link", name="Tea web shop").click()
    expect(page).to_have_url(f"{live_server.url}/missions/{past[2]}", timeout=TIMEOUT_MS)
    page.goto(f"{live_server.url}/missions/{new.id}")
    expect(page.locator("#similar-missions")).to_be_visible(timeout=TIMEOUT_MS)
    screenshot("mission-800-light")
    page.emulate_media(color_scheme="dark")
    screenshot("mission-800-dark")
