"""The task board in a real browser: every column at 1440 and 390 px wide, filters kept in the
URL, and cards that move to Done live as the server's engine runs their steps (no reload)."""

import os
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from missionctl.services import ServiceContext
from missionctl.services.usecases.plans import run_mission
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.web.support import planned_mission

pytestmark = pytest.mark.browser

# Screenshots are for a person to look at, outside the repository.
SHOTS = Path(os.environ.get("MISSIONCTL_BOARD_SHOTS", "/tmp/board-screenshots"))
GOAL = "A volunteer rota for a food bank with shift swaps and SMS reminders"
COLUMNS = ["Planned", "Queued", "Running", "Awaiting approval", "Blocked", "Failed", "Done"]


async def _planned(ctx: ServiceContext) -> uuid.UUID:
    return (await planned_mission(ctx, GOAL)).id


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_the_board_shows_every_column_and_a_card_per_planned_task(
    live_server: LiveServer, page: Page, width: int, height: int
) -> None:
    mission_id = seed(live_server.settings, _planned)
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server.url}/board")
    headings = page.locator(".board__heading")
    expect(headings).to_have_count(len(COLUMNS))
    assert [re.sub(r"\s*\d+$", "", h) for h in headings.all_inner_texts()] == COLUMNS
    planned = page.locator("[data-column=planned] .board-card")
    expect(planned.first).to_be_visible()
    assert planned.count() > 3
    # The page itself never scrolls sideways: the board scrolls inside its frame.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"board-{width}.png"))

    # A card opens its mission while no run has it; its mission link filters the board.
    first = planned.first
    expect(first.locator(".board-card__title")).to_have_attribute("href", f"/missions/{mission_id}")
    role = first.locator(".board-card__role").inner_text()
    page.select_option("#filter-role", role)
    expect(page).to_have_url(re.compile(rf"/board\?role={role}$"))
    roles = page.locator(".board-card__role").all_inner_texts()
    assert roles and set(roles) == {role}


def test_cards_move_to_done_live_as_the_engine_runs_their_steps(
    live_server: LiveServer, page: Page
) -> None:
    mission_id = seed(live_server.settings, _planned)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/board?mission={mission_id}")
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))
    page.evaluate("window.__marker = 1")  # gone if the page reloads
    planned = page.locator("[data-column=planned] .board-card").count()
    assert planned > 0
    expect(page.locator("[data-column=done] .board-card")).to_have_count(0)

    async def run(ctx: ServiceContext) -> None:
        await run_mission(ctx, mission_id=mission_id, actor="user:cli")

    seed(live_server.settings, run)
    done = page.locator("[data-column=done] .board-card")
    expect(done).to_have_count(planned, timeout=45_000)
    expect(page.locator("[data-column=planned] .board-card")).to_have_count(0)
    assert page.evaluate("window.__marker") == 1, "the board reloaded instead of updating live"
    # Each done card says what the record gives it and opens its step's page.
    expect(done.first.locator("[data-outcome]")).to_have_attribute("data-outcome", "documented")
    expect(done.first.locator(".board-card__title")).to_have_attribute(
        "href", re.compile(r"^/runs/[0-9a-f-]{36}/steps/")
    )
    page.locator("#board").evaluate("el => el.scrollLeft = el.scrollWidth")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "board-live-done.png"))
