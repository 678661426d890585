"""The Execution Stepper in Chromium: an offline run's documented tasks read "N of N tasks
ended" with the accent meter, never the green of a build (docs/reports.md)."""

import io
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from tests.browser.conftest import seed, sign_in
from tests.browser.test_mission_browser import _completed_mission
from tests.conftest import LiveServer
from tests.support.auth import ensure_user

pytestmark = pytest.mark.browser

SHOT = Path("/tmp/shots/stepper.png")
GREEN = "rgb(22, 163, 74)"  # --success / --st-completed-dot: the colour of code built


@pytest.fixture
def signed_in() -> bool:
    """The test signs in as its viewer itself."""
    return False


async def _viewer_and_mission(ctx: ServiceContext) -> tuple[uuid.UUID, uuid.UUID]:
    await ensure_user(ctx, "vera", Role.VIEWER)
    return await _completed_mission(ctx)


def test_a_viewer_sees_documented_tasks_ended_on_an_accent_meter(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    mission_id, _ = seed(live_server.settings, _viewer_and_mission)
    sign_in(page, live_server, "vera")
    page.goto(f"{live_server.url}/missions/{mission_id}")
    tasks = page.locator("#stepper [data-task]").count()
    assert tasks >= 6
    expect(page.get_by_test_id("stepper-count")).to_have_text(f"{tasks} of {tasks} tasks ended")
    meter = page.get_by_test_id("stepper-meter")
    expect(meter).to_have_attribute("data-tone", "documented")
    # The bar's fill, read from its pixels (a progress bar's fill has no computed style).
    page.locator("#stepper").scroll_into_view_if_needed()
    with Image.open(io.BytesIO(meter.screenshot())) as drawn:
        rgb = drawn.convert("RGB")
        fill = rgb.getpixel((rgb.width // 2, rgb.height // 2))
    accent: str = page.evaluate(
        "() => { const s = document.createElement('span'); s.style.color = 'var(--accent)';"
        " document.body.append(s); const c = getComputedStyle(s).color; s.remove(); return c; }"
    )
    assert f"rgb({', '.join(map(str, fill))})" == accent != GREEN, (fill, accent)
    page.locator("#stepper").scroll_into_view_if_needed()
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    page.locator("#stepper").screenshot(path=str(SHOT))
    screenshot("stepper")
