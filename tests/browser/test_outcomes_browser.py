"""What a run produced, on its mission's page and its own: an offline mission run by the builtin
specialists documented its tasks and built nothing, and the pages say so first, to a viewer too."""

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from missionctl.domain.access import Role
from missionctl.domain.outcomes import BUILD_HINT
from missionctl.services import ServiceContext
from tests.browser.conftest import seed, sign_in
from tests.browser.test_mission_browser import _completed_mission
from tests.conftest import LiveServer
from tests.support.auth import ensure_user

pytestmark = pytest.mark.browser

SHOT = Path("/tmp/shots/outcomes-mission.png")
HEADLINE = f"tasks documented, 0 built: {BUILD_HINT}"
# What a badge of a succeeded build would look like: documented work must not.
GREEN_BACKGROUND = "rgb(240, 253, 244)"


@pytest.fixture
def signed_in() -> bool:
    """The test signs in as its viewer itself."""
    return False


async def _viewer_and_mission(ctx: ServiceContext) -> tuple[uuid.UUID, uuid.UUID]:
    await ensure_user(ctx, "vera", Role.VIEWER)
    return await _completed_mission(ctx)


def _background(page: Page, selector: str) -> str:
    color: str = page.locator(selector).first.evaluate("e => getComputedStyle(e).backgroundColor")
    return color


def test_a_viewer_sees_documented_tasks_and_the_headline_on_mission_and_run_pages(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    mission_id, run_id = seed(live_server.settings, _viewer_and_mission)
    sign_in(page, live_server, "vera")

    page.goto(f"{live_server.url}/missions/{mission_id}")
    tasks = page.locator("#stepper [data-task]").count()
    assert tasks >= 6
    headline = page.get_by_test_id("outcome-headline")
    expect(headline).to_contain_text(f"{tasks} {HEADLINE}")
    # The headline opens the page: it comes before the goal, the stepper and everything else.
    first = page.locator("#mission-overview > *").first
    expect(first).to_have_attribute("data-testid", "outcome-headline")
    expect(page.locator('#stepper li[data-outcome="documented"]')).to_have_count(tasks)
    expect(page.locator("#stepper .outcome-badge--documented")).to_have_count(tasks)
    expect(page.locator("#stepper .stepper__status").first).to_have_text("documented")
    expect(page.locator("#task-timeline .outcome-badge--documented")).to_have_count(tasks)
    expect(page.locator('#plan-graph .graph__node[data-outcome="documented"]')).to_have_count(tasks)
    expect(page.locator("#plan-graph .graph__label").first).to_contain_text("documented")
    expect(page.locator("#plan-graph .legend")).to_contain_text("documented")
    expect(page.locator("#final-summary")).to_contain_text(f"Completed: {tasks} {HEADLINE}")
    assert _background(page, "#stepper .outcome-badge--documented") != GREEN_BACKGROUND
    assert _background(page, '[data-testid="outcome-headline"]') != GREEN_BACKGROUND
    expect(page.locator('[data-control="run"]')).to_have_count(0)  # a viewer, indeed
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOT), full_page=False)
    screenshot("mission")

    page.goto(f"{live_server.url}/runs/{run_id}")
    expect(page.get_by_test_id("outcome-headline")).to_contain_text(f"{tasks} {HEADLINE}")
    expect(page.locator("#run-steps .outcome-badge--documented")).to_have_count(tasks)
    expect(page.locator("#run-steps thead")).to_contain_text("Outcome")
    expect(page.locator('#run-graph .graph__node[data-outcome="documented"]')).to_have_count(tasks)
    screenshot("run")
