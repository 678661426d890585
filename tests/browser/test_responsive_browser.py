"""Every main page on a phone (390 x 844) in Chromium, on the demo history: no page scrolls
sideways, the sidebar is a menu that opens and closes (by pointer and by keyboard) and reaches
every link, the health strip keeps one line, and long titles and names wrap instead of widening
the page. At 1440 px the sidebar is the column it always was.

The pages are those the sidebar links to (read from the page, so a new entry is covered), plus a
mission page, a run page, an artifact page and the workflow editor.
"""

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from missionctl.services import ServiceContext
from missionctl.services.usecases.artifacts import NewArtifact, add_artifacts, put_blobs
from missionctl.settings import Settings
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.support.demo import SEEDING
from tests.web.support import planned_mission

pytestmark = [pytest.mark.browser, SEEDING]

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1440, "height": 900}
LONG_WORD = "invoicing-reminders-service-for-freelancers-and-small-agencies"
GOAL = f"Build {LONG_WORD} with PDF export, payment reminders and a dashboard of unpaid invoices"
ARTIFACT_NAME = f"{LONG_WORD}-architecture-overview.md"
DOCUMENT = """# Architecture overview

| Component | Technology | Column |
| --- | --- | --- |
| Web client | TypeScript single-page application | Clients |
| Application server | Python with FastAPI and SQLAlchemy | Services |
| Database | PostgreSQL | Data |
"""
# What sticks out past the right edge of the window, for the failure message.
SPILL = """() => [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 8).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
        + (typeof el.className === 'string' && el.className ? '.' + el.className : ''))"""


@pytest.fixture
def live_server(demo_settings: Settings) -> Iterator[LiveServer]:
    """The app served over real HTTP on a copy of the demo history."""
    server = LiveServer(demo_settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _mission_with_artifact(ctx: ServiceContext) -> tuple[uuid.UUID, uuid.UUID]:
    """A planned mission whose title holds a long word, and a Markdown artifact of it."""
    mission = await planned_mission(ctx, GOAL)
    new = NewArtifact(
        name=ARTIFACT_NAME, kind="markdown", media_type="text/markdown", content=DOCUMENT.encode()
    )
    [blob] = await put_blobs(ctx, [new])
    async with ctx.write() as session:
        [artifact] = await add_artifacts(
            session, stored=[(new, blob)], run_id=None, mission_id=mission.id
        )
    return mission.id, artifact.id


def _open(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")


def _fits(page: Page, path: str) -> None:
    """The page is no wider than the window."""
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert width <= inner, (path, width, page.evaluate(SPILL))


def _sidebar_paths(page: Page) -> list[str]:
    links = page.locator("#sidebar-menu a.nav__link")
    paths: list[str] = links.evaluate_all("els => els.map(a => a.getAttribute('href'))")
    return paths


def test_every_main_page_fits_a_phone(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    mission_id, artifact_id = seed(live_server.settings, _mission_with_artifact)
    page.set_viewport_size(PHONE)
    _open(page, f"{live_server.url}/runs")
    run_path = page.locator('a[href^="/runs/"]').first.get_attribute("href")
    assert run_path and re.fullmatch(r"/runs/[0-9a-f-]{36}", run_path)
    paths = [
        *_sidebar_paths(page),
        f"/missions/{mission_id}",
        run_path,
        f"/artifacts/{artifact_id}",
        "/workflows/new",
    ]
    assert {"/missions", "/runs", "/costs", "/insights"} <= set(paths)

    for path in paths:
        _open(page, live_server.url + path)
        _fits(page, path)
        strip = page.locator("#health-strip").bounding_box()
        assert strip and strip["height"] < 40, (path, strip)  # one line, not a column
        bar = page.locator(".sidebar").bounding_box()
        assert bar and bar["height"] < 70, (path, bar)  # a bar, even above a short page

    _open(page, f"{live_server.url}/missions/{mission_id}")
    title = page.locator("h1.page-header__title").bounding_box()
    assert title and title["width"] > 300  # the title has the page's width, not a word's
    screenshot("mission")
    _open(page, f"{live_server.url}/artifacts/{artifact_id}")
    heads = page.locator(".prose th").evaluate_all(
        "els => els.map(th => th.scrollWidth - th.clientWidth)"
    )
    assert heads and max(heads) <= 0  # a header never breaks inside its word
    screenshot("artifact")


def test_the_sidebar_is_a_menu_on_a_phone(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    page.set_viewport_size(PHONE)
    _open(page, f"{live_server.url}/missions")
    toggle = page.locator("[data-menu-toggle]")
    menu = page.locator("#sidebar-menu")
    links = menu.locator("a.nav__link")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(links.first).to_be_hidden()

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    assert links.count() >= 12
    for link in links.all():  # each is reachable: scrolled to within the menu, inside the window
        link.scroll_into_view_if_needed()
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    _fits(page, "/missions with the menu open")
    screenshot("menu-open")

    page.keyboard.press("Escape")  # closes, and the focus goes back to the button
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(links.first).to_be_hidden()
    expect(toggle).to_be_focused()

    page.keyboard.press("Enter")  # the keyboard opens it, and Tab walks into it
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    assert page.evaluate("document.getElementById('sidebar-menu').contains(document.activeElement)")

    menu.locator('a.nav__link[href="/runs"]').click()  # a choice navigates, the menu is shut
    expect(page).to_have_url(re.compile(r"/runs$"))
    page.wait_for_load_state("load")
    expect(page.locator("[data-menu-toggle]")).to_have_attribute("aria-expanded", "false")

    page.locator("[data-menu-toggle]").click()
    expect(page.locator("[data-menu-toggle]")).to_have_attribute("aria-expanded", "true")
    page.mouse.click(PHONE["width"] // 2, PHONE["height"] - 10)  # outside it: it closes too
    expect(page.locator("[data-menu-toggle]")).to_have_attribute("aria-expanded", "false")


def test_the_sidebar_stays_a_column_on_a_wide_screen(live_server: LiveServer, page: Page) -> None:
    page.set_viewport_size(WIDE)
    _open(page, f"{live_server.url}/missions")
    expect(page.locator("[data-menu-toggle]")).to_be_hidden()
    expect(page.locator('#sidebar-menu a.nav__link[href="/runs"]')).to_be_visible()
    sidebar = page.locator(".sidebar").bounding_box()
    assert sidebar and sidebar["width"] == 232 and sidebar["height"] >= WIDE["height"]
    _fits(page, "/missions")
