"""An offline mission's run says what it produced: every task documented, nothing built.

The local planner and the builtin specialists run with no model and no key. Their steps
succeed, and what the API says of them must not read as software being built.
"""

import asyncio
import time
from typing import Any

import httpx2

from missionctl.domain.access import Role
from missionctl.domain.outcomes import BUILD_HINT, OUTCOMES
from tests.support.auth import bearer_headers

GOAL = "A chess engine in Rust with a UCI interface and an opening book"


async def _ended_run(client: httpx2.AsyncClient) -> dict[str, Any]:
    mission = (await client.post("/api/v1/missions", json={"goal": GOAL})).json()
    assert (await client.post(f"/api/v1/missions/{mission['id']}/plan")).status_code == 201
    started = await client.post(f"/api/v1/missions/{mission['id']}/runs")
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + 60
    while True:
        run = (await client.get(f"/api/v1/runs/{started.json()['id']}")).json()
        if run["status"] in {"completed", "failed"}:
            return run  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, run
        await asyncio.sleep(0.05)


async def test_an_offline_run_documents_every_task_and_builds_nothing(
    client: httpx2.AsyncClient,
) -> None:
    run = await _ended_run(client)
    tasks = len(run["steps"])
    assert run["status"] == "completed" and tasks >= 6
    assert {s["status"] for s in run["steps"]} == {"succeeded"}
    assert {s["outcome"] for s in run["steps"]} == {"documented"}
    assert run["outcomes"] == {"documented": tasks}
    assert run["headline"] == f"{tasks} tasks documented, 0 built: {BUILD_HINT}"

    # A viewer, the lowest role that reads runs, reads the same outcome.
    ctx = client._transport.app.state.ctx  # type: ignore[attr-defined]
    viewer = await bearer_headers(ctx, "vera", Role.VIEWER)
    seen = await client.get(f"/api/v1/runs/{run['id']}", headers=viewer)
    assert seen.status_code == 200
    assert seen.json()["headline"] == run["headline"]
    assert [s["outcome"] for s in seen.json()["steps"]] == ["documented"] * tasks
    # The runs list says the same of it, in one read for the whole page.
    listed = await client.get(
        "/api/v1/runs", params={"mission_id": run["mission_id"]}, headers=viewer
    )
    [item] = listed.json()["items"]
    assert (item["headline"], item["outcomes"]) == (run["headline"], run["outcomes"])
    page = await client.get("/runs", params={"q": ""}, headers=viewer)
    counts = f'<span class="nowrap">{tasks} tasks documented</span>, <span class="nowrap">0 built'
    assert f'title="{run["headline"]}">{counts}</span></span>' in page.text

    events = (
        await client.get(f"/api/v1/runs/{run['id']}/events", params={"limit": 1000}, headers=viewer)
    ).json()["items"]
    succeeded = [e for e in events if e["type"] == "step.succeeded"]
    assert len(succeeded) == tasks
    assert {e["payload"]["outcome"] for e in succeeded} == {"documented"}
    completed = next(e for e in events if e["type"] == "run.completed")
    assert completed["payload"]["headline"] == run["headline"]
    assert completed["payload"]["outcomes"] == {"documented": tasks}


async def test_the_openapi_document_names_every_outcome(client: httpx2.AsyncClient) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    step = schemas["StepRunRead"]["properties"]["outcome"]
    named = next(part for part in step["anyOf"] if part.get("type") == "string")
    assert named["enum"] == list(OUTCOMES)
    assert "never" in step["description"]
    run = schemas["RunRead"]["properties"]
    assert run["headline"]["type"] == "string"
    assert set(run["outcomes"]["propertyNames"]["enum"]) == set(OUTCOMES)
