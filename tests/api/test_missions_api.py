"""/api/v1/missions: create, list (paged), get; bad input is refused, named, and leaves nothing."""

from typing import Any

import httpx2
import pytest

from missionctl.schemas.missions import GOAL_MAX_CHARS

GOAL = "Build a URL shortener with click analytics and custom aliases"


async def _count_missions_and_events(client: httpx2.AsyncClient) -> tuple[int, int]:
    app = client._transport.app  # type: ignore[attr-defined]
    from missionctl.services.usecases.audit import read_event_page

    # The fixture's own sign-up (user.created, token.created) is not the missions' business.
    events = [e for e in await read_event_page(app.state.ctx) if e.type.startswith("mission.")]
    page = (await client.get("/api/v1/missions")).json()
    return page["total"], len(events)


async def test_create_then_get_and_list(client: httpx2.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/missions",
        json={
            "goal": GOAL,
            "constraints": ["Python 3.11", "PostgreSQL"],
            "repo_context": "monorepo",
            "budget_usd": "12.50",
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "draft"
    assert created["title"] == GOAL
    assert created["budget_usd"] == 12.5
    assert created["constraints"] == ["Python 3.11", "PostgreSQL"]

    fetched = await client.get(f"/api/v1/missions/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == created

    listed = (await client.get("/api/v1/missions")).json()
    assert listed["total"] == 1 and listed["items"] == [created] and listed["next_cursor"] is None
    assert await _count_missions_and_events(client) == (1, 1)


async def test_paging_walks_every_mission_once_newest_first(client: httpx2.AsyncClient) -> None:
    titles = [f"Mission {i}" for i in range(7)]
    for title in titles:
        assert (
            await client.post("/api/v1/missions", json={"goal": GOAL, "title": title})
        ).status_code == 201
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/missions", params=params)).json()
        assert page["total"] == 7
        seen += [m["title"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(titles))


async def test_filters_by_status_and_text(client: httpx2.AsyncClient) -> None:
    await client.post("/api/v1/missions", json={"goal": "Build a Slack bot", "title": "Slack bot"})
    await client.post(
        "/api/v1/missions", json={"goal": "Write Terraform modules", "title": "100% infra"}
    )
    found = (await client.get("/api/v1/missions", params={"q": "slack"})).json()
    assert [m["title"] for m in found["items"]] == ["Slack bot"]
    literal = (await client.get("/api/v1/missions", params={"q": "100%"})).json()
    assert [m["title"] for m in literal["items"]] == ["100% infra"]
    assert (await client.get("/api/v1/missions", params={"status": "draft"})).json()["total"] == 2
    assert (await client.get("/api/v1/missions", params={"status": "running"})).json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "goal"),
        ({"goal": ""}, "goal"),
        ({"goal": "   "}, "goal"),
        ({"goal": "x" * (GOAL_MAX_CHARS + 1)}, "goal"),
        ({"goal": 42}, "goal"),
        ({"goal": GOAL, "constraints": "one"}, "constraints"),
        ({"goal": GOAL, "constraints": [1]}, "constraints.0"),
        ({"goal": GOAL, "budget_usd": -1}, "budget_usd"),
        ({"goal": GOAL, "budget_usd": "lots"}, "budget_usd"),
        ({"goal": GOAL, "budget_usd": "0.0000001"}, "budget_usd"),
        ({"goal": GOAL, "title": ""}, "title"),
        ({"goal": GOAL, "colour": "blue"}, "colour"),
        ({"goal": GOAL, "status": "completed"}, "status"),
    ],
)
async def test_invalid_payload_is_422_naming_the_field_and_stores_nothing(
    client: httpx2.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/api/v1/missions", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert field in [d["field"] for d in error["details"]]
    assert error["message"]
    assert await _count_missions_and_events(client) == (0, 0)


async def test_malformed_json_is_422(client: httpx2.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/missions", content=b'{"goal": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "JSON" in response.json()["error"]["message"]


async def test_unknown_and_malformed_ids(client: httpx2.AsyncClient) -> None:
    unknown = await client.get("/api/v1/missions/01234567-89ab-7def-8123-456789abcdef")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == {
        "code": "not_found",
        "message": "no mission with id 01234567-89ab-7def-8123-456789abcdef",
        "field": "mission_id",
        "details": [],
    }
    malformed = await client.get("/api/v1/missions/not-an-id")
    assert malformed.status_code == 422
    assert malformed.json()["error"]["field"] == "mission_id"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 10_000}, "limit"),
        ({"cursor": "zzz"}, "cursor"),
        ({"status": "nope"}, "status"),
    ],
)
async def test_bad_list_parameters_are_422(
    client: httpx2.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/api/v1/missions", params=params)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


async def test_unknown_route_and_method_use_the_error_shape(client: httpx2.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = await client.delete("/api/v1/missions")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
