"""The control plane's periodic work at scale: the scheduler, the webhook follower, the workers.

On each database (SQLite; PostgreSQL too when MISSIONCTL_BENCH_POSTGRES_URL names a server, see
bench/_databases.py), at ``--scale 1``:

- **Webhooks.** 10 workflows and 5,000 of their runs (bulk), 10 subscriptions made through
  ``services.usecases.webhooks.create_webhook`` (five to every workflow's ``run.completed`` and
  ``run.failed``, one to every subscribable type, four filtered on one workflow each), then
  100,000 events appended through ``eventlog.append`` in batches of 5,000 (one in ten a run's
  ``run.completed`` or ``run.failed``, a few ``approval.requested`` and ``worker.offline``, the
  rest step and run chatter no subscription names). Times the follower
  (``services.followers.webhook_outbox``) catching up with all of it: events followed per second and
  deliveries written; then its cost on an idle log (nothing new), p50/p95 of ``--rounds`` calls.
- **Schedules.** One workflow version of one ``builtin:noop`` step and 10,000 schedules of it
  (bulk rows): 1% fire every minute from ``T0`` (2036, as in tests/schedules/helpers.py, so the
  real clock never finds them due; overlap ``allow``, so every tick starts a run), the rest
  monthly, days away. Times ``services.usecases.scheduler.fire_due`` at a fixed clock: p50/p95 of a
  pass with nothing due (30 s before ``T0``), and ``FIRE_PASSES`` passes one minute apart that each
  start the due schedules' runs (the seconds per pass and the runs started per second).
- **Workers.** 1,000 worker rows (bulk): most alive and holding a few steps, some stopped, some
  reported offline, all heard from in the last day. Times
  ``services.usecases.workers.list_worker_details`` (the Workers page: the default page of 200, and
  every row) and ``list_workers``: p50/p95.

Tables are analysed after each bulk load, as a live database's would be.

Run: `.venv/bin/python bench/control_plane.py` (`--scale 0.05` for a smoke run; the scale
defaults to BENCH_SCALE, else 1; `--rounds` sets the timed calls per figure, default 30).
Prints one JSON object: the sizes, then the figures per database, in milliseconds unless a
name says otherwise.
"""

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text

from _databases import backends
from missionctl.db.models import Run, Schedule, WebhookDelivery, Worker, Workflow
from missionctl.domain import events as ev
from missionctl.domain.ids import new_id
from missionctl.domain.webhooks import SUBSCRIBABLE
from missionctl.eventlog import NewEvent, append
from missionctl.schemas.webhooks import WebhookCreate
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext, open_context
from missionctl.services.followers import WEBHOOK_OUTBOX, catch_up
from missionctl.services.usecases.scheduler import MAX_DUE_PER_PASS, fire_due
from missionctl.services.usecases.webhooks import create_webhook
from missionctl.services.usecases.workers import list_worker_details, list_workers
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import Settings

logging.getLogger("alembic").setLevel(logging.WARNING)

ACTOR = "user:bench"
T0 = datetime(2036, 6, 2, 12, 0, 0, tzinfo=UTC)  # tests/schedules/helpers.py: years ahead
DUE_SHARE = 0.01
FIRE_PASSES = 5
FULL_SCHEDULES = 10_000
FULL_EVENTS = 100_000
FULL_RUNS = 5_000
FULL_WORKERS = 1_000
WORKFLOWS = [f"bench-wf-{i}" for i in range(10)]
APPEND_BATCH = 5_000
INSERT_BATCH = 2_000
TERMINAL = (ev.RUN_COMPLETED,) * 7 + (ev.RUN_FAILED,) * 3  # one event in ten (as typed below)
CHATTER = ("run.started", "step.queued", "step.started", "step.succeeded", "step.log")


def _timings(samples_ms: list[float]) -> dict[str, float]:
    """p50 and p95 of ``samples_ms`` (at least two samples)."""
    cuts = statistics.quantiles(samples_ms, n=20)
    return {"p50_ms": round(statistics.median(samples_ms), 2), "p95_ms": round(cuts[18], 2)}


async def _time(call: Callable[[], Awaitable[Any]], rounds: int, warm_up: int = 3) -> list[float]:
    """Milliseconds of ``rounds`` calls of ``call``, after ``warm_up`` untimed ones."""
    for _ in range(warm_up):
        await call()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def _analyse(ctx: ServiceContext, tables: list[str]) -> None:
    """Gather the planner statistics (and on PostgreSQL vacuum) as after a live bulk load."""
    if ctx.db.engine.dialect.name == "postgresql":
        async with ctx.db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f"VACUUM ANALYZE {', '.join(tables)}"))
    else:
        async with ctx.write() as session:
            await session.execute(text("ANALYZE"))


async def _count(ctx: ServiceContext, model: Any) -> int:
    async with ctx.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# --- Webhooks ------------------------------------------------------------------------------


async def _seed_runs(ctx: ServiceContext, runs: int) -> list[uuid.UUID]:
    """The workflows (bulk rows) and ``runs`` completed runs of them; the runs' ids."""
    rng = random.Random(60)
    workflows = [
        {"id": new_id(), "name": name, "version": 1, "definition": {}, "created_by": ACTOR}
        for name in WORKFLOWS
    ]
    rows: list[dict[str, Any]] = [
        {
            "id": new_id(),
            "workflow_id": rng.choice(workflows)["id"],
            "trigger": "api",
            "status": "completed",
            "created_by": ACTOR,
        }
        for _ in range(runs)
    ]
    async with ctx.write() as session:
        await session.execute(insert(Workflow), workflows)
        for start in range(0, len(rows), INSERT_BATCH):
            await session.execute(insert(Run), rows[start : start + INSERT_BATCH])
    return [row["id"] for row in rows]


async def _subscribe(ctx: ServiceContext) -> None:
    """10 subscriptions: five to every run's end, one to everything, four on one workflow."""
    ends = [ev.RUN_COMPLETED, ev.RUN_FAILED]
    datas: list[dict[str, Any]] = [
        {"events": ends, "format": "json" if i % 2 else "slack"} for i in range(5)
    ] + [{"events": list(SUBSCRIBABLE)}]
    datas += [{"events": [*ends, ev.WORKER_OFFLINE], "workflow": WORKFLOWS[i]} for i in range(4)]
    for n, data in enumerate(datas):
        create = WebhookCreate.model_validate({"url": f"https://hooks.example.com/{n}", **data})
        await create_webhook(ctx, data=create, actor=ACTOR)


def _event(rng: random.Random, runs: list[uuid.UUID]) -> NewEvent:
    run_id = rng.choice(runs)
    roll = rng.random()
    if roll < 0.1:
        kind = rng.choice(TERMINAL)
        return NewEvent(kind, "system", {"status": kind.split(".")[1]}, run_id=run_id)
    if roll < 0.105:
        payload = {"tier": "write"}
        return NewEvent(ev.APPROVAL_REQUESTED, "system", payload, run_id=run_id, step_id="only")
    if roll < 0.106:  # no run: it concerns every workflow
        return NewEvent(ev.WORKER_OFFLINE, "system", {"name": "host-0:1000:w"})
    kind = rng.choice(CHATTER)
    step = None if kind.startswith("run.") else "only"
    return NewEvent(kind, "system", {"status": "x"}, run_id=run_id, step_id=step)


async def _seed_events(ctx: ServiceContext, runs: list[uuid.UUID], events: int) -> float:
    """Append ``events`` events in batches; returns events appended per second."""
    rng = random.Random(61)
    started = time.perf_counter()
    for start in range(0, events, APPEND_BATCH):
        batch = [_event(rng, runs) for _ in range(min(APPEND_BATCH, events - start))]
        async with ctx.write() as session:
            await append(session, batch)
    return events / (time.perf_counter() - started)


async def _webhooks(ctx: ServiceContext, events: int, runs: int, rounds: int) -> dict[str, Any]:
    run_ids = await _seed_runs(ctx, runs)
    await _subscribe(ctx)
    seeded = await _seed_events(ctx, run_ids, events)
    await _analyse(ctx, ["events", "runs", "workflows"])
    started = time.perf_counter()
    await catch_up(ctx, WEBHOOK_OUTBOX)
    follow_s = time.perf_counter() - started
    deliveries = await _count(ctx, WebhookDelivery)
    idle = await _time(lambda: catch_up(ctx, WEBHOOK_OUTBOX), rounds)
    return {
        "seed_events_per_s": round(seeded),
        "catch_up_s": round(follow_s, 2),
        "events_followed_per_s": round(events / follow_s),
        "deliveries_written": deliveries,
        "deliveries_per_s": round(deliveries / follow_s),
        "idle_catch_up": _timings(idle),
    }


# --- Schedules ------------------------------------------------------------------------------


async def _seed_schedules(ctx: ServiceContext, schedules: int, due: int) -> uuid.UUID:
    """``schedules`` schedule rows of a one-step workflow; ``due`` of them tick every minute."""
    spec = WorkflowSpec.model_validate(
        {"name": "bench-scheduled", "steps": [{"id": "only", "agent": "builtin:noop"}]}
    )
    workflow = (await create_workflow(ctx, spec=spec, actor=ACTOR)).id
    every = max(schedules // due, 1)
    rows = []
    for i in range(schedules):
        base = {
            "id": new_id(), "name": f"bench-{i:05d}", "timezone": "UTC", "workflow_id": workflow,
            "inputs": {}, "misfire_policy": "skip", "paused": False, "created_by": ACTOR,
        }  # fmt: skip
        if i % every == 0 and i // every < due:
            rows.append(base | {"cron": "* * * * *", "overlap_policy": "allow", "next_fire_at": T0})
            continue
        # Monthly, on a day from the 3rd of June 2036 on: never due in the passes measured.
        day, hour, minute = 3 + i % 26, (i // 26) % 24, (i // 624) % 60
        tick = datetime(2036, 6, day, hour, minute, tzinfo=UTC)
        cron = f"{minute} {hour} {day} * *"
        rows.append(base | {"cron": cron, "overlap_policy": "skip", "next_fire_at": tick})
    async with ctx.write() as session:
        for start in range(0, len(rows), INSERT_BATCH):
            await session.execute(insert(Schedule), rows[start : start + INSERT_BATCH])
    return workflow


async def _schedules(ctx: ServiceContext, schedules: int, rounds: int) -> dict[str, Any]:
    due = max(1, round(schedules * DUE_SHARE))
    await _seed_schedules(ctx, schedules, due)
    await _analyse(ctx, ["schedules"])
    idle_at = T0 - timedelta(seconds=30)

    async def idle_pass() -> None:
        if await fire_due(ctx, idle_at):
            raise AssertionError("a pass before T0 fired something")

    idle = await _time(idle_pass, rounds)
    passes, started_runs = [], 0
    for n in range(FIRE_PASSES):
        started = time.perf_counter()
        fired = await fire_due(ctx, T0 + timedelta(minutes=n, seconds=1))
        passes.append(time.perf_counter() - started)
        outcomes = {f.outcome for f in fired}
        if outcomes != {"started"} or len(fired) != min(due, MAX_DUE_PER_PASS):
            raise AssertionError(f"pass {n} fired {len(fired)} ({outcomes}), not {due} runs")
        started_runs += len(fired)
    return {
        "schedules": schedules,
        "due_per_pass": min(due, MAX_DUE_PER_PASS),
        "idle_pass": _timings(idle),
        "fire_passes_s": [round(s, 3) for s in passes],
        "fire_pass_p50_s": round(statistics.median(passes), 3),
        "runs_started_per_s": round(started_runs / sum(passes)),
        "runs_in_database": await _count(ctx, Run),
    }


# --- Workers --------------------------------------------------------------------------------


def _worker(rng: random.Random, n: int, now: datetime) -> dict[str, Any]:
    started = now - timedelta(minutes=rng.randrange(5, 23 * 60))
    roll = rng.random()
    held = [
        {"step_run_id": str(new_id()), "run_id": str(new_id()), "step_id": f"s{i}"}
        for i in range(rng.randrange(0, 9) if roll < 0.7 else 0)
    ]
    row: dict[str, Any] = {
        "id": new_id(), "name": f"host-{n % 50}:{1000 + n}:w", "host": f"host-{n % 50}",
        "pid": 1000 + n, "version": "1.0.0", "kind": "worker" if n % 10 else "embedded",
        "concurrency": 8, "started_at": started, "last_heartbeat_at": now,
        "capabilities": ["builtin:*", "llm:*", "command"], "state": "running",
        "held_steps": held, "held_count": len(held), "utilisation_5m": rng.random() * 100,
        "utilisation_1h": rng.random() * 100, "desired_state": "run",
    }  # fmt: skip
    if roll < 0.7:  # alive: heard from seconds ago
        row["last_heartbeat_at"] = now - timedelta(seconds=rng.random() * 4)
    elif roll < 0.85:  # stopped cleanly
        row["last_heartbeat_at"] = row["stopped_at"] = started + timedelta(minutes=3)
    else:  # silent, reported offline
        row["last_heartbeat_at"] = started + timedelta(minutes=2)
        row["offline_reported_at"] = started + timedelta(minutes=4)
    return row


async def _workers(ctx: ServiceContext, workers: int, rounds: int) -> dict[str, Any]:
    rng = random.Random(58)
    now = datetime.now(UTC)
    rows = [_worker(rng, n, now) for n in range(workers)]
    async with ctx.write() as session:
        for start in range(0, len(rows), INSERT_BATCH):
            await session.execute(insert(Worker), rows[start : start + INSERT_BATCH])
    await _analyse(ctx, ["workers"])
    return {
        "workers": workers,
        "list_worker_details_200": _timings(
            await _time(lambda: list_worker_details(ctx, now=now), rounds)
        ),
        "list_worker_details_all": _timings(
            await _time(lambda: list_worker_details(ctx, now=now, limit=workers), rounds)
        ),
        "list_workers_200": _timings(await _time(lambda: list_workers(ctx, now=now), rounds)),
    }


# --- Main -----------------------------------------------------------------------------------


async def _measure(settings: Settings, sizes: dict[str, int], rounds: int) -> dict[str, Any]:
    async with open_context(settings) as ctx:
        started = time.perf_counter()
        # The follower first: the runs the scheduler starts then add nothing to its log.
        webhooks = await _webhooks(ctx, sizes["events"], sizes["runs"], rounds)
        schedules = await _schedules(ctx, sizes["schedules"], rounds)
        workers = await _workers(ctx, sizes["workers"], rounds)
        return {
            "webhooks": webhooks,
            "schedules": schedules,
            "workers": workers,
            "total_s": round(time.perf_counter() - started, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale",
        type=float,
        default=float(os.environ.get("BENCH_SCALE", "1")),
        help="Multiplies the rows seeded (default BENCH_SCALE, else 1).",
    )
    parser.add_argument("--rounds", type=int, default=30, help="Timed calls per figure.")
    args = parser.parse_args()
    scale, rounds = args.scale, max(args.rounds, 2)
    sizes = {
        "schedules": max(100, int(FULL_SCHEDULES * scale)),
        "events": max(1_000, int(FULL_EVENTS * scale)),
        "runs": max(100, int(FULL_RUNS * scale)),
        "workers": max(10, int(FULL_WORKERS * scale)),
    }
    figures: dict[str, Any] = {"scale": scale, "rounds": rounds, **sizes}
    for name, settings in backends():
        figures[name] = asyncio.run(_measure(settings, sizes, rounds))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
