"""How far one PostgreSQL database takes the design: workers, the claim, the event log.

Run: ``PYTHONPATH=src:. .venv/bin/python bench/scale.py --postgres-url
postgresql+psycopg://postgres@127.0.0.1:5432/test`` (or set MISSIONCTL_BENCH_POSTGRES_URL,
else MISSIONCTL_TEST_POSTGRES_URL). ``--part workers|claim|append`` runs one part (default: all
three, about ten minutes); ``--quick`` runs at a small scale, for a try (under a minute);
``--help`` lists the other flags, each of which overrides what ``--quick`` or the default sets.
Prints one JSON object on stdout; progress goes to stderr. Each measurement works in a schema of
its own on the server (``bench/_scale_support.py``), named in the figures (``schema``) and
dropped at the end with its data directory; every process started is stopped. The tables a
measurement rewrites are vacuumed and analysed before it: a test server may run without
autovacuum, which a production server would have run.

Throughout, ``cpu_pct`` is percent of one core (the machine has ``machine.cpus``: with two,
200 % is both busy) over a window, from ``/proc``: of the processes doing the work
(``workers_pct``, ``appenders_pct``), of the server's processes serving the schema with the
server's own background processes (``database_pct``), of the whole machine (``machine_pct``),
and what those do not explain (``rest_pct``: the benchmark's own sampling, other programs).
``connections`` is what the product's connections to the schema were doing, sampled every
0.1 s from ``pg_stat_activity`` (mean counts): waiting for a lock, told apart by what their
statement locks: the chain head (``head_waiting``), a run's advisory lock, which ticks that
record results of one run take in turn (``run_lock_waiting``), a follower's cursor, which the
processes following the log take in turn (``cursor_waiting``), or another
(``other_lock_waiting``); running a statement or a commit (``active``); or in a transaction,
waiting for their process to send the next statement (``idle_in_transaction``: it computes,
or waits for a core).

**workers**: steps per second with ``--workers`` (1,2,4,8) ``missionctl worker`` processes,
started as ``bench/load.py`` starts its worker (the default settings, ``MISSIONCTL_HOME`` and
``MISSIONCTL_DATABASE_URL`` on the schema; ``MISSIONCTL_ENGINE_CONCURRENCY`` from
``--concurrency``, 32 as by default). The work: runs of ``--run-steps`` (1,000) independent
``builtin:noop`` steps, the cheapest step there is (no model, no program: it returns at once)
that still goes through claim, run and recorded result with its ``step.started`` and
``step.succeeded`` events, and each run's end and report. Steps are claimed oldest first, so
the workers work on the oldest runs together (a smaller ``--run-steps`` spreads them over more
runs, each with its end and report). Each worker count gets a fresh schema. Its queue is
seeded through ``start_run`` (as in the claim part below) for the workers' start, the warm-up
and a window, from the last count's rate; between windows, never during one, it is topped up
when that rate says it could run dry, and the followers of the log are caught up with the
seeding's events (the workers' followers fold what the steps append). Once every worker holds
a step, ``--warmup`` seconds pass, then ``--repeats`` windows of ``--seconds``. Per worker
count:

- ``steps_per_s``: steps that succeeded in a window over its length (median of the windows;
  each window's in ``steps_per_s_windows``);
- ``scaling``: that over the first worker count's (1 worker);
- ``cpu_pct`` and ``connections`` (medians of the windows);
- ``queued_at_end``: the steps still queued at each window's end; a window that ends with
  fewer than the workers may hold fails the benchmark, as the workers may have waited for work;
- ``followers_lag_events``: at each window's end, the most events a follower the workers run
  (search, memory, analytics) had yet to fold: whether they keep up;
- ``runs_queued``, ``seeding_s``; ``worker_logs``: error lines and tracebacks in their logs.

**claim**: the latency of a claim with ``--queued`` (100,000) steps in the queue, for each run
size of ``--claim-run-steps`` (5,000, the most a workflow may have: 20 runs; and 100: 1,000
runs), each on a fresh schema. Seeding: a workflow of that many ``builtin:noop`` steps saved
once, then started ``queued / run size`` times through the product's ``start_run``, which
writes a run's step runs in one multi-row insert and appends their ``step.queued`` events in
one batch, one transaction per run (``seeding_s``, ``seeding_steps_per_s``); then the tables
are analysed. Measured in the benchmark's process, which calls what an engine calls:

- ``claim_ms``: ``services.usecases.execution.tick`` with nothing to record and a free
  capacity of 1, then of 32 (the default concurrency): the one transaction in which a worker
  asks for work, reads the runs with ready work, locks the oldest ready steps (``SKIP
  LOCKED``), leases them, appends their ``step.started`` events and commits. The time from the
  call until the claimed steps are returned; median and p95 of ``--claims`` claims each, after
  a few unmeasured ones. Each claim takes its steps out of the queue (``queued_after``).
- ``reads_us``: the two reads a claim starts with, timed inside one write transaction as
  ``bench/claim.py`` times them: the running runs with ready work, then the oldest 32 ready
  steps of those runs; nothing claimed; median and p95 of ``--claims`` repetitions.

**append**: the event log's ceiling. ``--appenders`` (1,2,4,8) processes
(``bench/_scale_appender.py``, started once and reused), each appending transactions of
``--batch`` (1) events one after another through the product's ``eventlog.append`` inside
``ctx.write()``, as a service appends: each locks the single chain head, hashes its events
after it, inserts them and commits. After ``--warmup`` seconds, ``--repeats`` windows of
``--seconds``: ``appends_per_s`` (transactions per second, median of the windows),
``events_per_s``, ``p50_ms`` and ``p95_ms`` of one append (its whole transaction; the median of
the windows'), ``cpu_pct`` and ``connections``. ``without_chain`` is the same load of
transactions each inserting the same payload into a table of their own, with nothing that
serialises them: what the server commits when writers need not wait for one another. The chain
is verified at the end (``chain_verified``, ``events``).
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from sqlalchemy import text

try:  # imported as bench.scale, or run as a script from bench/
    from bench.load import Processes, process_env

    from bench import _scale_support as support
except ModuleNotFoundError:
    import _scale_support as support  # type: ignore[no-redef]
    from load import Processes, process_env  # type: ignore[no-redef]

from missionctl.db.types import utcnow
from missionctl.repositories import execution as repo
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases import execution
from missionctl.services.usecases.audit import verify_event_chain
from missionctl.settings import EngineSettings

BENCH = Path(__file__).resolve().parent
PARTS = ("workers", "claim", "append")
# Steps one engine runs at once unless told otherwise (32).
DEFAULT_CONCURRENCY: int = EngineSettings.model_fields["concurrency"].default
CLAIM_CAPACITIES = (1, DEFAULT_CONCURRENCY)  # one step; a worker with every slot free
CLAIM_WARMUP = 5
CLAIM_PAGE = DEFAULT_CONCURRENCY
CLAIMER = "bench:claim:0"
# The steps per second one worker is assumed to reach before any was measured: sizes the first
# queue. An underestimate costs top-ups between windows, not a wrong figure.
FIRST_RATE_GUESS = 1500.0
QUEUE_MARGIN = 1.5  # queued work over what the last rate says a stretch will take
STATE_SAMPLE_S = 0.1  # how often the connections' states are sampled in a window
STARTUP_S = 0.6  # per worker: how long the first workers may claim while the last ones start


@dataclass(frozen=True)
class Options:
    """The command line; the defaults are the measurement (``QUICK``: a small try)."""

    part: str = "all"
    workers: tuple[int, ...] = (1, 2, 4, 8)
    concurrency: int = DEFAULT_CONCURRENCY
    run_steps: int = 1000
    appenders: tuple[int, ...] = (1, 2, 4, 8)
    batch: int = 1
    seconds: float = 10.0
    warmup: float = 5.0
    repeats: int = 3
    queued: int = 100_000
    claim_run_steps: tuple[int, ...] = (5000, 100)
    claims: int = 200
    postgres_url: str = ""


QUICK = {
    "workers": (1, 2),
    "run_steps": 200,
    "appenders": (1, 2),
    "seconds": 1.0,
    "warmup": 0.5,
    "repeats": 2,
    "queued": 2000,
    "claim_run_steps": (500, 50),
    "claims": 20,
}


def _counts(value: str) -> tuple[int, ...]:
    counts = tuple(int(v) for v in value.split(",") if v.strip())
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("a list of positive whole numbers, e.g. 1,2,4,8")
    return counts


def parse_args(argv: list[str] | None = None) -> Options:
    """The command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--part", choices=(*PARTS, "all"), default="all")
    parser.add_argument("--quick", action="store_true", help="a small scale, for a try")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("MISSIONCTL_BENCH_POSTGRES_URL")
        or os.environ.get("MISSIONCTL_TEST_POSTGRES_URL"),
        help="the server (default: MISSIONCTL_BENCH_POSTGRES_URL, else "
        "MISSIONCTL_TEST_POSTGRES_URL)",
    )
    kinds = {tuple: _counts, int: int, float: float}
    for option in fields(Options):
        if option.name in ("part", "postgres_url"):
            continue
        kind = kinds[type(getattr(Options(), option.name))]
        parser.add_argument("--" + option.name.replace("_", "-"), type=kind, default=None)
    args = vars(parser.parse_args(argv))
    if not args["postgres_url"]:
        parser.error("name the server: --postgres-url or MISSIONCTL_BENCH_POSTGRES_URL")
    chosen = {k: v for k, v in args.items() if k != "quick" and v is not None}
    return replace(Options(**(QUICK if args["quick"] else {})), **chosen)


_STARTED = time.monotonic()


def progress(message: str) -> None:
    """One line on stderr, with the seconds since the benchmark started."""
    print(f"[scale {time.monotonic() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def _median(values: list[float], digits: int = 1) -> float:
    return round(statistics.median(values), digits)


# -- Workers ------------------------------------------------------------------------------------


def measure_workers(options: Options) -> dict[str, Any]:
    """Steps per second for each worker count, each on a fresh schema (see the docstring)."""
    levels: list[dict[str, Any]] = []
    rate = FIRST_RATE_GUESS
    for count in options.workers:
        if levels:  # the last rate, grown with the workers (by half at most: few cores)
            last = levels[-1]
            rate = last["steps_per_s"] * min(1.5, count / last["workers"])
        with support.postgres_schema(options.postgres_url) as db:
            progress(f"workers: {count} on schema {db.schema}")
            levels.append(asyncio.run(_worker_level(db, count, rate, options)))
    base = levels[0]["steps_per_s"]
    for level in levels:
        level["scaling"] = round(level["steps_per_s"] / base, 2) if base else None
    return {
        "scaling_base_workers": levels[0]["workers"],
        "concurrency": options.concurrency,
        "run_steps": options.run_steps,
        "levels": levels,
    }


async def _worker_level(
    db: support.Database, count: int, rate: float, options: Options
) -> dict[str, Any]:
    """Queue work, start ``count`` workers, measure ``options.repeats`` windows, stop them."""
    async with open_context(db.settings) as ctx:
        workflow = await support.queue_workflow(ctx, options.run_steps)
        # The first workers claim while the last start, then the warm-up, then a window.
        lead_s = STARTUP_S * (1 + count) + options.warmup + options.seconds
        seeded = [await _top_up(ctx, db, workflow, rate * lead_s, count, options)]
        support.vacuum(db)
        (db.settings.home / "logs").mkdir()
        processes = Processes(db.settings.home / "logs")
        try:
            pids = _start_workers(processes, db, count, options)
            await _until_busy(db, processes, count)
            progress(f"workers: all {count} hold steps")
            await asyncio.sleep(options.warmup)
            windows = []
            for _ in range(options.repeats):
                more = rate * options.seconds
                seeded.append(await _top_up(ctx, db, workflow, more, count, options))
                if seeded[-1]["runs_started"]:
                    await asyncio.sleep(1.0)  # the workers shared the server with the seeding
                windows.append(await _window(db, pids, count * options.concurrency, options))
                windows[-1]["followers_lag_events"] = await support.follower_lag(ctx)
                rate = max(rate, windows[-1]["steps_per_s"])
            _check_alive(processes)
        finally:
            _stop_all(processes)
            progress("workers: stopped")
        problems = [processes.log_problems(name) for name in sorted(pids)]
    figures = _level_figures(count, windows, seeded, problems)
    return {"schema": db.schema, **figures}


def _stop_all(processes: Processes, timeout_s: float = 30) -> None:
    """SIGTERM every worker at once, then wait for each (killed if it does not stop)."""
    for process in processes.started.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for process in processes.started.values():
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    processes.started.clear()


async def _top_up(
    ctx: ServiceContext,
    db: support.Database,
    workflow: Any,
    steps: float,
    count: int,
    options: Options,
) -> dict[str, float]:
    """Queue enough for ``steps`` more (with a margin) and what ``count`` workers hold at once.

    When runs were started, the followers of the log fold their events here and now.
    """
    need = int(steps * QUEUE_MARGIN) + 2 * count * options.concurrency
    seeded = await support.fill_queue(ctx, db, workflow, options.run_steps, need)
    if seeded["runs_started"]:
        progress(f"workers: queued {seeded['runs_started']} runs in {seeded['seconds']} s")
        # What the workers' followers would otherwise fold in the next window, all at once.
        await support.catch_up_followers(ctx)
    return seeded


def _start_workers(
    processes: Processes, db: support.Database, count: int, options: Options
) -> dict[str, int]:
    """Start ``count`` ``missionctl worker`` processes; their pids by name."""
    env = process_env(db.settings)
    env["MISSIONCTL_ENGINE_CONCURRENCY"] = str(options.concurrency)
    missionctl = str(Path(sys.executable).parent / "missionctl")
    return {
        f"worker-{n}": processes.start(f"worker-{n}", [missionctl, "worker"], env)
        for n in range(count)
    }


def _check_alive(processes: Processes) -> None:
    for name in list(processes.started):
        processes.check(name)


async def _until_busy(
    db: support.Database, processes: Processes, count: int, timeout_s: float = 180
) -> None:
    """Return once every worker holds a step; fail if one exits or it takes too long."""
    deadline = time.monotonic() + timeout_s
    while support.busy_workers(db) < count:
        _check_alive(processes)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} workers did not all claim work in {timeout_s} s")
        await asyncio.sleep(0.2)


async def _window(
    db: support.Database, pids: dict[str, int], held: int, options: Options
) -> dict[str, Any]:
    """One measured window: steps that succeeded per second, and the CPU meanwhile.

    Raises:
        RuntimeError: fewer than ``held`` steps were left queued at its end (the workers may
            have waited for work).
    """
    workers = set(pids.values())
    serving = support.database_pids(db)
    start = support.sample_cpu(workers | serving)
    done, began = support.succeeded_steps(db), time.perf_counter()
    watch = support.ConnectionWatch(db)
    while (left := began + options.seconds - time.perf_counter()) > 0:
        watch.sample()
        await asyncio.sleep(min(STATE_SAMPLE_S, left))
    done_end, ended = support.succeeded_steps(db), time.perf_counter()
    serving |= support.database_pids(db)
    end = support.sample_cpu(workers | serving)
    queued = support.queued_steps(db)
    if queued < held:
        raise RuntimeError(f"the queue ran low in a window ({queued} steps left at its end)")
    groups = {"workers": workers, "database": serving}
    return {
        "steps_per_s": (done_end - done) / (ended - began),
        "queued_at_end": queued,
        "cpu_pct": support.cpu_shares(start, end, groups),
        "connections": watch.figures(),
    }


def _level_figures(
    count: int,
    windows: list[dict[str, Any]],
    seeded: list[dict[str, float]],
    problems: list[dict[str, int]],
) -> dict[str, Any]:
    """One worker count's figures: medians over its windows, and each window's."""
    rates = [w["steps_per_s"] for w in windows]
    cpu_keys = windows[0]["cpu_pct"]
    return {
        "workers": count,
        "steps_per_s": _median(rates),
        "steps_per_s_windows": [round(r, 1) for r in rates],
        "cpu_pct": {key: _median([w["cpu_pct"][key] for w in windows]) for key in cpu_keys},
        "connections": _connections([w["connections"] for w in windows]),
        "queued_at_end": [w["queued_at_end"] for w in windows],
        "followers_lag_events": [w["followers_lag_events"] for w in windows],
        "runs_queued": sum(int(s["runs_started"]) for s in seeded),
        "seeding_s": round(sum(s["seconds"] for s in seeded), 1),
        "worker_logs": {k: sum(p[k] for p in problems) for k in ("errors", "tracebacks")},
    }


# -- The claim ----------------------------------------------------------------------------------


def measure_claim(options: Options) -> dict[str, Any]:
    """The claim's latency with ``options.queued`` steps queued, for each run size."""
    shapes = []
    for run_steps in options.claim_run_steps:
        with support.postgres_schema(options.postgres_url) as db:
            progress(f"claim: {options.queued} queued steps in runs of {run_steps}")
            shapes.append(asyncio.run(_claim_shape(db, run_steps, options)))
    return {"queued": options.queued, "claims": options.claims, "shapes": shapes}


async def _claim_shape(db: support.Database, run_steps: int, options: Options) -> dict[str, Any]:
    """Seed the queue in runs of ``run_steps``, then time the reads and the claims."""
    async with open_context(db.settings) as ctx:
        workflow = await support.queue_workflow(ctx, run_steps)
        seeded = await support.fill_queue(ctx, db, workflow, run_steps, options.queued)
        progress(f"claim: seeded {seeded['runs_started']} runs in {seeded['seconds']} s")
        support.vacuum(db)
        queued = support.queued_steps(db)
        reads = await _claim_reads(ctx, options.claims)
        claims = {
            f"capacity_{capacity}": await _claims(ctx, capacity, options.claims)
            for capacity in CLAIM_CAPACITIES
        }
    return {
        "schema": db.schema,
        "run_steps": run_steps,
        "runs": seeded["runs_started"],
        "seeding_s": seeded["seconds"],
        "seeding_steps_per_s": round(queued / max(seeded["seconds"], 1e-9)),
        "queued_before": queued,
        "queued_after": support.queued_steps(db),
        "claim_ms": claims,
        "reads_us": reads,
    }


async def _claims(ctx: ServiceContext, capacity: int, count: int) -> dict[str, float]:
    """Median and p95 milliseconds of ``count`` claims of ``capacity`` steps, as a worker's."""
    dags, policy = execution.DagCache(ctx.dags), execution.PolicyCache()  # as an engine keeps
    times = []
    for n in range(CLAIM_WARMUP + count):
        started = time.perf_counter()
        claimed = await execution.tick(
            ctx,
            worker=CLAIMER,
            outcomes=[],
            logs=[],
            capacity=capacity,
            lease_s=3600.0,  # no lease runs out while the benchmark looks
            dags=dags,
            policy=policy,
        )
        took = time.perf_counter() - started
        if len(claimed) != capacity:
            raise RuntimeError(f"a claim of {capacity} steps took {len(claimed)}")
        if n >= CLAIM_WARMUP:
            times.append(took * 1000)
    return {"median": _median(times, 2), "p95": round(support.percentile(times, 0.95), 2)}


async def _claim_reads(ctx: ServiceContext, count: int) -> dict[str, dict[str, float]]:
    """The claim's two reads, timed ``count`` times in one write transaction, nothing claimed."""

    def reads(session: Any) -> dict[str, list[float]]:
        timings: dict[str, list[float]] = {"runs_with_ready_work": [], "oldest_ready_page": []}
        for _ in range(count):
            now = utcnow()
            started = time.perf_counter()
            runs = repo.read_claimable_runs(session, now=now)
            middle = time.perf_counter()
            ids = [run.id for run in runs]
            page = repo.read_claimable(session, now=now, run_ids=ids, limit=CLAIM_PAGE)
            ended = time.perf_counter()
            if len(page) != CLAIM_PAGE:
                raise RuntimeError(f"the page held {len(page)} ready steps")
            timings["runs_with_ready_work"].append((middle - started) * 1e6)
            timings["oldest_ready_page"].append((ended - middle) * 1e6)
        return timings

    timings = await ctx.write_blocking(reads)
    return {
        name: {"median": _median(values), "p95": round(support.percentile(values, 0.95), 1)}
        for name, values in timings.items()
    }


# -- The event log ------------------------------------------------------------------------------


class Appenders:
    """The appender processes (``bench/_scale_appender.py``), started once, stopped by pid."""

    def __init__(self, db: support.Database, count: int) -> None:
        self.log = (db.settings.home / "appenders.log").open("ab")
        env = process_env(db.settings)
        argv = [sys.executable, str(BENCH / "_scale_appender.py")]
        self.processes = [
            subprocess.Popen(
                argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log
            )
            for _ in range(count)
        ]
        self.pids = [p.pid for p in self.processes]

    def wait_ready(self, timeout_s: float = 120) -> None:
        """Return once every appender has warmed up (printed ``ready``)."""
        deadline = time.monotonic() + timeout_s
        for process in self.processes:
            assert process.stdout is not None
            left = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([process.stdout], [], [], left)
            line = process.stdout.readline() if ready else b""
            if line.strip() != b"ready":
                raise RuntimeError(f"an appender did not start (see {self.log.name})")

    def order(self, count: int, command: dict[str, Any]) -> None:
        """Send ``command`` to the first ``count`` appenders."""
        for process in self.processes[:count]:
            assert process.stdin is not None
            process.stdin.write(json.dumps(command).encode() + b"\n")
            process.stdin.flush()

    def answers(self, count: int) -> list[dict[str, list[float]]]:
        """The answer of each of the first ``count`` appenders to its last command."""
        answers = []
        for process in self.processes[:count]:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"an appender exited (see {self.log.name})")
            answers.append(json.loads(line))
        return answers

    def stop(self) -> None:
        """Ask each to quit; terminate (then kill) any that does not."""
        for process in self.processes:
            with contextlib.suppress(OSError):  # one that exited reads no more
                assert process.stdin is not None
                process.stdin.write(b'{"mode": "quit"}\n')
                process.stdin.flush()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()
        self.log.close()


def measure_append(options: Options) -> dict[str, Any]:
    """Appends per second and append latency for each number of appenders, and without chain."""
    with support.postgres_schema(options.postgres_url) as db:
        progress(f"append: schema {db.schema}")
        asyncio.run(_migrate(db))
        with db.admin.begin() as conn:
            conn.execute(text("CREATE TABLE scale_plain (id bigserial PRIMARY KEY, payload text)"))
        appenders = Appenders(db, max(options.appenders))
        try:
            appenders.wait_ready()
            levels = []
            for count in options.appenders:
                support.vacuum(db)
                progress(f"append: {count} appenders")
                chained = _append_level(db, appenders, count, "chain", options)
                plain = _append_level(db, appenders, count, "plain", options)
                levels.append({"appenders": count, **chained, "without_chain": plain})
        finally:
            appenders.stop()
        verified = asyncio.run(_verify(db))
    return {"schema": db.schema, "batch": options.batch, "levels": levels, **verified}


async def _migrate(db: support.Database) -> None:
    async with open_context(db.settings):
        pass


async def _verify(db: support.Database) -> dict[str, Any]:
    async with open_context(db.settings, upgrade=False) as ctx:
        report = await verify_event_chain(ctx)
    return {"chain_verified": report.ok, "events": report.count}


def _append_level(
    db: support.Database, appenders: Appenders, count: int, mode: str, options: Options
) -> dict[str, Any]:
    """``count`` appenders in ``mode`` for the warm-up and ``options.repeats`` windows."""
    start = time.time() + 0.2 + options.warmup  # every appender has its order
    bounds = [start + n * options.seconds for n in range(options.repeats + 1)]
    command = {"mode": mode, "batch": options.batch, "begin": start - options.warmup}
    appenders.order(count, {**command, "start": start, "end": bounds[-1]})
    pids = set(appenders.pids[:count])
    samples, watches = [], []
    for bound in bounds:
        watch = support.ConnectionWatch(db)
        while (now := time.time()) < bound:
            if samples:  # within a window
                watch.sample()
            time.sleep(min(STATE_SAMPLE_S, max(0.0, bound - now)))
        serving = support.database_pids(db)
        samples.append((support.sample_cpu(pids | serving), serving))
        watches.append(watch)
    answers = appenders.answers(count)
    windows = []
    for n, ((first, serving), (last, more)) in enumerate(itertools.pairwise(samples)):
        shares = support.cpu_shares(first, last, {"appenders": pids, "database": serving | more})
        window = _append_window(answers, bounds[n], bounds[n + 1], shares)
        windows.append(window | {"connections": watches[n + 1].figures()})
    return _append_figures(windows, options)


def _append_window(
    answers: list[dict[str, list[float]]], low: float, high: float, cpu: dict[str, float]
) -> dict[str, Any]:
    """The transactions that ended within one window (``low``..``high``, the epoch's clock)."""
    latencies = [
        latency
        for answer in answers
        for ended, latency in zip(answer["ends"], answer["latencies_ms"], strict=True)
        if low <= ended < high
    ]
    if not latencies:
        raise RuntimeError("no append ended within a window")
    return {"per_s": len(latencies) / (high - low), "latencies": latencies, "cpu": cpu}


def _append_figures(windows: list[dict[str, Any]], options: Options) -> dict[str, Any]:
    rates = [w["per_s"] for w in windows]
    cpu_keys = windows[0]["cpu"]
    return {
        "appends_per_s": _median(rates),
        "events_per_s": _median([r * options.batch for r in rates]),
        "appends_per_s_windows": [round(r, 1) for r in rates],
        "p50_ms": _median([statistics.median(w["latencies"]) for w in windows], 2),
        "p95_ms": _median([support.percentile(w["latencies"], 0.95) for w in windows], 2),
        "cpu_pct": {key: _median([w["cpu"][key] for w in windows]) for key in cpu_keys},
        "connections": _connections([w["connections"] for w in windows]),
    }


def _connections(windows: list[dict[str, float]]) -> dict[str, float]:
    """The connections' states over the windows: the median of each mean."""
    medians = {name: _median([w[name] for w in windows], 2) for name in support.STATES}
    return {**medians, "samples": sum(int(w["samples"]) for w in windows)}


# -- The whole ----------------------------------------------------------------------------------


def run(options: Options) -> dict[str, Any]:
    """Measure the parts ``options`` names; the whole JSON object."""
    figures: dict[str, Any] = {
        "benchmark": "scale",
        "machine": {"cpus": os.cpu_count(), "load_average": [round(v, 2) for v in os.getloadavg()]},
        "options": {k: v for k, v in vars(options).items() if k != "postgres_url"},
    }
    measures = {"workers": measure_workers, "claim": measure_claim, "append": measure_append}
    for part in PARTS:
        if options.part in (part, "all"):
            figures[part] = measures[part](options)
    return figures


def main(argv: list[str] | None = None) -> None:
    print(json.dumps(run(parse_args(argv)), indent=2))


if __name__ == "__main__":
    main()
