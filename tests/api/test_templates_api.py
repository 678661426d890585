"""The template gallery over the API: list, show, save, use, delete; the refusals (viewer, bad
and hostile input, names taken, shipped templates); named approvers; a mission started from a
template and run to the end by its approver."""

import asyncio
import time
from typing import Any

import httpx2

from missionctl.domain.access import Role
from tests.support.auth import bearer_headers

TEMPLATES = "/api/v1/templates"
SHIPPED = ["bug-triage", "data-migration", "release-with-approval", "sop-phases"]
SOP_PHASES = [
    "Scaffold check",
    "PRD",
    "Task list",
    "Spec",
    "Action plan",
    "Implementation",
    "Review",
]


def _ctx(client: httpx2.AsyncClient) -> Any:
    return client._transport.app.state.ctx  # type: ignore[attr-defined]


async def _workflow(client: httpx2.AsyncClient, name: str = "greet") -> str:
    spec = {
        "name": name,
        "inputs": {"who": {"type": "string", "default": "world"}},
        "steps": [{"id": "a", "agent": "builtin:noop", "inputs": {"text": "{{ inputs.who }}"}}],
    }
    saved = await client.post("/api/v1/workflows", json=spec)
    assert saved.status_code == 201, saved.text
    workflow_id: str = saved.json()["id"]
    return workflow_id


async def _wait(client: httpx2.AsyncClient, url: str, done: Any, within_s: float = 60) -> Any:
    deadline = time.monotonic() + within_s
    while True:
        body = (await client.get(url)).json()
        if done(body):
            return body
        assert time.monotonic() < deadline, f"{url} stayed {str(body)[:300]}"
        await asyncio.sleep(0.05)


def _pending(run_id: str) -> Any:
    def done(approvals: list[dict[str, Any]]) -> bool:
        return any(a["run_id"] == run_id for a in approvals)

    return done


async def test_the_gallery_lists_the_shipped_templates_and_filters_by_category(
    client: httpx2.AsyncClient,
) -> None:
    listed = (await client.get(TEMPLATES)).json()
    assert [t["name"] for t in listed] == SHIPPED
    assert all(t["source"] == "shipped" for t in listed)
    [release] = (await client.get(TEMPLATES, params={"category": "release"})).json()
    assert release["name"] == "release-with-approval"
    assert (await client.get(TEMPLATES, params={"category": "nothing"})).json() == []
    sop = (await client.get(f"{TEMPLATES}/sop-phases")).json()
    assert sop["phases"] == SOP_PHASES
    gates = [s["gated"] for s in sop["steps"]]
    assert gates == [False] + [True] * 6
    assert sop["inputs"]["approver"]["required"] is True
    assert (await client.get(f"{TEMPLATES}/nope")).status_code == 404
    assert (await client.get(f"{TEMPLATES}/Bad..Name")).status_code == 422


async def test_using_a_template_makes_a_workflow_version_and_may_start_its_run(
    client: httpx2.AsyncClient,
) -> None:
    used = await client.post(
        f"{TEMPLATES}/release-with-approval/use",
        json={"inputs": {"version": "1.4.0", "approver": "alice"}, "start": True},
    )
    assert used.status_code == 201, used.text
    body = used.json()
    assert body["workflow_name"] == "release 1.4.0" and body["run_id"]
    workflow = (await client.get(f"/api/v1/workflows/{body['workflow_id']}")).json()
    definition = workflow["definition"]
    publish = next(s for s in definition["steps"] if s["id"] == "publish")
    assert publish["approvers"] == ["alice"] and publish["requires_approval"] is True
    # The inputs given are the workflow's defaults: a run reads the same values.
    assert definition["inputs"]["version"]["default"] == "1.4.0"
    assert definition["description"] == "Release 1.4.0, published once alice approves."
    run = await _wait(
        client, f"/api/v1/runs/{body['run_id']}", lambda r: r["status"] == "paused", 60
    )
    waiting = {s["step_id"]: s["status"] for s in run["steps"]}
    assert waiting["publish"] == "awaiting_approval" and waiting["checks"] == "succeeded"


async def test_bad_inputs_are_refused_naming_the_input_and_save_nothing(
    client: httpx2.AsyncClient,
) -> None:
    before = len((await client.get("/api/v1/workflows")).json())
    cases: list[tuple[dict[str, Any], str]] = [
        ({"inputs": {"goal": "x", "approver": "alice", "nope": 1}}, "inputs.nope"),
        ({"inputs": {"goal": 42, "approver": "alice"}}, "inputs.goal"),
        ({"inputs": {"approver": "alice"}}, "inputs.goal"),
        ({"inputs": {"goal": "x", "approver": "Not A User!"}}, "workflow.steps.1.approvers"),
        ({"inputs": {"goal": "x", "approver": "{{ run.id }}"}}, "inputs.approver"),
        ({"inputs": {"goal": "{{ steps.prd.outputs }}", "approver": "alice"}}, "inputs.goal"),
        ({"inputs": {"goal": "x" * 200_000, "approver": "alice"}}, "inputs"),
        ({"inputs": {"goal": [[[[[[[[[[1]]]]]]]]]], "approver": "a"}}, "inputs.goal"),
        ({"inputs": {}, "surprise": True}, "surprise"),
        ({"inputs": {"goal": "x", "approver": "a"}, "budget_usd": -1}, "budget_usd"),
    ]
    # What the template declares refuses an input with 409; the rest is the request's (422).
    declared = {"inputs.nope", "inputs.goal"}
    for body, field in cases:
        answer = await client.post(f"{TEMPLATES}/sop-phases/use", json=body)
        # Template markup is the request's own fault; a wrong type the template's to refuse.
        own = "{{" in str(body)
        expected = (409,) if field in declared and not own else (413, 422)
        assert answer.status_code in expected, (field, answer.text[:300])
        if answer.status_code in (409, 422):
            error = answer.json()["error"]
            fields = [error["field"], *(d["field"] for d in error.get("details") or [])]
            assert any(field in (f or "") for f in fields), (field, answer.text[:300])
    assert len((await client.get("/api/v1/workflows")).json()) == before
    missing = await client.post(f"{TEMPLATES}/nope/use", json={})
    assert missing.status_code == 404


async def test_a_workflow_is_saved_as_a_template_used_and_deleted_with_events(
    client: httpx2.AsyncClient,
) -> None:
    workflow_id = await _workflow(client)
    saved = await client.post(
        TEMPLATES, json={"name": "greeting", "workflow_id": workflow_id, "category": "demo"}
    )
    assert saved.status_code == 201, saved.text
    body = saved.json()
    assert (body["source"], body["title"], body["category"]) == ("saved", "greet", "demo")
    assert body["saved_by"] == "token:tester-1" and body["inputs"]["who"]["default"] == "world"
    names = [t["name"] for t in (await client.get(TEMPLATES)).json()]
    assert names == [*SHIPPED, "greeting"]
    used = await client.post(
        f"{TEMPLATES}/greeting/use", json={"inputs": {"who": "Ada"}, "workflow_name": "hi-ada"}
    )
    assert used.status_code == 201, used.text
    assert used.json()["workflow_name"] == "hi-ada"
    again = await client.post(TEMPLATES, json={"name": "greeting", "workflow_id": workflow_id})
    assert again.status_code == 409 and "exists" in again.json()["error"]["message"]
    shipped = await client.post(TEMPLATES, json={"name": "sop-phases", "workflow_id": workflow_id})
    assert shipped.status_code == 409
    assert (await client.delete(f"{TEMPLATES}/sop-phases")).status_code == 409
    assert (await client.delete(f"{TEMPLATES}/greeting")).status_code == 204
    assert (await client.delete(f"{TEMPLATES}/greeting")).status_code == 404
    assert (await client.get(f"{TEMPLATES}/greeting")).status_code == 404
    events = (await client.get("/api/v1/events", params={"type": "template."})).json()["items"]
    assert sorted(e["type"] for e in events) == [
        "template.deleted",
        "template.saved",
        "template.used",
    ]
    [use] = [e["payload"] for e in events if e["type"] == "template.used"]
    assert (use["template"], use["workflow_name"], use["version"]) == ("greeting", "hi-ada", 1)


async def test_save_refuses_bad_sources_and_names(client: httpx2.AsyncClient) -> None:
    workflow_id = await _workflow(client)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"name": "x"}, 422, "workflow_id"),
        ({"name": "x", "workflow_id": workflow_id, "mission_id": workflow_id}, 422, "workflow_id"),
        ({"name": "Has Spaces", "workflow_id": workflow_id}, 422, "name"),
        ({"name": "x" * 5000, "workflow_id": workflow_id}, 422, "name"),
        ({"name": "x", "workflow_id": workflow_id, "title": "t" * 500}, 422, "title"),
        ({"name": "x", "workflow_id": workflow_id, "category": "A B"}, 422, "category"),
        ({"name": "x", "workflow_id": "0190a0b0-0000-7000-8000-000000000000"}, 404, "workflow_id"),
        ({"name": "x", "mission_id": "0190a0b0-0000-7000-8000-000000000000"}, 404, "mission_id"),
    ]
    for body, code, field in cases:
        answer = await client.post(TEMPLATES, json=body)
        assert answer.status_code == code, (body, answer.text[:300])
        assert field in (answer.json()["error"]["field"] or ""), answer.text[:300]
    mission = await client.post("/api/v1/missions", json={"goal": "Build a URL shortener"})
    never_ran = await client.post(TEMPLATES, json={"name": "x", "mission_id": mission.json()["id"]})
    assert never_ran.status_code == 409 and "not run" in never_ran.json()["error"]["message"]


async def test_a_viewer_reads_the_gallery_but_cannot_change_or_use_it(
    client: httpx2.AsyncClient,
) -> None:
    workflow_id = await _workflow(client)
    await client.post(TEMPLATES, json={"name": "greeting", "workflow_id": workflow_id})
    viewer = await bearer_headers(_ctx(client), "vic", Role.VIEWER)
    assert (await client.get(TEMPLATES, headers=viewer)).status_code == 200
    assert (await client.get(f"{TEMPLATES}/greeting", headers=viewer)).status_code == 200
    writes = [
        ("POST", TEMPLATES, {"name": "other", "workflow_id": workflow_id}),
        ("POST", f"{TEMPLATES}/greeting/use", {}),
        ("POST", f"{TEMPLATES}/sop-phases/missions", {"goal": "g", "inputs": {"approver": "a"}}),
        ("DELETE", f"{TEMPLATES}/greeting", None),
    ]
    for method, path, body in writes:
        refused = await client.request(method, path, json=body, headers=viewer)
        assert refused.status_code == 403, (method, path, refused.text[:200])
    assert [t["name"] for t in (await client.get(TEMPLATES)).json()][-1] == "greeting"


async def test_two_saves_of_one_name_at_once_store_one(client: httpx2.AsyncClient) -> None:
    workflow_id = await _workflow(client)
    answers = await asyncio.gather(
        *(
            client.post(TEMPLATES, json={"name": "twin", "workflow_id": workflow_id})
            for _ in range(3)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409]
    assert [t["name"] for t in (await client.get(TEMPLATES)).json()].count("twin") == 1


async def test_only_the_named_approver_may_open_a_gate(client: httpx2.AsyncClient) -> None:
    ctx = _ctx(client)
    alice = await bearer_headers(ctx, "alice", Role.APPROVER)
    bob = await bearer_headers(ctx, "bob", Role.APPROVER)
    used = await client.post(
        f"{TEMPLATES}/data-migration/use",
        json={"inputs": {"dataset": "orders", "approver": "alice"}, "start": True},
    )
    run_id = used.json()["run_id"]
    approvals = "/api/v1/approvals"
    [waiting] = await _wait(client, approvals, _pending(run_id))
    assert waiting["step_id"] == "migrate"
    for who in (bob, {}):  # another approver, and the admin the client signs in as
        refused = await client.post(f"{approvals}/{waiting['id']}/approve", headers=who)
        assert refused.status_code == 403, refused.text
        message = refused.json()["error"]["message"]
        assert "only 'alice' may decide step 'migrate'" in message
    rejected = await client.post(
        f"{approvals}/{waiting['id']}/reject", json={"reason": "no"}, headers=bob
    )
    assert rejected.status_code == 403
    approved = await client.post(f"{approvals}/{waiting['id']}/approve", headers=alice)
    assert approved.status_code == 200, approved.text
    assert approved.json()["decided_by"].startswith("token:alice")


async def test_a_mission_starts_from_the_sop_template_and_its_approver_runs_it_to_the_end(
    client: httpx2.AsyncClient,
) -> None:
    alice = await bearer_headers(_ctx(client), "alice", Role.APPROVER)
    started = await client.post(
        f"{TEMPLATES}/sop-phases/missions",
        json={"goal": "Add CSV export to the reports page", "inputs": {"approver": "alice"}},
    )
    assert started.status_code == 201, started.text
    body = started.json()
    mission_id, run_id = body["mission_id"], body["run_id"]
    assert body["workflow_name"].endswith(mission_id.replace("-", "")[-8:])
    workflow = (await client.get(f"/api/v1/workflows/{body['workflow_id']}")).json()
    assert workflow["mission_id"] == mission_id
    goal = workflow["definition"]["inputs"]["goal"]["default"]
    assert goal == "Add CSV export to the reports page"
    mission = (await client.get(f"/api/v1/missions/{mission_id}")).json()
    assert mission["status"] == "running"
    decided: list[str] = []
    for _ in range(6):
        pending = await _wait(client, "/api/v1/approvals", _pending(run_id))
        [gate] = [a for a in pending if a["run_id"] == run_id]
        answer = await client.post(f"/api/v1/approvals/{gate['id']}/approve", headers=alice)
        assert answer.status_code == 200, answer.text
        decided.append(gate["step_id"])
    assert decided == ["prd", "task-list", "spec", "action-plan", "implementation", "review"]
    run = await _wait(client, f"/api/v1/runs/{run_id}", lambda r: r["status"] == "completed")
    assert all(s["status"] == "succeeded" for s in run["steps"])
    mission = await _wait(
        client, f"/api/v1/missions/{mission_id}", lambda m: m["status"] == "completed"
    )
    artifacts = (await client.get(f"/api/v1/runs/{run_id}/artifacts")).json()
    names = {a["name"] for a in artifacts}
    assert {"scaffold-check.md", "prd.md", "task-list.md", "spec.md", "review.md"} <= names
    # A finished mission's workflow is saved as a template of its own name.
    saved = await client.post(TEMPLATES, json={"name": "my-sop", "mission_id": mission_id})
    assert saved.status_code == 201, saved.text
    assert saved.json()["workflow"]["name"] == "my-sop"


async def test_a_mission_from_a_template_with_bad_inputs_is_not_created(
    client: httpx2.AsyncClient,
) -> None:
    before = (await client.get("/api/v1/missions")).json()["total"]
    cases: list[tuple[str, dict[str, Any], int]] = [
        ("sop-phases", {"goal": "g", "inputs": {}}, 409),
        ("sop-phases", {"goal": "g", "inputs": {"approver": "alice", "x": 1}}, 409),
        ("sop-phases", {"goal": "", "inputs": {"approver": "alice"}}, 422),
        ("nope", {"goal": "g"}, 404),
    ]
    for name, body, code in cases:
        answer = await client.post(f"{TEMPLATES}/{name}/missions", json=body)
        assert answer.status_code == code, answer.text[:300]
    assert (await client.get("/api/v1/missions")).json()["total"] == before


async def test_the_palette_finds_shipped_and_saved_templates(client: httpx2.AsyncClient) -> None:
    workflow_id = await _workflow(client)
    await client.post(
        TEMPLATES, json={"name": "nightly-export", "workflow_id": workflow_id, "title": "Exporter"}
    )
    items = (await client.get("/api/v1/palette", params={"q": "sop"})).json()["items"]
    assert items[0]["url"] == "/templates#template-sop-phases" and items[0]["kind"] == "template"
    items = (await client.get("/api/v1/palette", params={"q": "exporter"})).json()["items"]
    assert items[0]["url"] == "/templates#template-nightly-export"
    pages = (await client.get("/api/v1/palette", params={"q": "templates"})).json()["items"]
    assert "/templates" in [i["url"] for i in pages]
