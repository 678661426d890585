"""The planner's questions on the mission page: shown with a form, answered, refused kindly."""

import uuid

import httpx2

from missionctl.domain.access import Role
from missionctl.planning import LocalPlanner
from missionctl.schemas.missions import ANSWER_MAX_CHARS, MissionCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import plans as plan_service
from tests.support.auth import bearer_headers
from tests.web.support import ACTOR, HTMX

SALON = "Build a web app where salon clients book haircut appointments and pay a deposit"


async def _waiting(ctx: ServiceContext, goal: str = "Build a thing.") -> uuid.UUID:
    mission = await mission_service.create_mission(ctx, data=MissionCreate(goal=goal), actor=ACTOR)
    await plan_service.plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner())
    return mission.id


async def test_the_page_shows_the_questions_and_the_answers_plan_the_mission(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission_id = await _waiting(ctx)

    page = (await client.get(f"/missions/{mission_id}")).text

    questions = page.split('data-testid="planner-questions"')[1].split("</section>")[0]
    assert "The planner has questions before it can plan" in questions
    assert "What should it do?" in questions and "Who will use it" in questions
    assert questions.count('name="answers"') == 4
    assert f'hx-post="/missions/{mission_id}/clarification"' in questions
    assert ">Needs answers</span>" in page
    assert "The planner asks 4 questions before it plans" in page  # the audit trail
    assert "the planner waits for answers to its questions" in page

    answered = await client.post(
        f"/missions/{mission_id}/clarification",
        data={"answers": [SALON, "", "A web app", ""], "engine": "local"},
        headers=HTMX,
    )

    assert answered.status_code == 200 and "Plan v1 ready" in answered.text
    page = (await client.get(f"/missions/{mission_id}")).text
    assert 'data-testid="planner-questions"' not in page
    answers = page.split('data-testid="planner-answers"')[1].split("</dl>")[0]
    assert SALON in answers and "A web app" in answers and "Who will use it" not in answers
    assert ">Plan v1</a>" in page and "Answered 2 of the planner&#39;s 4 questions" in page


async def test_answers_still_vague_bring_a_warning_toast(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission_id = await _waiting(ctx)

    answered = await client.post(
        f"/missions/{mission_id}/clarification",
        data={"answers": ["something cool"]},
        headers=HTMX,
    )

    assert answered.status_code == 200
    assert "The planner has questions" in answered.text and "toast--warning" in answered.text


async def test_planning_a_vague_mission_says_the_planner_has_questions(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await mission_service.create_mission(
        ctx, data=MissionCreate(goal="Build an app"), actor=ACTOR
    )

    asked = await client.post(
        f"/missions/{mission.id}/plan", data={"engine": "local"}, headers=HTMX
    )

    assert asked.status_code == 200
    assert "The planner has questions" in asked.text
    assert "Answer the 4 questions on the mission page" in asked.text


async def test_empty_or_long_answers_are_named_and_change_nothing(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission_id = await _waiting(ctx)

    empty = await client.post(
        f"/missions/{mission_id}/clarification", data={"answers": ["", " "]}, headers=HTMX
    )
    long = await client.post(
        f"/missions/{mission_id}/clarification",
        data={"answers": ["ok", "x" * (ANSWER_MAX_CHARS + 1)]},
        headers=HTMX,
    )
    missing = await client.post(f"/missions/{mission_id}/clarification", headers=HTMX)

    assert empty.status_code == 422 and "Answer at least one question" in empty.text
    assert long.status_code == 422 and "Answer 2 is too long" in long.text
    assert missing.status_code == 422 and "Answer at least one question" in missing.text
    stored = await mission_service.read_mission(ctx, mission_id=mission_id)
    assert stored.status == "needs_clarification" and stored.clarifications[0].answers is None


async def test_answers_to_a_planned_mission_get_a_conflict_toast(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission_id = await _waiting(ctx, "Build a URL shortener")

    refused = await client.post(
        f"/missions/{mission_id}/clarification", data={"answers": [SALON]}, headers=HTMX
    )

    assert refused.status_code == 409 and "not waiting for answers" in refused.text


async def test_a_viewer_reads_the_questions_without_a_form_and_is_refused(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission_id = await _waiting(ctx)
    app = client._transport.app  # type: ignore[attr-defined]
    viewer = await bearer_headers(app.state.ctx, "vic", Role.VIEWER)

    page = (await client.get(f"/missions/{mission_id}", headers=viewer)).text
    refused = await client.post(
        f"/missions/{mission_id}/clarification",
        data={"answers": [SALON]},
        headers={**HTMX, **viewer},
    )

    assert "What should it do?" in page and 'name="answers"' not in page
    assert refused.status_code == 403
    stored = await mission_service.read_mission(ctx, mission_id=mission_id)
    assert stored.status == "needs_clarification"


async def test_the_missions_list_says_needs_answers(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    await _waiting(ctx)

    listed = (await client.get("/missions")).text
    filtered = (await client.get("/missions", params={"status": "needs_clarification"})).text

    assert ">Needs answers</span>" in listed
    assert '<option value="needs_clarification"' in listed and "Build a thing" in filtered
