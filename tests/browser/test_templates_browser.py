"""The SOP template in a real browser: a mission started from the Templates page, each phase
gate approved in the Approvals page by the named approver (another approver is refused), and
the mission page's phase tracker advancing live until the run completes."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from tests.browser.conftest import seed, sign_in
from tests.conftest import LiveServer
from tests.support.auth import ensure_user

pytestmark = pytest.mark.browser

STEP_TIMEOUT_MS = 20_000
GATES = [
    ("prd", "PRD"),
    ("task-list", "Task list"),
    ("spec", "Spec"),
    ("action-plan", "Action plan"),
    ("implementation", "Implementation"),
    ("review", "Review"),
]
DROP_EMPTY_STYLES = """() => document.querySelectorAll('[style=""]')
  .forEach((el) => el.removeAttribute('style'))"""


def test_the_sop_template_runs_phase_by_phase_as_its_approver_signs_each_off(
    live_server: LiveServer,
    page: Page,
    screenshot: Callable[[str], Path],
    allowed_console_errors: list[re.Pattern[str]],
) -> None:
    allowed_console_errors.append(re.compile(r"Failed to load resource.*403"))

    async def approver(ctx: ServiceContext) -> None:
        await ensure_user(ctx, "alice", Role.APPROVER)

    seed(live_server.settings, approver)

    def shot(name: str) -> None:
        screenshot(name)
        page.evaluate(DROP_EMPTY_STYLES)

    page.goto(f"{live_server.url}/templates")
    card = page.locator("#template-sop-phases")
    expect(card).to_contain_text("SOP phases with sign-off")
    expect(card.locator(".template-steps__item")).to_have_count(7)
    card.get_by_label("Goal").fill("Add CSV export to the reports page")
    card.get_by_label("Approver").fill("alice")
    shot("gallery")
    card.locator('[data-control="start-mission"]').click()

    expect(page).to_have_url(re.compile(r"/missions/[0-9a-f-]{36}$"))
    mission_url = page.url
    tracker = page.locator('[data-testid="phase-tracker"]')
    expect(tracker.locator('[data-phase="Scaffold check"]')).to_have_attribute(
        "data-state", "done", timeout=STEP_TIMEOUT_MS
    )
    expect(tracker.locator('[data-phase="PRD"]')).to_have_attribute("data-state", "waiting")
    expect(tracker.locator('[data-phase="PRD"]')).to_contain_text("Waits for alice")

    # The admin who started it is not the named approver: the card says who may decide.
    approvals = page.context.new_page()
    approvals.goto(f"{live_server.url}/approvals")
    gate = approvals.locator('#approval-queue [data-step="prd"]')
    gate.locator('[data-control="approve"]').click()
    expect(gate).to_contain_text("Only 'alice' may decide step 'prd'")
    approvals.close()

    # The named approver signs each phase off; the mission page, left open, follows live.
    sign_in(page, live_server, "alice")
    page.goto(mission_url)
    decisions = page.context.new_page()
    for step_id, phase in GATES:
        item = tracker.locator(f'[data-phase="{phase}"]')
        expect(item).to_have_attribute("data-state", "waiting", timeout=STEP_TIMEOUT_MS)
        if step_id == "spec":
            shot("tracker-midway")
        decisions.goto(f"{live_server.url}/approvals")
        waiting = decisions.locator(f'#approval-queue [data-step="{step_id}"]')
        waiting.locator('[data-control="approve"]').click()
        expect(waiting).to_contain_text("Approved by alice", timeout=STEP_TIMEOUT_MS)
        expect(item).to_have_attribute("data-state", "done", timeout=STEP_TIMEOUT_MS)
        expect(item.locator(f'[data-gate="{step_id}"]')).to_contain_text("Approved by alice")
    decisions.close()

    expect(page.locator("#mission-status")).to_contain_text("Completed", timeout=STEP_TIMEOUT_MS)
    expect(tracker.locator('[data-state="done"]')).to_have_count(7)
    expect(tracker.locator('[data-phase="PRD"] a[data-artifact="prd.md"]')).to_be_visible()
    expect(tracker).to_contain_text("7/7 done")
    # In one step in the page: the live stream may swap the tracker in again at any moment (the
    # run's report arrives after it completes), and an element handle held across a swap is gone.
    page.evaluate("document.querySelector('[data-testid=\"phase-tracker\"]').scrollIntoView()")
    shot("tracker-done")
    page.set_viewport_size({"width": 800, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
