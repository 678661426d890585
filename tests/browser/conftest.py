"""Browser fixtures: Debian's Chromium driven by Playwright (never a downloaded browser).

Each test gets a fresh browser context at 1440x900; console errors and page errors are collected
and the test fails if any appeared. A test that provokes one on purpose names it in
``allowed_console_errors`` (Chromium logs every 4xx response, even a deliberate 422, as
"Failed to load resource"). ``screenshot(name)`` saves a full-page PNG under
``test-results/screenshots/``.
"""

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
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


@pytest.fixture
def page(browser: Browser, allowed_console_errors: list[re.Pattern[str]]) -> Iterator[Page]:
    """A fresh 1440x900 page; fails the test on any console or page error it did not allow."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
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
        path = SCREENSHOT_DIR / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
