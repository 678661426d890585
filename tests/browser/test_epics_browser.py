"""Epics in a real browser, at 1440 and 390 px wide: an epic made through its page, two missions
added to it, its roll-up, and its "Open board" link to the board filtered to it. Nothing but a
table scrolls sideways on a narrow screen."""

import os
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from missionctl.db.models import Mission
from missionctl.schemas.epics import EpicCreate, EpicMissions
from missionctl.services import ServiceContext
from missionctl.services.usecases import epics
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.web.support import planned_mission

pytestmark = pytest.mark.browser

# Screenshots are for a person to look at, outside the repository.
SHOTS = Path(os.environ.get("MISSIONCTL_EPIC_SHOTS", "/tmp/epic-shots"))
GOALS = (
    "A booking tool for a climbing gym's route-setting sessions",
    "An inventory sync between a bakery's till and its supplier orders",
    "A status page for a small hosting company with incident timelines",
)


async def _three_planned(ctx: ServiceContext) -> list[uuid.UUID]:
    return [(await planned_mission(ctx, goal)).id for goal in GOALS]


def _fits(page: Page) -> None:
    """The page never scrolls sideways (a wide table scrolls inside its own frame)."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        page.evaluate("document.documentElement.scrollWidth"),
        page.evaluate("window.innerWidth"),
    )


def _shot(page: Page, name: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def _make_epic(page: Page, server: LiveServer) -> str:
    """Make an epic through the list page's form; its id."""
    page.goto(f"{server.url}/epics")
    expect(page.get_by_test_id("epics-empty")).to_contain_text("missionctl epic create NAME")
    expect(page.locator("#field-owner")).to_have_value("tester")
    page.fill("#field-name", "Spring launches")
    page.fill("#field-target_date", "2030-04-30")
    page.fill("#field-budget_usd", "12.50")
    page.fill("#field-description", "The three launches of the spring, with their budget.")
    page.click('[data-control="create-epic"]')
    expect(page).to_have_url(re.compile(r"/epics/[0-9a-f-]{36}$"))
    return page.url.rsplit("/", 1)[1]


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_an_epic_made_on_its_page_rolls_up_two_missions_and_opens_their_board(
    live_server: LiveServer, page: Page, width: int, height: int
) -> None:
    gym, bakery, outside = seed(live_server.settings, _three_planned)
    page.set_viewport_size({"width": width, "height": height})
    epic_id = _make_epic(page, live_server)
    expect(page.get_by_test_id("epic-name")).to_have_text("Spring launches")
    expect(page.get_by_test_id("owner")).to_have_text("tester")

    candidates = page.get_by_test_id("candidates")
    expect(candidates.locator('input[name="mission_ids"]')).to_have_count(3)
    page.check(f'input[name="mission_ids"][value="{gym}"]')
    page.check(f'input[name="mission_ids"][value="{bakery}"]')
    page.click('[data-control="add-missions"]')
    rows = page.locator('[data-testid="missions"] tbody tr')
    expect(rows).to_have_count(2)
    assert {rows.nth(i).get_attribute("data-mission-id") for i in range(2)} == {
        str(gym),
        str(bakery),
    }
    expect(page.locator('[data-figure="missions"] .tile__value')).to_have_text("2")
    tasks = int(page.locator('[data-figure="tasks"] .tile__value').inner_text())
    planned = page.locator('[data-testid="columns"] [data-column="planned"] strong')
    expect(planned).to_have_text(str(tasks))
    assert tasks > 0
    expect(page.get_by_test_id("budget")).to_contain_text("$0.00 spent of $12.50")
    expect(page.get_by_test_id("risk-count")).not_to_have_text("0")
    # Only the mission left out is still offered.
    expect(candidates.locator('input[name="mission_ids"]')).to_have_count(1)
    _fits(page)
    _shot(page, "epic", width)

    page.goto(f"{live_server.url}/epics")
    row = page.locator('tr[data-epic="Spring launches"]')
    expect(row).to_contain_text("30 Apr 2030")
    expect(row.get_by_test_id("spend")).to_contain_text("$0.00 of $12.50")
    _fits(page)
    _shot(page, "epics", width)

    page.goto(f"{live_server.url}/epics/{epic_id}")
    board = page.get_by_test_id("open-board")
    expect(board).to_have_attribute("href", f"/board?epic={epic_id}")
    board.click()
    expect(page).to_have_url(f"{live_server.url}/board?epic={epic_id}")
    expect(page.locator(".board__heading").first).to_be_visible()
    cards = page.locator(".board-card")
    expect(cards).to_have_count(tasks)
    shown = cards.evaluate_all("l => l.map(c => c.dataset.card)")
    assert {card.split(":", 1)[0] for card in shown} == {str(gym), str(bakery)}
    assert not page.locator(f'[data-card^="{outside}:"]').count()
    _fits(page)
    _shot(page, "board", width)


def test_an_archived_epic_is_read_only_until_restored(live_server: LiveServer, page: Page) -> None:
    seed(live_server.settings, _three_planned)
    epic_id = _make_epic(page, live_server)
    page.click('[data-control="archive-epic"]')
    expect(page.get_by_test_id("archived")).to_be_visible()
    expect(page.locator("#edit-epic, #add-missions")).to_have_count(0)
    page.goto(f"{live_server.url}/epics?state=archived")
    expect(page.locator(f'tr[data-epic-id="{epic_id}"]')).to_contain_text("Archived")
    page.goto(f"{live_server.url}/epics/{epic_id}")
    page.click('[data-control="restore-epic"]')
    expect(page.locator("#edit-epic")).to_be_visible()
    page.fill("#field-name", "Spring launches, renamed")
    page.click('[data-control="save-epic"]')
    expect(page.get_by_test_id("epic-name")).to_have_text("Spring launches, renamed")


async def _late_and_over_budget(ctx: ServiceContext) -> None:
    """An epic past its target date whose missions spent more than its budget, one on time and
    within budget, and one archived."""
    gym, bakery, hosting = await _three_planned(ctx)
    async with ctx.write() as session:  # what model calls would have cost: the page reads it
        for mission_id, micros in ((gym, 1_250_000), (bakery, 2_900), (hosting, 400_000)):
            mission = await session.get(Mission, mission_id)
            assert mission is not None
            mission.spent_micros = micros
    for body in (
        {"name": "Climbing gym relaunch", "target_date": "2021-05-01", "budget_usd": "1"},
        {"name": "Bakery sync", "target_date": "2031-01-15", "budget_usd": "0.01"},
        {"name": "Hosting status page", "description": "Kept for the record."},
    ):
        data = EpicCreate.model_validate(body)
        await epics.create_epic(ctx, data=data, actor="user:tester")
    listed = {epic.name: epic.id for epic in await epics.list_epics(ctx)}
    for name, mission_id in (("Climbing gym relaunch", gym), ("Bakery sync", bakery)):
        data = EpicMissions(mission_ids=[mission_id])
        await epics.add_missions(ctx, epic_id=listed[name], data=data, actor="user:tester")
    await epics.archive_epic(ctx, epic_id=listed["Hosting status page"], actor="user:tester")


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_the_list_marks_late_and_over_budget_epics_in_words(
    live_server: LiveServer, page: Page, width: int, height: int
) -> None:
    seed(live_server.settings, _late_and_over_budget)
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server.url}/epics")
    late = page.locator('tr[data-epic="Climbing gym relaunch"]')
    expect(late.get_by_test_id("late")).to_be_visible()
    expect(late.get_by_test_id("over-budget")).to_have_text("Over budget by $0.25")
    on_time = page.locator('tr[data-epic="Bakery sync"]')
    expect(on_time.get_by_test_id("late")).to_have_count(0)
    expect(on_time.get_by_test_id("spend")).to_contain_text("$0.0029 of $0.01")
    expect(page.locator('tr[data-epic="Hosting status page"]')).to_have_count(0)
    _fits(page)
    _shot(page, "epics-marked", width)
    page.click('[data-state="all"]')
    expect(page).to_have_url(f"{live_server.url}/epics?state=all")
    expect(page.locator('tr[data-epic="Hosting status page"]')).to_contain_text("Archived")
    page.click('a[href^="/epics/"] >> text=Climbing gym relaunch')
    expect(page.get_by_test_id("late")).to_be_visible()
    expect(page.get_by_test_id("over-budget")).to_have_text("Over budget")
    expect(page.get_by_test_id("budget")).to_contain_text("Over budget by $0.25")
    _fits(page)
    _shot(page, "epic-over-budget", width)
