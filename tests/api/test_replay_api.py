"""``GET /api/v1/runs/{id}/state`` and ``POST /api/v1/runs/{id}/rerun?from_step=``.

The app's own engine runs the workflows; the state is read as of the run's events and a
rerun from a step is checked to reuse exactly the steps upstream of it.
"""

import asyncio
import time
from typing import Any

import httpx2

from missionctl.domain.access import Role
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workflows import create_workflow
from tests.support.auth import bearer_headers

# a → b → c, and a → d: rerunning from b runs b and c again and reuses a and d.
STEPS = [
    {"id": "a", "agent": "builtin:noop", "inputs": {"value": "A"}},
    {"id": "b", "agent": "builtin:noop", "depends_on": ["a"], "inputs": {"value": "B"}},
    {"id": "c", "agent": "builtin:noop", "depends_on": ["b"], "inputs": {"value": "C"}},
    {"id": "d", "agent": "builtin:noop", "depends_on": ["a"], "inputs": {"value": "D"}},
]


async def _finished(client: httpx2.AsyncClient, run_id: str, within_s: float = 30) -> Any:
    deadline = time.monotonic() + within_s
    while True:
        run = (await client.get(f"/api/v1/runs/{run_id}")).json()
        if run["status"] in {"completed", "failed", "canceled", "aborted"}:
            return run
        assert time.monotonic() < deadline, run
        await asyncio.sleep(0.05)


async def _completed_run(client: httpx2.AsyncClient) -> Any:
    ctx = client._transport.app.state.ctx  # type: ignore[attr-defined]
    spec = WorkflowSpec.model_validate({"name": "diamond", "steps": STEPS})
    workflow = await create_workflow(ctx, spec=spec, actor="user:test")
    run = await start_run(ctx, workflow_id=workflow.id, actor="user:test")
    done = await _finished(client, str(run.id))
    assert done["status"] == "completed"
    return done


async def _events(client: httpx2.AsyncClient, run_id: str) -> list[dict[str, Any]]:
    page = await client.get(f"/api/v1/runs/{run_id}/events", params={"limit": 1000})
    items: list[dict[str, Any]] = page.json()["items"]
    return items


async def test_the_state_as_of_an_event_and_the_cursors_it_refuses(
    client: httpx2.AsyncClient,
) -> None:
    run = await _completed_run(client)
    events = await _events(client, run["id"])
    url = f"/api/v1/runs/{run['id']}/state"

    final = await client.get(url)
    assert final.status_code == 200, final.text
    body = final.json()
    # The run's report may be written after it completed: its events are a prefix of the seqs.
    assert body["at"] == body["seqs"][-1] and body["status"] == "completed"
    assert body["seqs"][: len(events)] == [e["seq"] for e in events]
    assert [s["step_id"] for s in body["steps"]] == ["a", "b", "c", "d"]
    assert body["steps"][1]["outputs"]["value"] == "B"

    started_b = next(e for e in events if e["type"] == "step.started" and e["step_id"] == "b")
    middle = (await client.get(url, params={"at": started_b["seq"]})).json()
    a, b, c, _ = middle["steps"]
    assert (a["status"], b["status"], c["status"]) == ("succeeded", "running", "waiting")
    assert b["inputs"] == {"value": "B"} and b["outputs"] is None and c["inputs"] is None
    assert middle["event"]["type"] == "step.started" and middle["event"]["step_id"] == "b"

    beyond = (await client.get(url, params={"at": events[-1]["seq"] + 1000})).json()
    assert beyond["at"] == beyond["seqs"][-1] and beyond["status"] == "completed"

    for bad in ("abc", "0", "-3", "1.5", "9" * 30):
        refused = await client.get(url, params={"at": bad})
        assert refused.status_code == 422, (bad, refused.text)
        assert "at" in refused.text, refused.text
    # A seq before the run's first event is well formed: the run's log refuses it (409).
    early = await client.get(url, params={"at": str(events[0]["seq"] - 1)})
    assert early.status_code == 409 and early.json()["error"]["field"] == "at", early.text
    missing = await client.get("/api/v1/runs/00000000-0000-7000-8000-000000000000/state")
    assert missing.status_code == 404


async def test_rerun_from_a_step_reuses_exactly_what_is_upstream_and_reruns_the_rest(
    client: httpx2.AsyncClient,
) -> None:
    run = await _completed_run(client)
    answer = await client.post(f"/api/v1/runs/{run['id']}/rerun", params={"from_step": "b"})
    assert answer.status_code == 201, answer.text
    rerun = await _finished(client, answer.json()["id"])
    assert rerun["status"] == "completed" and rerun["rerun_of"] == run["id"]
    events = await _events(client, rerun["id"])
    reused = {e["step_id"] for e in events if e["type"] == "step.reused"}
    started = {e["step_id"] for e in events if e["type"] == "step.started"}
    assert reused == {"a", "d"} and started == {"b", "c"}
    before = {s["step_id"]: s["outputs"] for s in run["steps"]}
    after = {s["step_id"]: s["outputs"] for s in rerun["steps"]}
    assert after == before  # the same outputs: a and d copied, b and c produced again


async def test_rerun_from_a_step_refuses_what_it_cannot_do(client: httpx2.AsyncClient) -> None:
    run = await _completed_run(client)
    url = f"/api/v1/runs/{run['id']}/rerun"
    unknown = await client.post(url, params={"from_step": "zz"})
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "from_step"
    for bad in ("Bad!", "x" * 5000, "a\x00b"):
        malformed = await client.post(url, params={"from_step": bad})
        assert malformed.status_code == 422 and "from_step" in malformed.text
    # A completed run has no failure to rerun from: only a chosen step.
    assert (await client.post(url)).status_code == 409
    ctx = client._transport.app.state.ctx  # type: ignore[attr-defined]
    viewer = await bearer_headers(ctx, "vera", Role.VIEWER)
    refused = await client.post(url, params={"from_step": "b"}, headers=viewer)
    assert refused.status_code == 403
    state = await client.get(f"/api/v1/runs/{run['id']}/state", headers=viewer)
    assert state.status_code == 200  # a viewer may replay, not rerun
    runs = (await client.get("/api/v1/runs")).json()
    assert [r["id"] for r in runs["items"]] == [run["id"]]  # nothing was started


async def test_twin_reruns_from_a_step_each_start_one_whole_run(client: httpx2.AsyncClient) -> None:
    run = await _completed_run(client)
    url = f"/api/v1/runs/{run['id']}/rerun"
    first, second = await asyncio.gather(
        client.post(url, params={"from_step": "c"}), client.post(url, params={"from_step": "c"})
    )
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    assert first.json()["id"] != second.json()["id"]
    for answer in (first, second):
        rerun = await _finished(client, answer.json()["id"])
        assert rerun["status"] == "completed"
        events = await _events(client, rerun["id"])
        assert sorted(e["step_id"] for e in events if e["type"] == "step.reused") == [
            "a",
            "b",
            "d",
        ]
        assert [e["step_id"] for e in events if e["type"] == "step.started"] == ["c"]
