"""The audit explorer's API: the run search's filters, and the streamed CSV/JSONL export."""

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import update

from missionctl.db.models import Run
from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from missionctl.services.usecases import event_feed
from missionctl.services.usecases.runs import start_run
from tests.api.test_event_feed_api import client_for, log_event, seed, workflow
from tests.support.auth import bearer_headers

RUNS = "/api/v1/audit/runs"
EXPORT = "/api/v1/audit/export"


async def run_ids(http: object, **params: object) -> list[str]:
    """The ids the run search answers (asserting a 200)."""
    response = await http.get(RUNS, params=params)  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_searching_by_workflow_name_returns_only_that_workflows_runs(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    s = await seed(ctx)
    async with client_for(app, await bearer_headers(ctx)) as http:
        assert set(await run_ids(http)) == {str(s.release), str(s.nightly)}
        assert await run_ids(http, workflow="nightly") == [str(s.nightly)]
        assert await run_ids(http, workflow="nowhere") == []


async def test_filtering_by_agent_returns_only_runs_where_it_ran_a_step(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    s = await seed(ctx)
    async with client_for(app, await bearer_headers(ctx)) as http:
        assert await run_ids(http, agent="builtin:sleep") == [str(s.nightly)]
        assert await run_ids(http, agent="builtin:noop") == [str(s.release)]
        assert await run_ids(http, actor="user:bob") == [str(s.nightly)]
        assert await run_ids(http, status="running", actor="user:test") == [str(s.release)]


async def test_filtering_by_time_range_returns_only_runs_started_inside_it(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    wf = await workflow(ctx, "dated", "builtin:noop")
    base = datetime(2026, 3, 1, tzinfo=UTC)
    ids: list[uuid.UUID] = []
    for day in range(5):
        run = await start_run(ctx, workflow_id=wf, actor="user:test")
        async with ctx.write() as session:
            moment = base + timedelta(days=day)
            await session.execute(update(Run).where(Run.id == run.id).values(started_at=moment))
        ids.append(run.id)
    async with client_for(app, await bearer_headers(ctx)) as http:
        window = {"since": "2026-03-02T00:00:00Z", "until": "2026-03-04T00:00:00Z"}
        assert await run_ids(http, **window) == [str(ids[2]), str(ids[1])]
        assert await run_ids(http, since="2026-03-04T00:00:00+00:00") == [str(ids[4]), str(ids[3])]
        assert await run_ids(http, until="2026-03-01T00:00:00") == []
        response = await http.get(RUNS, params={"since": "March 2nd"})
        assert response.status_code == 422 and "ISO 8601" in response.text


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
async def test_export_streams_every_matching_event_parseably(app: FastAPI, fmt: str) -> None:
    ctx: ServiceContext = app.state.ctx
    s = await seed(ctx)
    async with client_for(app, await bearer_headers(ctx)) as http:
        page = (await http.get("/api/v1/events", params={"type": "step.", "limit": 500})).json()
        expected = sorted(i["seq"] for i in page["items"])
        response = await http.get(EXPORT, params={"format": fmt, "type": "step."})
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    if fmt == "csv":
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [int(r["seq"]) for r in rows] == expected
        assert all(r["type"].startswith("step.") for r in rows)
        (row,) = [r for r in rows if int(r["seq"]) == s.error_log]
        assert [x["level"] for x in json.loads(row["payload"])["lines"]] == [
            "info",
            "error",
            "warn",
        ]
        assert row["severity"] == "error"
    else:
        lines = [json.loads(line) for line in response.text.splitlines()]
        assert [r["seq"] for r in lines] == expected
        assert {r["severity"] for r in lines if r["seq"] == s.error_log} == {"error"}


async def test_export_pages_through_the_database(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx: ServiceContext = app.state.ctx
    s = await seed(ctx)
    for _ in range(7):
        await log_event(ctx, s.nightly, ["info"])
    monkeypatch.setattr(event_feed, "EXPORT_PAGE", 3)
    async with client_for(app, await bearer_headers(ctx)) as http:
        events = await http.get(EXPORT, params={"format": "jsonl", "workflow": "nightly"})
        runs = await http.get(EXPORT, params={"format": "csv", "kind": "runs", "actor": "user:bob"})
        total = len(
            (await http.get("/api/v1/events", params={"workflow": "nightly"})).json()["items"]
        )
    seqs = [json.loads(line)["seq"] for line in events.text.splitlines()]
    assert len(seqs) == total > 7 and seqs == sorted(set(seqs))
    rows = list(csv.DictReader(io.StringIO(runs.text)))
    assert [(r["id"], r["workflow"], r["created_by"]) for r in rows] == [
        (str(s.nightly), "nightly", "user:bob")
    ]


async def test_an_empty_export_is_a_header_only(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    async with client_for(app, await bearer_headers(ctx)) as http:
        response = await http.get(EXPORT, params={"format": "csv", "actor": "user:nobody"})
    assert response.text.strip() == ",".join(event_feed.EVENT_COLUMNS)


async def test_viewer_searches_and_exports_and_anonymous_is_refused(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    viewer = await bearer_headers(ctx, "vera", Role.VIEWER)
    async with client_for(app, viewer) as http:
        assert (await http.get(RUNS)).status_code == 200
        assert (await http.get(EXPORT)).status_code == 200
    async with client_for(app) as http:
        assert (await http.get(RUNS)).status_code == 401
        assert (await http.get(EXPORT)).status_code == 401
    async with client_for(app, await bearer_headers(ctx)) as http:
        for params, field in [
            ({"format": "xml"}, "format"),
            ({"kind": "everything"}, "kind"),
            ({"status": "exploded"}, "status"),
            ({"limit": 0}, "limit"),
        ]:
            url = RUNS if field in ("status", "limit") else EXPORT
            response = await http.get(url, params=params)
            assert response.status_code == 422
            assert field in {d["field"] for d in response.json()["error"]["details"]}
