"""GET /api/v1/palette: fuzzy ranking, what each role is offered, bounds, hostile input, twins.

The app runs without its engine, so a run whose first step is gated waits for its approval
and runs keep the status a test gives them. Actions are followed through the URLs the palette
returns, as the palette on a page does, to show they name real routes.
"""

import asyncio
import itertools
import sys
import uuid
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI

from missionctl.domain.access import Role
from missionctl.domain.workers import WorkerKind
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases import palette as palette_service
from missionctl.services.usecases.agents import list_agents
from missionctl.services.usecases.approvals import read_approval
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.runs import read_run, start_run
from missionctl.services.usecases.schedules import delete_schedule
from missionctl.services.usecases.workers import mark_stopped, register_worker
from missionctl.services.usecases.workflows import create_workflow
from tests.engine.helpers import step
from tests.schedules.helpers import every_minute, saved_workflow
from tests.support.auth import bearer_headers
from tests.support.consistency import assert_consistent

URL = "/api/v1/palette"
PY = sys.executable


def _client(app: FastAPI, headers: dict[str, str]) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=app)
    return httpx2.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


async def _as(app: FastAPI, role: Role) -> httpx2.AsyncClient:
    return _client(app, await bearer_headers(app.state.ctx, f"pal-{role.value}", role))


async def _items(http: httpx2.AsyncClient, q: str = "", **params: Any) -> list[dict[str, Any]]:
    response = await http.get(URL, params={"q": q, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _mission(ctx: ServiceContext, goal: str) -> uuid.UUID:
    return (await create_mission(ctx, data=MissionCreate(goal=goal), actor="user:test")).id


async def _workflow(
    ctx: ServiceContext, name: str, steps: list[dict[str, Any]], **extra: Any
) -> Any:
    spec = WorkflowSpec.model_validate({"name": name, "steps": steps, **extra})
    return await create_workflow(ctx, spec=spec, actor="user:test")


async def _gated_run(ctx: ServiceContext, mission_title: str) -> tuple[uuid.UUID, uuid.UUID]:
    """A run of ``mission_title``'s mission whose first step ``deploy`` waits for a person."""
    mission_id = await _mission(ctx, mission_title)
    gated = step("deploy", "command", inputs={"argv": [PY, "-c", "print(1)"]}, risk_tier="write")
    workflow = await _workflow(ctx, f"ship-{uuid.uuid4().hex[:6]}", [gated])
    run = await start_run(ctx, workflow_id=workflow.id, actor="user:test", mission_id=mission_id)
    return mission_id, run.id


async def test_ranking_prefers_whole_prefix_and_word_start_matches(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    exact = await _mission(ctx, "Billing")
    prefix = await _mission(ctx, "Billing export to the ledger")
    word = await _mission(ctx, "Ship the billing page")
    scattered = await _mission(ctx, "Build an invoice list layout")  # b..i..l..l..i..n..g? no
    await _workflow(ctx, "nightly-build", [step("only")])
    async with await _as(app, Role.ADMIN) as http:
        missions = [i for i in await _items(http, "billing") if i["kind"] == "mission"]
        assert [m["url"] for m in missions] == [
            f"/missions/{exact}",
            f"/missions/{prefix}",
            f"/missions/{word}",
        ]
        assert all(a["score"] > b["score"] for a, b in itertools.pairwise(missions))
        assert f"/missions/{scattered}" not in {i["url"] for i in await _items(http, "billing")}
        # Letters in order, across words: "bilpg" is the billing page.
        assert (await _items(http, "bilpg"))[0]["url"] == f"/missions/{word}"
        # Two words, in any order, must both match.
        both = await _items(http, "page ship")
        assert both[0]["url"] == f"/missions/{word}" and len(both) == 1
        # Initials find a hyphenated name; case does not matter.
        [workflow] = [i for i in await _items(http, "NB") if i["kind"] == "workflow"]
        assert workflow["title"] == "nightly-build"
        assert workflow["url"] == "/workflows/nightly-build"
        pages = await _items(http, "appr")
        assert pages[0]["kind"] == "page" and pages[0]["url"] == "/approvals"
        # Pages still to come are listed already; a page's description finds it too.
        assert {"/schedules", "/webhooks"} <= {i["url"] for i in await _items(http, "", limit=50)}
        assert (await _items(http, "cron"))[0]["url"] == "/schedules"
        assert (await _items(http, "kanban"))[0]["url"] == "/board"
        assert (await _items(http, "epics"))[0]["url"] == "/epics"
        assert (await _items(http, "firings"))[0]["url"] == "/calendar"


async def test_a_run_is_found_by_part_of_its_missions_title(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    _, run_id = await _gated_run(ctx, "Migrate the customer database to PostgreSQL")
    other = await _workflow(ctx, "cleanup", [step("only")])
    plain = await start_run(ctx, workflow_id=other.id, actor="user:test")
    async with await _as(app, Role.VIEWER) as http:
        runs = [i for i in await _items(http, "customer data") if i["kind"] == "run"]
        assert [r["url"] for r in runs] == [f"/runs/{run_id}"]
        assert runs[0]["title"] == "Migrate the customer database to PostgreSQL"
        assert runs[0]["subtitle"].startswith(f"Run {str(run_id)[:8]} · paused")
        # A run without a mission is named by its workflow, and found by it.
        [named] = [i for i in await _items(http, "cleanup") if i["kind"] == "run"]
        assert named["url"] == f"/runs/{plain.id}" and named["title"].startswith("cleanup run ")


async def test_agents_and_workers_are_found_by_name(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    await register_worker(ctx, name="engine-blue-7", kind=WorkerKind.worker, concurrency=4)
    stopped = await register_worker(ctx, name="engine-red-2", kind=WorkerKind.worker, concurrency=1)
    await mark_stopped(ctx, worker_id=stopped)
    agents = await list_agents(ctx)
    assert agents, "the registry seeds the builtin agents"
    async with await _as(app, Role.VIEWER) as http:
        workers = [i for i in await _items(http, "engine") if i["kind"] == "worker"]
        assert {w["title"]: w["subtitle"].split(" · ")[1] for w in workers} == {
            "engine-blue-7": "online",
            "engine-red-2": "stopped",
        }
        assert all(w["url"] == "/workers" for w in workers)
        name = agents[0].name
        found = [i for i in await _items(http, name, limit=50) if i["kind"] == "agent"]
        assert found[0]["title"] == name and found[0]["url"] == "/agents"


async def test_schedules_are_found_by_name_and_a_deleted_one_is_not(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    workflow_id = await saved_workflow(ctx)
    nightly = await every_minute(ctx, workflow_id, name="nightly-billing-export")
    gone = await every_minute(ctx, workflow_id, name="nightly-billing-old")
    await delete_schedule(ctx, schedule_id=gone.id, actor="user:test")
    async with await _as(app, Role.VIEWER) as http:
        found = [i for i in await _items(http, "nbe") if i["kind"] == "schedule"]
        listed = [i["title"] for i in await _items(http, "billing") if i["kind"] == "schedule"]
    assert found[0]["title"] == "nightly-billing-export"
    assert found[0]["url"] == f"/schedules#schedule-{nightly.id}"
    assert found[0]["subtitle"].startswith("Schedule · * * * * * (UTC) · next ")
    assert listed == ["nightly-billing-export"]


async def test_a_viewer_is_offered_places_and_no_action(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    await _gated_run(ctx, "Release the mobile app")
    await _workflow(ctx, "release-notes", [step("only")])
    async with await _as(app, Role.VIEWER) as http:
        for q in ["", "release", "approve", "reject", "cancel", "stop", "new", "run"]:
            items = await _items(http, q, limit=50)
            assert not [i for i in items if i["kind"] == "action" or i["action"]], q
        places = {i["kind"] for i in await _items(http, "release", limit=50)}
        assert {"mission", "run", "workflow"} <= places
        # Admin-only pages are not offered either.
        assert "/webhooks" not in {i["url"] for i in await _items(http, "", limit=50)}


async def test_each_role_gets_the_actions_it_may_take(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    _, run_id = await _gated_run(ctx, "Release the mobile app")

    async def titles(role: Role, q: str) -> set[str]:
        async with await _as(app, role) as http:
            return {i["title"] for i in await _items(http, q, limit=50) if i["kind"] == "action"}

    operator = await titles(Role.OPERATOR, "mobile")
    assert "Cancel run Release the mobile app" in operator
    assert not [t for t in operator if t.startswith(("Approve", "Reject"))]
    assert {"New mission", "Emergency stop"} <= await titles(Role.OPERATOR, "")
    approver = await titles(Role.APPROVER, "mobile")
    assert {
        "Approve deploy of Release the mobile app",
        "Reject deploy of Release the mobile app",
        "Cancel run Release the mobile app",
    } <= approver
    # Only an admin may release a stop, and only a stop that is on is offered.
    assert "Release the emergency stop" not in await titles(Role.ADMIN, "")
    async with await _as(app, Role.OPERATOR) as http:
        stopped = await http.post("/api/v1/emergency-stop", json={"reason": "drill"})
        assert stopped.status_code == 200, stopped.text
    assert "Release the emergency stop" in await titles(Role.ADMIN, "")
    assert "Release the emergency stop" not in await titles(Role.OPERATOR, "")
    assert "Emergency stop" not in await titles(Role.OPERATOR, "")
    assert (await read_run(ctx, run_id=run_id)).status == "aborted"
    # An aborted run is no longer offered for canceling.
    assert not [t for t in await titles(Role.OPERATOR, "mobile") if t.startswith("Cancel")]


async def test_actions_name_real_routes_that_do_what_they_say(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    _, run_id = await _gated_run(ctx, "Publish the quarterly report")
    await _workflow(ctx, "digest", [step("only")])
    await _workflow(
        ctx, "release", [step("only")], inputs={"version": {"type": "string", "required": True}}
    )
    async with await _as(app, Role.APPROVER) as http:
        actions = {i["title"]: i for i in await _items(http, "quarterly", limit=50)}
        reject = actions["Reject deploy of Publish the quarterly report"]["action"]
        assert reject["method"] == "POST" and reject["reason"] == "required" and reject["confirm"]
        approve = actions["Approve deploy of Publish the quarterly report"]["action"]
        assert approve["confirm"] is None and approve["reason"] == "none"
        cancel = actions["Cancel run Publish the quarterly report"]["action"]
        assert cancel["confirm"] and cancel["url"] == f"/api/v1/runs/{run_id}/cancel"

        answer = await http.post(approve["url"], json=approve["body"])
        assert answer.status_code == 200, answer.text
        approval = await read_approval(ctx, ref=uuid.UUID(approve["url"].split("/")[4]))
        assert approval.decision == "approved" and approval.decided_by == "token:pal-approver-1"
        # Decided: no longer offered.
        after = {i["title"] for i in await _items(http, "quarterly", limit=50)}
        assert not [t for t in after if t.startswith(("Approve", "Reject"))]

        # A workflow without required inputs starts at once; one with them opens its form.
        [digest] = [i for i in await _items(http, "run digest") if i["kind"] == "action"]
        assert digest["action"]["then"] == "/runs/{id}"
        started = await http.post(digest["action"]["url"], json=digest["action"]["body"])
        assert started.status_code == 202, started.text
        [release] = [i for i in await _items(http, "run release") if i["kind"] == "action"]
        assert release["action"] == {
            "method": "GET",
            "url": "/workflows/release#run-form",
            "confirm": None,
            "reason": "none",
            "body": {},
            "number": None,
            "then": None,
            "danger": False,
            "label": "Confirm",
            "done": "",
        }
    await assert_consistent(ctx)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "x" * 101}, "q"),
        ({"q": "a b c d e f g"}, "q"),
        ({"limit": 0}, "limit"),
        ({"limit": 51}, "limit"),
        ({"limit": "many"}, "limit"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    app: FastAPI, params: dict[str, Any], field: str
) -> None:
    async with await _as(app, Role.VIEWER) as http:
        response = await http.get(URL, params=params)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert field in {d.get("field") for d in error.get("details", [])} or field in error.get(
        "field", ""
    ), error


async def test_hostile_text_matches_literally_and_never_fails(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    percent = await _mission(ctx, "Cut costs by 50% this quarter")
    await _mission(ctx, "Cut costs by 5 or 0 this quarter")
    async with await _as(app, Role.VIEWER) as http:
        found = [i["url"] for i in await _items(http, "50%") if i["kind"] == "mission"]
        assert found == [f"/missions/{percent}"]
        assert [i for i in await _items(http, "a_b") if i["kind"] == "mission"] == []
        for q in ["\\", "'; drop table missions; --", "%%%%", "___", "\u0000", "ß", "🚀" * 25]:
            response = await http.get(URL, params={"q": q})
            assert response.status_code == 200, (q, response.text)
    anonymous = _client(app, {})
    async with anonymous:
        assert (await anonymous.get(URL, params={"q": "a"})).status_code == 401


async def test_each_source_reads_a_bounded_number_of_rows(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx: ServiceContext = app.state.ctx
    for n in range(6):
        await _mission(ctx, f"Bounded mission number {n}")
    monkeypatch.setattr(palette_service, "CANDIDATES_PER_SOURCE", 3)
    async with await _as(app, Role.VIEWER) as http:
        missions = [i for i in await _items(http, "bounded", limit=50) if i["kind"] == "mission"]
        # The newest three candidates, scored.
        assert [m["title"] for m in missions] == [f"Bounded mission number {n}" for n in (5, 4, 3)]
        blank = [i for i in await _items(http, "", limit=50) if i["kind"] == "mission"]
        assert len(blank) == palette_service.BLANK_PER_SOURCE


async def test_concurrent_searches_while_missions_are_created(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    await _gated_run(ctx, "Concurrent palette twin")
    async with await _as(app, Role.APPROVER) as http:

        async def search(n: int) -> list[dict[str, Any]]:
            return await _items(http, "twin" if n % 2 else "conc", limit=50)

        results = await asyncio.gather(
            *(search(n) for n in range(8)),
            *(_mission(ctx, f"Concurrent palette twin {n}") for n in range(3)),
        )
    for found in results[:8]:
        assert isinstance(found, list)
        assert any(i["title"] == "Concurrent palette twin" for i in found)
        assert any(i["title"].startswith("Approve deploy of Concurrent") for i in found)
    async with await _as(app, Role.VIEWER) as http:
        missions = [i for i in await _items(http, "twin", limit=50) if i["kind"] == "mission"]
    assert len(missions) == 4


async def test_two_approvers_acting_at_once_from_the_palette_decide_once(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    _, run_id = await _gated_run(ctx, "Twin approvals of the invoice run")
    ann = _client(app, await bearer_headers(ctx, "ann", Role.APPROVER))
    bob = _client(app, await bearer_headers(ctx, "bob", Role.APPROVER))
    async with ann, bob:
        [item] = [i for i in await _items(ann, "approve twin") if i["title"].startswith("Approve")]
        action = item["action"]
        answers = await asyncio.gather(
            ann.post(action["url"], json=action["body"]),
            bob.post(action["url"], json=action["body"]),
        )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 409)
    assert "approved" in refused.json()["error"]["message"]
    run = await read_run(ctx, run_id=run_id)
    assert [s.status for s in run.steps] == ["queued"]
    await assert_consistent(ctx)


async def test_an_operator_drains_stops_and_scales_a_worker_from_the_palette(
    app: FastAPI,
) -> None:
    ctx: ServiceContext = app.state.ctx
    worker = await register_worker(ctx, name="engine-lark-3", kind=WorkerKind.worker, concurrency=2)

    async def actions(role: Role, q: str) -> dict[str, dict[str, Any]]:
        async with await _as(app, role) as http:
            found = await _items(http, q, limit=50)
        return {i["title"]: i["action"] for i in found if i["kind"] == "action"}

    # The lowest role sees workers but is offered none of their controls.
    assert not [t for t in await actions(Role.VIEWER, "drain lark") if "worker" in t.lower()]
    offered = await actions(Role.OPERATOR, "lark")
    assert {"Drain worker engine-lark-3", "Stop worker engine-lark-3"} <= set(offered)
    scale = offered["Scale worker engine-lark-3"]
    assert scale["method"] == "PATCH" and scale["url"] == f"/api/v1/workers/{worker}"
    assert scale["number"] == {
        "field": "concurrency",
        "label": "Steps at once",
        "minimum": 1,
        "maximum": 1000,
        "value": 2,
    }
    assert "New schedule" in await actions(Role.OPERATOR, "new sched")

    async with await _as(app, Role.OPERATOR) as http:
        drain = offered["Drain worker engine-lark-3"]
        assert drain["confirm"] and drain["method"] == "POST"
        drained = await http.post(drain["url"], json=drain["body"])
        assert drained.status_code == 200, drained.text
        # The same route's rules hold: a number out of range is refused and changes nothing.
        for bad in (0, 1001, "many"):
            refused = await http.patch(scale["url"], json={"concurrency": bad})
            assert refused.status_code == 422 and "concurrency" in refused.text
        scaled = await http.patch(scale["url"], json={"concurrency": 5})
        assert scaled.status_code == 200, scaled.text
    now = await actions(Role.OPERATOR, "lark")
    # Draining: it may be resumed rather than drained again, and it will run 5 at once.
    assert "Resume worker engine-lark-3" in now and "Drain worker engine-lark-3" not in now
    assert now["Scale worker engine-lark-3"]["number"]["value"] == 5
    await mark_stopped(ctx, worker_id=worker)
    assert not [t for t in await actions(Role.OPERATOR, "lark") if "engine-lark-3" in t]
