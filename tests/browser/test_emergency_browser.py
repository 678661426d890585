"""The emergency stop in a real browser: an operator stops everything, an admin releases it."""

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from missionctl.domain.access import Role
from missionctl.schemas.runs import RunRead
from missionctl.services import ServiceContext
from missionctl.services.usecases import controls
from tests.browser.conftest import seed, sign_in
from tests.conftest import LiveServer
from tests.support.auth import ensure_user
from tests.web.support import planned_mission, start_steps, wait_for_run

pytestmark = pytest.mark.browser

OPERATOR = "olga"
LONG_STEP = [{"id": "long", "agent": "builtin:sleep", "inputs": {"seconds": 60}}]


@pytest.fixture
def signed_in() -> bool:
    """Each test signs in as the person it needs."""
    return False


def test_an_operator_stops_everything_and_an_admin_releases_it(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    async def prepare(ctx: ServiceContext) -> tuple[uuid.UUID, RunRead]:
        await ensure_user(ctx, OPERATOR, Role.OPERATOR)
        mission = await planned_mission(ctx, "Build a URL shortener with click analytics")
        run = await start_steps(ctx, mission.id, LONG_STEP)
        await wait_for_run(ctx, run.id, lambda r: r.status == "running")
        return mission.id, run

    mission_id, run = seed(live_server.settings, prepare)
    sign_in(page, live_server, OPERATOR)
    page.goto(f"{live_server.url}/runs/{run.id}")

    banner = page.get_by_test_id("emergency-banner")
    expect(banner).to_have_count(0)
    page.get_by_role("button", name="Emergency stop").click()
    dialog = page.get_by_role("dialog", name="Stop all work now?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Reason")).to_be_focused()
    screenshot("confirm")
    dialog.get_by_role("button", name="Keep running").click()  # nothing happens
    expect(dialog).to_be_hidden()
    expect(banner).to_have_count(0)

    page.get_by_role("button", name="Emergency stop").click()
    dialog.get_by_label("Reason").fill("Runaway costs on the nightly workflow")
    dialog.get_by_role("button", name="Stop everything").click()

    expect(banner).to_be_visible()  # the page reloaded with the stop on
    expect(banner).to_contain_text("Emergency stop — all dispatch halted")
    expect(banner).to_contain_text(f"Engaged by {OPERATOR}")
    expect(banner).to_contain_text("Runaway costs on the nightly workflow")
    expect(banner).to_contain_text("An admin can release it.")
    expect(banner.get_by_role("button", name="Release…")).to_have_count(0)
    expect(page.locator("#run-status")).to_contain_text("Aborted")
    screenshot("run-stopped")

    for path in ("/missions", "/runs", f"/missions/{mission_id}", "/agents", "/settings/prices"):
        page.goto(f"{live_server.url}{path}")
        expect(banner).to_be_visible()
        expect(page.get_by_role("button", name="Emergency stop")).to_have_count(0)
    screenshot("prices-stopped")

    sign_in(page, live_server)  # the admin
    page.goto(f"{live_server.url}/missions")
    banner.get_by_role("button", name="Release…").click()
    release = page.get_by_role("dialog", name="Release the emergency stop?")
    release.get_by_label("Reason").fill("Nightly workflow fixed")
    release.get_by_role("button", name="Release the stop").click()

    expect(page.get_by_role("button", name="Emergency stop")).to_be_visible()
    expect(banner).to_have_count(0)
    expect(page.locator("#emergency")).to_contain_text("Dispatch running")
    screenshot("released")


def test_a_viewer_has_no_stop_button_but_sees_the_banner(
    live_server: LiveServer, page: Page
) -> None:
    seed(live_server.settings, lambda ctx: ensure_user(ctx, "vera", Role.VIEWER))
    sign_in(page, live_server, "vera")
    page.goto(f"{live_server.url}/missions")
    expect(page.get_by_role("button", name="Emergency stop")).to_have_count(0)
    assert page.request.post(f"{live_server.url}/emergency-stop").status == 403

    seed(
        live_server.settings,
        lambda ctx: controls.engage_emergency_stop(ctx, actor="user:tester", reason="drill"),
    )
    page.reload()
    banner = page.get_by_test_id("emergency-banner")
    expect(banner).to_contain_text("Engaged by tester")
    expect(banner).to_contain_text("drill")
    expect(banner.get_by_role("button")).to_have_count(0)
    assert page.request.post(f"{live_server.url}/emergency-stop/release").status == 403
