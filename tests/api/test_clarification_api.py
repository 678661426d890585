"""The planner's questions over the API: 202 with the questions, answers that plan, refusals.

A refused answer (409 when the mission does not wait for one, 422 for a bad body, 403 for a
viewer) changes nothing.
"""

from typing import Any

import httpx2
import pytest

from missionctl.domain.access import Role
from missionctl.schemas.missions import ANSWER_MAX_CHARS, MAX_QUESTIONS
from tests.support.auth import bearer_headers

VAGUE = "Build a thing."
SALON = "Build a web app where salon clients book haircut appointments and pay a deposit"


async def _asked(client: httpx2.AsyncClient, goal: str = VAGUE) -> tuple[str, dict[str, Any]]:
    mission_id: str = (await client.post("/api/v1/missions", json={"goal": goal})).json()["id"]
    asked = await client.post(f"/api/v1/missions/{mission_id}/plan")
    assert asked.status_code == 202, asked.text
    return mission_id, asked.json()


async def _state(client: httpx2.AsyncClient, mission_id: str) -> tuple[Any, ...]:
    mission = (await client.get(f"/api/v1/missions/{mission_id}")).json()
    plans = (await client.get(f"/api/v1/missions/{mission_id}/plans")).json()
    return mission["status"], mission["clarifications"], len(plans)


async def test_the_planner_asks_then_plans_with_the_answers(client: httpx2.AsyncClient) -> None:
    mission_id, asked = await _asked(client)

    assert asked["mission_id"] == mission_id and asked["status"] == "needs_clarification"
    assert len(asked["questions"]) == 4 and "What should it do?" in asked["questions"][0]
    mission = (await client.get(f"/api/v1/missions/{mission_id}")).json()
    assert mission["status"] == "needs_clarification"
    assert mission["clarifications"] == [
        {"reason": asked["reason"], "questions": asked["questions"], "answers": None}
    ]
    listed = await client.get("/api/v1/missions", params={"status": "needs_clarification"})
    assert [m["id"] for m in listed.json()["items"]] == [mission_id]

    planned = await client.post(
        f"/api/v1/missions/{mission_id}/clarification",
        json={"answers": [SALON, "Salon clients and stylists", "A web app"]},
    )

    assert planned.status_code == 201, planned.text
    assert planned.json()["version"] == 1
    assert "haircut appointments" in planned.text
    mission = (await client.get(f"/api/v1/missions/{mission_id}")).json()
    assert mission["status"] == "planned"
    assert mission["clarifications"][0]["answers"] == [
        SALON,
        "Salon clients and stylists",
        "A web app",
        "",
    ]


async def test_answers_that_say_nothing_new_get_the_questions_again(
    client: httpx2.AsyncClient,
) -> None:
    mission_id, asked = await _asked(client)

    again = await client.post(
        f"/api/v1/missions/{mission_id}/clarification", json={"answers": ["something nice"]}
    )

    assert again.status_code == 202, again.text
    assert again.json()["questions"] == asked["questions"]


async def test_a_french_goal_is_asked_for_in_english(client: httpx2.AsyncClient) -> None:
    _, asked = await _asked(client, "Créer une application de réservation pour un salon")

    assert "French" in asked["reason"]
    assert "English" in asked["questions"][0] and "model" in asked["questions"][0]


@pytest.mark.parametrize("planned", [False, True], ids=["draft", "planned"])
async def test_answers_to_a_mission_that_waits_for_none_are_a_conflict(
    client: httpx2.AsyncClient, planned: bool
) -> None:
    created = await client.post("/api/v1/missions", json={"goal": "Build a URL shortener"})
    mission_id = created.json()["id"]
    if planned:
        assert (await client.post(f"/api/v1/missions/{mission_id}/plan")).status_code == 201
    before = await _state(client, mission_id)

    refused = await client.post(
        f"/api/v1/missions/{mission_id}/clarification", json={"answers": [SALON]}
    )

    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["field"] == "mission_id"
    assert "not waiting for answers" in error["message"]
    assert await _state(client, mission_id) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "answers"),
        ({"answers": []}, "answers"),
        ({"answers": ["", "   "]}, "answers"),
        ({"answers": ["x" * (ANSWER_MAX_CHARS + 1)]}, "answers.0"),
        ({"answers": ["ok", "bad\x00"]}, "answers.1"),
        ({"answers": ["ok"] * (MAX_QUESTIONS + 1)}, "answers"),
        ({"answers": "one"}, "answers"),
        ({"answers": [1]}, "answers.0"),
        ({"answers": ["ok"], "goal": "another"}, "goal"),
        ({"answers": ["one", "two"]}, "answers"),  # the French goal's one question
    ],
)
async def test_bad_answers_are_refused_naming_the_field_and_change_nothing(
    client: httpx2.AsyncClient, body: dict[str, Any], field: str
) -> None:
    mission_id, _ = await _asked(client, "Créer une application de réservation pour un salon")
    before = await _state(client, mission_id)

    refused = await client.post(f"/api/v1/missions/{mission_id}/clarification", json=body)

    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["field"] == field
    assert await _state(client, mission_id) == before


async def test_answers_to_no_mission_are_not_found(client: httpx2.AsyncClient) -> None:
    missing = await client.post(
        "/api/v1/missions/0190a3b2-0000-7000-8000-000000000000/clarification",
        json={"answers": [SALON]},
    )

    assert missing.status_code == 404


async def test_a_viewer_sees_the_questions_but_cannot_answer(client: httpx2.AsyncClient) -> None:
    mission_id, asked = await _asked(client)
    before = await _state(client, mission_id)
    app = client._transport.app  # type: ignore[attr-defined]
    viewer = await bearer_headers(app.state.ctx, "vic", Role.VIEWER)

    refused = await client.post(
        f"/api/v1/missions/{mission_id}/clarification",
        json={"answers": [SALON]},
        headers=viewer,
    )
    seen = await client.get(f"/api/v1/missions/{mission_id}", headers=viewer)

    assert refused.status_code == 403
    assert seen.json()["clarifications"][0]["questions"] == asked["questions"]
    assert await _state(client, mission_id) == before


async def test_the_api_document_names_both_answers_of_planning(client: httpx2.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    for action in ("plan", "clarification"):
        responses = document["paths"][f"/api/v1/missions/{{mission_id}}/{action}"]["post"][
            "responses"
        ]
        assert responses["201"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/PlanRead"
        )
        assert responses["202"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/ClarificationRead"
        )
        assert "409" in responses and "422" in responses
