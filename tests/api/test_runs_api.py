"""Plan, run, follow and control missions over the API; the embedded engine does the work."""

import asyncio
import time
from typing import Any

import httpx2

from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services.usecases.workflows import create_workflow

GOAL = "Build a REST API for a veterinary clinic: appointments, patients, invoices"


async def _wait(client: httpx2.AsyncClient, url: str, done: Any, within_s: float = 30) -> Any:
    deadline = time.monotonic() + within_s
    while True:
        body = (await client.get(url)).json()
        if done(body):
            return body
        assert time.monotonic() < deadline, f"gave up waiting on {url}: {body}"
        await asyncio.sleep(0.05)


async def test_plan_run_follow_and_download(client: httpx2.AsyncClient) -> None:
    mission = (await client.post("/api/v1/missions", json={"goal": GOAL})).json()
    plan = await client.post(f"/api/v1/missions/{mission['id']}/plan")
    assert plan.status_code == 201, plan.text
    assert plan.json()["source"] == "local" and len(plan.json()["tasks"]) >= 6
    assert (await client.get(f"/api/v1/missions/{mission['id']}/plan")).json()["version"] == 1

    started = await client.post(f"/api/v1/missions/{mission['id']}/runs")
    assert started.status_code == 202
    run_id = started.json()["id"]
    run = await _wait(client, f"/api/v1/runs/{run_id}", lambda r: r["status"] == "completed")
    assert all(s["status"] == "succeeded" for s in run["steps"])
    assert (await client.get(f"/api/v1/missions/{mission['id']}")).json()["status"] == "completed"

    artifacts = await _wait(
        client,
        f"/api/v1/runs/{run_id}/artifacts",
        lambda a: any(x["name"] == "report.md" for x in a),
    )
    report = next(a for a in artifacts if a["name"] == "report.md")
    content = await client.get(f"/api/v1/artifacts/{report['id']}/content")
    assert content.status_code == 200
    assert content.headers["content-type"].startswith("text/markdown")
    assert "attachment" in content.headers["content-disposition"]
    assert "appointments" in content.text.lower()
    as_json = (await client.get(f"/api/v1/runs/{run_id}/report")).json()
    assert as_json["outcome"]["status"] == "completed"
    assert len(as_json["tasks"]) == len(run["steps"])
    markdown = await client.get(f"/api/v1/runs/{run_id}/report", params={"format": "markdown"})
    assert markdown.status_code == 200 and markdown.text.startswith("#")

    first = (await client.get(f"/api/v1/runs/{run_id}/events", params={"limit": 5})).json()
    assert [e["seq"] for e in first["items"]] == sorted(e["seq"] for e in first["items"])
    rest = (
        await client.get(
            f"/api/v1/runs/{run_id}/events", params={"after": first["next_after"], "limit": 1000}
        )
    ).json()
    types = [e["type"] for e in first["items"] + rest["items"]]
    assert types[0] == "run.created" and "run.completed" in types
    conflict = await client.post(f"/api/v1/runs/{run_id}/rerun")
    assert conflict.status_code == 409 and conflict.json()["error"]["field"] == "run_id"


async def test_cancel_and_the_controls_that_the_state_refuses(client: httpx2.AsyncClient) -> None:
    ctx = client._transport.app.state.ctx  # type: ignore[attr-defined]
    spec = WorkflowSpec.model_validate(
        {
            "name": "slow",
            "steps": [{"id": "wait", "agent": "builtin:sleep", "inputs": {"seconds": 30}}],
        }
    )
    workflow = await create_workflow(ctx, spec=spec, actor="user:test")
    from missionctl.services.usecases.runs import start_run

    run = await start_run(ctx, workflow_id=workflow.id, actor="user:test")
    await _wait(client, f"/api/v1/runs/{run.id}", lambda r: r["steps"][0]["status"] == "running")
    retry = await client.post(f"/api/v1/runs/{run.id}/steps/wait/retry")
    assert retry.status_code == 409 and retry.json()["error"]["code"] == "invalid_transition"
    missing = await client.post(f"/api/v1/runs/{run.id}/steps/nope/retry")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "step_id"
    canceled = await client.post(f"/api/v1/runs/{run.id}/cancel")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    again = await client.post(f"/api/v1/runs/{run.id}/cancel")
    assert again.status_code == 409


async def test_planning_a_running_mission_and_unknown_ids(client: httpx2.AsyncClient) -> None:
    unknown = "01234567-89ab-7def-8123-456789abcdef"
    assert (await client.get(f"/api/v1/runs/{unknown}")).status_code == 404
    assert (await client.post(f"/api/v1/missions/{unknown}/plan")).status_code == 404
    assert (await client.get(f"/api/v1/artifacts/{unknown}")).status_code == 404
    mission = (await client.post("/api/v1/missions", json={"goal": GOAL})).json()
    no_plan = await client.post(f"/api/v1/missions/{mission['id']}/runs")
    assert no_plan.status_code == 409 and "no plan yet" in no_plan.json()["error"]["message"]
