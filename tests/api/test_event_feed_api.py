"""GET /api/v1/events and its stream: every filter, paging, SSE resume, access, hostile input.

The app runs without its engine, so runs and their steps stay as the test leaves them; the
events each test filters are those the services append plus a few appended directly.
"""

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI

from missionctl.domain.access import Role
from missionctl.domain.events import severity_of
from missionctl.eventlog import NewEvent, append
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workflows import create_workflow
from tests.support.auth import bearer_headers
from tests.web.support import StreamingASGITransport

URL = "/api/v1/events"


def client_for(
    app: FastAPI, headers: dict[str, str] | None = None, *, streaming: bool = False
) -> httpx2.AsyncClient:
    """An HTTP client that talks to ``app`` in this process (whose responses may stream)."""
    transport = StreamingASGITransport(app) if streaming else httpx2.ASGITransport(app=app)
    return httpx2.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


async def workflow(ctx: ServiceContext, name: str, agent: str) -> uuid.UUID:
    """A saved one-step workflow whose step runs ``agent``."""
    spec = WorkflowSpec.model_validate({"name": name, "steps": [{"id": "only", "agent": agent}]})
    return (await create_workflow(ctx, spec=spec, actor="user:test")).id


async def log_event(
    ctx: ServiceContext, run_id: uuid.UUID, levels: list[str], actor: str = "agent:noop"
) -> int:
    """Append a ``step.log`` batch of the run's step with lines of ``levels``; its seq."""
    lines = [{"level": level, "message": f"a {level} line"} for level in levels]
    event = NewEvent(
        type="step.log", actor=actor, run_id=run_id, step_id="only", payload={"lines": lines}
    )
    async with ctx.write() as session:
        (record,) = await append(session, [event])
    return record.seq


@dataclass
class Seeded:
    """Two workflows' runs (one per agent), a mission, and log batches of each severity."""

    release: uuid.UUID
    nightly: uuid.UUID
    mission_id: uuid.UUID
    error_log: int
    warning_log: int
    info_log: int


async def seed(ctx: ServiceContext) -> Seeded:
    """The runs and events the filter tests narrow."""
    release_wf = await workflow(ctx, "release", "builtin:noop")
    nightly_wf = await workflow(ctx, "nightly", "builtin:sleep")
    mission = await create_mission(ctx, data=MissionCreate(goal="Ship the page"), actor="user:ann")
    release = (await start_run(ctx, workflow_id=release_wf, actor="user:test")).id
    nightly = (
        await start_run(ctx, workflow_id=nightly_wf, actor="user:bob", mission_id=mission.id)
    ).id
    return Seeded(
        release=release,
        nightly=nightly,
        mission_id=mission.id,
        error_log=await log_event(ctx, release, ["info", "error", "warn"]),
        warning_log=await log_event(ctx, nightly, ["warn", "info"]),
        info_log=await log_event(ctx, release, ["info", "debug"]),
    )


async def items(http: httpx2.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """The items of one page (asserting a 200)."""
    response = await http.get(URL, params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


async def test_each_filter_narrows_the_feed(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    s = await seed(ctx)
    async with client_for(app, await bearer_headers(ctx)) as http:
        everything = await items(http, limit=500)
        seqs = [i["seq"] for i in everything]
        assert seqs == sorted(seqs, reverse=True) and len(seqs) > 8
        assert all(i["severity"] == severity_of(i["type"], i["payload"]) for i in everything)

        assert {i["type"] for i in await items(http, type="run.created")} == {"run.created"}
        prefixed = await items(http, type="step.", limit=500)
        assert prefixed and all(i["type"].startswith("step.") for i in prefixed)
        both = await items(http, type=["run.created", "mission.created"], limit=500)
        assert sorted(i["type"] for i in both) == ["mission.created", "run.created", "run.created"]

        of_release = await items(http, run_id=str(s.release), limit=500)
        assert of_release and {i["run_id"] for i in of_release} == {str(s.release)}
        of_mission = await items(http, mission_id=str(s.mission_id), limit=500)
        assert of_mission and {i["mission_id"] for i in of_mission} == {str(s.mission_id)}

        by_workflow = await items(http, workflow="nightly", limit=500)
        assert by_workflow and {i["run_id"] for i in by_workflow} == {str(s.nightly)}
        by_agent = await items(http, agent="builtin:sleep", limit=500)
        assert by_agent and {(i["run_id"], i["step_id"]) for i in by_agent} == {
            (str(s.nightly), "only")
        }
        assert await items(http, agent="builtin:nobody") == []

        assert {i["actor"] for i in await items(http, actor="user:bob", limit=500)} == {"user:bob"}
        assert [i["seq"] for i in await items(http, type="step.log", severity="error")] == [
            s.error_log
        ]
        assert [i["seq"] for i in await items(http, type="step.log", severity="warning")] == [
            s.warning_log
        ]
        assert [i["seq"] for i in await items(http, type="step.log", severity="info")] == [
            s.info_log
        ]
        for level in ("info", "success", "warning", "error"):
            found = await items(http, severity=level, limit=500)
            expected = [i for i in everything if i["severity"] == level]
            assert found == expected, level

        now = datetime.now(UTC)
        assert len(await items(http, since=(now - timedelta(hours=1)).isoformat(), limit=500)) == (
            len(everything)
        )
        assert await items(http, since=(now + timedelta(hours=1)).isoformat()) == []
        assert await items(http, until=(now - timedelta(hours=1)).isoformat()) == []
        naive = (now + timedelta(minutes=5)).replace(tzinfo=None).isoformat()
        assert len(await items(http, until=naive, limit=500)) == len(everything)
        combined = await items(http, workflow="release", severity="error", type="step.")
        assert [i["seq"] for i in combined] == [s.error_log]


async def test_pages_follow_before_and_after_cursors(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    await seed(ctx)
    async with client_for(app, await bearer_headers(ctx)) as http:
        everything = [i["seq"] for i in await items(http, limit=500)]
        seen: list[int] = []
        before: int | None = None
        while True:
            params: dict[str, Any] = {"limit": 3, **({"before": before} if before else {})}
            page = (await http.get(URL, params=params)).json()
            seen += [i["seq"] for i in page["items"]]
            before = page["next_before"]
            if before is None:
                break
        assert seen == everything
        newest = (await http.get(URL, params={"limit": 1})).json()["newest"]
        assert newest == everything[0]
        quiet = (await http.get(URL, params={"after": newest})).json()
        assert quiet["items"] == [] and quiet["newest"] == newest
        added = await log_event(ctx, uuid.UUID(int=0), ["error"])
        fresh = (await http.get(URL, params={"after": newest})).json()
        assert [i["seq"] for i in fresh["items"]] == [added] and fresh["newest"] == added


async def read_stream(
    http: httpx2.AsyncClient,
    params: dict[str, Any],
    count: int,
    headers: dict[str, str] | None,
    opened: asyncio.Event | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """The first ``count`` messages of the stream: (id, JSON data).

    ``opened`` is set once the answer's headers arrived: a stream without ``after`` starts at
    the log's head as it was then, so whatever is appended afterwards reaches it.
    """
    messages: list[tuple[str, dict[str, Any]]] = []
    async with http.stream("GET", URL + "/stream", params=params, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        if opened is not None:
            opened.set()
        ident = ""
        async for line in response.aiter_lines():
            if line.startswith("id:"):
                ident = line[3:].strip()
            elif line.startswith("data:"):
                messages.append((ident, json.loads(line[5:].strip())))
                if len(messages) == count:
                    break
    return messages


async def test_stream_sends_matching_events_and_resumes_after_last_event_id(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    s = await seed(ctx)
    async with client_for(app, await bearer_headers(ctx), streaming=True) as http:
        params = {"after": 0, "type": "step.log"}
        first = await asyncio.wait_for(read_stream(http, params, 2, None), 10)
        assert [m[1]["seq"] for m in first] == [s.error_log, s.warning_log]
        assert [m[0] for m in first] == [str(s.error_log), str(s.warning_log)]
        assert first[0][1]["severity"] == "error" and first[0][1]["run_id"] == str(s.release)
        # Reconnecting with Last-Event-ID resumes after it: the next matching event, then one
        # appended live (published, not read back).
        resumed = asyncio.create_task(
            read_stream(http, params, 2, {"Last-Event-ID": str(s.warning_log)})
        )
        await asyncio.sleep(0.3)
        live = await log_event(ctx, s.nightly, ["error"])
        got = await asyncio.wait_for(resumed, 10)
        assert [m[1]["seq"] for m in got] == [s.info_log, live]


async def test_stream_filters_live_events_by_workflow_and_severity(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    s = await seed(ctx)
    async with client_for(app, await bearer_headers(ctx), streaming=True) as http:
        params = {"workflow": "nightly", "severity": "error"}
        opened = asyncio.Event()
        task = asyncio.create_task(read_stream(http, params, 1, None, opened))
        await asyncio.wait_for(opened.wait(), 10)  # not a sleep: a busy machine may need more
        await log_event(ctx, s.release, ["error"])  # another workflow
        await log_event(ctx, s.nightly, ["info"])  # not an error
        wanted = await log_event(ctx, s.nightly, ["error"])
        got = await asyncio.wait_for(task, 10)
        assert [m[1]["seq"] for m in got] == [wanted]


async def test_viewer_reads_the_feed_and_anonymous_is_refused(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    await seed(ctx)
    viewer = await bearer_headers(ctx, "vera", Role.VIEWER)
    async with client_for(app, viewer) as http:
        assert (await http.get(URL)).status_code == 200
    async with client_for(app) as http:
        assert (await http.get(URL)).status_code == 401
        assert (await http.get(URL + "/stream")).status_code == 401


HOSTILE_FILTERS: list[tuple[dict[str, Any], str]] = [
    ({"limit": -1}, "limit"),
    ({"limit": 10**6}, "limit"),
    ({"before": -5}, "before"),
    ({"after": 2**70}, "after"),
    ({"since": "yesterday"}, "since"),
    ({"until": "1700000000"}, "until"),
    ({"since": "2026-13-45T99:00:00Z"}, "since"),
    ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
    ({"run_id": "not-a-uuid"}, "run_id"),
    ({"mission_id": "1' OR '1'='1"}, "mission_id"),
    ({"type": "DROP TABLE events"}, "type"),
    ({"type": "x" * 5000}, "type"),
    ({"workflow": "w" * 20_000}, "workflow"),
    ({"actor": "a\x00b"}, "actor"),
    ({"severity": "fatal"}, "severity"),
    ({"type": [f"t{i}.x" for i in range(50)]}, "type"),
]


# The refusals store nothing, so the cases share one app (built in about half a second) and are
# reported one by one as subtests; an app per case spent most of this test's time building it.
async def test_hostile_filters_are_refused_naming_the_field(
    app: FastAPI, subtests: pytest.Subtests
) -> None:
    ctx: ServiceContext = app.state.ctx
    async with client_for(app, await bearer_headers(ctx)) as http:
        for params, field in HOSTILE_FILTERS:
            with subtests.test(field=field, params=repr(params)[:80]):
                urls = {"limit": [URL], "before": [URL], "after": [URL, URL + "/stream"]}.get(
                    field, [URL, URL + "/stream", "/api/v1/audit/export"]
                )
                for url in urls:
                    response = await http.get(url, params=params)
                    assert response.status_code == 422, (url, response.text)
                    error = response.json()["error"]
                    assert field in {d["field"] for d in error["details"]}, (url, error)
                if params.get(field) in ("yesterday", "1700000000"):
                    assert "ISO 8601" in response.text
