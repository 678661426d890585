"""``/api/v1/workers``: the registry, one worker, and drain, resume, stop and concurrency by role.

The app runs no engine of its own here: the workers are registered through the service, as an
engine would, so what the control plane writes is read back exactly.
"""

import asyncio
import uuid
from datetime import timedelta

import httpx2
import pytest
from fastapi import FastAPI

from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.access import Role
from missionctl.domain.workers import MAX_CONCURRENCY, WorkerKind
from missionctl.services import ServiceContext
from missionctl.services.usecases import workers
from missionctl.services.usecases.audit import read_event_page
from tests.support.auth import bearer_headers

BASE = "/api/v1/workers"


def http(app: FastAPI, headers: dict[str, str]) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=app)
    return httpx2.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


async def register(ctx: ServiceContext, name: str = "host:1:api") -> uuid.UUID:
    return await workers.register_worker(
        ctx, name=name, kind=WorkerKind.worker, concurrency=4, capabilities=["command"]
    )


async def worker_events(ctx: ServiceContext) -> list[str]:
    return [e.type for e in await read_event_page(ctx, limit=5000) if e.type.startswith("worker.")]


async def test_an_operator_drains_resumes_stops_and_scales_and_a_viewer_only_reads(
    app: FastAPI,
) -> None:
    ctx: ServiceContext = app.state.ctx
    worker_id = await register(ctx)
    viewer = await bearer_headers(ctx, "vic", Role.VIEWER)
    operator = await bearer_headers(ctx, "olga", Role.OPERATOR)
    async with http(app, viewer) as as_viewer:
        [listed] = (await as_viewer.get(BASE)).json()
        assert (listed["status"], listed["capabilities"]) == ("online", ["command"])
        one = (await as_viewer.get(f"{BASE}/{worker_id}")).json()
        assert one["held_steps"] == [] and one["desired_state"] == "run"
        for command in ("drain", "resume", "stop"):
            refused = await as_viewer.post(f"{BASE}/{worker_id}/{command}")
            assert refused.status_code == 403, command
        assert (
            await as_viewer.patch(f"{BASE}/{worker_id}", json={"concurrency": 2})
        ).status_code == 403
    assert await worker_events(ctx) == []

    async with http(app, operator) as as_operator:
        drained = await as_operator.post(f"{BASE}/{worker_id}/drain")
        assert drained.status_code == 200
        assert drained.json()["desired_state"] == "drain"
        assert drained.json()["commanded_by"].startswith("token:olga")
        again = await as_operator.post(f"{BASE}/{worker_id}/drain")
        assert again.status_code == 409 and "already asked to drain" in again.text
        assert (await as_operator.post(f"{BASE}/{worker_id}/resume")).status_code == 200
        scaled = await as_operator.patch(f"{BASE}/{worker_id}", json={"concurrency": 7})
        assert scaled.json()["desired_concurrency"] == 7
        assert (await as_operator.post(f"{BASE}/{worker_id}/stop")).status_code == 200
    assert await worker_events(ctx) == [
        ev.WORKER_DRAINING,
        ev.WORKER_RESUMED,
        ev.WORKER_CONCURRENCY_CHANGED,
        ev.WORKER_STOP_REQUESTED,
    ]
    actors = {
        e.actor for e in await read_event_page(ctx, limit=5000) if e.type.startswith("worker.")
    }
    assert len(actors) == 1 and actors.pop().startswith("token:olga")


@pytest.mark.parametrize(
    "body",
    [
        {"concurrency": 0},
        {"concurrency": MAX_CONCURRENCY + 1},
        {"concurrency": -3},
        {"concurrency": 10**30},
        {"concurrency": "many"},
        {"concurrency": [1] * 1000},
        {"concurrency": 4, "extra": True},
        {},
    ],
)
async def test_a_bad_concurrency_is_a_422_naming_the_field_and_changes_nothing(
    app: FastAPI, body: dict[str, object]
) -> None:
    ctx: ServiceContext = app.state.ctx
    worker_id = await register(ctx)
    async with http(app, await bearer_headers(ctx)) as admin:
        refused = await admin.patch(f"{BASE}/{worker_id}", json=body)
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["field"] and ("concurrency" in error["field"] or "extra" in error["field"])
        assert (await admin.get(f"{BASE}/{worker_id}")).json()["desired_concurrency"] is None
    assert await worker_events(ctx) == []


async def test_unknown_gone_and_malformed_workers_are_clear_errors(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    gone = await workers.register_worker(
        ctx,
        name="host:2:gone",
        kind=WorkerKind.worker,
        concurrency=1,
        now=utcnow() - timedelta(minutes=10),
    )
    stopped = await register(ctx, "host:3:stopped")
    await workers.mark_stopped(ctx, worker_id=stopped)
    async with http(app, await bearer_headers(ctx)) as admin:
        missing = await admin.get(f"{BASE}/{uuid.uuid4()}")
        assert missing.status_code == 404 and missing.json()["error"]["field"] == "worker_id"
        bad = await admin.post(f"{BASE}/not-a-uuid/drain")
        assert bad.status_code == 422 and "worker_id" in bad.json()["error"]["field"]
        huge = await admin.post(f"{BASE}/{'9' * 5000}/drain")
        assert huge.status_code in (414, 422)
        for worker_id, word in ((gone, "offline"), (stopped, "stopped")):
            refused = await admin.post(f"{BASE}/{worker_id}/drain")
            assert refused.status_code == 409
            assert f"is {word}" in refused.json()["error"]["message"]
            scaled = await admin.patch(f"{BASE}/{worker_id}", json={"concurrency": 3})
            assert scaled.status_code == 409
    # Nothing was commanded (the server's sweep may have reported the silent one offline).
    assert [t for t in await worker_events(ctx) if t != ev.WORKER_OFFLINE] == []


async def test_two_operators_draining_at_once_record_one_drain(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    worker_id = await register(ctx)
    async with (
        http(app, await bearer_headers(ctx, "olga", Role.OPERATOR)) as one,
        http(app, await bearer_headers(ctx, "omar", Role.OPERATOR)) as other,
    ):
        answers = await asyncio.gather(
            one.post(f"{BASE}/{worker_id}/drain"), other.post(f"{BASE}/{worker_id}/drain")
        )
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert await worker_events(ctx) == [ev.WORKER_DRAINING]


async def test_deep_malformed_and_huge_bodies_are_refused_without_change(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    worker_id = await register(ctx)
    json_type = {"content-type": "application/json"}
    async with http(app, await bearer_headers(ctx)) as admin:
        url = f"{BASE}/{worker_id}"
        deep = await admin.patch(url, content=b"[" * 5000 + b"]" * 5000, headers=json_type)
        assert deep.status_code in {400, 413, 422}
        nested: object = 3
        for _ in range(200):
            nested = {"concurrency": nested}
        assert (await admin.patch(url, json=nested)).status_code in {413, 422}
        malformed = await admin.patch(url, content=b'{"concurrency": ', headers=json_type)
        assert malformed.status_code in {400, 422}
        huge = await admin.patch(url, content=b'{"concurrency": ' + b"9" * 5_000_000 + b"}")
        assert huge.status_code in {413, 422}
        assert (await admin.get(url)).json()["desired_concurrency"] is None
    assert await worker_events(ctx) == []


async def test_an_operator_gives_a_worker_a_range_and_a_viewer_or_bad_input_changes_nothing(
    app: FastAPI,
) -> None:
    ctx: ServiceContext = app.state.ctx
    worker_id = await register(ctx, "host:9:auto")
    viewer = await bearer_headers(ctx, "vera", Role.VIEWER)
    operator = await bearer_headers(ctx, "otto", Role.OPERATOR)
    url = f"{BASE}/{worker_id}/autoscale"
    async with http(app, viewer) as as_viewer:
        assert (await as_viewer.put(url, json={"minimum": 1, "maximum": 4})).status_code == 403
        assert (await as_viewer.delete(url)).status_code == 403
    async with http(app, operator) as as_operator:
        for body, field in (
            ({"minimum": 4, "maximum": 2}, "maximum"),
            ({"minimum": 0, "maximum": 2}, "minimum"),
            ({"minimum": 1, "maximum": MAX_CONCURRENCY + 1}, "maximum"),
            ({"minimum": "1; DROP TABLE workers", "maximum": 2}, "minimum"),
            ({"minimum": 1}, "maximum"),
            ({"minimum": 1, "maximum": 2, "token": "sk-secret-value"}, "token"),
        ):
            refused = await as_operator.put(url, json=body)
            assert refused.status_code == 422, body
            assert field in refused.json()["error"]["field"], refused.json()
            assert "sk-secret-value" not in refused.text
        assert (await as_operator.delete(url)).status_code == 409  # it does not size itself
        assert await worker_events(ctx) == []

        answer = await as_operator.put(url, json={"minimum": 1, "maximum": 4})
        assert answer.status_code == 200
        assert (answer.json()["autoscale_min"], answer.json()["autoscale_max"]) == (1, 4)
        again = await as_operator.put(url, json={"minimum": 1, "maximum": 4})
        assert again.status_code == 409
        fixed = await as_operator.patch(f"{BASE}/{worker_id}", json={"concurrency": 2})
        assert fixed.status_code == 409 and "autoscale" in fixed.json()["error"]["message"]
        off = await as_operator.delete(url)
        assert off.status_code == 200 and off.json()["autoscale_max"] is None
        missing = await as_operator.put(
            f"{BASE}/{uuid.uuid4()}/autoscale", json={"minimum": 1, "maximum": 2}
        )
        assert missing.status_code == 404
    assert await worker_events(ctx) == [ev.WORKER_AUTOSCALE_SET, ev.WORKER_AUTOSCALE_CLEARED]
