"""Crash test: SIGKILL the engine's processes at random moments, then check that nothing was lost.

A real ``missionctl serve`` (its engine off) and ``--workers`` real ``missionctl worker``
processes share one database, with the data directory and settings of this run and short
leases (``lease_s`` 2 s, heartbeat 0.5 s) so that a killed worker's steps are recovered quickly,
and a small engine concurrency (4) so that ready steps wait in the queue for whichever worker is
free. Each process is forked from a warm parent that has imported the program once (``Launcher``):
a restart takes milliseconds instead of the seconds the imports take (``bench/cli_startup.py``
measures those). Runs of a small workflow of short ``builtin:sleep`` steps (one step, a fan-out
of four, a fan-in, a last step) are started through the API so that three per worker are always
under way. Each cycle waits a random moment (up to ``--max-delay``), SIGKILLs one process
(``serve`` one time in five, otherwise a worker drawn at random), starts it again at once, and
waits until it works again: a worker until it has completed a step, ``serve`` until it answers.

After the last cycle the runs are left to finish (``--drain`` seconds at most), every process is
stopped, and the event log is judged (``judge``):

- every run completed (a run without ``run.completed`` / ``failed`` / … is *stuck*);
- every step of every run has exactly one ``step.succeeded`` (none: *lost*; more: *duplicate
  completions*). A step whose worker was killed may *start* again (at-least-once execution,
  ``step.lease_expired``), but it completes once;
- nothing is recorded for a step after its run's end (*events after the end*);
- the run ended once (*repeated run ends*);
- ``missionctl audit verify`` passes.

It prints one JSON line: those counts, the cycles, the kills of each kind, and the seconds from
a worker's restart to its first completed step (median, p95), and exits 1 unless all is sound.

Run: ``.venv/bin/python bench/chaos.py [--database sqlite|postgresql] [--workers N]
[--cycles N] [--seed N]``. PostgreSQL needs ``--postgres-url``, else
``MISSIONCTL_BENCH_POSTGRES_URL`` or ``MISSIONCTL_TEST_POSTGRES_URL``; the run works in a schema
of its own, dropped at the end. ``tests/engine/test_chaos.py`` runs ten cycles of the same check
on both databases.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
from pydantic import SecretStr
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.engine import Engine as SqlEngine

from missionctl.db.models import Event
from missionctl.domain.access import Role
from missionctl.schemas.identity import UserCreate
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import open_context
from missionctl.services.usecases import identity
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import DatabaseSettings, Settings

ACTOR = "user:chaos"
RUN_ENDS = frozenset({"run.completed", "run.failed", "run.canceled", "run.aborted"})


def workflow_definition() -> dict[str, Any]:
    """The workflow every run starts: a diamond of short sleeps, retried after a real failure.

    A step whose lease expires gets two attempts more than ``max_attempts``; the retries allow
    for a step caught by many kills in a row, which is no loss.
    """
    retry = {"max_attempts": 10, "backoff_s": 0.1, "max_backoff_s": 0.5}

    def sleep(step_id: str, seconds: float, *after: str) -> dict[str, Any]:
        return {
            "id": step_id,
            "agent": "builtin:sleep",
            "inputs": {"seconds": seconds},
            "depends_on": list(after),
            "retry": retry,
        }

    fan_out = [sleep(f"b{i}", 0.05 * (i + 1), "a") for i in range(4)]
    return {
        "name": "chaos",
        "steps": [
            sleep("a", 0.05),
            *fan_out,
            sleep("c", 0.1, *(s["id"] for s in fan_out)),
            sleep("d", 0.05, "c"),
        ],
    }


@dataclass(frozen=True)
class ChaosConfig:
    """How hard and how long to shake the processes."""

    cycles: int = 20
    workers: int = 1
    seed: int = 0
    serve_share: float = 0.2  # the share of kills that hit ``serve`` instead of a worker
    max_delay_s: float = 1.0  # the most a kill waits once the restarted worker is working
    runs_per_worker: int = 3  # runs kept under way per worker
    # Few steps per worker at once, so that ready steps wait in the queue for whichever worker
    # is free, a restarted one included (with room to spare, the workers that survived a kill
    # claim every step as it becomes ready, and a restarted worker waits for a lease to expire).
    concurrency: int = 4
    lease_s: float = 2.0
    heartbeat_s: float = 0.5
    poll_s: float = 0.1
    ready_timeout_s: float = 60.0  # longest wait for a restarted worker's first completion
    drain_s: float = 120.0  # longest wait for the runs to finish after the last kill


# -- The event log ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LoggedEvent:
    """The fields of one event the crash test reads."""

    seq: int
    ts: datetime
    type: str
    run_id: str | None
    step_id: str | None
    payload: dict[str, Any]


def sync_url(url: str) -> str:
    """``url`` for a blocking SQLAlchemy engine (``sqlite+aiosqlite`` becomes ``sqlite``)."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        parsed = parsed.set(drivername="sqlite")
    return parsed.render_as_string(hide_password=False)


def read_events(db: SqlEngine, *, after: int = 0) -> list[LoggedEvent]:
    """Every event with ``seq > after``, in ``seq`` order."""
    columns = (Event.seq, Event.ts, Event.type, Event.run_id, Event.step_id, Event.payload)
    query = select(*columns).where(Event.seq > after).order_by(Event.seq)
    with db.connect() as conn:
        rows = conn.execute(query).all()
    return [
        LoggedEvent(
            seq=row.seq,
            ts=row.ts if row.ts.tzinfo else row.ts.replace(tzinfo=UTC),
            type=row.type,
            run_id=None if row.run_id is None else row.run_id.hex,
            step_id=row.step_id,
            payload=row.payload,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Verdict:
    """What the event log says about the runs of a crash test; all counts but ``runs`` are 0
    when nothing was lost (``restarted_attempts`` counts legitimate re-executions)."""

    runs: int
    completed_runs: int
    not_completed_runs: int  # ended, but failed, canceled or aborted
    stuck_runs: int  # never ended
    steps: int
    lost_steps: int  # no ``step.succeeded``
    duplicate_completions: int  # ``step.succeeded`` beyond the first
    events_after_end: int  # step events of a run after its end
    repeated_run_ends: int  # run ends beyond the first
    restarted_attempts: int  # ``step.lease_expired``: a worker died, the step ran again

    @property
    def sound(self) -> bool:
        """Every run completed, every step exactly once, nothing after a run's end."""
        return (
            self.runs == self.completed_runs
            and self.lost_steps == self.duplicate_completions == 0
            and self.events_after_end == self.repeated_run_ends == 0
        )


def judge(events: Iterable[LoggedEvent]) -> Verdict:
    """Count what went wrong in the log's runs (``events`` in ``seq`` order, all of them)."""
    steps_of: dict[str, list[str]] = {}
    end_of: dict[str, LoggedEvent] = {}
    successes: Counter[tuple[str, str]] = Counter()
    repeated_ends = after_end = restarted = 0
    for event in events:
        run = event.run_id
        if run is None:
            continue
        if event.type == "run.created":
            steps_of[run] = list(event.payload["steps"])
        elif event.type in RUN_ENDS:
            repeated_ends += run in end_of
            end_of.setdefault(run, event)
        elif event.type.startswith("step."):
            after_end += run in end_of
            successes[(run, event.step_id or "")] += event.type == "step.succeeded"
            restarted += event.type == "step.lease_expired"
    completed = sum(1 for run in steps_of if run in end_of and end_of[run].type == "run.completed")
    all_steps = [(run, step) for run, steps in steps_of.items() for step in steps]
    return Verdict(
        runs=len(steps_of),
        completed_runs=completed,
        not_completed_runs=sum(1 for run in steps_of if run in end_of) - completed,
        stuck_runs=sum(1 for run in steps_of if run not in end_of),
        steps=len(all_steps),
        lost_steps=sum(1 for key in all_steps if successes[key] == 0),
        duplicate_completions=sum(n - 1 for n in successes.values() if n > 1),
        events_after_end=after_end,
        repeated_run_ends=repeated_ends,
        restarted_attempts=restarted,
    )


@dataclass
class Ledger:
    """The log read so far: runs under way, and which worker completed which step."""

    db: SqlEngine
    last_seq: int = 0
    active: set[str] = field(default_factory=set)
    ended: set[str] = field(default_factory=set)
    started_by: dict[tuple[str, str, int], str] = field(default_factory=dict)

    def poll(self) -> list[tuple[datetime, str]]:
        """Read new events; returns ``(ts, worker)`` of each step completed since the last poll."""
        completions = []
        for event in read_events(self.db, after=self.last_seq):
            self.last_seq = event.seq
            run = event.run_id or ""
            if event.type == "run.created" and run not in self.ended:
                self.active.add(run)
            elif event.type in RUN_ENDS:
                self.active.discard(run)
                self.ended.add(run)
            elif event.type in ("step.started", "step.succeeded"):
                key = (run, event.step_id or "", int(event.payload["attempt"]))
                if event.type == "step.started":
                    self.started_by[key] = str(event.payload.get("worker", ""))
                else:
                    completions.append((event.ts, self.started_by.get(key, "")))
        return completions


# -- The processes ---------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# What ``serve`` and ``worker`` import before they start: a warm parent imports them once.
PRELOADED = (
    "missionctl.cli",
    "missionctl.app",
    "missionctl.engine.hooks",
    "missionctl.engine.worker",
    "missionctl.services",
    "missionctl.services.usecases.identity",
    "missionctl.services.runtime.composition",
    "uvicorn",
)


def zygote() -> None:
    """The warm parent: import the program once, then fork a ``missionctl`` per request.

    Reads requests ``{"args": [...], "log": path, "wait": bool}`` one a line from stdin and
    answers each with the child's pid, or with its exit status when ``wait`` is true. The child
    runs ``missionctl <args>`` (the console script's ``main``) with its output appended to
    ``log``. Children are reaped as they end; end of input ends it.
    """
    import importlib

    for module in PRELOADED:
        importlib.import_module(module)

    def reap(*_: object) -> None:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass

    signal.signal(signal.SIGCHLD, reap)
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request["wait"]:  # the reaper must not take this child's status
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        pid = os.fork()
        if pid == 0:
            run_forked(request["args"], request["log"])
        if request["wait"]:
            print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        else:
            print(pid, flush=True)


def run_forked(args: list[str], log: str) -> None:
    """In a forked child: become ``missionctl <args>`` writing to ``log``; never returns."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    sys.argv = ["missionctl", *args]
    code = 0
    try:
        from missionctl.cli import main

        main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


class Launcher:
    """Starts ``missionctl`` processes by forking a warm parent (``zygote``).

    A restart then takes milliseconds instead of the seconds the imports take (measured by
    ``bench/cli_startup.py``): the figure after a kill is the engine's recovery, and a cycle
    costs little. The child is a fresh process, with no connection, loop or thread inherited.
    """

    def __init__(self, env: dict[str, str]) -> None:
        code = f"import runpy; runpy.run_path({str(Path(__file__).resolve())!r})['zygote']()"
        self.parent = subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.parent.stdin and self.parent.stdout
        self.requests, self.answers = self.parent.stdin, self.parent.stdout
        if self.answers.readline().strip() != "ready":
            raise RuntimeError("the warm parent did not start")

    def spawn(self, args: list[str], log: Path, *, wait: bool = False) -> int:
        """Start ``missionctl <args>`` with its output appended to ``log``.

        Returns:
            Its pid, or with ``wait`` its exit status once it has ended.
        """
        self.requests.write(json.dumps({"args": args, "log": str(log), "wait": wait}) + "\n")
        self.requests.flush()
        return int(self.answers.readline())

    def close(self) -> None:
        """End the warm parent (its children must have been stopped)."""
        self.requests.close()
        self.parent.wait(timeout=30)
        self.answers.close()


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs (the warm parent reaps its children as they end)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_gone(pid: int, timeout_s: float) -> bool:
    """Wait until ``pid`` has ended; returns whether it did within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class Cluster:
    """``serve`` and the workers as processes, killed and restarted on demand."""

    def __init__(self, env: dict[str, str], home: Path, workers: int) -> None:
        self.launcher = Launcher(env)
        self.port = free_port()
        self.logs = home / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.pids: dict[str, int] = {}
        self.names = ["serve", *(f"worker{i}" for i in range(workers))]

    def start(self, name: str) -> int:
        """Start ``serve`` or ``worker<i>``; its output goes to ``logs/<name>.log``."""
        serve = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        args = serve if name == "serve" else ["worker"]
        self.pids[name] = self.launcher.spawn(args, self.logs / f"{name}.log")
        return self.pids[name]

    def kill(self, name: str) -> None:
        """SIGKILL ``name`` and wait until it is gone."""
        os.kill(self.pids[name], signal.SIGKILL)
        if not wait_gone(self.pids[name], 10):
            raise RuntimeError(f"{name} survived SIGKILL")

    def stop_all(self) -> None:
        """Stop every process gracefully (SIGTERM), killing what does not stop in 20 s."""
        for pid in self.pids.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in self.pids.values():
            if not wait_gone(pid, 20):
                os.kill(pid, signal.SIGKILL)
                wait_gone(pid, 10)

    def worker_prefix(self, name: str) -> str:
        """The start of the worker id ``name``'s process writes into ``step.started``."""
        return f"{socket.gethostname()}:{self.pids[name]}:"

    def wait_for_serve(self, client: httpx2.Client, timeout_s: float) -> None:
        """Return once ``GET /healthz`` answers 200."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx2.HTTPError):
                if client.get("/healthz").status_code == 200:
                    return
            if not alive(self.pids["serve"]):
                raise RuntimeError(f"serve exited; see {self.logs / 'serve.log'}")
            time.sleep(0.05)
        raise RuntimeError(f"serve did not answer in {timeout_s} s")


# -- The crash test --------------------------------------------------------------------------


def process_env(home: Path, database_url: str, config: ChaosConfig) -> dict[str, str]:
    """The environment of every process: this run's data, database and short leases."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIONCTL_")}
    env.update(
        {
            "MISSIONCTL_HOME": str(home),
            "MISSIONCTL_DATABASE_URL": database_url,
            "MISSIONCTL_ENGINE_EMBEDDED": "false",
            "MISSIONCTL_ENGINE_CONCURRENCY": str(config.concurrency),
            "MISSIONCTL_ENGINE_LEASE_S": str(config.lease_s),
            "MISSIONCTL_ENGINE_HEARTBEAT_S": str(config.heartbeat_s),
            "MISSIONCTL_ENGINE_POLL_S": str(config.poll_s),
        }
    )
    return env


async def prepare(settings: Settings) -> tuple[str, str]:
    """Migrate the database, save the workflow and make an operator's token.

    Returns:
        The workflow's id and the token's secret.
    """
    async with open_context(settings) as ctx:
        spec = WorkflowSpec.model_validate(workflow_definition())
        workflow = await create_workflow(ctx, spec=spec, actor=ACTOR)
        await identity.create_user(
            ctx, data=UserCreate(name="chaos", role=Role.OPERATOR), actor=ACTOR
        )
        _, secret = await identity.create_token(ctx, user_name="chaos", name="chaos", actor=ACTOR)
    return str(workflow.id), secret


@dataclass
class Shaker:
    """One crash test under way: the processes, the log read so far and the figures."""

    config: ChaosConfig
    cluster: Cluster
    ledger: Ledger
    client: httpx2.Client
    workflow_id: str
    rng: random.Random
    submitting: bool = True
    accepted: set[str] = field(default_factory=set)
    kills: Counter[str] = field(default_factory=Counter)
    first_completion_s: list[float] = field(default_factory=list)
    never_completed: int = 0  # restarted workers that completed nothing in ready_timeout_s

    def top_up(self) -> None:
        """Start runs until ``runs_per_worker`` per worker are under way (skipped while serve
        is down: a refused or cut request is simply tried again at the next poll)."""
        if not self.submitting:
            return
        under_way = (self.ledger.active | self.accepted) - self.ledger.ended
        for _ in range(self.config.runs_per_worker * self.config.workers - len(under_way)):
            try:
                response = self.client.post(f"/api/v1/workflows/{self.workflow_id}/runs")
            except httpx2.HTTPError:
                return
            if response.status_code != 202:
                raise RuntimeError(f"starting a run: {response.status_code} {response.text}")
            self.accepted.add(uuid.UUID(response.json()["id"]).hex)

    def wait_for_completion(self, worker: str, restarted: datetime) -> None:
        """Wait until ``worker`` completes a step; record the seconds since ``restarted``."""
        prefix = self.cluster.worker_prefix(worker)
        deadline = time.monotonic() + self.config.ready_timeout_s
        while time.monotonic() < deadline:
            self.top_up()
            for ts, by in self.ledger.poll():
                if by.startswith(prefix):
                    self.first_completion_s.append((ts - restarted).total_seconds())
                    return
            time.sleep(0.05)
        self.never_completed += 1

    def pause(self, seconds: float) -> None:
        """Sleep ``seconds`` while keeping runs under way."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.top_up()
            self.ledger.poll()
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def cycle(self) -> str:
        """Wait a random moment, kill a random victim and restart it; returns the victim.

        A restarted worker is waited for until it completes a step (so every kill finds work
        under way), a restarted ``serve`` until it answers.
        """
        self.pause(self.rng.uniform(0, self.config.max_delay_s))
        workers = self.cluster.names[1:]
        serve = self.rng.random() < self.config.serve_share
        victim = "serve" if serve else self.rng.choice(workers)
        self.cluster.kill(victim)
        self.cluster.start(victim)
        self.kills[victim.rstrip("0123456789")] += 1
        if victim == "serve":
            self.cluster.wait_for_serve(self.client, self.config.ready_timeout_s)
        else:
            self.wait_for_completion(victim, datetime.now(UTC))
        return victim

    def drain(self) -> None:
        """Stop starting runs and wait (at most ``drain_s``) until every run has ended."""
        self.submitting = False
        deadline = time.monotonic() + self.config.drain_s
        while time.monotonic() < deadline:
            self.ledger.poll()
            if not (self.ledger.active | self.accepted) - self.ledger.ended:
                return
            time.sleep(0.1)


def audit_verify(cluster: Cluster) -> tuple[bool, str]:
    """Run ``missionctl audit verify``; returns whether it passed and its last line."""
    log = cluster.logs / "audit.log"
    status = cluster.launcher.spawn(["audit", "verify"], log, wait=True)
    lines = log.read_text("utf-8").strip().splitlines()
    return status == 0, lines[-1] if lines else ""


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank ``share`` percentile of ``values`` (None when there are none)."""
    if not values:
        return None
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, max(0, round(share * len(ranked) + 0.5) - 1))]


def figures(shaker: Shaker, verdict: Verdict, audit: tuple[bool, str]) -> dict[str, Any]:
    """The crash test's JSON figures."""
    times = shaker.first_completion_s
    median = statistics.median(times) if times else None
    p95 = percentile(times, 0.95)
    return {
        "cycles": sum(shaker.kills.values()),
        "workers": shaker.config.workers,
        "kills": dict(shaker.kills),
        **asdict(verdict),
        "audit_verify": audit[0],
        "audit_verify_says": audit[1],
        "restart_to_first_completion_s": {
            "median": None if median is None else round(median, 3),
            "p95": None if p95 is None else round(p95, 3),
            "measured": len(times),
            "never": shaker.never_completed,
        },
        "seed": shaker.config.seed,
        "lease_s": shaker.config.lease_s,
        "heartbeat_s": shaker.config.heartbeat_s,
        "sound": verdict.sound and audit[0],
    }


def shake(
    cluster: Cluster, db: SqlEngine, config: ChaosConfig, prepared: tuple[str, str]
) -> Shaker:
    """Start the processes, run ``config.cycles`` kills, let the runs finish, stop everything."""
    workflow_id, token = prepared
    headers = {"Authorization": f"Bearer {token}"}
    with httpx2.Client(base_url=cluster.base_url, headers=headers, timeout=30) as client:
        try:
            for name in cluster.names:
                cluster.start(name)
            cluster.wait_for_serve(client, config.ready_timeout_s)
            rng = random.Random(config.seed)
            shaker = Shaker(config, cluster, Ledger(db), client, workflow_id, rng)
            shaker.top_up()
            started = time.monotonic()
            for done in range(1, config.cycles + 1):
                victim = shaker.cycle()
                elapsed = time.monotonic() - started
                note = f"cycle {done}/{config.cycles}: killed {victim} ({elapsed:.0f} s)"
                print(note, file=sys.stderr, flush=True)
            shaker.drain()
        finally:
            cluster.stop_all()
    return shaker


def run_chaos(database_url: str, home: Path, config: ChaosConfig) -> dict[str, Any]:
    """Run the crash test on ``database_url`` with data under ``home``; returns its figures."""
    settings = Settings(home=home, database=DatabaseSettings(url=SecretStr(database_url)))
    prepared = asyncio.run(prepare(settings))
    db = create_engine(sync_url(database_url))
    cluster = Cluster(process_env(home, database_url, config), home, config.workers)
    try:
        shaker = shake(cluster, db, config, prepared)
        verdict = judge(read_events(db))
        audit = audit_verify(cluster)
    finally:
        cluster.launcher.close()
        db.dispose()
    return figures(shaker, verdict, audit)


# -- The command -----------------------------------------------------------------------------


@contextlib.contextmanager
def sqlite_database(home: Path) -> Iterator[str]:
    """A new SQLite file under ``home``."""
    yield f"sqlite+aiosqlite:///{home / 'chaos.db'}"


@contextlib.contextmanager
def postgres_schema(base: str) -> Iterator[str]:
    """A URL of a new schema on the server ``base`` names; the schema is dropped afterwards."""
    schema = f"chaos_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("MISSIONCTL_BENCH_POSTGRES_URL")
        or os.environ.get("MISSIONCTL_TEST_POSTGRES_URL"),
        help="the server, e.g. postgresql+psycopg://user@host:5432/db (default: "
        "MISSIONCTL_BENCH_POSTGRES_URL, else MISSIONCTL_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--cycles", type=int, default=ChaosConfig.cycles)
    parser.add_argument("--workers", type=int, default=ChaosConfig.workers)
    parser.add_argument("--seed", type=int, default=ChaosConfig.seed)
    parser.add_argument("--max-delay", type=float, default=ChaosConfig.max_delay_s)
    parser.add_argument("--drain", type=float, default=ChaosConfig.drain_s)
    args = parser.parse_args(argv)
    if args.database == "postgresql" and not args.postgres_url:
        parser.error(
            "--database postgresql needs --postgres-url, MISSIONCTL_BENCH_POSTGRES_URL "
            "or MISSIONCTL_TEST_POSTGRES_URL"
        )
    if args.cycles < 1 or args.workers < 1:
        parser.error("--cycles and --workers must be at least 1")
    return args


def main() -> None:
    args = parse_args()
    config = ChaosConfig(
        cycles=args.cycles,
        workers=args.workers,
        seed=args.seed,
        max_delay_s=args.max_delay,
        drain_s=args.drain,
    )
    with tempfile.TemporaryDirectory() as home:
        database = (
            postgres_schema(args.postgres_url)
            if args.database == "postgresql"
            else sqlite_database(Path(home))
        )
        with database as url:
            result = run_chaos(url, Path(home), config)
    print(json.dumps({"database": args.database, **result}))
    sys.exit(0 if result["sound"] else 1)


if __name__ == "__main__":
    main()
