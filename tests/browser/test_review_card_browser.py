"""A review loop's merge card in a real browser: the reviewer's verdict and findings beside the
diffs of the builder, the tests and the rework, labelled as the reviewer's opinion."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page, expect

from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from missionctl.settings import CodingSettings, Settings
from tests.browser.conftest import seed, sign_in
from tests.coding.helpers import SCRIPTED, allow_coding, make_repository
from tests.coding.test_review_loop_chain import FINDING, _loop, _verdict
from tests.conftest import LiveServer
from tests.engine.helpers import start
from tests.support.auth import ensure_user

pytestmark = pytest.mark.browser

WAIT_MS = 30_000


@pytest.fixture
def sqlite_settings(sqlite_settings: Settings, tmp_path: Path) -> Settings:
    """The live server's settings, with the scripted coder as the preset ``scripted``."""
    presets = tmp_path / "coding-presets.yaml"
    preset = {"title": SCRIPTED.title, "argv": SCRIPTED.argv, "modes": SCRIPTED.modes}
    presets.write_text(yaml.safe_dump({"scripted": preset}))
    return sqlite_settings.model_copy(update={"coding": CodingSettings(presets_file=presets)})


def test_the_merge_card_shows_the_verdict_beside_the_diffs(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path], tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)

    async def run(ctx: ServiceContext) -> str:
        await ensure_user(ctx, "abe", Role.APPROVER)
        await allow_coding(ctx, repo)
        started = await start(ctx, _loop(repo, _verdict("changes_requested", [FINDING])))
        return str(started.id)

    run_id = seed(live_server.settings, run)
    sign_in(page, live_server, "abe")
    card = page.locator('#approval-queue [data-step="build-merge"]')
    for _ in range(60):  # the queue is read when the page loads: load it until the merge waits
        page.goto(f"{live_server.url}/approvals")
        if card.count():
            break
        page.wait_for_timeout(500)
    expect(card).to_be_visible()
    review = card.locator('[data-testid="approval-review"]')
    expect(review).to_contain_text("Reviewer (coding:generic): changes requested")
    expect(review.locator("li")).to_have_text([FINDING])
    expect(review).to_contain_text("not a check")
    expect(card.locator('[data-testid="approval-diff"]')).to_have_count(3)
    card.scroll_into_view_if_needed()
    screenshot("review-card")
    card.locator('[data-control="approve"]').click()
    expect(card).to_contain_text("Approved by abe", timeout=WAIT_MS)
    # The approval is recorded at once; the engine merges on its next tick, so the file is read
    # once the run page says the run is done.
    page.goto(f"{live_server.url}/runs/{run_id}")
    expect(page.locator("#run-status .badge")).to_have_class(
        re.compile(r"badge--completed"), timeout=WAIT_MS
    )
    assert (repo / "FINDINGS.md").read_text() == f"- {FINDING}"
