"""Routing in the browser: a routed step's page says where it ran and why, and the Costs page
what routing saved, after a real run on the scripted OpenAI-protocol server."""

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pydantic import SecretStr

from missionctl.schemas.routing import CatalogueChange
from missionctl.services import ServiceContext
from missionctl.services.usecases.model_catalogue import change_model
from missionctl.settings import LLMSettings, Settings
from tests.browser.conftest import seed
from tests.conftest import LiveServer, postgres_base_url
from tests.e2e.test_llm_mission import answer_mission_call
from tests.support.openai_server import ScriptedOpenAIServer
from tests.web.support import start_steps, wait_for_run

pytestmark = pytest.mark.browser

STEPS = [
    {"id": "design", "agent": "llm:architect", "estimate_tokens": 20_000},
    {"id": "notes", "agent": "llm:writer", "depends_on": ["design"], "estimate_tokens": 20_000},
]


@pytest.fixture(scope="module", autouse=True)
def migrated_templates(request: pytest.FixtureRequest) -> None:
    """The databases' migrated templates, made before Playwright starts its own loop."""
    request.getfixturevalue("sqlite_template")
    if postgres_base_url() is not None:
        request.getfixturevalue("postgres_template")


@pytest.fixture
def live_server(settings: Settings, openai_server: ScriptedOpenAIServer) -> Iterator[LiveServer]:
    """The app over real HTTP, its model gpt-4o, its model steps answered by the script."""
    openai_server.default_handler = answer_mission_call
    llm = LLMSettings(
        base_url=openai_server.base_url, api_key=SecretStr("sk-browser"), model="gpt-4o"
    )
    server = LiveServer(settings.model_copy(update={"llm": llm}))
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _routed_run(ctx: ServiceContext) -> uuid.UUID:
    change = CatalogueChange(routable=True, tier=1)
    await change_model(ctx, model="gpt-4o-mini", change=change, actor="user:tester")
    run = await start_steps(ctx, None, STEPS)
    done = await wait_for_run(ctx, run.id)
    assert done.status == "completed", [(s.step_id, s.error) for s in done.steps]
    return run.id


def test_a_routed_step_says_where_it_ran_and_the_costs_page_what_it_saved(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    run_id = seed(live_server.settings, _routed_run)
    page.goto(f"{live_server.url}/runs/{run_id}/steps/notes")
    route = page.get_by_test_id("step-route")
    expect(route).to_contain_text("gpt-4o-mini instead of gpt-4o")
    expect(route).to_contain_text("tier 1 (economy) set by an admin")
    weighed = page.get_by_test_id("route-considered")
    expect(weighed.locator('tr[data-model="gpt-4o-mini"]')).to_contain_text("chosen")
    expect(weighed.locator('tr[data-model="gpt-4o"]')).to_contain_text("costs more")
    screenshot("step")

    page.goto(f"{live_server.url}/costs")
    routing = page.get_by_test_id("cost-routing")
    expect(routing).to_contain_text("Routed steps")
    writer = routing.get_by_test_id("routing-roles").locator('tr[data-role="writer"]')
    expect(writer).to_contain_text("1 of 1 (100%)")
    expect(routing).to_contain_text("too few steps to say")
    routing.scroll_into_view_if_needed()
    screenshot("costs")
