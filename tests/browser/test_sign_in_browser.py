"""Signing in and out in a real browser, and what a viewer may see and do."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pydantic import SecretStr

from missionctl.domain.access import Role
from missionctl.schemas.identity import UserCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases import identity
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.web.support import planned_mission

pytestmark = pytest.mark.browser

PASSWORD = "a long and correct password"


@pytest.fixture
def signed_in() -> bool:
    """These tests sign in themselves."""
    return False


def _add_user(server: LiveServer, name: str, role: Role) -> None:
    async def work(ctx: ServiceContext) -> None:
        data = UserCreate(name=name, role=role, password=SecretStr(PASSWORD))
        await identity.create_user(ctx, data=data, actor="system")

    seed(server.settings, work)


def test_link_sign_in_then_sign_out_then_password_sign_in(
    live_server: LiveServer,
    page: Page,
    screenshot: Callable[[str], Path],
    allowed_console_errors: list[re.Pattern[str]],
) -> None:
    # The wrong password's answer is a 401 page, which Chromium logs.
    allowed_console_errors.append(re.compile(r"Failed to load resource.*401"))
    page.goto(f"{live_server.url}/missions")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Fmissions$"))
    expect(page.get_by_role("heading", name="Sign in to Mission Control")).to_be_visible()
    screenshot("sign-in")

    page.goto(live_server.sign_in_url("tester"))  # a one-time link, as `make run` prints
    expect(page).to_have_url(f"{live_server.url}/missions")
    expect(page.get_by_test_id("whoami")).to_contain_text("tester")
    expect(page.get_by_test_id("whoami")).to_contain_text("admin")

    page.locator('[data-control="sign-out"]').click()
    expect(page).to_have_url(f"{live_server.url}/sign-in")
    page.goto(f"{live_server.url}/missions")
    expect(page).to_have_url(re.compile(r"/sign-in"))

    _add_user(live_server, "ada", Role.OPERATOR)
    page.get_by_label("Name").fill("ada")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("sign-in-error")).to_have_text("Wrong name or password.")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/missions")
    expect(page.get_by_test_id("whoami")).to_contain_text("ada")
    expect(page.get_by_role("link", name="New mission")).to_be_visible()
    screenshot("signed-in")


def test_a_viewer_sees_no_controls_and_the_server_refuses_them_anyway(
    live_server: LiveServer,
    page: Page,
    screenshot: Callable[[str], Path],
    allowed_console_errors: list[re.Pattern[str]],
) -> None:
    allowed_console_errors.append(re.compile(r"Failed to load resource.*403"))
    mission = seed(live_server.settings, planned_mission)
    _add_user(live_server, "val", Role.VIEWER)
    page.goto(f"{live_server.url}/sign-in")
    page.get_by_label("Name").fill("val")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("whoami")).to_contain_text("viewer")

    expect(page.get_by_role("link", name="New mission")).to_have_count(0)
    expect(page.locator("#mission-form")).to_have_count(0)
    page.goto(f"{live_server.url}/missions/{mission.id}")
    expect(page.locator("#mission-controls")).to_be_visible()
    for control in ("run", "plan", "cancel", "rerun"):
        expect(page.locator(f'[data-control="{control}"]')).to_have_count(0)
    expect(page.locator('[data-control="report"]')).to_be_visible()  # reading is allowed
    screenshot("viewer-mission")

    # The browser's own session, with its CSRF token: the server still says no.
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    refused = page.request.post(
        f"{live_server.url}/missions/{mission.id}/run",
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert refused.status == 403
    refused_api = page.request.post(
        f"{live_server.url}/api/v1/missions/{mission.id}/runs", headers={"X-CSRF-Token": token}
    )
    assert refused_api.status == 403
    assert "runs:control" in refused_api.json()["error"]["message"]
