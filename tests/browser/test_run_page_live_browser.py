"""A run page left open while its run executes: the timeline and the cost section follow the run
without a reload, and end as a fresh page shows them.

The run: a sleep, then a model step (through the scripted OpenAI-protocol server, its reply
held back a moment so the page shows it running), then another sleep, so the run is still
executing when the model step's usage is recorded.
"""

import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pydantic import SecretStr

from missionctl.services import ServiceContext
from missionctl.settings import LLMSettings, Settings
from tests.browser.conftest import seed
from tests.conftest import LiveServer, postgres_base_url
from tests.support.openai_server import Content, Delay, ScriptedOpenAIServer, Usage
from tests.web.support import start_steps, wait_for_run

pytestmark = pytest.mark.browser

MODEL = "gpt-4o-mini"  # priced by default: its tokens cost something
REPLY = '{"summary": "Wrote it", "artifacts": [], "log": [], "risks": [], "next_steps": []}'
TIMEOUT_MS = 30_000
STEPS = [
    {"id": "prepare", "agent": "builtin:sleep", "inputs": {"seconds": 3}},
    {
        "id": "write",
        "agent": "llm:writer",
        "depends_on": ["prepare"],
        "inputs": {"title": "Write the release notes"},
    },
    {"id": "verify", "agent": "builtin:sleep", "depends_on": ["write"], "inputs": {"seconds": 5}},
]
# The page's own copy of a section, as the browser holds it (what a person sees).
HTML = "(selector) => document.querySelector(selector).outerHTML"


@pytest.fixture(scope="module", autouse=True)
def migrated_templates(request: pytest.FixtureRequest) -> None:
    """The databases' migrated templates, made before Playwright starts: making one runs an
    event loop, which cannot start in a thread where Playwright's is running."""
    request.getfixturevalue("sqlite_template")
    if postgres_base_url() is not None:
        request.getfixturevalue("postgres_template")


@pytest.fixture
def live_server(settings: Settings, openai_server: ScriptedOpenAIServer) -> Iterator[LiveServer]:
    """The app over real HTTP on each database, its model steps answered by the scripted server."""
    llm = LLMSettings(
        base_url=openai_server.base_url, api_key=SecretStr("sk-browser"), model=MODEL, timeout_s=30
    )
    server = LiveServer(settings.model_copy(update={"llm": llm}))
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _preparing(ctx: ServiceContext) -> uuid.UUID:
    run = await start_steps(ctx, None, STEPS)
    await wait_for_run(ctx, run.id, lambda r: r.steps[0].status == "running")
    return run.id


def _took(page: Page, step: str) -> str:
    return page.locator(f'#run-timeline [data-step="{step}"] .chart__value').text_content() or ""


def test_the_timeline_and_costs_follow_a_running_run_without_a_reload(
    live_server: LiveServer,
    openai_server: ScriptedOpenAIServer,
    page: Page,
    screenshot: Callable[[str], Path],
) -> None:
    usage = Usage(prompt_tokens=300_000, completion_tokens=70_000)  # cents at its price
    openai_server.push(Delay(1, then=Content(REPLY, usage=usage)))
    run_id = seed(live_server.settings, _preparing)
    page.goto(f"{live_server.url}/runs/{run_id}")
    expect(page.locator("#live")).to_have_class(re.compile("live--connected"))
    page.evaluate("window.notReloaded = true")  # gone if anything reloads the page

    timeline = page.get_by_test_id("run-timeline")
    rows = timeline.locator("g.chart__row")
    expect(rows).to_have_count(1)
    expect(timeline.locator('[data-step="prepare"] .chart__span--running')).to_be_visible()
    # No event comes while it sleeps, yet its bar is drawn to now as time passes.
    first = _took(page, "prepare")
    expect(timeline.locator('[data-step="prepare"] .chart__value')).not_to_have_text(first)
    total = page.get_by_test_id("run-cost-total")
    spent_before = total.inner_text()

    # The sleep ends (its bar stops and turns green) and the model step's bar appears.
    expect(rows).to_have_count(2, timeout=TIMEOUT_MS)
    expect(timeline.locator('[data-step="prepare"] .chart__span--succeeded')).to_be_visible()
    expect(timeline.locator('[data-step="write"] .chart__span--running')).to_be_visible()

    # The model step ends with usage: the cost section counts it while the run goes on.
    writer = page.locator('#run-cost [data-testid="run-cost-agent"] tr[data-key="llm:writer"]')
    expect(writer).to_contain_text("300k / 70k", timeout=TIMEOUT_MS)
    expect(total).not_to_have_text(spent_before)
    expect(page.locator("#run-cost [data-testid=cost-by-model]")).to_contain_text(MODEL)
    expect(page.get_by_test_id("cost-by-agent").locator("rect.chart__bar")).to_have_count(2)
    expect(page.locator("#run-status")).to_contain_text("Running")
    expect(rows).to_have_count(3)
    screenshot("running")

    # The run ends: the sections are what a fresh page shows, and the page was never reloaded.
    expect(page.locator("#run-status")).to_contain_text("Completed", timeout=TIMEOUT_MS)
    expect(timeline.locator(".chart__span--succeeded")).to_have_count(3)
    fresh = page.context.new_page()
    fresh.goto(f"{live_server.url}/runs/{run_id}")
    for section in ("#run-cost", "#run-timeline"):
        _same_soon(page, fresh, section)
    assert page.evaluate("window.notReloaded") is True
    screenshot("completed")


def _same_soon(live: Page, fresh: Page, selector: str, within_s: float = 5) -> None:
    """Assert that ``selector`` on the live page becomes what the fresh page shows.

    The last state may come up to half a second after the last event (the rate bound).
    """
    want = fresh.evaluate(HTML, selector)
    deadline = time.monotonic() + within_s
    while (got := live.evaluate(HTML, selector)) != want and time.monotonic() < deadline:
        live.wait_for_timeout(100)
    assert got == want, selector
