"""Mini-specs over the API: who may write and decide, what is refused, races, artifacts."""

import asyncio

import httpx2
from fastapi import FastAPI

from missionctl.domain.access import Role
from tests.support.auth import bearer_headers

GOAL = "A URL shortener with click analytics, a login, and a migration of the links table"


def http(app: FastAPI, headers: dict[str, str] | None = None) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=app)
    return httpx2.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


async def _planned(client: httpx2.AsyncClient) -> str:
    mission = (await client.post("/api/v1/missions", json={"goal": GOAL})).json()
    assert (await client.post(f"/api/v1/missions/{mission['id']}/plan")).status_code == 201
    return str(mission["id"])


async def test_roles_write_and_decide_and_the_spec_is_an_artifact(app: FastAPI) -> None:
    ctx = app.state.ctx
    async with http(app, await bearer_headers(ctx)) as admin:
        mission_id = await _planned(admin)
    base = f"/api/v1/missions/{mission_id}/specs"
    spec = {"task_key": "links-migration", "body": "## Change\nAdd a column.\n"}
    viewer = await bearer_headers(ctx, "vic", Role.VIEWER)
    operator = await bearer_headers(ctx, "olga", Role.OPERATOR)
    approver = await bearer_headers(ctx, "abe", Role.APPROVER)
    async with http(app, viewer) as v, http(app, operator) as o, http(app, approver) as a:
        assert (await v.post(base, json=spec)).status_code == 403
        written = await o.post(base, json=spec)
        assert written.status_code == 201, written.text
        spec_id = written.json()["id"]
        assert written.json()["status"] == "draft" and written.json()["author"].startswith(
            "token:olga"
        )
        assert (await o.post(f"/api/v1/specs/{spec_id}/approve")).status_code == 403
        assert (await v.get(base)).json()[0]["id"] == spec_id
        artifacts = (await v.get(f"/api/v1/missions/{mission_id}/artifacts")).json()
        assert [x["name"] for x in artifacts if x["id"] == written.json()["artifact_id"]] == [
            "spec-links-migration.md"
        ]
        no_reason = await a.post(f"/api/v1/specs/{spec_id}/reject", json={"reason": "  "})
        assert no_reason.status_code == 422 and "reason" in no_reason.text
        approved = await a.post(f"/api/v1/specs/{spec_id}/approve", json={"reason": "ok"})
        assert approved.status_code == 200 and approved.json()["decided_by"].startswith("token:abe")
        again = await a.post(f"/api/v1/specs/{spec_id}/approve")
        assert again.status_code == 409 and "token:abe" in again.text
        marked = await v.get(f"{base}/marked")
        assert marked.status_code == 200


async def test_an_author_cannot_approve_their_own_spec(app: FastAPI) -> None:
    ctx = app.state.ctx
    async with http(app, await bearer_headers(ctx)) as admin:
        mission_id = await _planned(admin)
        spec = await admin.post(
            f"/api/v1/missions/{mission_id}/specs", json={"task_key": "x", "body": "b"}
        )
        own = await admin.post(f"/api/v1/specs/{spec.json()['id']}/approve")
    assert own.status_code == 403 and "four eyes" in own.text


async def test_hostile_bodies_are_refused_with_the_field(app: FastAPI) -> None:
    ctx = app.state.ctx
    async with http(app, await bearer_headers(ctx)) as admin:
        mission_id = await _planned(admin)
        base = f"/api/v1/missions/{mission_id}/specs"
        huge = await admin.post(base, json={"task_key": "x", "body": "a" * 20_001})
        nul = await admin.post(base, json={"task_key": "x", "body": "a\x00b"})
        blank = await admin.post(base, json={"task_key": "x", "body": "   "})
        bad_key = await admin.post(base, json={"task_key": "../etc", "body": "b"})
        deep = await admin.post(base, json={"task_key": "x", "body": {"a": [[[[1]]]]}})
        extra = await admin.post(base, json={"task_key": "x", "body": "b", "status": "approved"})
        missing = await admin.post(
            "/api/v1/missions/00000000-0000-7000-8000-000000000000/specs",
            json={"task_key": "x", "body": "b"},
        )
        unknown = await admin.post("/api/v1/specs/00000000-0000-7000-8000-000000000000/approve")
        listed = (await admin.get(base)).json()
    for response, field in [
        (huge, "body"),
        (nul, "body"),
        (blank, "body"),
        (bad_key, "task_key"),
        (deep, "body"),
        (extra, "status"),
    ]:
        assert response.status_code == 422, response.text
        assert field in response.text
    assert missing.status_code == 404 and unknown.status_code == 404
    assert listed == []


async def test_a_secret_in_a_body_is_redacted(app: FastAPI) -> None:
    ctx = app.state.ctx
    async with http(app, await bearer_headers(ctx)) as admin:
        mission_id = await _planned(admin)
        key = "sk-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6"
        written = await admin.post(
            f"/api/v1/missions/{mission_id}/specs",
            json={"task_key": "x", "body": f"Use the key {key} to call it"},
        )
    assert written.status_code == 201
    assert key not in written.text


async def test_concurrent_approvals_decide_once(app: FastAPI) -> None:
    ctx = app.state.ctx
    async with http(app, await bearer_headers(ctx)) as admin:
        mission_id = await _planned(admin)
        spec = await admin.post(
            f"/api/v1/missions/{mission_id}/specs", json={"task_key": "x", "body": "b"}
        )
    first = await bearer_headers(ctx, "ann", Role.APPROVER)
    second = await bearer_headers(ctx, "ben", Role.APPROVER)
    url = f"/api/v1/specs/{spec.json()['id']}/approve"
    async with http(app, first) as one, http(app, second) as two:
        answers = await asyncio.gather(one.post(url), two.post(url))
    assert sorted(a.status_code for a in answers) == [200, 409]
