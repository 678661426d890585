"""The document studio as a person uses it: a mission created, planned and run in the browser,
its PRD generated and exported as a PDF whose text holds the title and every requirement, two
versions compared, and a planted gap seen on the traceability map; screenshots at 1440 and 800
px wide, light and dark."""

import io
import os
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pypdf
import pytest
from playwright.sync_api import Page, expect

from missionctl.db.models import Requirement
from missionctl.repositories import register as register_repo
from missionctl.schemas.plans import PlanRead
from missionctl.services import ServiceContext
from missionctl.services.usecases.plans import read_plan
from tests.browser.conftest import seed
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

GOAL = "Build a “café” URL shortener — with click analytics and custom aliases"
RUN_TIMEOUT_MS = 30_000
PLANTED = "Links can be exported as CSV for the finance team"
# Screenshots are for a person to look at, outside the repository.
SHOTS = Path(os.environ.get("MISSIONCTL_STUDIO_SHOTS", "/tmp/studio-screenshots"))


def _plant_untraced_requirement(
    mission_id: uuid.UUID,
) -> Callable[[ServiceContext], Awaitable[PlanRead]]:
    """A requirement no task traces, added to the newest plan (as a hand edit of the DB)."""

    async def plant(ctx: ServiceContext) -> PlanRead:
        async with ctx.write() as session:
            plan = await register_repo.newest_plan(session, mission_id=mission_id)
            assert plan is not None
            session.add(
                Requirement(mission_id=mission_id, plan_id=plan.id, key="R999", text=PLANTED)
            )
        return await read_plan(ctx, mission_id=mission_id, version=None)

    return plant


def _pdf_text(path: Path) -> str:
    pages = pypdf.PdfReader(io.BytesIO(path.read_bytes())).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def test_a_prd_is_generated_exported_as_pdf_and_the_trace_map_shows_the_gap(
    live_server: LiveServer, page: Page, tmp_path: Path
) -> None:
    page.goto(f"{live_server.url}/missions")
    page.get_by_label("Goal").fill(GOAL)
    page.get_by_role("button", name="Create and plan").click()
    expect(page).to_have_url(re.compile(r"/missions/[0-9a-f-]{36}$"))
    expect(page.locator("#mission-status")).to_contain_text("Planned")
    mission_id = uuid.UUID(page.url.rsplit("/", 1)[-1])
    page.locator('[data-control="run"]').click()
    expect(page.locator("#mission-status")).to_contain_text("Completed", timeout=RUN_TIMEOUT_MS)
    title = page.locator(".page-header__name").first.inner_text()

    page.get_by_test_id("documents-link").click()
    expect(page).to_have_url(f"{live_server.url}/missions/{mission_id}/documents")
    expect(page.get_by_test_id("studio-empty")).to_be_visible()
    page.locator('[data-control="generate"]').click()
    expect(page).to_have_url(re.compile(r"/documents\?kind=prd&version=1$"))
    expect(page.get_by_test_id("studio-writer")).to_contain_text("the local writer")
    body = page.get_by_test_id("studio-body")
    expect(body.locator("h2", has_text="Features")).to_be_visible()
    expect(body).not_to_contain_text(PLANTED)

    plan = seed(live_server.settings, _plant_untraced_requirement(mission_id))
    page.locator('[data-control="generate"]').click()
    expect(page).to_have_url(re.compile(r"/documents\?kind=prd&version=2$"))
    expect(body).to_contain_text(PLANTED)
    with page.expect_download() as download:
        page.get_by_test_id("studio-exports").locator('[data-format="pdf"]').click()
    assert download.value.suggested_filename.endswith("-v2.pdf")
    pdf = tmp_path / "prd.pdf"
    download.value.save_as(pdf)
    text = _pdf_text(pdf)
    assert " ".join(title.split()) in text
    for requirement in plan.requirements:
        assert " ".join(requirement.text.split()) in text, requirement.key

    page.get_by_label("Compare with").select_option("1")
    page.get_by_role("button", name="Show").click()
    diff = page.get_by_test_id("studio-diff")
    expect(diff).to_contain_text(re.compile(r"From v1 to v2: \+2 .1 lines"))
    expect(diff.locator('[data-op="added"]', has_text=PLANTED)).to_have_count(1)
    expect(diff.locator('[data-op="removed"]')).to_contain_text("the 6 requirements above")
    _screenshots(page)

    page.goto(f"{live_server.url}/missions/{mission_id}/trace")
    graph = page.get_by_test_id("trace-graph")
    expect(graph.locator('[data-node="requirement:R999"]')).to_have_class(
        re.compile(r"trace__node--gap")
    )
    gaps = page.get_by_test_id("trace-gaps")
    planted = gaps.locator('[data-gap="untraced_requirement"][data-item="requirement:R999"]')
    expect(planted).to_have_count(1)


def _screenshots(page: Page) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for width in (1440, 800):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(SHOTS / f"studio-{width}-{scheme}.png"), full_page=True)
            overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
            assert overflow <= 0, (scheme, width, overflow)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 1440, "height": 900})
