"""A new user works with a mission in a real browser; the page stays live and is never reloaded."""

import asyncio
import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from missionctl.services import ServiceContext
from missionctl.services.usecases import plans as plan_service
from missionctl.services.usecases.artifacts import read_artifacts
from tests.browser.conftest import restart, seed
from tests.conftest import LiveServer
from tests.web.support import ACTOR, planned_mission, start_steps, wait_for_run

pytestmark = pytest.mark.browser

GOAL = "Build a URL shortener with click analytics and custom aliases using FastAPI and PostgreSQL"
RUN_TIMEOUT_MS = 20_000

# Records every status the stepper and the graph show, as they change, without a reload.
WATCH_STATUSES = """() => {
  window.__seen = new Set();
  const record = () => document
    .querySelectorAll('#stepper [data-status], #plan-graph [data-status]')
    .forEach((el) => window.__seen.add(el.dataset.status));
  record();
  new MutationObserver(record)
    .observe(document.getElementById('main'), {subtree: true, childList: true});
}"""


def mission_url(server: LiveServer, mission_id: uuid.UUID) -> str:
    return f"{server.url}/missions/{mission_id}"


async def _completed_mission(ctx: ServiceContext) -> tuple[uuid.UUID, uuid.UUID]:
    """A mission planned and run to the end by the live server's engine, reports included."""
    mission = await planned_mission(ctx, GOAL)
    run = await plan_service.run_mission(ctx, mission_id=mission.id, actor=ACTOR)
    await wait_for_run(ctx, run.id)
    for _ in range(200):
        if sum(a.kind == "report" for a in await read_artifacts(ctx, run_id=run.id)) == 2:
            break
        await asyncio.sleep(0.05)
    return mission.id, run.id


def test_a_new_mission_is_planned_and_its_run_watched_live(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    page.goto(f"{live_server.url}/missions")
    page.evaluate("window.__marker = 1")  # survives only if the page is never reloaded
    page.get_by_label("Goal").fill(GOAL)
    page.get_by_label("Budget").fill("40")
    page.get_by_role("button", name="Create and plan").click()

    expect(page).to_have_url(re.compile(r"/missions/[0-9a-f-]{36}$"))
    expect(page.locator("#mission-status")).to_contain_text("Planned")
    expect(page.locator("#live")).to_have_class(re.compile(r"\blive--connected\b"))
    tasks = page.locator("#stepper [data-task]").count()
    assert tasks >= 6
    expect(page.locator('#stepper [data-status="pending"]')).to_have_count(tasks)
    expect(page.locator("#plan-graph .graph__node--pending")).to_have_count(tasks)
    screenshot("planned")

    page.evaluate(WATCH_STATUSES)
    page.locator('[data-control="run"]').click()
    expect(page.locator("#toasts")).to_contain_text("Run started")
    expect(page.locator('#stepper [data-status="succeeded"]')).to_have_count(
        tasks, timeout=RUN_TIMEOUT_MS
    )
    expect(page.locator("#plan-graph .graph__node--succeeded")).to_have_count(tasks)
    expect(page.locator("#mission-status")).to_contain_text("Completed")
    expect(page.locator("#final-summary")).to_contain_text(
        f"Completed: {tasks} tasks documented, 0 built"
    )
    expect(page.locator("#artifact-list .artifact-item")).not_to_have_count(0)
    expect(page.locator('[data-control="run"]')).to_be_enabled()  # a completed mission runs again
    seen = set(page.evaluate("[...window.__seen]"))
    assert seen & {"queued", "running"}, f"never saw a task in progress: {seen}"
    assert page.evaluate("window.__marker") == 1
    screenshot("completed")


def test_artifacts_open_in_their_viewers_and_the_report_downloads(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    mission_id, run_id = seed(live_server.settings, _completed_mission)
    page.goto(mission_url(live_server, mission_id))
    page.evaluate("window.__marker = 1")

    page.locator(".artifact-item", has_text=".md").first.click()
    viewer = page.locator("#artifact-viewer")
    expect(viewer.locator('[data-viewer="markdown"] .prose h1')).to_be_visible()
    expect(viewer.locator(".prose h2").first).to_be_visible()
    page.locator("#artifacts").scroll_into_view_if_needed()
    screenshot("markdown")

    page.locator('.artifact-item[data-artifact="report.json"]').click()
    tree = viewer.locator('[data-viewer="json"] .json')
    expect(tree).to_be_visible()
    expect(tree).to_contain_text('"run_id"')
    workflow = tree.locator("details.json__node", has_text='"workflow"').first
    expect(workflow).to_have_attribute("open", "")
    workflow.locator("summary").first.click()  # fold it
    expect(workflow).not_to_have_attribute("open", "")
    screenshot("json")

    page.locator('[data-control="report"] summary').click()
    with page.expect_download() as markdown:
        page.get_by_role("menuitem", name="Markdown").click()
    assert markdown.value.suggested_filename == f"run-{run_id}-report.md"
    assert Path(markdown.value.path()).read_text(encoding="utf-8").startswith("# Run report")
    page.locator('[data-control="report"] summary').click()
    with page.expect_download() as report_json:
        page.get_by_role("menuitem", name="JSON .json", exact=True).click()
    assert report_json.value.suggested_filename == f"run-{run_id}-report.json"
    body = json.loads(Path(report_json.value.path()).read_text(encoding="utf-8"))
    assert body["run_id"] == str(run_id) and body["outcome"]["status"] == "completed"
    assert page.evaluate("window.__marker") == 1


def test_a_running_mission_is_canceled(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    async def running(ctx: ServiceContext) -> uuid.UUID:
        mission = await planned_mission(ctx, GOAL)
        steps = [
            {"id": "build", "agent": "builtin:sleep", "inputs": {"seconds": 60, "title": "Build"}},
            {"id": "ship", "agent": "builtin:noop", "depends_on": ["build"]},
        ]
        await start_steps(ctx, mission.id, steps)
        return mission.id

    mission_id = seed(live_server.settings, running)
    page.goto(mission_url(live_server, mission_id))
    page.evaluate("window.__marker = 1")
    expect(page.locator('#stepper [data-task="build"]')).to_have_attribute("data-status", "running")
    expect(page.locator("#mission-status")).to_contain_text("Running")
    expect(page.locator('[data-control="plan"]')).to_be_disabled()
    screenshot("running")

    page.locator('[data-control="cancel"]').click()

    expect(page.locator("#toasts")).to_contain_text("Run canceled")
    expect(page.locator('#stepper [data-task="build"]')).to_have_attribute(
        "data-status", "canceled"
    )
    expect(page.locator('#stepper [data-task="ship"]')).to_have_attribute("data-status", "canceled")
    expect(page.locator("#mission-status")).to_contain_text("Canceled")
    expect(page.locator('[data-control="cancel"]')).to_be_disabled()
    expect(page.locator('[data-control="rerun"]')).to_be_disabled()  # a canceled mission is final
    expect(page.locator("#audit-list")).to_contain_text("Run canceled")
    assert page.evaluate("window.__marker") == 1
    screenshot("canceled")


def test_a_failed_task_is_retried_and_the_mission_completes(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    async def failed(ctx: ServiceContext) -> uuid.UUID:
        mission = await planned_mission(ctx, GOAL)
        steps = [
            {
                "id": "migrate",
                "agent": "builtin:fail",
                "inputs": {"fail_attempts": 1, "message": "database locked", "title": "Migrate"},
            },
            {"id": "verify", "agent": "builtin:noop", "depends_on": ["migrate"]},
        ]
        run = await start_steps(ctx, mission.id, steps)
        await wait_for_run(ctx, run.id)
        return mission.id

    mission_id = seed(live_server.settings, failed)
    page.goto(mission_url(live_server, mission_id))
    page.evaluate("window.__marker = 1")
    failed_task = page.locator('#stepper [data-task="migrate"]')
    expect(failed_task).to_have_attribute("data-status", "failed")
    expect(failed_task).to_contain_text("database locked")
    expect(page.locator('#stepper [data-task="verify"]')).to_have_attribute(
        "data-status", "blocked"
    )
    expect(page.locator("#mission-status")).to_contain_text("Failed")
    screenshot("failed")

    page.locator('[data-control="retry-migrate"]').click()

    expect(page.locator("#toasts")).to_contain_text("Task retried")
    expect(failed_task).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT_MS)
    expect(failed_task).to_contain_text("attempt 2")
    expect(page.locator('#stepper [data-task="verify"]')).to_have_attribute(
        "data-status", "succeeded"
    )
    expect(page.locator("#mission-status")).to_contain_text("Completed")
    expect(page.locator('[data-control="retry-migrate"]')).to_have_count(0)
    assert page.evaluate("window.__marker") == 1
    screenshot("retried")


def test_the_mission_page_is_the_same_after_a_server_restart(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    mission_id, _ = seed(live_server.settings, _completed_mission)
    sections = ["#mission-overview", "#stepper", "#task-timeline", "#audit-list", "#final-summary"]
    page.goto(mission_url(live_server, mission_id))
    expect(page.locator("#mission-status")).to_contain_text("Completed")
    before = {s: page.locator(s).inner_text() for s in sections}
    before["artifacts"] = page.locator("#artifact-list").inner_text()
    screenshot("before-restart")
    page.goto("about:blank")  # close the live stream before the server goes away

    fresh = restart(live_server)
    try:
        page.goto(mission_url(fresh, mission_id))
        expect(page.locator("#mission-status")).to_contain_text("Completed")
        expect(page.locator("#live")).to_have_class(re.compile(r"\blive--connected\b"))
        after = {s: page.locator(s).inner_text() for s in sections}
        after["artifacts"] = page.locator("#artifact-list").inner_text()
        assert after == before
        screenshot("after-restart")
        page.goto("about:blank")
    finally:
        fresh.stop()


def test_the_run_page_follows_a_workflow_run_live(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    async def started(ctx: ServiceContext) -> uuid.UUID:
        steps = [
            # Long enough to be seen running after the page loads on a busy machine (1.5 s
            # was not: the step had finished before the first look).
            {"id": "fetch", "agent": "builtin:sleep", "inputs": {"seconds": 4}},
            {"id": "check", "agent": "builtin:fail", "inputs": {"fail_attempts": 0}},
            {"id": "publish", "agent": "builtin:noop", "depends_on": ["fetch", "check"]},
        ]
        return (await start_steps(ctx, None, steps)).id  # a workflow run without a mission

    run_id = seed(live_server.settings, started)
    page.goto(f"{live_server.url}/runs/{run_id}")
    page.evaluate("window.__marker = 1")
    expect(page.locator("#step-row-fetch")).to_have_attribute("data-status", "running")
    expect(page.locator("#run-controls [data-control='cancel']")).to_be_enabled()

    expect(page.locator("#step-row-publish")).to_have_attribute(
        "data-status", "succeeded", timeout=RUN_TIMEOUT_MS
    )
    expect(page.locator("#run-status")).to_contain_text("Completed")
    expect(page.locator("#run-summary .tile").first).to_contain_text("3/3")
    expect(page.locator("#run-graph .graph__node--succeeded")).to_have_count(3)
    expect(page.locator("#run-controls [data-control='cancel']")).to_be_disabled()
    expect(page.locator("#run-activity")).to_contain_text("Latest")  # the newest event, live

    page.locator("#step-fetch .step__details summary").click()  # loads inputs, outputs, log
    detail = page.locator("#step-fetch .step__detail-body")
    expect(detail).to_contain_text('"seconds"')
    expect(detail).to_contain_text('"slept_s"')
    assert page.evaluate("window.__marker") == 1
    screenshot("completed")
