"""Browser fixtures: Debian's Chromium driven by Playwright (never a downloaded browser).

Each test gets a fresh browser context at 1440x900; console errors and page errors are collected
and the test fails if any appeared. A test that provokes one on purpose names it in
``allowed_console_errors`` (Chromium logs every 4xx response, even a deliberate 422, as
"Failed to load resource"). ``screenshot(name)`` saves a full-page PNG under
``test-results/screenshots/``. ``seed`` prepares data in the live server's database and
``restart`` replaces a live server by a new one on the same data.
"""

import asyncio
import re
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from missionctl.services import ServiceContext, open_context
from missionctl.settings import Settings
from tests.conftest import LiveServer

CHROMIUM = "/usr/bin/chromium"
# How long an expectation waits by default. Playwright's five seconds is for a quiet machine; the
# suite runs a browser, a live server and other tests on two cores, where an answer has taken
# longer. A passing expectation still returns as soon as it holds.
expect.set_options(timeout=15_000)
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
# Without these, Chromium tries to reach the network at start-up and logs errors.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Module scope, not session: while sync Playwright is running, its event loop stays registered as
# the thread's running loop between calls, so every later test that calls asyncio.run() (the CLI
# tests, for one) would fail with "cannot be called from a running event loop".
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing; `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def allowed_console_errors() -> list[re.Pattern[str]]:
    """Patterns of console errors this test expects; append to it. Empty: every error fails."""
    return []


def sign_in(page: Page, server: LiveServer, user: str = "tester") -> None:
    """Sign ``page`` in as ``user`` with a one-time link, and let ``page.request`` posts carry
    the session's CSRF token (as htmx does) so that tests can prepare data through the forms.

    In a browser where someone is signed in already, the link asks first; this answers yes.
    """
    page.goto(server.sign_in_url(user))
    switch = page.locator('[data-testid="switch-form"]')
    if switch.count():  # someone is signed in here: a link asks before it switches accounts
        switch.locator('[data-control="switch"]').click()
        page.wait_for_load_state()
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token, "a signed-in page carries the session's CSRF token"
    page.context.set_extra_http_headers({"X-CSRF-Token": token})


@pytest.fixture
def signed_in() -> bool:
    """Whether ``page`` starts signed in as the admin ``tester`` (when the test serves one)."""
    return True


@pytest.fixture
def page(
    browser: Browser,
    allowed_console_errors: list[re.Pattern[str]],
    signed_in: bool,
    request: pytest.FixtureRequest,
) -> Iterator[Page]:
    """A fresh 1440x900 page; fails the test on any console or page error it did not allow.

    When the test uses ``live_server`` (and ``signed_in`` is true) the page starts signed in.
    """
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    if signed_in and "live_server" in request.fixturenames:
        sign_in(page, request.getfixturevalue("live_server"))
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    yield page
    context.close()
    problems = [p for p in problems if not any(a.search(p) for a in allowed_console_errors)]
    assert not problems, "browser reported errors:\n" + "\n".join(problems)


@pytest.fixture
def screenshot(page: Page, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """Save a full-page screenshot named after the test and ``name``."""

    def take(name: str) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")  # sticky parts then sit where a reader sees them
        path = SCREENSHOT_DIR / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


T = TypeVar("T")


def seed(settings: Settings, work: Callable[[ServiceContext], Awaitable[T]]) -> T:
    """Run ``work(ctx)`` against the live server's database and return its result.

    On a thread of its own with its own event loop: while sync Playwright runs, this thread's
    loop is Playwright's and ``asyncio.run`` cannot be called here. What ``work`` appends is not
    published to the server's streams; they read it from the database within a second.
    """
    results: list[T] = []
    errors: list[BaseException] = []

    async def main() -> None:
        async with open_context(settings, upgrade=False) as ctx:
            results.append(await work(ctx))

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # handed to the test's thread below
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results[0]


def restart(server: LiveServer) -> LiveServer:
    """Stop ``server`` and start a new one on the same settings (same home, same database)."""
    server.stop()
    fresh = LiveServer(server.settings)
    fresh.start()
    return fresh
