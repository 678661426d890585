"""What a worker's range costs its heartbeat, with the queue full, and how it sizes itself.

Run: ``PYTHONPATH=src:. .venv/bin/python bench/autoscale.py [--postgres-url URL]`` (or set
MISSIONCTL_BENCH_POSTGRES_URL, else MISSIONCTL_TEST_POSTGRES_URL; without one, SQLite alone).
``--queued`` (100,000) steps are seeded through the product's ``start_run`` in runs of
``--run-steps`` (5,000), on each database (a schema of its own on PostgreSQL, dropped after; a
data directory on SQLite). Then, in the benchmark's process, as an engine's presence calls it:

- ``heartbeat_ms``: ``services.usecases.workers.heartbeat`` of a registered worker reporting
  what it runs, ``--beats`` (200) times after a few unmeasured ones; median and p95. Once with
  no range (``without_range``, one ``UPDATE … RETURNING``), once with a range of 1 to 1,000
  (``with_range``: the same write, then the live workers, the ready queue counted up to what
  the range can use (1,001 steps here) and its oldest step, and the pure decision), reporting
  the size its range chose, so that each beat reads and decides but changes nothing.
  ``ratio``: with over without.
- ``sizes``: the sizes a worker of range 1 to 64 takes at its heartbeats, from 1: the first
  beat with the queue full, then, with the queue emptied and a minute past each change, the
  beats after (time injected, not slept), each with its reason.

Prints one JSON object on stdout; progress goes to stderr.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

try:  # imported as bench.autoscale, or run as a script from bench/
    from bench import _scale_support as support
except ModuleNotFoundError:
    import _scale_support as support  # type: ignore[no-redef]

from missionctl.db.types import utcnow
from missionctl.domain.autoscaling import COOL_DOWN_S
from missionctl.domain.workers import EngineState, HeartbeatReport, HeldStep, WorkerKind
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases import workers
from missionctl.settings import Settings

WARMUP = 5
WIDE = (1, 1000)  # a range that never binds: each beat reads and decides, and keeps the size
SIZED = (1, 64)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--queued", type=int, default=100_000)
    parser.add_argument("--run-steps", type=int, default=5_000)
    parser.add_argument("--beats", type=int, default=200)
    args = parser.parse_args(argv)
    args.postgres_url = (
        args.postgres_url
        or os.environ.get("MISSIONCTL_BENCH_POSTGRES_URL")
        or os.environ.get("MISSIONCTL_TEST_POSTGRES_URL")
    )
    return args


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _report(concurrency: int, running: int = 0) -> HeartbeatReport:
    held = tuple(HeldStep(str(uuid.uuid4()), str(uuid.uuid4()), f"s{i}") for i in range(running))
    return HeartbeatReport(EngineState.running, concurrency, held, None, None)


async def _beats(
    ctx: ServiceContext, worker_id: uuid.UUID, concurrency: int, count: int
) -> list[float]:
    """Milliseconds of ``count`` heartbeats of a worker reporting ``concurrency``, none busy."""
    times = []
    for n in range(WARMUP + count):
        started = time.perf_counter()
        orders = await workers.heartbeat(ctx, worker_id=worker_id, report=_report(concurrency))
        took = (time.perf_counter() - started) * 1000
        if orders is None:
            raise RuntimeError("the worker's row went missing")
        if n >= WARMUP:
            times.append(took)
    return times


def _summary(times: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(times), 3),
        "p95": round(support.percentile(times, 0.95), 3),
    }


async def _heartbeat_cost(ctx: ServiceContext, beats: int) -> dict[str, Any]:
    """Heartbeats without a range, then with one that reads and decides but changes nothing."""
    plain = await workers.register_worker(
        ctx, name="bench:1:plain", kind=WorkerKind.worker, concurrency=32
    )
    without = _summary(await _beats(ctx, plain, 32, beats))
    ranged = await workers.register_worker(
        ctx, name="bench:2:ranged", kind=WorkerKind.worker, concurrency=WIDE[1]
    )
    await workers.set_autoscale(
        ctx, worker_id=ranged, minimum=WIDE[0], maximum=WIDE[1], actor="user:bench"
    )
    with_range = _summary(await _beats(ctx, ranged, WIDE[1], beats))
    ratio = round(with_range["median"] / max(without["median"], 1e-9), 2)
    return {"without_range": without, "with_range": with_range, "ratio": ratio}


async def _sizes(ctx: ServiceContext) -> list[dict[str, Any]]:
    """The sizes a worker of range ``SIZED`` takes: the queue full, then emptied."""
    worker_id = await workers.register_worker(
        ctx, name="bench:3:sized", kind=WorkerKind.worker, concurrency=1
    )
    moment = utcnow()
    await workers.set_autoscale(
        ctx, worker_id=worker_id, minimum=SIZED[0], maximum=SIZED[1], actor="user:bench", now=moment
    )
    taken: list[dict[str, Any]] = []
    size = 1
    for emptied in (False, True, True, True, True):
        if emptied and not taken[-1]["queue_emptied"]:
            await _empty_queue(ctx)
        moment += timedelta(seconds=COOL_DOWN_S)
        orders = await workers.heartbeat(ctx, worker_id=worker_id, report=_report(size), now=moment)
        if orders is None or orders.desired_concurrency is None:
            raise RuntimeError("the ranged worker was not sized")
        shown = await workers.read_worker(ctx, worker_id=worker_id)
        taken.append(
            {
                "queue_emptied": emptied,
                "size": orders.desired_concurrency,
                "reason": shown.autoscale_reason,
            }
        )
        size = orders.desired_concurrency
    return taken


async def _empty_queue(ctx: ServiceContext) -> None:
    """Cancel what is queued, as a sweep of finished work would leave it: nothing ready."""
    async with ctx.write() as session:
        await session.execute(
            text("UPDATE step_runs SET status = 'canceled' WHERE status = 'queued'")
        )


async def _measure(
    settings: Settings, queued: int, run_steps: int, beats: int, db: Any = None
) -> dict[str, Any]:
    async with open_context(settings) as ctx:
        workflow = await support.queue_workflow(ctx, run_steps)
        started = time.perf_counter()
        runs = -(-queued // run_steps)
        for _ in range(runs):
            await support.start_run(ctx, workflow_id=workflow, actor=support.ACTOR)
        seeding_s = round(time.perf_counter() - started, 1)
        if db is not None:
            support.vacuum(db)
        ready, _ = await workers.read_ready_queue(ctx)
        progress(f"seeded {ready} ready steps in {seeding_s} s")
        cost = await _heartbeat_cost(ctx, beats)
        sizes = await _sizes(ctx)
    return {"ready": ready, "seeding_s": seeding_s, "heartbeat_ms": cost, "sizes": sizes}


def measure_sqlite(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as home:
        progress(f"sqlite: {args.queued} queued steps")
        return asyncio.run(
            _measure(Settings(home=Path(home)), args.queued, args.run_steps, args.beats)
        )


def measure_postgresql(args: argparse.Namespace) -> dict[str, Any]:
    with support.postgres_schema(args.postgres_url, prefix="autoscale") as db:
        progress(f"postgresql: {args.queued} queued steps in schema {db.schema}")
        figures = asyncio.run(_measure(db.settings, args.queued, args.run_steps, args.beats, db))
        return {"schema": db.schema, **figures}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    figures: dict[str, Any] = {
        "benchmark": "autoscale",
        "queued": args.queued,
        "beats": args.beats,
        "sqlite": measure_sqlite(args),
    }
    if args.postgres_url:
        figures["postgresql"] = measure_postgresql(args)
    print(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
