"""The Workers page: status badges, capabilities, held steps, utilisation, and controls."""

import re
import uuid
from datetime import timedelta

import httpx2

from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.access import Role
from missionctl.domain.workers import EngineState, HeartbeatReport, HeldStep, WorkerKind
from missionctl.services import ServiceContext
from missionctl.services.usecases import workers
from missionctl.services.usecases.audit import read_event_page
from tests.support.auth import bearer_headers
from tests.web.support import HTMX

CONTROLS = ('data-control="worker-drain"', 'data-control="worker-stop"', 'name="concurrency"')


async def as_role(ctx: ServiceContext, role: Role) -> dict[str, str]:
    return await bearer_headers(ctx, f"{role.value}-{uuid.uuid4().hex[:6]}", role)


def row_of(html: str, worker_id: uuid.UUID) -> str:
    found = re.search(rf'<tr data-worker="{worker_id}".*?</tr>', html, re.S)
    assert found, f"no row for {worker_id}"
    return found.group(0)


async def busy_worker(ctx: ServiceContext, name: str = "host:1:busy") -> uuid.UUID:
    worker_id = await workers.register_worker(
        ctx, name=name, kind=WorkerKind.worker, concurrency=4, capabilities=["command", "llm:*"]
    )
    report = HeartbeatReport(
        state=EngineState.running,
        concurrency=4,
        held=(HeldStep(step_run_id=str(uuid.uuid4()), run_id=str(uuid.uuid4()), step_id="build"),),
        utilisation_5m=42.5,
        utilisation_1h=7.0,
    )
    await workers.heartbeat(ctx, worker_id=worker_id, report=report)
    return worker_id


async def test_a_viewer_sees_status_capabilities_held_steps_and_utilisation_but_no_controls(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    busy = await busy_worker(ctx)
    gone = await workers.register_worker(
        ctx,
        name="host:2:gone",
        kind=WorkerKind.worker,
        concurrency=1,
        now=utcnow() - timedelta(minutes=5),
    )
    viewer = await as_role(ctx, Role.VIEWER)
    html = (await client.get("/workers", headers=viewer)).text
    row = row_of(html, busy)
    assert 'data-status="online"' in row and "badge--online" in row and "busy" in row
    assert "<code>command</code>" in row and "<code>llm:*</code>" in row
    assert 'data-held="1"' in row and "1 of 4" in row and "<code>build</code>" in row
    assert 'value="42.5" max="100"' in row and "42.5% 5 min" in row and "7.0% 1 h" in row
    assert 'data-status="offline"' in row_of(html, gone)
    assert not any(control in html for control in CONTROLS)


async def test_an_operator_drains_stops_and_scales_from_the_page(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    busy = await busy_worker(ctx)
    gone = await workers.register_worker(
        ctx,
        name="host:3:gone",
        kind=WorkerKind.worker,
        concurrency=1,
        now=utcnow() - timedelta(minutes=5),
    )
    operator = await as_role(ctx, Role.OPERATOR)
    viewer = await as_role(ctx, Role.VIEWER)
    html = (await client.get("/workers", headers=operator)).text
    assert all(control in row_of(html, busy) for control in CONTROLS)
    assert not any(control in row_of(html, gone) for control in CONTROLS)  # nothing to steer

    refused = await client.post(f"/workers/{busy}/drain", headers=viewer)
    assert refused.status_code == 403
    drained = await client.post(f"/workers/{busy}/drain", headers={**operator, **HTMX})
    assert drained.status_code == 200 and drained.headers["HX-Refresh"] == "true"
    again = await client.post(f"/workers/{busy}/drain", headers={**operator, **HTMX})
    assert again.status_code == 409 and "already asked to drain" in again.text
    row = row_of((await client.get("/workers", headers=operator)).text, busy)
    assert 'data-asked="drain"' in row and 'data-control="worker-resume"' in row

    stopped = await client.post(f"/workers/{busy}/stop", headers=operator)
    assert stopped.status_code == 303 and stopped.headers["location"] == "/workers"
    for bad in ("0", "1001", "lots", ""):
        wrong = await client.post(
            f"/workers/{busy}/concurrency", headers={**operator, **HTMX}, data={"concurrency": bad}
        )
        assert wrong.status_code == 422, bad
        assert "concurrency" in wrong.text
    scaled = await client.post(
        f"/workers/{busy}/concurrency", headers={**operator, **HTMX}, data={"concurrency": "9"}
    )
    assert scaled.status_code == 200
    offline = await client.post(f"/workers/{gone}/drain", headers={**operator, **HTMX})
    assert offline.status_code == 409 and "offline" in offline.text

    types = [e.type for e in await read_event_page(ctx, limit=5000) if e.type.startswith("worker.")]
    assert ev.WORKER_DRAINING in types and ev.WORKER_STOP_REQUESTED in types
    assert types.count(ev.WORKER_CONCURRENCY_CHANGED) == 1
    assert (await workers.read_worker(ctx, worker_id=busy)).desired_concurrency == 9


async def test_an_operator_lets_a_worker_size_itself_and_the_page_says_why_it_took_its_size(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    busy = await busy_worker(ctx, "host:4:auto")
    operator = await as_role(ctx, Role.OPERATOR)
    viewer = await as_role(ctx, Role.VIEWER)
    row = row_of((await client.get("/workers", headers=operator)).text, busy)
    assert 'data-control="worker-autoscale"' in row and 'name="maximum"' in row
    viewer_row = row_of((await client.get("/workers", headers=viewer)).text, busy)
    assert 'data-control="worker-autoscale"' not in viewer_row
    form = {"minimum": "2", "maximum": "6"}
    assert (
        await client.post(f"/workers/{busy}/autoscale", headers=viewer, data=form)
    ).status_code == 403
    for bad, field in (
        ({"minimum": "6", "maximum": "2"}, "maximum"),
        ({"minimum": "x", "maximum": "2"}, "minimum"),
    ):
        wrong = await client.post(
            f"/workers/{busy}/autoscale", headers={**operator, **HTMX}, data=bad
        )
        assert wrong.status_code == 422 and field in wrong.text, bad
    done = await client.post(f"/workers/{busy}/autoscale", headers={**operator, **HTMX}, data=form)
    assert done.status_code == 200 and done.headers["HX-Refresh"] == "true"

    # Its next heartbeat reports a size below the range: it is brought within it.
    report = HeartbeatReport(EngineState.running, 1, (), None, None)
    await workers.heartbeat(ctx, worker_id=busy, report=report)
    row = row_of((await client.get("/workers", headers=operator)).text, busy)
    assert 'data-autoscale="2-6"' in row and "sizes itself 2 to 6" in row
    assert "1 → 2 steps at once: brought within its range 2 to 6" in row
    assert 'data-control="worker-autoscale/off"' in row
    assert 'data-control="worker-scale" disabled' in row
    off = await client.post(f"/workers/{busy}/autoscale/off", headers={**operator, **HTMX})
    assert off.status_code == 200
    again = await client.post(f"/workers/{busy}/autoscale/off", headers={**operator, **HTMX})
    assert again.status_code == 409 and "does not size itself" in again.text
    assert "data-autoscale=" not in row_of(
        (await client.get("/workers", headers=operator)).text, busy
    )


async def test_a_hostile_worker_name_is_escaped(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    worker_id = await workers.register_worker(
        ctx,
        name='<script>alert("w")</script>',
        kind=WorkerKind.worker,
        concurrency=1,
        capabilities=["<img src=x onerror=alert(1)>"],
    )
    row = row_of((await client.get("/workers")).text, worker_id)
    assert "<script>" not in row and "&lt;script&gt;" in row
    assert "<img" not in row


async def test_the_page_shows_how_far_behind_the_log_each_follower_is(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    from missionctl.services.followers import SEARCH_INDEX, catch_up

    viewer = await as_role(ctx, Role.VIEWER)
    await workers.register_worker(ctx, name="host:3:lag", kind=WorkerKind.worker, concurrency=1)
    await catch_up(ctx, SEARCH_INDEX)
    html = (await client.get("/workers", headers=viewer)).text
    assert "Followers of the log" in html
    rows = re.findall(r'<tr data-follower="(\w+)" data-lag-events="(\d+)">(.*?)</tr>', html, re.S)
    assert [name for name, _, _ in rows] == [
        "search",
        "memory",
        "analytics",
        "orchestration",
        "risks",
        "webhooks",
    ]
    head = int(re.search(r"the log's head \(event (\d+)\)", html).group(1))  # type: ignore[union-attr]
    for name, lag, row in rows:
        read_to = int(re.findall(r'<td class="num">(\d+)</td>', row)[0])
        assert int(lag) == head - read_to, name
        assert ("current" in row) == (lag == "0"), name
    assert rows[0][:2] == ("search", "0")
