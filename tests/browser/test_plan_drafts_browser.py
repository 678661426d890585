"""Planning with a model in a real browser: the draft fills in live, then the plan replaces it.

The scripted Chat Completions server writes the plan slowly (small pieces, a pause between
them), so the mission page shows "Drafting the plan…" with its phases and tasks while the
mission is still planning; the page is never reloaded.
"""

import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pydantic import SecretStr

from missionctl.demo.chat_server import RecordedRequest, ScriptedChatServer
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases.missions import create_mission
from missionctl.settings import LLMSettings, Settings
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.e2e.test_llm_mission import GOAL, plan_json

pytestmark = pytest.mark.browser

MODEL = "drafting-model"
HOSTILE = '<img src=x onerror="window.__pwned=1">'  # a title that must show as text


@pytest.fixture
def chat() -> Iterator[ScriptedChatServer]:
    """A model that writes the plan of GOAL in 60-character pieces, 100 ms apart."""

    def script(request: RecordedRequest) -> str:
        plan = json.loads(plan_json())
        plan["tasks"][0]["title"] = f"Scope the shortener {HOSTILE}"
        return json.dumps(plan, indent=1)

    # About twenty-three seconds of writing: the draft must outlast the test's screenshots and
    # layout checks at two widths, which a loaded machine (the whole suite beside it) has taken
    # more than fourteen for.
    with ScriptedChatServer(script, chunk_chars=60, chunk_delay_s=0.1) as server:
        yield server


@pytest.fixture
def live_server(sqlite_settings: Settings, chat: ScriptedChatServer) -> Iterator[LiveServer]:
    """The app over real HTTP, planning with the scripted model."""
    llm = LLMSettings(base_url=chat.base_url, api_key=SecretStr("unused-key"), model=MODEL)
    server = LiveServer(sqlite_settings.model_copy(update={"llm": llm}))
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _draft_mission(ctx: ServiceContext) -> uuid.UUID:
    mission = await create_mission(ctx, data=MissionCreate(goal=GOAL), actor="user:tester")
    return mission.id


def test_the_draft_fills_in_while_the_model_writes_then_the_plan_replaces_it(
    live_server: LiveServer,
    chat: ScriptedChatServer,
    page: Page,
    screenshot: Callable[[str], Path],
) -> None:
    mission_id = seed(live_server.settings, _draft_mission)
    page.goto(f"{live_server.url}/missions/{mission_id}")
    page.evaluate("window.__marker = 1")  # survives only if the page is never reloaded
    page.locator('[data-control="plan"]').click()

    draft = page.get_by_test_id("plan-draft")
    expect(draft).to_contain_text("Drafting the plan…")
    tasks = page.get_by_test_id("plan-draft-tasks").locator("li")
    expect(tasks.first).to_be_visible(timeout=20_000)
    # A task shows while the plan is not final: no plan version yet, the mission still planning.
    expect(page.get_by_test_id("plan-version-link")).to_have_count(0)
    expect(page.locator("#mission-status")).to_contain_text("Planning")
    expect(page.get_by_test_id("plan-draft-phases").locator("li").first).to_be_visible()
    expect(tasks.first).to_contain_text(HOSTILE)  # escaped: shown as text, never run
    assert page.evaluate("window.__pwned") is None
    expect(tasks.nth(1)).to_be_visible(timeout=20_000)
    screenshot("drafting-1440")
    _fits(page)

    page.set_viewport_size({"width": 390, "height": 844})
    expect(tasks.nth(3)).to_be_visible(timeout=20_000)
    expect(page.get_by_test_id("plan-version-link")).to_have_count(0)
    screenshot("drafting-390")
    _fits(page)

    # The plan replaces the draft, through the stream, on the same page.
    expect(page.get_by_test_id("plan-version-link")).to_have_text("Plan v1", timeout=30_000)
    expect(page.get_by_test_id("plan-draft")).to_have_count(0)
    expect(page.locator("#mission-status")).to_contain_text("Planned")
    expect(page.locator("#task-timeline .task-card")).to_have_count(len(_keys()))
    expect(page.locator("#audit-list")).to_contain_text(re.compile(r"Drafted task \d+"))
    assert page.evaluate("window.__marker") == 1
    assert chat.errors == [] and len(chat.chat_requests) == 1
    screenshot("planned-390")


def _keys() -> list[str]:
    return [task["key"] for task in json.loads(plan_json())["tasks"]]


def _fits(page: Page) -> None:
    """The page does not scroll sideways: the panel fits the viewport."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls {overflow} px sideways"
    box = page.get_by_test_id("plan-draft").bounding_box()
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
