"""What a person sees: mission sections laid out as lists, and the goal's length limit shown."""

import itertools
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from missionctl.services import ServiceContext
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.web.support import planned_mission

pytestmark = pytest.mark.browser

GOAL = "Build a URL shortener with click analytics and custom aliases using FastAPI and PostgreSQL"

# The bounding box and the ::before content of every element the locator matches.
BOXES = """(items) => items.map((el) => {
  const box = el.getBoundingClientRect();
  return {top: box.top, bottom: box.bottom, height: box.height,
          spill: el.scrollHeight - el.clientHeight,
          before: getComputedStyle(el, "::before").content};
})"""


async def _planned(ctx: ServiceContext) -> uuid.UUID:
    return (await planned_mission(ctx, GOAL)).id


def assert_stacked_list(items: Locator, least: int) -> None:
    """Each item is a block of its own below the previous one, with no pseudo-content."""
    boxes = items.evaluate_all(BOXES)
    assert len(boxes) >= least
    for box in boxes:
        assert box["before"] in ("none", "normal"), box
        assert box["height"] > 24, box  # more than a one-line pill
        assert box["spill"] <= 1, box  # its text stays inside it, over nothing else
    for above, below in itertools.pairwise(boxes):
        assert below["top"] >= above["bottom"] - 0.5, (above, below)


def test_risk_radar_and_decision_log_items_are_readable_lists(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    mission_id = seed(live_server.settings, _planned)
    page.goto(f"{live_server.url}/missions/{mission_id}")

    risks = page.locator("#risk-radar li.risk")
    decisions = page.locator("#decision-log li.decision")
    expect(risks.first).to_be_visible()
    expect(decisions.first).to_be_visible()
    assert_stacked_list(risks, 2)
    assert_stacked_list(decisions, 1)
    assert "Risk:" not in page.locator("#risk-radar").inner_text()
    screenshot("sections")


def test_the_goal_field_counts_towards_its_limit(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    page.goto(f"{live_server.url}/missions")
    counter = page.locator("#field-goal-counter")
    expect(counter).to_have_text("0 / 4,000")
    expect(counter).to_be_visible()

    page.get_by_label("Goal").press_sequentially("Build a shortener")
    expect(counter).to_have_text("17 / 4,000")
    expect(counter).not_to_have_class("field__counter field__counter--near")

    page.get_by_label("Goal").fill("x" * 3_700)
    page.get_by_label("Goal").press("End")
    page.get_by_label("Goal").press_sequentially("y")
    expect(counter).to_have_text("3,701 / 4,000")
    expect(counter).to_have_class("field__counter field__counter--near")

    page.get_by_label("Goal").fill("")  # a 100,000-character paste is cut at the limit
    page.get_by_label("Goal").focus()
    page.keyboard.insert_text("z" * 100_000)
    expect(counter).to_have_text("4,000 / 4,000 · limit reached")
    expect(counter).to_have_class("field__counter field__counter--full")
    assert page.get_by_label("Goal").input_value() == "z" * 4_000
    screenshot("goal-limit")
