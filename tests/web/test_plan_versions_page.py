"""Planning again from the mission page with a changed context, plan version pages and their
comparison, and running a completed mission again."""

import uuid

import httpx2
from sqlalchemy import func, select

from missionctl.db.models import Run
from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import plans as plan_service
from tests.support.auth import bearer_headers
from tests.web.support import ACTOR, HTMX, planned_mission, wait_for_run

GOAL = "Build a URL shortener with click analytics"


async def _versions(ctx: ServiceContext, mission_id: uuid.UUID) -> list[int]:
    return [v.version for v in await plan_service.list_plan_versions(ctx, mission_id=mission_id)]


async def test_the_form_plans_again_with_the_changed_context(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, GOAL)
    page = (await client.get(f"/missions/{mission.id}")).text
    assert 'data-testid="plan-again"' in page and 'name="repo_context"' in page

    answer = await client.post(
        f"/missions/{mission.id}/plan",
        data={
            "engine": "local",
            "constraints": "Go 1.22\n\n  Mobile app with offline sync ",
            "repo_context": "A Go monorepo",
        },
        headers=HTMX,
    )

    assert answer.status_code == 200 and "Plan v2 ready" in answer.text
    stored = await mission_service.read_mission(ctx, mission_id=mission.id)
    assert stored.constraints == ["Go 1.22", "Mobile app with offline sync"]
    assert stored.repo_context == "A Go monorepo"
    page = (await client.get(f"/missions/{mission.id}")).text
    assert ">Plan v2</a>" in page and "compare with v1" in page
    assert "Changed before planning again: constraints and repository context" in page


async def test_a_bad_field_is_named_and_nothing_changes(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, GOAL)

    answer = await client.post(
        f"/missions/{mission.id}/plan",
        data={"engine": "local", "constraints": "ok\n" + "x" * 501, "repo_context": ""},
        headers=HTMX,
    )

    assert answer.status_code == 422
    assert "Constraint 2 is too long" in answer.text and "constraints" in answer.text
    assert await _versions(ctx, mission.id) == [1]
    assert (await mission_service.read_mission(ctx, mission_id=mission.id)).constraints == []


async def test_a_viewer_sees_no_form_and_is_refused(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, GOAL)
    app = client._transport.app  # type: ignore[attr-defined]
    viewer = await bearer_headers(app.state.ctx, "vic", Role.VIEWER)

    page = (await client.get(f"/missions/{mission.id}", headers=viewer)).text
    refused = await client.post(
        f"/missions/{mission.id}/plan",
        data={"constraints": "Rust", "repo_context": ""},
        headers={**HTMX, **viewer},
    )

    assert 'data-testid="plan-again"' not in page
    assert refused.status_code == 403
    assert await _versions(ctx, mission.id) == [1]


async def test_a_plan_version_page_shows_it_and_compares_it_with_another(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, GOAL)
    await client.post(
        f"/missions/{mission.id}/plan",
        data={"engine": "local", "constraints": "Mobile app with offline sync", "repo_context": ""},
        headers=HTMX,
    )
    first = await plan_service.read_plan(ctx, mission_id=mission.id, version=1)

    page = await client.get(f"/missions/{mission.id}/plans/1")
    compared = await client.get(f"/missions/{mission.id}/plans/2?compare=1")
    missing = await client.get(f"/missions/{mission.id}/plans/9")

    assert page.status_code == 200
    assert "Plan v1" in page.text and first.tasks[0].title in page.text
    assert page.text.count("<time ") == page.text.count("</time>") == 3  # none nested
    assert 'aria-current="page">v1</a>' in page.text and ">v2</a>" in page.text
    assert compared.status_code == 200 and "From v1 to v2" in compared.text
    assert 'data-change="added"' in compared.text or 'data-change="changed"' in compared.text
    assert missing.status_code == 404


async def test_a_completed_mission_runs_again(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, GOAL)
    first = await plan_service.run_mission(ctx, mission_id=mission.id, actor=ACTOR)
    await wait_for_run(ctx, first.id)
    assert (await mission_service.read_mission(ctx, mission_id=mission.id)).status == "completed"
    page = (await client.get(f"/missions/{mission.id}")).text
    assert 'data-control="run" disabled' not in page

    answer = await client.post(f"/missions/{mission.id}/run", headers=HTMX)

    assert answer.status_code == 200 and "Run started" in answer.text
    async with ctx.read() as session:
        runs = await session.scalar(select(func.count()).where(Run.mission_id == mission.id))
    assert runs == 2


async def test_a_plan_version_page_lists_features_constraints_and_qualities_apart(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, GOAL)
    await client.post(
        f"/missions/{mission.id}/plan",
        data={"engine": "local", "constraints": "p95 redirect under 50 ms", "repo_context": ""},
        headers=HTMX,
    )
    plan = await plan_service.read_plan(ctx, mission_id=mission.id, version=2)

    page = (await client.get(f"/missions/{mission.id}/plans/2")).text

    for kind in ("feature", "constraint", "quality"):
        listed = page.split(f'data-testid="plan-requirements-{kind}">', 1)[1].split("</ul>", 1)[0]
        for requirement in plan.requirements:
            shown = f"<code>{requirement.key}</code>" in listed
            assert shown == (requirement.kind == kind), (kind, requirement)
    constraints = page.split('data-testid="plan-requirements-constraint">', 1)[1]
    assert "p95 redirect under 50 ms" in constraints.split("</ul>", 1)[0]
    assert page.index(">Features <") < page.index(">Constraints <") < page.index(">Qualities")
