"""The missions page in a real browser: the list, its filters, the form's validation, the layout."""

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

# One of the planner tests' goals (tests/planning/goals.txt).
GOAL = "Build a Slack bot that summarizes incident channels and files a postmortem draft"
SECOND_GOAL = (
    "Create a Python library for rate limiting with token buckets, async support and Redis backing"
)
# Chromium logs every 4xx answer to fetch() on the console, even the deliberate 422 of a form.
DELIBERATE_422 = re.compile(r"^console\.error: Failed to load resource: .*status of 422\b")


def test_the_list_shows_progress_cost_and_source_and_opens_a_mission(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    page.goto(f"{live_server.url}/")

    expect(page).to_have_url(f"{live_server.url}/missions")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Missions")
    expect(page.locator("#mission-count")).to_have_text("0")
    expect(page.get_by_text("No missions yet")).to_be_visible()
    expect(page.get_by_role("link", name="Missions")).to_have_attribute("aria-current", "page")
    screenshot("empty")

    for goal in (GOAL, SECOND_GOAL):  # a plain form post creates, plans and redirects (303)
        page.request.post(f"{live_server.url}/missions", form={"goal": goal, "budget_usd": "40"})
    page.goto(f"{live_server.url}/missions")

    row = page.locator("#mission-list tbody tr").first
    expect(row).to_contain_text("Create a Python library")
    expect(row).to_contain_text("Planned")
    expect(row).to_contain_text("$0.00")
    expect(row.locator("progress.meter")).to_have_attribute("value", "0")
    expect(row.locator(".source")).to_have_text("Local")
    expect(page.locator("#mission-count")).to_have_text("2")
    screenshot("two-missions")

    row.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/missions/[0-9a-f-]{36}$"))
    expect(page.locator("#mission-overview")).to_contain_text(SECOND_GOAL)


def test_an_empty_goal_shows_the_error_beside_the_goal_field(
    live_server: LiveServer,
    page: Page,
    screenshot: Callable[[str], Path],
    allowed_console_errors: list[re.Pattern[str]],
) -> None:
    allowed_console_errors.append(DELIBERATE_422)
    page.goto(f"{live_server.url}/missions")
    page.evaluate("window.__marker = 1")

    # Whitespace passes the browser's `required` check, so the server's validation answers.
    page.get_by_label("Goal").fill("   ")
    page.get_by_label("Title").fill("Keep this title")
    page.get_by_role("button", name="Create and plan").click()

    goal_field = page.locator('.field[data-field="goal"]')
    expect(goal_field).to_have_class("field field--invalid")
    expect(goal_field.locator(".field__error")).to_contain_text("Describe the goal")
    expect(page.get_by_label("Goal")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Goal")).to_be_focused()
    expect(page.get_by_role("alert")).to_contain_text("The mission was not created")
    expect(page.get_by_label("Title")).to_have_value("Keep this title")
    expect(page.get_by_text("No missions yet")).to_be_visible()
    expect(page.locator("#mission-count")).to_have_text("0")
    assert page.evaluate("window.__marker") == 1
    screenshot("goal-error")

    # Correcting the goal creates and plans the mission, and opens it without a reload.
    page.get_by_label("Goal").fill(GOAL)
    page.get_by_role("button", name="Create and plan").click()
    expect(page).to_have_url(re.compile(r"/missions/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Keep this title")
    expect(page.locator("#mission-status")).to_contain_text("Planned")
    assert page.evaluate("window.__marker") == 1


def test_search_and_status_filter_swap_only_the_list_and_push_the_url(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    for goal in (GOAL, SECOND_GOAL, "Train and deploy a churn prediction model"):
        page.request.post(f"{live_server.url}/missions", form={"goal": goal})
    page.goto(f"{live_server.url}/missions")
    expect(page.locator("#mission-list tbody tr")).to_have_count(3)
    page.evaluate("window.__marker = 1")

    page.get_by_label("Search missions").fill("churn")
    expect(page.locator("#mission-list tbody tr")).to_have_count(1)
    expect(page).to_have_url(f"{live_server.url}/missions?q=churn")
    expect(page.locator("#mission-count")).to_have_text("1")
    screenshot("search")

    page.get_by_label("Status").select_option("running")
    expect(page.get_by_text("No missions match")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/missions\?(?=.*\bq=churn\b)(?=.*\bstatus=running\b)"))
    assert parse_qs(urlsplit(page.url).query) == {"q": ["churn"], "status": ["running"]}

    page.get_by_label("Search missions").fill("")
    expect(page).to_have_url(f"{live_server.url}/missions?status=running")
    page.get_by_label("Status").select_option("")
    expect(page.locator("#mission-list tbody tr")).to_have_count(3)
    expect(page).to_have_url(f"{live_server.url}/missions")
    assert page.evaluate("window.__marker") == 1

    # Back restores the previous filter state: htmx asks for the whole page and swaps the body.
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/missions?status=running")
    expect(page.get_by_text("No missions match")).to_be_visible()
    expect(page.get_by_label("Status")).to_have_value("running")

    # The filtered address is shareable: loading it gives the same list.
    page.goto(f"{live_server.url}/missions?q=churn")
    expect(page.locator("#mission-list tbody tr")).to_have_count(1)
    expect(page.get_by_label("Search missions")).to_have_value("churn")


def test_layout_fits_1024_pixels_and_follows_a_dark_colour_scheme(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    for goal in (GOAL, SECOND_GOAL):  # a plain form post: 303 back to the list
        page.request.post(f"{live_server.url}/missions", form={"goal": goal, "budget_usd": "12.5"})
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live_server.url}/missions")

    expect(page.locator("#mission-list tbody tr")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    screenshot("1024")

    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.emulate_media(color_scheme="dark")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != light
    page.set_viewport_size({"width": 1440, "height": 900})
    screenshot("dark")
