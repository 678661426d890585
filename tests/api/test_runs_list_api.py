"""GET /api/v1/runs: every filter, keyset paging under concurrent inserts, access, hostile input.

The app runs without its engine here, so runs keep the status a test gives them.
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from fastapi import FastAPI

from missionctl.domain.access import Role
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.runs import cancel_run, start_run
from missionctl.services.usecases.workflows import create_workflow
from tests.support.auth import bearer_headers

URL = "/api/v1/runs"


def _client(app: FastAPI, headers: dict[str, str] | None = None) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=app)
    return httpx2.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


async def _workflow(ctx: ServiceContext, name: str, agent: str = "builtin:noop") -> uuid.UUID:
    spec = WorkflowSpec.model_validate({"name": name, "steps": [{"id": "only", "agent": agent}]})
    return (await create_workflow(ctx, spec=spec, actor="user:test")).id


async def _run(ctx: ServiceContext, workflow_id: uuid.UUID, **kwargs: Any) -> str:
    return str((await start_run(ctx, workflow_id=workflow_id, actor="user:test", **kwargs)).id)


async def _ids(http: httpx2.AsyncClient, **params: Any) -> list[str]:
    response = await http.get(URL, params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_each_filter_narrows_the_list(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    release = await _workflow(ctx, "release", "builtin:noop")
    nightly = await _workflow(ctx, "nightly-build", "builtin:sleep")
    mission = await create_mission(
        ctx, data=MissionCreate(goal="Ship the billing page"), actor="user:test"
    )
    a = await _run(ctx, release)
    b = await _run(ctx, nightly, mission_id=mission.id)
    c = await _run(ctx, release)
    await cancel_run(ctx, run_id=uuid.UUID(c), actor="user:test")
    async with _client(app, await bearer_headers(ctx)) as http:
        everything = (await http.get(URL)).json()
        assert [i["id"] for i in everything["items"]] == [c, b, a] and everything["total"] == 3
        item = everything["items"][1]
        assert item["workflow"] == "nightly-build" and item["workflow_version"] == 1
        assert item["mission_title"] == "Ship the billing page" and item["tasks_total"] == 1
        assert "steps" not in item
        assert await _ids(http, status="canceled") == [c]
        assert await _ids(http, status="running") == [b, a]
        assert await _ids(http, mission_id=str(mission.id)) == [b]
        assert await _ids(http, workflow="release") == [c, a]
        assert await _ids(http, agent="builtin:sleep") == [b]
        assert await _ids(http, q="BILLING") == [b]
        assert await _ids(http, q="nightly") == [b]
        assert await _ids(http, workflow="release", status="running") == [a]
        now = datetime.now(UTC)
        assert await _ids(http, created_after=(now - timedelta(hours=1)).isoformat()) == [c, b, a]
        assert await _ids(http, created_after=(now + timedelta(hours=1)).isoformat()) == []
        assert await _ids(http, created_before=(now - timedelta(hours=1)).isoformat()) == []
        # A time without a zone is UTC.
        naive = (now + timedelta(minutes=5)).replace(tzinfo=None).isoformat()
        assert await _ids(http, created_before=naive) == [c, b, a]
        filtered = (await http.get(URL, params={"workflow": "release"})).json()
        assert filtered["total"] == 2


async def test_paging_misses_and_repeats_nothing_while_runs_are_added(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    workflow = await _workflow(ctx, "paged")
    existing = [await _run(ctx, workflow) for _ in range(23)]
    added: list[str] = []

    async def keep_adding() -> None:
        for _ in range(10):
            added.append(await _run(ctx, workflow))
            await asyncio.sleep(0)

    seen: list[str] = []
    async with _client(app, await bearer_headers(ctx)) as http:
        writer = asyncio.create_task(keep_adding())
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 4, **({"cursor": cursor} if cursor else {})}
            page = (await http.get(URL, params=params)).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        await writer
        assert (await http.get(URL)).json()["total"] == 33
    assert len(seen) == len(set(seen))
    # Every run that existed when paging began is listed once, newest first; runs added
    # meanwhile appear only on a page read after them, never twice or out of order.
    assert [run for run in seen if run in existing] == list(reversed(existing))
    assert seen == sorted(seen, reverse=True)
    assert set(seen) <= set(existing) | set(added)


BAD_FILTERS: list[tuple[dict[str, Any], str, list[str]]] = [
    ({"status": "done"}, "status", ["pending", "running", "completed", "canceled"]),
    ({"mission_id": "not-an-id"}, "mission_id", ["uuid"]),
    (
        {"created_after": "2026-02-01T00:00:00Z", "created_before": "2026-01-01T00:00:00Z"},
        "created_after",
        ["created_before"],
    ),
    ({"created_after": "yesterday"}, "created_after", ["datetime"]),
    # A number would be read as Unix seconds; the API documents ISO 8601 (found by schemathesis).
    ({"created_after": "-4.220435930376414e-146"}, "created_after", ["ISO 8601"]),
    ({"created_before": "1700000000"}, "created_before", ["ISO 8601"]),
    ({"created_before": "9999-12-31T23:59:59-14:00"}, "created_before", ["range"]),
    ({"cursor": "nope"}, "cursor", ["previous page"]),
    ({"limit": 0}, "limit", []),
    ({"q": "x" * 201}, "q", ["200"]),
    ({"q": "nul\x00byte"}, "q", []),
]


async def test_bad_filters_are_a_422_naming_the_field(app: FastAPI) -> None:
    async with _client(app, await bearer_headers(app.state.ctx)) as http:
        for params, field, words in BAD_FILTERS:
            response = await http.get(URL, params=params)
            assert response.status_code == 422, (params, response.text)
            error = response.json()["error"]
            assert error["field"] == field, (params, error)
            for word in words:
                assert word.lower() in error["message"].lower(), (params, error)


async def test_hostile_text_is_only_text(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    plain = await _run(ctx, await _workflow(ctx, "deploy"))
    odd = await _run(ctx, await _workflow(ctx, "déploiement-ünïcode-日本"))
    percent = await _run(ctx, await _workflow(ctx, "100%_done"))
    async with _client(app, await bearer_headers(ctx)) as http:
        assert await _ids(http, q="' OR 1=1 --") == []
        assert await _ids(http, q="%") == [percent]
        assert await _ids(http, q="_") == [percent]
        assert await _ids(http, workflow="deploy' OR '1'='1") == []
        assert await _ids(http, q="日本") == [odd]
        assert await _ids(http, workflow="déploiement-ünïcode-日本") == [odd]
        assert await _ids(http, q="x" * 200) == []
        assert await _ids(http, agent="a" * 200) == []
        assert len(await _ids(http)) == 3 and plain in await _ids(http, q="deploy")


async def test_a_viewer_lists_and_no_one_else_without_a_token(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    run = await _run(ctx, await _workflow(ctx, "visible"))
    async with _client(app, await bearer_headers(ctx, "vera", Role.VIEWER)) as http:
        assert await _ids(http) == [run]
    async with _client(app) as anonymous:
        refused = await anonymous.get(URL)
    assert refused.status_code == 401
    assert run not in refused.text


async def test_each_run_says_what_its_steps_produced_as_its_own_read_does(app: FastAPI) -> None:
    """The app runs no engine: the runs stay as the services leave them."""
    ctx: ServiceContext = app.state.ctx
    waiting = await _run(ctx, await _workflow(ctx, "never-started"))
    canceled = await _run(ctx, await _workflow(ctx, "called-off"))
    await cancel_run(ctx, run_id=uuid.UUID(canceled), actor="user:test")
    async with _client(app, await bearer_headers(ctx, "vic", Role.VIEWER)) as http:
        items = {i["id"]: i for i in (await http.get(URL)).json()["items"]}
        for run_id in (waiting, canceled):
            read = (await http.get(f"{URL}/{run_id}")).json()
            listed = items[run_id]
            assert (listed["headline"], listed["outcomes"]) == (read["headline"], read["outcomes"])
    assert items[waiting]["headline"] == "1 step not ended yet"
    assert items[canceled]["outcomes"] == {"canceled": 1}
