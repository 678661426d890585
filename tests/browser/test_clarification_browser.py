"""A vague goal in a real browser: the planner's questions, answered on the page, make the plan."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

SALON = "Build a web app where salon clients book haircut appointments and pay a deposit"


def test_a_vague_mission_asks_and_the_answers_on_the_page_plan_it(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    page.goto(f"{live_server.url}/missions")
    page.get_by_label("Goal").fill("Build a thing.")
    page.get_by_role("button", name="Create and plan").click()

    expect(page).to_have_url(re.compile(r"/missions/[0-9a-f-]{36}$"))
    expect(page.locator("#mission-status")).to_contain_text("Needs answers")
    questions = page.get_by_test_id("planner-questions")
    expect(questions).to_contain_text("The planner has questions before it can plan")
    expect(questions.locator("textarea")).to_have_count(4)
    expect(page.locator("#final-summary")).to_contain_text("waits for answers")
    screenshot("questions")

    questions.get_by_label("What should it do?").fill(SALON)
    questions.get_by_label("What kind of software is it").fill("A web app")
    questions.get_by_role("button", name="Answer and plan").click()

    # The page changes through its live stream: the questions go, the plan comes.
    expect(page.locator("#mission-status")).to_contain_text("Planned", timeout=15_000)
    expect(page.get_by_test_id("planner-questions")).to_have_count(0)
    expect(page.get_by_test_id("plan-version-link")).to_have_text("Plan v1")
    expect(page.get_by_test_id("planner-answers")).to_contain_text(SALON)
    expect(page.locator("#task-timeline")).to_contain_text("haircut appointments")
    expect(page.locator("#toasts")).to_contain_text("Plan v1 ready")
    screenshot("planned")

    page.goto(f"{live_server.url}/missions")
    expect(page.locator("#mission-list tbody tr").first).to_contain_text("Planned")
