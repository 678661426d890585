"""A progress report sent over MCP appears on the mission page live (Chromium, Playwright).

The page is open on the live server (the embedded default, SQLite); an agent reports progress
through ``/mcp`` with the SDK's client, and the line arrives through the page's own event
stream: the page is not reloaded.
"""

import re
import uuid
from typing import Any

from playwright.sync_api import Page, expect

from missionctl.domain.access import Role
from missionctl.schemas.plans import PlanTask
from missionctl.services import ServiceContext
from missionctl.services.usecases.plans import read_plan
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.mcp.helpers import call, http_session, token_of
from tests.web.support import planned_mission

GOAL = "Build a URL shortener with click analytics and custom aliases"
LINES = '#audit-list .audit__line[data-type="task.progress"]'


def test_a_progress_report_over_mcp_appears_on_the_open_mission_page(
    live_server: LiveServer, page: Page
) -> None:
    async def prepare(ctx: ServiceContext) -> tuple[uuid.UUID, PlanTask, str]:
        mission = await planned_mission(ctx, GOAL)
        plan = await read_plan(ctx, mission_id=mission.id)
        return mission.id, plan.tasks[0], await token_of(ctx, "ola", Role.OPERATOR)

    mission_id, task, token = seed(live_server.settings, prepare)
    page.goto(f"{live_server.url}/missions/{mission_id}")
    expect(page.locator("#live")).to_have_class(re.compile(r"\blive--connected\b"))
    expect(page.locator(LINES)).to_have_count(0)
    page.evaluate("window.loadedOnce = true")  # gone if the page were loaded again

    async def report(_: ServiceContext) -> Any:
        async with http_session(live_server.url, token) as session:
            return await call(
                session,
                "report_task_progress",
                mission_id=str(mission_id),
                task_key=task.key,
                message="schema written, migrations next",
                percent=40,
            )

    record = seed(live_server.settings, report)
    line = page.locator(LINES)
    expect(line).to_have_count(1)
    expect(line).to_have_attribute("data-seq", str(record["seq"]))
    expect(line).to_contain_text(f"Progress 40 % on {task.key}: schema written, migrations next")
    expect(line.locator(".audit__task")).to_have_text(task.title)
    expect(line.locator(".audit__actor")).to_contain_text("ola-mcp")
    assert page.evaluate("window.loadedOnce") is True
