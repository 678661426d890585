"""Schedules over the API: add, list, read, change, pause, resume, run now, delete; the refusals
(viewer, anonymous, hostile bodies); and a run started by a schedule naming it."""

import uuid
from typing import Any

import httpx2

from missionctl.domain.access import Role
from tests.support.auth import bearer_headers

# A tick no test reaches: the server's scheduler runs beside these tests.
NEVER_SOON = "0 3 1 1 *"


async def _workflow(client: httpx2.AsyncClient) -> str:
    spec = {"name": f"wf-{uuid.uuid4().hex[:8]}", "steps": [{"id": "a", "agent": "builtin:noop"}]}
    saved = await client.post("/api/v1/workflows", json=spec)
    assert saved.status_code == 201, saved.text
    workflow_id: str = saved.json()["id"]
    return workflow_id


def _body(workflow_id: str, **extra: Any) -> dict[str, Any]:
    return {"name": "nightly", "cron": NEVER_SOON, "workflow_id": workflow_id} | extra


async def test_a_schedule_is_added_listed_changed_paused_resumed_and_deleted(
    client: httpx2.AsyncClient,
) -> None:
    workflow_id = await _workflow(client)
    added = await client.post(
        "/api/v1/schedules",
        json=_body(workflow_id, timezone="Europe/Paris", budget_usd="1.5", overlap_policy="queue"),
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert (body["target"], body["timezone"], body["budget_usd"]) == (
        "workflow",
        "Europe/Paris",
        "1.5",
    )
    # 03:00 in Paris on 1 January is 02:00 UTC.
    assert body["next_fire_at"].endswith("T02:00:00Z") and "-01-01" in body["next_fire_at"]
    assert body["success_rate"] is None and body["last_run_id"] is None
    schedule_id = body["id"]
    assert [s["name"] for s in (await client.get("/api/v1/schedules")).json()] == ["nightly"]
    changed = await client.patch(
        f"/api/v1/schedules/{schedule_id}", json={"cron": "30 4 1 1 *", "budget_usd": None}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["budget_usd"] is None and "T03:30:00Z" in changed.json()["next_fire_at"]
    paused = await client.post(f"/api/v1/schedules/{schedule_id}/pause")
    assert paused.json()["paused"] and paused.json()["next_fire_at"] is None
    assert (await client.post(f"/api/v1/schedules/{schedule_id}/pause")).status_code == 409
    resumed = await client.post(f"/api/v1/schedules/{schedule_id}/resume")
    assert resumed.status_code == 200 and not resumed.json()["paused"]
    assert (await client.delete(f"/api/v1/schedules/{schedule_id}")).status_code == 204
    assert (await client.get(f"/api/v1/schedules/{schedule_id}")).status_code == 404
    assert (await client.delete(f"/api/v1/schedules/{schedule_id}")).status_code == 404
    types = [
        e["type"]
        for e in (await client.get("/api/v1/events", params={"type": "schedule."})).json()["items"]
    ]
    expected = ["schedule.saved", "schedule.saved", "schedule.paused", "schedule.resumed"]
    assert sorted(types) == sorted([*expected, "schedule.deleted"])


async def test_run_now_starts_a_run_that_names_its_schedule(client: httpx2.AsyncClient) -> None:
    workflow_id = await _workflow(client)
    schedule = (await client.post("/api/v1/schedules", json=_body(workflow_id))).json()
    fired = await client.post(f"/api/v1/schedules/{schedule['id']}/run-now")
    assert fired.status_code == 202, fired.text
    run_id = fired.json()["last_run_id"]
    run = (await client.get(f"/api/v1/runs/{run_id}")).json()
    assert (run["schedule_id"], run["schedule_name"]) == (schedule["id"], "nightly")
    assert run["created_by"] == "schedule:nightly"
    page = await client.get(f"/runs/{run_id}")
    assert page.status_code == 200
    assert f'href="/schedules#schedule-{schedule["id"]}"' in page.text


async def test_a_viewer_reads_but_cannot_write_and_anonymous_callers_get_401(
    client: httpx2.AsyncClient,
) -> None:
    workflow_id = await _workflow(client)
    schedule_id = (await client.post("/api/v1/schedules", json=_body(workflow_id))).json()["id"]
    app = client._transport.app  # type: ignore[attr-defined]
    viewer = await bearer_headers(app.state.ctx, "vic", Role.VIEWER)
    assert (await client.get("/api/v1/schedules", headers=viewer)).status_code == 200
    writes = [
        ("POST", "/api/v1/schedules", _body(workflow_id, name="other")),
        ("PATCH", f"/api/v1/schedules/{schedule_id}", {"cron": "@daily"}),
        ("POST", f"/api/v1/schedules/{schedule_id}/pause", None),
        ("POST", f"/api/v1/schedules/{schedule_id}/resume", None),
        ("POST", f"/api/v1/schedules/{schedule_id}/run-now", None),
        ("DELETE", f"/api/v1/schedules/{schedule_id}", None),
    ]
    for method, path, body in writes:
        refused = await client.request(method, path, json=body, headers=viewer)
        assert refused.status_code == 403, (method, path)
        assert "schedules:write" in refused.json()["error"]["message"]
    async with httpx2.AsyncClient(
        transport=client._transport, base_url="http://testserver"
    ) as anon:
        assert (await anon.get("/api/v1/schedules")).status_code == 401
    # Nothing changed.
    [kept] = (await client.get("/api/v1/schedules")).json()
    assert kept["cron"] == NEVER_SOON and not kept["paused"] and kept["last_run_id"] is None


async def test_bad_input_is_a_422_naming_the_field_and_stores_nothing(
    client: httpx2.AsyncClient,
) -> None:
    workflow_id = await _workflow(client)
    cases: list[tuple[dict[str, Any], str]] = [
        (_body(workflow_id, cron="61 * * * *"), "cron"),
        (_body(workflow_id, cron="* * * * * *"), "cron"),
        (_body(workflow_id, cron="x" * 100_000), "cron"),
        (_body(workflow_id, timezone="Mars/Olympus"), "timezone"),
        (_body(workflow_id, timezone="../../etc/passwd"), "timezone"),
        (_body(workflow_id, timezone="a\x00b"), "timezone"),
        (_body(workflow_id, budget_usd=-1), "budget_usd"),
        (_body(workflow_id, budget_usd="-0.5"), "budget_usd"),
        (_body(workflow_id, name="x" * 5000), "name"),
        (_body(workflow_id, name="has spaces"), "name"),
        (_body(workflow_id, misfire_policy="sometimes"), "misfire_policy"),
        (_body(workflow_id, overlap_policy="maybe"), "overlap_policy"),
        (_body(workflow_id, unknown=1), "unknown"),
        (_body(workflow_id, inputs={"undeclared": 1}), "inputs.undeclared"),
        (_body(workflow_id, inputs={str(i): i for i in range(500)}), "inputs"),
        (_body(workflow_id, cron={"a": [[[[[[[[1]]]]]]]]}), "cron"),
        ({"name": "n", "cron": "@daily"}, "workflow_id"),
        (_body(workflow_id, mission_id=str(uuid.uuid4())), "workflow_id"),
    ]
    for body, field in cases:
        answer = await client.post("/api/v1/schedules", json=body)
        # An input the workflow does not declare: the stored version refuses it (409).
        expected = 409 if field == "inputs.undeclared" else 422
        assert answer.status_code == expected, (field, answer.text[:300])
        assert field in (answer.json()["error"]["field"] or ""), answer.text[:300]
    unknown = await client.post("/api/v1/schedules", json=_body(str(uuid.uuid4())))
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "workflow_id"
    deep = await client.post(
        "/api/v1/schedules",
        content=b"[" * 5000 + b"]" * 5000,
        headers={"content-type": "application/json"},
    )
    assert deep.status_code in {400, 413, 422}
    assert (await client.get("/api/v1/schedules")).json() == []
    added = (await client.post("/api/v1/schedules", json=_body(workflow_id))).json()
    for edit, field in [
        ({"cron": "nope"}, "cron"),
        ({"timezone": "Nowhere/City"}, "timezone"),
        ({"name": None}, "name"),
        ({"budget_usd": -3}, "budget_usd"),
        ({"mission_action": "plan_again"}, "mission_action"),
    ]:
        answer = await client.patch(f"/api/v1/schedules/{added['id']}", json=edit)
        assert answer.status_code == 422, (edit, answer.text[:300])
        assert answer.json()["error"]["field"] == field, answer.text[:300]
    taken = await client.post("/api/v1/schedules", json=_body(workflow_id))
    assert taken.status_code == 409 and taken.json()["error"]["field"] == "name"
