"""The Missions and Runs lists in a real browser: live rows under the page's filters, one stream
per page, filters kept in the URL; and the API docs served from this server alone.

Data are written by another process's service context (``seed``), as the CLI or a worker would:
the server learns of it from the database, and its pages from their streams.
"""

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workflows import create_workflow
from tests.browser.conftest import seed
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser


def _streams(page: Page, path: str) -> list[str]:
    """Every request the page makes to the list stream at ``path`` (recorded from now on)."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if urlsplit(r.url).path == path else None)
    return seen


def _add_mission(server: LiveServer, goal: str) -> None:
    async def work(ctx: ServiceContext) -> None:
        await create_mission(ctx, data=MissionCreate(goal=goal), actor="user:cli")

    seed(server.settings, work)


def test_the_missions_list_shows_new_missions_live_within_its_filters(
    live_server: LiveServer, page: Page
) -> None:
    streams = _streams(page, "/missions/stream")
    page.goto(f"{live_server.url}/missions")
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))
    page.evaluate("window.__marker = 1")  # gone if the page reloads

    _add_mission(live_server, "Build a Slack bot that summarizes incident channels")
    rows = page.locator("#mission-list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Slack bot")
    expect(page.locator("#mission-count")).to_have_text("1")

    page.get_by_label("Search missions").fill("kafka")
    expect(page).to_have_url(f"{live_server.url}/missions?q=kafka")
    expect(page.get_by_text("No missions match")).to_be_visible()
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))
    _add_mission(live_server, "Write Terraform modules for the staging network")
    _add_mission(live_server, "Build a Kafka consumer that archives audit events")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Kafka consumer")  # the Terraform one does not match
    expect(page.locator("#mission-count")).to_have_text("1")

    assert page.evaluate("window.__marker") == 1
    # One stream for the page, and one more for the new filter (the first one closed).
    assert len(streams) == 2, streams
    assert "q=kafka" in streams[1] and "q=" not in streams[0]


def test_the_runs_list_shows_a_run_start_and_succeed_live_and_keeps_filters_in_the_url(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    async def make_workflow(ctx: ServiceContext) -> str:
        spec = WorkflowSpec.model_validate(
            {
                "name": "nightly-build",
                "steps": [{"id": "build", "agent": "builtin:sleep", "inputs": {"seconds": 1.5}}],
            }
        )
        return str((await create_workflow(ctx, spec=spec, actor="user:cli")).id)

    workflow_id = seed(live_server.settings, make_workflow)
    streams = _streams(page, "/runs/stream")
    page.goto(f"{live_server.url}/runs")
    expect(page.get_by_text("No runs yet")).to_be_visible()
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))
    page.evaluate("window.__marker = 1")

    async def start(ctx: ServiceContext) -> str:
        run = await start_run(ctx, workflow_id=uuid.UUID(workflow_id), actor="user:cli")
        return str(run.id)

    run_id = seed(live_server.settings, start)
    row = page.locator(f'#run-list tr[data-run-id="{run_id}"]')
    expect(row).to_contain_text("nightly-build")
    expect(row.locator(".badge")).to_have_text("Running")
    expect(row.locator(".badge")).to_have_text("Completed", timeout=15_000)
    expect(row.locator(".progress-cell__text")).to_have_text("1/1")
    expect(page.locator("#run-count")).to_have_text("1")
    assert page.evaluate("window.__marker") == 1
    assert len(streams) == 1, streams

    # Filters live in the URL: a bookmark opens the same list, and Back returns to the last one.
    page.get_by_label("Status").select_option("failed")
    expect(page).to_have_url(f"{live_server.url}/runs?status=failed")
    expect(page.get_by_text("No runs match")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/runs")
    expect(row).to_contain_text("nightly-build")
    page.goto(f"{live_server.url}/runs?workflow=nightly-build&status=completed")
    expect(page.get_by_label("Workflow")).to_have_value("nightly-build")
    expect(page.get_by_label("Status")).to_have_value("completed")
    expect(row).to_be_visible()
    page.set_viewport_size({"width": 800, "height": 900})
    screenshot("filtered-800px")


def test_the_api_docs_are_served_from_this_server_under_the_strict_policy(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    requests: list[Request] = []
    page.on("request", lambda r: requests.append(r))
    page.goto(f"{live_server.url}/missions")
    page.locator(".app-footer").get_by_role("link", name="API docs").click()
    expect(page).to_have_url(f"{live_server.url}/docs")
    # Swagger UI is a large script that reads the whole schema: give it time. Past about 120
    # paths it lays the operations out as they are scrolled to, so scroll down to the runs.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(
        "Mission Control", timeout=30_000
    )
    for _ in range(80):
        if page.get_by_text("/api/v1/runs", exact=True).count():
            break
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(100)
    expect(page.get_by_text("/api/v1/runs", exact=True).first).to_be_visible()
    page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/v1/runs$")).first.click()
    expect(page.get_by_text("created_after").first).to_be_visible()
    screenshot("docs")

    # No request left this server (the console would also show any CSP refusal: the page
    # fixture fails the test on console errors).
    hosts = {urlsplit(r.url).netloc for r in requests if not r.url.startswith("data:")}
    assert hosts == {urlsplit(live_server.url).netloc}, hosts
    policy = page.request.get(f"{live_server.url}/docs").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
