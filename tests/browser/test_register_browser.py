"""The risk register and decision log on a planned mission's page: edit a risk's status and
owner, add a decision, and see the heat map's count and the log change."""

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from missionctl.services import ServiceContext
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.web.support import planned_mission

pytestmark = pytest.mark.browser

GOAL = "Build a URL shortener with click analytics and custom aliases using FastAPI and PostgreSQL"


async def _planned(ctx: ServiceContext) -> uuid.UUID:
    return (await planned_mission(ctx, GOAL)).id


def test_editing_a_risk_and_adding_a_decision_update_the_heat_map_and_the_log(
    live_server: LiveServer, page: Page, tmp_path: Path
) -> None:
    mission_id = seed(live_server.settings, _planned)
    page.goto(f"{live_server.url}/missions/{mission_id}")

    risk = page.locator("#risk-radar li.risk").first
    expect(risk).to_be_visible()
    severity = risk.locator(".sev").inner_text().strip().lower()
    likelihood_text = risk.locator(".risk__meta").inner_text()
    likelihood = likelihood_text.split("Likelihood ")[1].split(" ")[0].lower()
    cell = page.locator(f'#risk-radar td[data-cell="{severity}-{likelihood}"]')
    before = int(cell.get_attribute("data-count") or "0")
    assert before >= 1

    risk.locator('[data-testid="edit-risk"] > summary').click()
    form = risk.locator("form")
    form.locator('select[name="status"]').select_option("closed")
    form.locator('input[name="owner"]').fill("Ada Lovelace")
    form.get_by_role("button", name="Save risk").click()

    expect(page.locator("#toasts")).to_contain_text("Risk saved")
    expect(cell).to_have_attribute("data-count", str(before - 1))  # the stream re-rendered it
    first = page.locator("#risk-radar li.risk").first
    expect(first.locator(".risk__owner")).to_have_text("Ada Lovelace")
    expect(first.locator('[data-status="closed"]')).to_be_visible()

    page.locator('[data-testid="add-decision"] > summary').click()
    add = page.locator('[data-testid="add-decision"] form')
    add.locator('input[name="title"]').fill("Serve redirects from a cache")
    add.locator('textarea[name="choice"]').fill("Keep hot aliases in memory")
    add.locator('textarea[name="reasons"]').fill("Redirects must be fast")
    add.get_by_role("button", name="Add decision").click()

    added = page.locator('#decision-log li.decision[data-decision="Serve redirects from a cache"]')
    expect(added).to_be_visible()
    expect(added.locator('[data-status="proposed"]')).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(tmp_path / "register-1440.png"), full_page=True)
    page.locator("#risk-radar").screenshot(path=str(tmp_path / "risks-1440.png"))
    page.locator("#decision-log").screenshot(path=str(tmp_path / "decisions-1440.png"))
    page.set_viewport_size({"width": 800, "height": 900})
    page.locator("#risk-radar").screenshot(path=str(tmp_path / "register-800.png"))
    print(f"screenshots in {tmp_path}")
