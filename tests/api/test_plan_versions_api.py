"""Plan versions over the API: planning again with a changed context, reading and comparing
versions; bad bodies are refused naming the field, and a viewer cannot plan again."""

from typing import Any

import httpx2
import pytest

from missionctl.domain.access import Role
from missionctl.schemas.missions import CONSTRAINT_MAX_CHARS
from tests.support.auth import bearer_headers

GOAL = "Build a URL shortener with click analytics and custom aliases"


async def _planned(client: httpx2.AsyncClient) -> str:
    created = await client.post(
        "/api/v1/missions", json={"goal": GOAL, "constraints": ["Python 3.11"]}
    )
    mission_id: str = created.json()["id"]
    first = await client.post(f"/api/v1/missions/{mission_id}/plan")
    assert first.status_code == 201, first.text
    return mission_id


async def _state(client: httpx2.AsyncClient, mission_id: str) -> tuple[Any, ...]:
    mission = (await client.get(f"/api/v1/missions/{mission_id}")).json()
    versions = (await client.get(f"/api/v1/missions/{mission_id}/plans")).json()
    return mission["constraints"], mission["repo_context"], mission["status"], len(versions)


async def test_planning_again_with_a_new_context_makes_a_version_that_can_be_read_and_compared(
    client: httpx2.AsyncClient,
) -> None:
    mission_id = await _planned(client)

    again = await client.post(
        f"/api/v1/missions/{mission_id}/plan",
        json={
            "constraints": ["Python 3.11", "Mobile app with offline sync"],
            "repo_context": "An existing Django monolith",
        },
    )

    assert again.status_code == 201, again.text
    assert again.json()["version"] == 2
    mission = (await client.get(f"/api/v1/missions/{mission_id}")).json()
    assert mission["constraints"] == ["Python 3.11", "Mobile app with offline sync"]
    assert mission["repo_context"] == "An existing Django monolith"
    versions = (await client.get(f"/api/v1/missions/{mission_id}/plans")).json()
    assert [v["version"] for v in versions] == [2, 1]
    assert all(v["tasks"] >= 4 and v["requirements"] >= 1 for v in versions)
    first = await client.get(f"/api/v1/missions/{mission_id}/plans/1")
    assert first.status_code == 200 and first.json()["version"] == 1
    diff = await client.get(f"/api/v1/missions/{mission_id}/plans/2/diff", params={"base": 1})
    assert diff.status_code == 200, diff.text
    body = diff.json()
    assert (body["base"], body["target"]) == (1, 2)
    assert [s["name"] for s in body["sections"]] == ["tasks", "requirements", "risks", "decisions"]
    assert not body["same"]  # a mobile app with offline sync is planned differently
    same = (await client.get(f"/api/v1/missions/{mission_id}/plans/1/diff?base=1")).json()
    assert same["same"] and all(not s["added"] and not s["changed"] for s in same["sections"])


async def test_planning_again_without_a_body_keeps_the_context(client: httpx2.AsyncClient) -> None:
    mission_id = await _planned(client)
    before = await _state(client, mission_id)

    again = await client.post(f"/api/v1/missions/{mission_id}/plan", json={})

    assert again.status_code == 201 and again.json()["version"] == 2
    assert (await _state(client, mission_id))[:2] == before[:2]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"constraints": ["x" * (CONSTRAINT_MAX_CHARS + 1)]}, "constraints.0"),
        ({"constraints": [""]}, "constraints.0"),
        ({"constraints": "Python"}, "constraints"),
        ({"repo_context": "a\x00b"}, "repo_context"),
        ({"budget_usd": 5}, "budget_usd"),
    ],
)
async def test_a_bad_body_is_refused_naming_its_field_and_changes_nothing(
    client: httpx2.AsyncClient, body: dict[str, Any], field: str
) -> None:
    mission_id = await _planned(client)
    before = await _state(client, mission_id)

    answer = await client.post(f"/api/v1/missions/{mission_id}/plan", json=body)

    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert await _state(client, mission_id) == before


async def test_missing_versions_are_404s_naming_the_version(client: httpx2.AsyncClient) -> None:
    mission_id = await _planned(client)

    missing = await client.get(f"/api/v1/missions/{mission_id}/plans/7")
    base = await client.get(f"/api/v1/missions/{mission_id}/plans/1/diff", params={"base": 9})

    assert missing.status_code == 404 and missing.json()["error"]["field"] == "version"
    assert base.status_code == 404 and base.json()["error"]["field"] == "base"
    assert (await client.get(f"/api/v1/missions/{mission_id}/plans/0")).status_code == 422


async def test_a_viewer_reads_versions_but_cannot_plan_again(client: httpx2.AsyncClient) -> None:
    mission_id = await _planned(client)
    before = await _state(client, mission_id)
    app = client._transport.app  # type: ignore[attr-defined]
    viewer = await bearer_headers(app.state.ctx, "vic", Role.VIEWER)

    refused = await client.post(
        f"/api/v1/missions/{mission_id}/plan",
        json={"constraints": ["Rust"]},
        headers=viewer,
    )
    listed = await client.get(f"/api/v1/missions/{mission_id}/plans", headers=viewer)

    assert refused.status_code == 403
    assert listed.status_code == 200 and len(listed.json()) == 1
    assert await _state(client, mission_id) == before
