"""The document studio page: reached from the mission page, Generate with htmx or without
JavaScript, a version shown with its writer and exports, two versions compared, what a viewer
may do, and refusals (unplanned, unknown versions and kinds, hostile text)."""

import uuid

import httpx2

from missionctl.domain.access import Role
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.register import RiskCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases.documents import generate_document
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.risk_register import add_risk
from tests.support.auth import bearer_headers
from tests.web.support import ACTOR, HTMX, planned_mission


async def test_the_mission_page_links_to_the_studio_and_generate_makes_versions(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx)
    page = (await client.get(f"/missions/{mission.id}")).text
    assert f'href="/missions/{mission.id}/documents" data-testid="documents-link"' in page
    base = f"/missions/{mission.id}/documents"
    empty = await client.get(base)
    assert empty.status_code == 200 and 'data-testid="studio-empty"' in empty.text
    assert 'data-control="generate"' in empty.text and "Generate" in empty.text

    plain = await client.post(base, data={"kind": "engineering_plan"})
    assert plain.status_code == 303
    assert plain.headers["location"] == f"{base}?kind=engineering_plan&version=1"
    htmx = await client.post(base, data={"kind": "engineering_plan"}, headers=HTMX)
    assert htmx.status_code == 204
    assert htmx.headers["hx-redirect"] == f"{base}?kind=engineering_plan&version=2"

    shown = (await client.get(base, params={"kind": "engineering_plan"})).text
    assert "Version 2 of 2" in shown and "Regenerate" in shown
    assert "Written by the local writer" in shown and "<h2>Tickets</h2>" in shown
    for fmt in ("md", "html", "pdf"):
        assert f"/documents/engineering_plan/versions/2/export?format={fmt}" in shown
    compared = (
        await client.get(base, params={"kind": "engineering_plan", "version": 2, "compare": 1})
    ).text
    assert "From v1 to v2: the same text" in compared


async def test_the_comparison_marks_added_lines(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx)
    await generate_document(ctx, mission_id=mission.id, kind="risk_register", actor=ACTOR, llm=None)
    await add_risk(
        ctx,
        mission_id=mission.id,
        actor=ACTOR,
        data=RiskCreate(
            title="Alias squatting", description="People reserve famous aliases.",
            severity="high", likelihood="medium", mitigation="A deny list.",
        ),
    )  # fmt: skip
    await generate_document(ctx, mission_id=mission.id, kind="risk_register", actor=ACTOR, llm=None)
    page = (
        await client.get(
            f"/missions/{mission.id}/documents",
            params={"kind": "risk_register", "version": 2, "compare": 1},
        )
    ).text
    assert 'data-testid="studio-diff"' in page and "lines</h3>" in page
    assert 'class="diff__line diff__line--add" data-op="added">+ ### Alias squatting' in page


async def test_a_viewer_reads_the_studio_but_cannot_generate(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx)
    await generate_document(ctx, mission_id=mission.id, kind="prd", actor=ACTOR, llm=None)
    viewer = await bearer_headers(ctx, f"viewer-{uuid.uuid4().hex[:6]}", Role.VIEWER)
    base = f"/missions/{mission.id}/documents"
    page = await client.get(base, headers=viewer)
    assert page.status_code == 200 and 'data-control="generate"' not in page.text
    assert 'data-format="pdf"' in page.text
    refused = await client.post(base, data={"kind": "prd"}, headers=viewer)
    assert refused.status_code == 403
    again = (await client.get(base)).text
    assert "Version 1 of 1" in again


async def test_refusals_name_what_is_wrong_and_change_nothing(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    draft = await create_mission(ctx, data=MissionCreate(goal="Build a URL shortener"), actor=ACTOR)
    base = f"/missions/{draft.id}/documents"
    unplanned = await client.get(base)
    assert unplanned.status_code == 200 and 'data-testid="studio-unplanned"' in unplanned.text
    assert "disabled" in unplanned.text
    post = await client.post(base, data={"kind": "prd"}, headers=HTMX)
    assert post.status_code == 409 and "plan it first" in post.text
    mission = await planned_mission(ctx)
    base = f"/missions/{mission.id}/documents"
    assert (await client.get(base, params={"kind": "prd", "version": 3})).status_code == 404
    assert (await client.get(base, params={"kind": "memo"})).status_code in (404, 422)
    assert (await client.post(base, data={"kind": "memo"}, headers=HTMX)).status_code == 422
    assert (await client.get(f"/missions/{uuid.uuid4()}/documents")).status_code == 404
    assert (await client.get("/missions/not-an-id/documents")).status_code == 404
    page = (await client.get(base)).text
    assert 'data-testid="studio-empty"' in page


async def test_hostile_text_is_shown_as_text(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(
        ctx, "Build a URL shortener <script>alert(1)</script> [x](javascript:alert(1)) # heading"
    )
    await generate_document(ctx, mission_id=mission.id, kind="prd", actor=ACTOR, llm=None)
    page = (await client.get(f"/missions/{mission.id}/documents")).text
    assert "<script>alert(1)</script>" not in page
    assert 'href="javascript:' not in page
