"""The event feed and the audit explorer at scale: searches, feed pages, an export, live delivery.

Seeds 1,000,000 events and 10,000 runs (times ``BENCH_SCALE``, default 1; e.g. BENCH_SCALE=0.02
for 20,000 events and 200 runs), then measures against the targets:

- ``audit_search_p95_ms`` (target <= 150): ``search_runs`` by workflow, agent, actor, status and
  start window;
- ``feed_page_p95_ms`` (target <= 100): ``read_event_feed`` pages of 50 with each filter;
- ``export_100k_s`` (target <= 5): ``export_events`` as CSV of up to 100,000 events;
- ``live_p99_ms`` (target <= 1000): 200 ``follow_events`` subscribers, each receiving every new
  event; the time from commit to delivery.

Runs, steps and workflows are inserted in bulk (they have no triggers); events go through
``eventlog.append`` in batches of 5,000, so the chain's hashes and the database's triggers
hold as they do in production.

Run: `BENCH_SCALE=0.02 .venv/bin/python bench/observability_feed.py` (SQLite in a temporary
directory; PostgreSQL too when MISSIONCTL_BENCH_POSTGRES_URL names a server). Prints one JSON
object.
"""

import asyncio
import json
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from _databases import backends
from missionctl.db.models import Run, StepRun, Workflow
from missionctl.domain.ids import new_id
from missionctl.eventlog import NewEvent, append
from missionctl.schemas.events import AuditRunFilters, EventFilters
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases import dashboard
from missionctl.services.usecases.event_feed import export_events, read_event_feed, search_runs
from missionctl.settings import Settings

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
EVENTS = max(1000, int(1_000_000 * SCALE))
RUNS = max(20, int(10_000 * SCALE))
SUBSCRIBERS = 200
WORKFLOWS = [f"workflow-{i}" for i in range(20)]
AGENTS = ["builtin:noop", "command", "llm:writer", "llm:reviewer", "builtin:sleep"]
ACTORS = [f"user:u{i}" for i in range(10)]
TYPES = ["step.queued", "step.started", "step.succeeded", "step.log", "step.usage", "run.started"]
REPEATS = 20
rng = random.Random(7)


async def _seed_runs(ctx: ServiceContext) -> list[tuple[uuid.UUID, str]]:
    """Workflows, runs and three steps each; the (run id, step id) pairs events refer to."""
    now = datetime.now(UTC)
    workflows = [
        {"id": new_id(), "name": name, "version": 1, "definition": {}, "created_by": "system"}
        for name in WORKFLOWS
    ]
    runs, steps = [], []
    for _ in range(RUNS):
        run_id = new_id()
        runs.append(
            {
                "id": run_id,
                "workflow_id": rng.choice(workflows)["id"],
                "trigger": "manual",
                "status": "completed",
                "created_by": rng.choice(ACTORS),
                "started_at": now - timedelta(minutes=rng.randrange(60 * 24 * 30)),
            }
        )
        for s in range(3):
            steps.append(
                {
                    "id": new_id(),
                    "run_id": run_id,
                    "step_id": f"s{s}",
                    "status": "succeeded",
                    "agent": rng.choice(AGENTS),
                }
            )
    async with ctx.write() as session:
        await session.execute(insert(Workflow), workflows)
        for start in range(0, len(runs), 2000):
            await session.execute(insert(Run), runs[start : start + 2000])
        for start in range(0, len(steps), 5000):
            await session.execute(insert(StepRun), steps[start : start + 5000])
    return [(s["run_id"], s["step_id"]) for s in steps]


def _event(steps: list[tuple[uuid.UUID, str]]) -> NewEvent:
    run_id, step_id = rng.choice(steps)
    kind = rng.choice(TYPES)
    payload: dict[str, Any] = {"status": "x"}
    if kind == "step.log":
        level = rng.choice(["info", "info", "info", "warning", "error"])
        payload = {"lines": [{"level": level, "message": "a line of output"}]}
    return NewEvent(kind, rng.choice(ACTORS), payload, run_id=run_id, step_id=step_id)


async def _seed_events(ctx: ServiceContext, steps: list[tuple[uuid.UUID, str]]) -> float:
    started = time.perf_counter()
    for start in range(0, EVENTS, 5000):
        batch = [_event(steps) for _ in range(min(5000, EVENTS - start))]
        async with ctx.write() as session:
            await append(session, batch)
    return time.perf_counter() - started


async def _p95(calls: list[Callable[[], Awaitable[Any]]]) -> float:
    timings = []
    for _ in range(REPEATS):
        for call in calls:
            started = time.perf_counter()
            await call()
            timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.quantiles(timings, n=20)[18], 1)


async def _searches(ctx: ServiceContext) -> float:
    since = datetime.now(UTC) - timedelta(days=7)
    filters = [
        AuditRunFilters(workflow="workflow-3"),
        AuditRunFilters(agent="llm:writer"),
        AuditRunFilters(actor="user:u4"),
        AuditRunFilters(since=since, until=since + timedelta(days=2)),
        AuditRunFilters(workflow="workflow-5", agent="command", status="completed"),
    ]
    return await _p95([lambda f=f: search_runs(ctx, filters=f, limit=50) for f in filters])


async def _pages(ctx: ServiceContext) -> float:
    since = datetime.now(UTC) - timedelta(seconds=30)
    filters = [
        EventFilters(),
        EventFilters(type=["step."]),
        EventFilters(type=["run.started", "step.failed"]),
        EventFilters(actor="user:u2"),
        EventFilters(severity=["error"]),
        EventFilters(workflow="workflow-7"),
        EventFilters(agent="llm:reviewer"),
        EventFilters(since=since),
    ]
    return await _p95([lambda f=f: read_event_feed(ctx, filters=f, limit=50) for f in filters])


async def _export(ctx: ServiceContext) -> dict[str, Any]:
    wanted = min(100_000, EVENTS)
    head = await dashboard.read_head_seq(ctx)
    page = await read_event_feed(ctx, filters=EventFilters(), before=head - wanted + 2, limit=1)
    since = page.items[0].ts if page.items else None
    started = time.perf_counter()
    size, rows = 0, 0
    async for chunk in export_events(ctx, filters=EventFilters(since=since), fmt="csv"):
        size += len(chunk)
        rows += chunk.count(b"\r\n")
    return {
        "export_rows": rows - 1,
        "export_s": round(time.perf_counter() - started, 2),
        "export_mb": round(size / 1e6, 1),
    }


async def _live(ctx: ServiceContext, events: int = 20) -> float:
    head = await dashboard.read_head_seq(ctx)
    received: list[float] = []
    sent: dict[int, float] = {}

    async def follow(filters: EventFilters) -> None:
        async for batch in dashboard.follow_events(ctx, after_seq=head, filters=filters):
            now = time.perf_counter()
            received.extend(now - sent.get(item.seq, now) for item in batch.items)

    kinds = [EventFilters(), EventFilters(type=["bench."]), EventFilters(actor="system")]
    tasks = [asyncio.create_task(follow(kinds[i % len(kinds)])) for i in range(SUBSCRIBERS)]
    await asyncio.sleep(1)
    for i in range(events):
        async with ctx.write() as session:
            (record,) = await append(session, [NewEvent("bench.tick", "system", {"i": i})])
            sent[record.seq] = time.perf_counter()
        await asyncio.sleep(0.05)
    for _ in range(200):  # up to 10 s for the last deliveries
        if len(received) >= SUBSCRIBERS * events:
            break
        await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    missing = SUBSCRIBERS * events - len(received)
    assert missing == 0, f"{missing} deliveries missing"
    return round(statistics.quantiles(received, n=100)[98] * 1000, 1)


async def _measure(settings: Settings) -> dict[str, Any]:
    async with open_context(settings) as ctx:
        seeding = time.perf_counter()
        steps = await _seed_runs(ctx)
        events_s = await _seed_events(ctx, steps)
        figures: dict[str, Any] = {
            "seed_s": round(time.perf_counter() - seeding, 1),
            "seed_events_per_s": round(EVENTS / events_s),
            "audit_search_p95_ms": await _searches(ctx),
            "feed_page_p95_ms": await _pages(ctx),
        }
        figures.update(await _export(ctx))
        figures["live_p99_ms"] = await _live(ctx)
    return figures


def main() -> None:
    figures: dict[str, Any] = {
        "scale": SCALE,
        "events": EVENTS,
        "runs": RUNS,
        "subscribers": SUBSCRIBERS,
        "targets": {
            "audit_search_p95_ms": 150,
            "feed_page_p95_ms": 100,
            "export_100k_s": 5,
            "live_p99_ms": 1000,
        },
    }
    for name, settings in backends():
        figures[name] = asyncio.run(_measure(settings))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
