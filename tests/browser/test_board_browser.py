"""The task board in a real browser: every column at 1440 and 390 px wide, filters kept in the
URL, cards that move to Done live as the server's engine runs their steps (no reload), and the
keys that move between cards, whose focus stays on its card through a live update."""

import os
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from missionctl.services import ServiceContext
from missionctl.services.usecases.plans import run_mission
from missionctl.services.usecases.runs import cancel_run
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.engine.helpers import wait_for_step
from tests.web.support import planned_mission, start_steps

pytestmark = pytest.mark.browser

# Screenshots are for a person to look at, outside the repository.
SHOTS = Path(os.environ.get("MISSIONCTL_BOARD_SHOTS", "/tmp/board-screenshots"))
GOAL = "A volunteer rota for a food bank with shift swaps and SMS reminders"
COLUMNS = [
    "Planned",
    "Queued",
    "Running",
    "Awaiting approval",
    "Blocked",
    "Failed",
    "Canceled or skipped",
    "Done",
]


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
    if width < 1440:
        assert page.locator("#board").evaluate("b => b.scrollWidth > b.clientWidth")
    # No label wraps: every heading is one line high, "Canceled or skipped" too.
    heights = headings.evaluate_all("hs => hs.map(h => Math.round(h.offsetHeight))")
    assert len(set(heights)) == 1, heights
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


BUSY_GOAL = "A booking page for a village hall with a deposit and a key-holder rota"
# A run with a card in every column but two (awaiting approval, blocked stay empty).
STEPS = [
    {"id": "first", "agent": "builtin:noop"},
    {"id": "second", "agent": "builtin:noop"},
    {"id": "third", "agent": "builtin:noop"},
    {"id": "broken", "agent": "builtin:fail", "inputs": {"retryable": False}},
    {"id": "never", "agent": "builtin:noop", "depends_on": ["first"], "when": "false"},
    {"id": "wait", "agent": "builtin:sleep", "inputs": {"seconds": 60}},
    {"id": "later", "agent": "builtin:noop", "depends_on": ["wait"]},
    {"id": "later2", "agent": "builtin:noop", "depends_on": ["wait"]},
]
SETTLED = {
    "first": "succeeded",
    "second": "succeeded",
    "third": "succeeded",
    "broken": "failed",
    "never": "skipped",
    "wait": "running",
}


async def _every_state(ctx: ServiceContext) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A planned mission, and a newer one whose run has ended its steps every way but one is
    still running; their ids and the run's."""
    planned = await planned_mission(ctx, GOAL)
    busy = await planned_mission(ctx, BUSY_GOAL)
    run = await start_steps(ctx, busy.id, STEPS)
    for step_id, status in SETTLED.items():
        await wait_for_step(ctx, run.id, step_id, status, within_s=45)
    return planned.id, busy.id, run.id


def _press(page: Page, keys: list[tuple[str, Locator]]) -> None:
    """Press each key in turn, and check that the focus is then on its card."""
    for key, card in keys:
        page.keyboard.press(key)
        expect(card, f"after {key}").to_be_focused()


def _card(page: Page, mission: uuid.UUID, key: str) -> Locator:
    return page.locator(f'[data-card="{mission}:{key}"]')


def _open_board(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/board")
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))


def test_the_keys_move_between_cards_and_the_board_is_one_tab_stop(
    live_server: LiveServer, page: Page
) -> None:
    planned, busy, _ = seed(live_server.settings, _every_state)
    _open_board(page, live_server)
    column = page.locator("[data-column=planned] .board-card")
    shown = column.evaluate_all("cards => cards.map(c => c.dataset.card)")
    tasks = [_card(page, planned, str(key).split(":", 1)[1]) for key in shown]
    assert len(tasks) > 5

    def card(key: str) -> Locator:
        return _card(page, busy, key)

    # One stop: a single card in the tab order; Tab from the filters lands on it.
    expect(page.locator('#board [tabindex="0"]')).to_have_count(1)
    others = column.count() + len(STEPS) - 1
    expect(page.locator('.board-card[tabindex="-1"]')).to_have_count(others)
    page.locator("#filter-outcome").focus()
    _press(page, [("Tab", tasks[0])])

    # Up and down a column, its ends, and no further than its top.
    _press(page, [("ArrowDown", tasks[1]), ("j", tasks[2]), ("k", tasks[1])])
    _press(page, [("End", tasks[-1]), ("Home", tasks[0]), ("ArrowUp", tasks[0])])
    # Sideways: the card at the same place, or the last one of a shorter column.
    _press(page, [("j", tasks[1]), ("ArrowRight", card("later2")), ("ArrowLeft", tasks[1])])
    _press(page, [("End", tasks[-1]), ("l", card("later2")), ("k", card("later"))])
    # Empty columns (awaiting approval, blocked) are passed over; the right edge holds.
    _press(page, [("l", card("wait")), ("ArrowRight", card("broken")), ("l", card("never"))])
    _press(page, [("ArrowRight", card("first")), ("l", card("first")), ("End", card("third"))])
    _press(page, [("h", card("never"))])

    # Tab leaves the board after the card's own mission link (its title is Enter's), and
    # Shift+Tab comes back to that card, not to the first.
    mission_link = card("never").locator(".board-card__mission")
    _press(page, [("Tab", mission_link)])
    page.keyboard.press("Tab")
    assert page.evaluate("!document.getElementById('board').contains(document.activeElement)")
    _press(page, [("Shift+Tab", mission_link), ("Shift+Tab", card("never"))])

    # Keys typed in a field are the field's, even in a card.
    page.evaluate(
        """() => {
            const field = document.createElement("input");
            field.id = "typed";
            document.querySelector('[data-card$=":never"]').append(field);
        }"""
    )
    page.locator("#typed").focus()
    page.keyboard.type("jk")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#typed")).to_be_focused()
    expect(page.locator("#typed")).to_have_value("jk")


def test_the_focus_stays_on_its_card_when_it_moves_live_and_enter_opens_it(
    live_server: LiveServer, page: Page
) -> None:
    _, busy, run_id = seed(live_server.settings, _every_state)
    _open_board(page, live_server)

    def card(key: str) -> Locator:
        return _card(page, busy, key)

    card("wait").focus()
    page.evaluate("window.__marker = 1; document.activeElement.dataset.old = 'yes'")

    async def cancel(ctx: ServiceContext) -> None:
        await cancel_run(ctx, run_id=run_id, actor="user:cli")

    # Its run canceled, the running card moves to another column: the focus follows it there,
    # on the new element the stream sent, without a reload.
    seed(live_server.settings, cancel)
    moved = page.locator(f'[data-column=canceled] [data-card="{busy}:wait"]')
    expect(moved).to_be_focused(timeout=30_000)
    assert page.evaluate("!('old' in document.activeElement.dataset)"), "not re-rendered"
    assert page.evaluate("window.__marker") == 1, "the board reloaded instead of updating live"
    expect(page.locator('#board [tabindex="0"]')).to_have_count(1)
    _press(page, [("ArrowDown", card("later")), ("ArrowUp", card("wait"))])
    # The card's column shows whole: the board scrolled sideways to it, snapped to a column.
    assert card("wait").evaluate(
        """c => {
            const b = document.getElementById("board").getBoundingClientRect();
            const r = c.closest("[data-column]").getBoundingClientRect();
            return r.left >= b.left - 1 && r.right <= b.right + 1;
        }"""
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "board-keys-1440.png"))

    # Enter opens the card's page.
    _press(page, [("ArrowRight", card("second"))])
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/runs/{run_id}/steps/second")
