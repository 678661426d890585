"""A coding mission in a real browser: its migration task is held until a mini-spec is approved,
then the coding agent works in its worktree, and its merge waits for an approver who reads
the diff on the Approvals page before it lands on the repository's main branch."""

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page, expect

from missionctl.domain.access import Role
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.plans import PlanDraft
from missionctl.services import ServiceContext
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.plans import plan_mission, run_mission
from missionctl.settings import CodingSettings, Settings
from tests.browser.conftest import seed, sign_in
from tests.coding.helpers import (
    SCRIPTED,
    FixedPlanner,
    allow_coding,
    git,
    make_repository,
    plan_task,
)
from tests.conftest import LiveServer
from tests.support.auth import ensure_user

pytestmark = pytest.mark.browser

WAIT_MS = 30_000
MIGRATION = "CREATE TABLE visits (id INTEGER PRIMARY KEY, url TEXT NOT NULL);"
PLAN = PlanDraft.model_validate(
    {
        "summary": "Count visits of short links.",
        "requirements": [{"key": "R1", "text": "Each visit of a short link is counted."}],
        "tasks": [
            plan_task("scope", "product", "Say what a visit is."),
            plan_task(
                "visits-migration",
                "data",
                f"Add the visits table with a database migration.\n\n"
                f"@write db/migrations/0002_visits.sql: {MIGRATION}",
                "scope",
            ),
            plan_task("docs", "docs", "Document the visits count.", "visits-migration"),
            plan_task("review", "qa", "Review the change.", "docs"),
        ],
    }
)


@pytest.fixture
def sqlite_settings(sqlite_settings: Settings, tmp_path: Path) -> Settings:
    """The live server's settings, with the scripted coder as the preset ``scripted``."""
    presets = tmp_path / "coding-presets.yaml"
    preset = {"title": SCRIPTED.title, "argv": SCRIPTED.argv, "modes": SCRIPTED.modes}
    presets.write_text(yaml.safe_dump({"scripted": preset}))
    return sqlite_settings.model_copy(update={"coding": CodingSettings(presets_file=presets)})


def test_a_migration_waits_for_its_spec_and_its_merge_for_a_reader_of_the_diff(
    live_server: LiveServer,
    page: Page,
    screenshot: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    repo = make_repository(tmp_path)

    async def mission(ctx: ServiceContext) -> tuple[str, str]:
        await ensure_user(ctx, "olga", Role.OPERATOR)
        await ensure_user(ctx, "abe", Role.APPROVER)
        await allow_coding(ctx, repo)  # the scripted coder's program and the repository
        repository = {"source": str(repo), "base": "main", "agent": "coding:scripted"}
        data = MissionCreate(goal="Count visits of short links", repository=repository)  # type: ignore[arg-type]
        made = await create_mission(ctx, data=data, actor="user:olga")
        await plan_mission(ctx, mission_id=made.id, actor="user:olga", planner=FixedPlanner(PLAN))
        run = await run_mission(ctx, mission_id=made.id, actor="user:olga")
        return str(made.id), str(run.id)

    mission_id, run_id = seed(live_server.settings, mission)
    mission_url = f"{live_server.url}/missions/{mission_id}"

    # The migration's coding step is held, saying why, until a spec of its task is approved.
    sign_in(page, live_server, "olga")
    page.goto(f"{live_server.url}/runs/{run_id}")
    held = page.locator('[data-testid="held-visits-migration"]')
    expect(held).to_contain_text("mini-spec", timeout=WAIT_MS)
    expect(held).to_contain_text("migration")
    screenshot("held")
    page.goto(f"{mission_url}/specs")
    expect(page.locator('[data-testid="marked-visits-migration"]')).to_contain_text("Missing")
    form = page.locator('[data-testid="spec-write"]')
    form.get_by_label("Task").fill("visits-migration")
    form.get_by_label("Spec").fill("Adds table visits; rollback drops it; tested on a copy.")
    form.get_by_role("button", name="Save as draft").click()
    expect(page.locator('[data-testid="marked-visits-migration"]')).to_contain_text("Draft")
    assert 'data-testid="approve-' not in page.content(), "the author cannot approve it"

    # Another person approves the spec; the coding step runs and its merge waits with the diff.
    sign_in(page, live_server, "abe")
    page.goto(f"{mission_url}/specs")
    page.locator('[data-testid^="approve-"]').click()
    expect(page.locator('[data-testid="marked-visits-migration"]')).to_contain_text("Approved")
    # The run page follows the run live: the merge waits for an approver once the agent is done.
    page.goto(f"{live_server.url}/runs/{run_id}")
    expect(page.locator('[data-testid="approval-link-visits-migration-merge"]')).to_be_visible(
        timeout=WAIT_MS
    )
    page.goto(f"{live_server.url}/approvals")
    merge = page.locator('#approval-queue [data-step="visits-migration-merge"]')
    expect(merge.locator('[data-testid="approval-diff"]')).to_contain_text(MIGRATION)
    screenshot("merge-diff")
    merge.locator('[data-control="approve"]').click()
    expect(merge).to_contain_text("Approved by abe", timeout=WAIT_MS)

    page.goto(mission_url)
    expect(page.locator("#mission-status")).to_contain_text("Completed", timeout=WAIT_MS)
    assert (repo / "db" / "migrations" / "0002_visits.sql").read_text() == MIGRATION + "\n"
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert "Merge: Task visits-migration" in git(repo, "log", "--format=%s")
