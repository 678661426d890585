"""A workflow's suggestions in the browser: read one, apply it in one click, see the new version."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import Settings
from tests.browser.conftest import seed
from tests.conftest import LiveServer, postgres_base_url
from tests.web.support import wait_for_run

pytestmark = pytest.mark.browser

PIPELINE = {
    "name": "pipeline",
    "steps": [
        {"id": "fetch", "agent": "builtin:sleep", "inputs": {"seconds": 0.2}},
        {
            "id": "lint",
            "agent": "builtin:sleep",
            "depends_on": ["fetch"],
            "inputs": {"seconds": 0.2},
        },
    ],
}


@pytest.fixture(scope="module", autouse=True)
def migrated_templates(request: pytest.FixtureRequest) -> None:
    """The databases' migrated templates, made before Playwright starts its own loop."""
    request.getfixturevalue("sqlite_template")
    if postgres_base_url() is not None:
        request.getfixturevalue("postgres_template")


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _five_runs(ctx: ServiceContext) -> None:
    saved = await create_workflow(ctx, spec=WorkflowSpec.model_validate(PIPELINE), actor="user:t")
    for _ in range(5):
        run = await start_run(ctx, workflow_id=saved.id, actor="user:t")
        done = await wait_for_run(ctx, run.id)
        assert done.status == "completed"


def test_a_suggestion_is_read_and_applied_in_one_click(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    seed(live_server.settings, _five_runs)
    page.goto(f"{live_server.url}/workflows/pipeline")
    section = page.get_by_test_id("workflow-suggestions")
    item = section.locator('[data-suggestion="parallel-lint.fetch"]')
    expect(item).to_contain_text("Run lint without waiting for fetch")
    expect(item).to_contain_text("Expected: critical path 0.4")  # two sleeps of 0.2 s, then one
    item.locator("summary").click()
    expect(item.locator(".suggestion__diff")).to_contain_text("- fetch")
    screenshot("suggested")
    item.locator('[data-control="apply-parallel-lint.fetch"]').click()
    expect(page.locator(".page-header__name, h1").first).to_contain_text("pipeline")
    expect(page.get_by_test_id("applied-suggestions")).to_contain_text("v1 → v2")
    expect(page.get_by_test_id("applied-suggestions")).to_contain_text("too few runs to say")
    screenshot("applied")


def _copies(name: str, own: str) -> dict[str, object]:
    shared = [
        {"id": "checkout", "agent": "builtin:noop", "inputs": {"value": "git clone"}},
        {"id": "lint", "agent": "builtin:noop", "depends_on": ["checkout"]},
    ]
    mine = {"id": own, "agent": "builtin:noop", "inputs": {"value": own}}
    return {"name": name, "steps": [*shared, mine]}


async def _three_copies(ctx: ServiceContext) -> None:
    for name, own in (("api", "deploy"), ("web", "bundle"), ("docs", "render")):
        spec = WorkflowSpec.model_validate(_copies(name, own))
        await create_workflow(ctx, spec=spec, actor="user:t")


def test_steps_three_workflows_repeat_are_saved_as_a_template_in_one_click(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    seed(live_server.settings, _three_copies)
    page.goto(f"{live_server.url}/workflows/api")
    item = page.locator('[data-suggestion="template-checkout-lint"]')
    expect(item).to_contain_text("Save checkout, lint as the template checkout-lint")
    expect(item).to_contain_text("in 3 workflows: this one and docs, web")
    expect(item).to_contain_text("Expected: steps a new workflow writes out 2 → 0")
    item.locator("summary").click()
    expect(item.locator(".suggestion__diff")).to_contain_text("+name: checkout-lint")
    screenshot("template-suggested")
    item.locator('[data-control="apply-template-checkout-lint"]').click()
    expect(page.get_by_test_id("applied-suggestions")).to_contain_text("Used 0 times since")
    screenshot("template-applied")
    page.goto(f"{live_server.url}/templates")
    expect(page.locator("body")).to_contain_text("checkout, lint (from api)")
    page.goto(f"{live_server.url}/workflows/web")
    expect(page.locator('[data-suggestion="template-checkout-lint"]')).to_have_count(0)
