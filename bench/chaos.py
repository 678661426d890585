"""Crash test: SIGKILL engine processes and step programs at random, then judge what is left.

A real ``missionctl serve`` (its engine off) and ``--workers`` real ``missionctl worker``
processes share one database, with the data directory and settings of this run and short
leases (``lease_s`` 2 s, heartbeat 0.5 s) so that a killed worker's steps expire
(``step.lease_expired``) and run again within seconds, and a small engine concurrency (4) so
that ready steps wait in the queue for whichever worker is free. Each process is forked from a
warm parent that has imported the program once (``Launcher``): a restart takes milliseconds
instead of the seconds the imports take (``bench/cli_startup.py`` measures those). Runs of a
small workflow are started through the API so that three per worker are always under way: short
``builtin:sleep`` steps (one step, a fan-out of four, a fan-in, a last step) and, beside the
fan-out, a ``command`` step whose program (the server's Python, allow-listed) writes
``artifacts/attempt.json`` — its ``MISSIONCTL_IDEMPOTENCY_KEY`` and ``MISSIONCTL_ATTEMPT`` —
atomically, then works half a second. Each cycle waits a random moment (up to
``--max-delay``) and SIGKILLs one victim: ``serve`` one time in five, a command step's program
one time in five (``--program-share``; found by its command line in /proc and killed a random
part of the way through its run), otherwise a worker drawn at random. A process is started
again at once and waited for until it works again: a worker until it has completed a step,
``serve`` until it answers; a killed program is the engine's to retry, and the cycle waits
until the log shows its step's next attempt.

After the last cycle the runs are left to finish (``--drain`` seconds at most), every process is
stopped, and the crash test judges:

- the event log (``judge``): every run completed (a run without ``run.completed`` /
  ``failed`` / … is *stuck*); every step of every run has exactly one ``step.succeeded`` (none:
  *lost*; more: *duplicate completions*) — a step whose worker was killed may *start* again
  (at-least-once execution, ``step.lease_expired``, counted), but it completes once; nothing is
  recorded for a step after its run's end; the run ended once;
- the killed programs (``judge_program_kills``): each one killed before it finished failed its
  attempt, and a later attempt of its step succeeded (one that had already finished is *missed*);
- the artifacts (``check_artifacts``): every step artifact's blob is in the store with the
  sha256 and size of its row; it belongs to a step that succeeded, and ``attempt.json`` was
  written by the attempt that succeeded (a killed attempt leaves its file behind: it must not
  become the step's artifact) under the step's one idempotency key (``run:step``, ADR 0093);
- the reports (``check_reports``): every completed run has its ``report.md`` and
  ``report.json`` in the store, intact, the JSON of that run, completed, listing its step
  artifacts; and the report the API serves builds;
- ``missionctl audit verify`` passes.

It prints one JSON line: those counts, the cycles, the kills of each kind, and the seconds from
a worker's restart to its first completed step (median, p95), and exits 1 unless all is sound.

Run: ``.venv/bin/python bench/chaos.py [--database sqlite|postgresql] [--workers N]
[--cycles N] [--seed N] [--max-delay S] [--program-share F]``; ``--cycles 1000`` is the long
form (about 35 minutes). PostgreSQL needs ``--postgres-url``, else
``MISSIONCTL_BENCH_POSTGRES_URL`` or ``MISSIONCTL_TEST_POSTGRES_URL``; the run works in a schema
of its own, dropped at the end. ``tests/engine/test_chaos.py`` runs ten cycles of the same check
on both databases.
"""

import argparse
import asyncio
import contextlib
import hashlib
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

from missionctl.blobs import BlobStore
from missionctl.db.models import Artifact, Event, StepRun
from missionctl.domain.access import Role
from missionctl.schemas.governance import AgentUpdate, AllowedProgram
from missionctl.schemas.identity import UserCreate
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import open_context
from missionctl.services.usecases import identity
from missionctl.services.usecases.agents import update_agent
from missionctl.services.usecases.reports import build_run_report
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import DatabaseSettings, Settings

ACTOR = "user:chaos"
RUN_ENDS = frozenset({"run.completed", "run.failed", "run.canceled", "run.aborted"})


# The command step's program. It writes ``artifacts/attempt.json`` (its idempotency key and
# attempt number) atomically, then works a moment, long enough to be killed; its command line
# carries a marker by which the crash test finds it among the processes. An attempt killed
# after the write leaves its file behind: the next attempt replaces it, and only the attempt
# that succeeds may have its file recorded as the step's artifact.
PROGRAM = sys.executable
PROGRAM_MARKER = "chaos-step-program"
PROGRAM_CODE = """\
import json, os, sys, time
record = {
    "idempotency_key": os.environ["MISSIONCTL_IDEMPOTENCY_KEY"],
    "attempt": int(os.environ["MISSIONCTL_ATTEMPT"]),
    "run_id": os.environ["MISSIONCTL_RUN_ID"],
    "step_id": os.environ["MISSIONCTL_STEP_ID"],
}
with open("attempt.json.tmp", "w") as out:
    json.dump(record, out)
    out.flush()
    os.fsync(out.fileno())
os.replace("attempt.json.tmp", "artifacts/attempt.json")
time.sleep(float(sys.argv[1]))
"""
COMMAND_STEP = "cmd"
COMMAND_ARTIFACT = "attempt.json"


def workflow_definition(program_s: float = 0.5) -> dict[str, Any]:
    """The workflow every run starts: a diamond of short sleeps and one command step, retried.

    ``a``, then ``b0`` … ``b3`` (sleeps) and ``cmd`` (a program that runs ``program_s``
    seconds and writes an artifact) side by side, then ``c`` and ``d``. A step whose lease
    expires gets two attempts more than ``max_attempts``; the retries allow for a step caught
    by many kills in a row (a killed program is a real failure of its attempt), which is no loss.
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

    # ${run_id}, ${step_id} and ${attempt} are rendered into the command line: the crash test
    # reads which attempt it kills from /proc/<pid>/cmdline.
    argv = [PROGRAM, "-c", PROGRAM_CODE, str(program_s), PROGRAM_MARKER]
    argv += ["${run_id}", "${step_id}", "${attempt}"]
    command = {
        "id": COMMAND_STEP,
        "agent": "command",
        "inputs": {"argv": argv},
        "depends_on": ["a"],
        "retry": retry,
    }
    fan_out = [sleep(f"b{i}", 0.05 * (i + 1), "a") for i in range(4)]
    return {
        "name": "chaos",
        "steps": [
            sleep("a", 0.05),
            *fan_out,
            command,
            sleep("c", 0.1, *(s["id"] for s in fan_out), COMMAND_STEP),
            sleep("d", 0.05, "c"),
        ],
    }


@dataclass(frozen=True)
class ChaosConfig:
    """How hard and how long to shake the processes."""

    cycles: int = 20
    workers: int = 1
    seed: int = 0
    serve_share: float = 0.2  # the share of kills that hit ``serve``
    program_share: float = 0.2  # the share that hit a command step's program (the rest: a worker)
    program_s: float = 0.5  # how long the command step's program runs
    max_delay_s: float = 1.0  # the most a kill waits once the restarted worker is working
    runs_per_worker: int = 3  # runs kept under way per worker
    # Few steps per worker at once, so that ready steps wait in the queue for whichever worker
    # is free, a restarted one included (with room to spare, the workers that survived a kill
    # claim every step as it becomes ready, and a restarted worker waits for a lease to expire).
    concurrency: int = 4
    # Short leases, so that a killed worker's steps expire (``step.lease_expired``) and run
    # again within seconds: the engine's recovery is part of every worker kill.
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
    when nothing was lost (``lease_expired`` counts legitimate re-executions)."""

    runs: int
    completed_runs: int
    not_completed_runs: int  # ended, but failed, canceled or aborted
    stuck_runs: int  # never ended
    steps: int
    lost_steps: int  # no ``step.succeeded``
    duplicate_completions: int  # ``step.succeeded`` beyond the first
    events_after_end: int  # step events of a run after its end
    repeated_run_ends: int  # run ends beyond the first
    lease_expired: int  # ``step.lease_expired``: a worker died, the step ran again
    retries_scheduled: int  # ``step.retry_scheduled``: an attempt failed or its lease expired

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
    repeated_ends = after_end = expired = retried = 0
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
            expired += event.type == "step.lease_expired"
            retried += event.type == "step.retry_scheduled"
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
        lease_expired=expired,
        retries_scheduled=retried,
    )


def succeeded_attempts(events: Iterable[LoggedEvent]) -> dict[tuple[str, str], int]:
    """The attempt that succeeded by ``(run id hex, step id)``; the first, if there were more."""
    attempts: dict[tuple[str, str], int] = {}
    for event in events:
        if event.type == "step.succeeded" and event.run_id is not None:
            key = (event.run_id, event.step_id or "")
            attempts.setdefault(key, int(event.payload["attempt"]))
    return attempts


# -- The artifacts and the reports ------------------------------------------------------------


@dataclass(frozen=True)
class StoredArtifact:
    """An artifact row, with the step run it belongs to (none for a run's report)."""

    run_id: str  # hex
    step_id: str | None
    kind: str
    name: str
    sha256: str
    size: int


def read_artifacts(db: SqlEngine) -> list[StoredArtifact]:
    """Every artifact row, with its step's id (``None`` for one of no step: a report)."""
    columns = (Artifact.run_id, StepRun.step_id, Artifact.kind, Artifact.name, Artifact.sha256)
    query = select(*columns, Artifact.size).outerjoin(StepRun, StepRun.id == Artifact.step_run_id)
    with db.connect() as conn:
        rows = conn.execute(query.where(Artifact.run_id.is_not(None))).all()
    return [
        StoredArtifact(row.run_id.hex, row.step_id, row.kind, row.name, row.sha256, row.size)
        for row in rows
    ]


def blob_content(blobs: BlobStore, artifact: StoredArtifact) -> bytes | None:
    """The artifact's bytes from the store; ``None`` when its blob is missing or is not what
    its row says (its sha256 and size)."""
    try:
        content = blobs.path(artifact.sha256).read_bytes()
    except OSError:
        return None
    intact = hashlib.sha256(content).hexdigest() == artifact.sha256
    return content if intact and len(content) == artifact.size else None


@dataclass(frozen=True)
class ArtifactVerdict:
    """What the blob store says about the steps' artifacts; all 0 but ``artifacts`` when sound."""

    artifacts: int  # step artifacts checked
    unreadable_artifacts: int  # no blob in the store, or one of other bytes than its row says
    artifacts_of_other_attempts: int  # of a step that did not succeed, or written by another
    # attempt than the one that succeeded (a killed attempt's file counted as the step's)
    steps_without_artifact: int  # a succeeded command step without its ``attempt.json``
    unstable_idempotency_keys: int  # an artifact whose key is not its step's ``run:step`` key

    @property
    def sound(self) -> bool:
        """Every artifact readable, of the attempt that succeeded, under the step's one key."""
        return not (
            self.unreadable_artifacts
            or self.artifacts_of_other_attempts
            or self.steps_without_artifact
            or self.unstable_idempotency_keys
        )


def check_artifacts(
    artifacts: Iterable[StoredArtifact],
    blobs: BlobStore,
    succeeded: dict[tuple[str, str], int],
) -> ArtifactVerdict:
    """Check the step artifacts against the store and the attempts that succeeded.

    ``succeeded`` is the succeeded attempt by ``(run, step)`` (:func:`succeeded_attempts`).
    The command step's ``attempt.json`` says which attempt wrote it and under which key.
    """
    checked = unreadable = foreign = unstable = 0
    with_artifact: set[tuple[str, str]] = set()
    for artifact in artifacts:
        if artifact.step_id is None:
            continue  # a report: check_reports
        checked += 1
        step = (artifact.run_id, artifact.step_id)
        content = blob_content(blobs, artifact)
        if content is None:
            unreadable += 1
            continue
        if step not in succeeded:
            foreign += 1
        elif artifact.step_id == COMMAND_STEP and artifact.name == COMMAND_ARTIFACT:
            with_artifact.add(step)
            record = json.loads(content)
            foreign += record["attempt"] != succeeded[step]
            unstable += record["idempotency_key"] != f"{uuid.UUID(step[0])}:{step[1]}"
    commands = [step for step in succeeded if step[1] == COMMAND_STEP]
    return ArtifactVerdict(
        artifacts=checked,
        unreadable_artifacts=unreadable,
        artifacts_of_other_attempts=foreign,
        steps_without_artifact=sum(1 for step in commands if step not in with_artifact),
        unstable_idempotency_keys=unstable,
    )


@dataclass(frozen=True)
class ReportVerdict:
    """What the stored reports of completed runs say; all 0 when sound."""

    missing_reports: int  # a completed run without a stored ``report.md`` and ``report.json``
    unreadable_reports: int  # a stored report whose blob is missing or of other bytes, or
    # whose JSON is not of its run, not ``completed``, or lists artifacts the run lacks
    unbuildable_reports: int  # the report as ``GET /runs/{id}/report`` builds it failed

    @property
    def sound(self) -> bool:
        """Every completed run has a readable report."""
        return not (self.missing_reports or self.unreadable_reports or self.unbuildable_reports)


def check_reports(
    artifacts: list[StoredArtifact], blobs: BlobStore, completed: Iterable[str], settings: Settings
) -> ReportVerdict:
    """Check the stored reports of the ``completed`` runs, and build each as the API does."""
    by_run: dict[str, list[StoredArtifact]] = {}
    for artifact in artifacts:
        by_run.setdefault(artifact.run_id, []).append(artifact)
    missing = unreadable = 0
    completed = list(completed)
    for run in completed:
        own = by_run.get(run, [])
        reports = {a.name: a for a in own if a.step_id is None and a.kind == "report"}
        if not {"report.md", "report.json"} <= reports.keys():
            missing += 1
            continue
        contents = [blob_content(blobs, reports[name]) for name in ("report.md", "report.json")]
        if None in contents or not report_describes(contents[1] or b"", run, own):
            unreadable += 1
    unbuildable = asyncio.run(count_unbuildable_reports(settings, completed))
    return ReportVerdict(missing, unreadable, unbuildable)


def report_describes(content: bytes, run: str, artifacts: list[StoredArtifact]) -> bool:
    """Whether ``report.json`` is the completed run ``run``'s, listing its step artifacts."""
    report = json.loads(content)
    listed = {(a["name"], a["sha256"]) for a in report["artifacts"]}
    steps = {(a.name, a.sha256) for a in artifacts if a.step_id is not None}
    return (
        uuid.UUID(report["run_id"]).hex == run
        and report["outcome"]["status"] == "completed"
        and steps <= listed
    )


async def count_unbuildable_reports(settings: Settings, runs: list[str]) -> int:
    """How many of ``runs`` fail ``build_run_report`` (what ``GET /runs/{id}/report`` serves)."""
    failed = 0
    async with open_context(settings) as ctx:
        for run in runs:
            try:
                report = await build_run_report(ctx, run_id=uuid.UUID(run))
            except Exception:
                failed += 1
                continue
            failed += report.outcome.status != "completed"
    return failed


@dataclass
class Ledger:
    """The log read so far: runs under way, and which worker completed which step."""

    db: SqlEngine
    last_seq: int = 0
    active: set[str] = field(default_factory=set)
    ended: set[str] = field(default_factory=set)
    started_by: dict[tuple[str, str, int], str] = field(default_factory=dict)
    # The highest attempt any step event named, by (run, step): a killed program's retry shows.
    attempts: Counter[tuple[str, str]] = field(default_factory=Counter)
    done: set[tuple[str, str]] = field(default_factory=set)  # steps that succeeded

    def poll(self) -> list[tuple[datetime, str]]:
        """Read new events; returns ``(ts, worker)`` of each step completed since the last poll."""
        completions = []
        for event in read_events(self.db, after=self.last_seq):
            self.last_seq = event.seq
            run = event.run_id or ""
            if event.type.startswith("step.") and "attempt" in event.payload:
                step = (run, event.step_id or "")
                self.attempts[step] = max(self.attempts[step], int(event.payload["attempt"]))
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
                    self.done.add(key[:2])
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
    "missionctl.services.usecases.sign_in_links",
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
    # The API's routes are imported when ``serve`` builds its app: imported here, every restart
    # runs the code the run started with, whatever is edited in the tree meanwhile (a serve
    # restarted during an edit of a route module would otherwise fail to start).
    importlib.import_module("missionctl.api.router").build_api_router()

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


@dataclass(frozen=True)
class StepProgram:
    """A command step's program running now: its pid, and which attempt of which step it is."""

    pid: int
    run_id: str  # hex, as the event log's run ids are read here
    step_id: str
    attempt: int


def step_programs() -> list[StepProgram]:
    """The crash test's command programs running now, found by their command lines in /proc.

    Only the program itself counts (its ``argv[0]`` is ``PROGRAM``): its sandbox's ``bwrap``
    and ``prlimit`` carry the same arguments after their own until they exec it.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode("utf-8", "replace").split("\0")
        except OSError:
            continue  # it ended meanwhile
        if argv[0] != PROGRAM or PROGRAM_MARKER not in argv:
            continue
        run_id, step_id, attempt = argv[argv.index(PROGRAM_MARKER) + 1 :][:3]
        found.append(StepProgram(int(entry.name), uuid.UUID(run_id).hex, step_id, int(attempt)))
    return found


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


async def prepare(settings: Settings, config: ChaosConfig) -> tuple[str, str]:
    """Migrate the database, save the workflow, allow-list its program, make an operator's token.

    Returns:
        The workflow's id and the token's secret.
    """
    async with open_context(settings) as ctx:
        spec = WorkflowSpec.model_validate(workflow_definition(config.program_s))
        workflow = await create_workflow(ctx, spec=spec, actor=ACTOR)
        # Listed at ``read``: the command step runs without an approver (ADR 0024).
        programs = AgentUpdate(allowed_programs={PROGRAM: AllowedProgram(tier="read")})
        await update_agent(ctx, name="command", data=programs, actor=ACTOR)
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
    programs_killed: list[StepProgram] = field(default_factory=list)
    programs_not_found: int = 0  # program kills that found none running in ready_timeout_s
    programs_never_retried: int = 0  # killed programs whose step moved on in ready_timeout_s

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
        under way), a restarted ``serve`` until it answers. A command step's program is not
        restarted: its step is, by the engine (``kill_program``).
        """
        self.pause(self.rng.uniform(0, self.config.max_delay_s))
        draw = self.rng.random()
        if draw < self.config.serve_share:
            victim = "serve"
        elif draw < self.config.serve_share + self.config.program_share:
            self.kills["program"] += 1
            self.kill_program()
            return "program"
        else:
            victim = self.rng.choice(self.cluster.names[1:])
        self.cluster.kill(victim)
        self.cluster.start(victim)
        self.kills[victim.rstrip("0123456789")] += 1
        if victim == "serve":
            self.cluster.wait_for_serve(self.client, self.config.ready_timeout_s)
        else:
            self.wait_for_completion(victim, datetime.now(UTC))
        return victim

    def kill_program(self) -> None:
        """SIGKILL a command step's program at a random moment of its run; wait for its retry.

        Waits (keeping runs under way) until a program runs, lets it run a random part of its
        time, kills it and waits until the log shows its step's next attempt (or, when the
        program had just ended, its success).
        """
        program = self.wait_for_program()
        if program is None:
            self.programs_not_found += 1
            return
        self.pause(self.rng.uniform(0, self.config.program_s))
        with contextlib.suppress(ProcessLookupError):  # it ended: the log says how
            os.kill(program.pid, signal.SIGKILL)
        self.programs_killed.append(program)
        step = (program.run_id, program.step_id)
        deadline = time.monotonic() + self.config.ready_timeout_s
        while self.ledger.attempts[step] <= program.attempt and step not in self.ledger.done:
            if time.monotonic() > deadline:
                self.programs_never_retried += 1
                return
            self.pause(0.05)

    def wait_for_program(self) -> StepProgram | None:
        """A command step's program running now, waited for at most ``ready_timeout_s``."""
        deadline = time.monotonic() + self.config.ready_timeout_s
        while time.monotonic() < deadline:
            running = step_programs()
            if running:
                return self.rng.choice(running)
            self.pause(0.02)
        return None

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


@dataclass(frozen=True)
class ProgramKills:
    """What became of the command programs the crash test killed."""

    killed: int  # the attempt failed: the program died before it finished
    missed: int  # the attempt succeeded: the program had ended when the signal came
    retried: int  # killed, and a later attempt of its step succeeded
    not_found: int  # no program ran within ``ready_timeout_s`` when one was to be killed
    slow_retries: int  # killed, and no later attempt seen within ``ready_timeout_s``

    @property
    def sound(self) -> bool:
        """Every killed program's step succeeded on a later attempt."""
        return self.killed == self.retried


def judge_program_kills(shaker: Shaker, succeeded: dict[tuple[str, str], int]) -> ProgramKills:
    """Compare each killed program's attempt with the attempt of its step that succeeded."""
    killed = missed = retried = 0
    for program in shaker.programs_killed:
        won = succeeded.get((program.run_id, program.step_id))
        if won == program.attempt:
            missed += 1
            continue
        killed += 1
        retried += won is not None and won > program.attempt
    return ProgramKills(
        killed=killed,
        missed=missed,
        retried=retried,
        not_found=shaker.programs_not_found,
        slow_retries=shaker.programs_never_retried,
    )


@dataclass(frozen=True)
class Checks:
    """Everything judged after the last cycle."""

    log: Verdict
    programs: ProgramKills
    artifacts: ArtifactVerdict
    reports: ReportVerdict
    audit: tuple[bool, str]  # ``missionctl audit verify``: passed, and its last line

    @property
    def sound(self) -> bool:
        """Nothing lost, doubled, misattributed or unreadable, and the log verifies."""
        parts = (self.log, self.programs, self.artifacts, self.reports)
        return all(part.sound for part in parts) and self.audit[0]


def figures(shaker: Shaker, checks: Checks) -> dict[str, Any]:
    """The crash test's JSON figures."""
    times = shaker.first_completion_s
    median = statistics.median(times) if times else None
    p95 = percentile(times, 0.95)
    return {
        "cycles": sum(shaker.kills.values()),
        "workers": shaker.config.workers,
        "kills": dict(shaker.kills),
        **asdict(checks.log),
        "program_kills": asdict(checks.programs),
        **asdict(checks.artifacts),
        **asdict(checks.reports),
        "audit_verify": checks.audit[0],
        "audit_verify_says": checks.audit[1],
        "restart_to_first_completion_s": {
            "median": None if median is None else round(median, 3),
            "p95": None if p95 is None else round(p95, 3),
            "measured": len(times),
            "never": shaker.never_completed,
        },
        "seed": shaker.config.seed,
        "lease_s": shaker.config.lease_s,
        "heartbeat_s": shaker.config.heartbeat_s,
        "sound": checks.sound,
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
    prepared = asyncio.run(prepare(settings, config))
    db = create_engine(sync_url(database_url))
    cluster = Cluster(process_env(home, database_url, config), home, config.workers)
    try:
        shaker = shake(cluster, db, config, prepared)
        checks = check(shaker, db, settings)
    finally:
        cluster.launcher.close()
        db.dispose()
    return figures(shaker, checks)


def check(shaker: Shaker, db: SqlEngine, settings: Settings) -> Checks:
    """Judge the log, the killed programs, the artifacts and the reports once all has stopped."""
    events = read_events(db)
    succeeded = succeeded_attempts(events)
    completed = [e.run_id or "" for e in events if e.type == "run.completed"]
    artifacts = read_artifacts(db)
    blobs = BlobStore(settings.blob_dir)
    return Checks(
        log=judge(events),
        programs=judge_program_kills(shaker, succeeded),
        artifacts=check_artifacts(artifacts, blobs, succeeded),
        reports=check_reports(artifacts, blobs, completed, settings),
        audit=audit_verify(shaker.cluster),
    )


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
    parser.add_argument(
        "--home",
        type=Path,
        help="the data directory to use and keep (database, blobs, logs/<process>.log); "
        "default: a temporary one, removed at the end",
    )
    parser.add_argument(
        "--program-share",
        type=float,
        default=ChaosConfig.program_share,
        help="the share of kills that hit a command step's program",
    )
    args = parser.parse_args(argv)
    if args.database == "postgresql" and not args.postgres_url:
        parser.error(
            "--database postgresql needs --postgres-url, MISSIONCTL_BENCH_POSTGRES_URL "
            "or MISSIONCTL_TEST_POSTGRES_URL"
        )
    if args.cycles < 1 or args.workers < 1:
        parser.error("--cycles and --workers must be at least 1")
    if not 0 <= args.program_share <= 1 - ChaosConfig.serve_share:
        parser.error(f"--program-share must be between 0 and {1 - ChaosConfig.serve_share}")
    return args


def main() -> None:
    args = parse_args()
    config = ChaosConfig(
        cycles=args.cycles,
        workers=args.workers,
        seed=args.seed,
        max_delay_s=args.max_delay,
        drain_s=args.drain,
        program_share=args.program_share,
    )
    if args.home is not None:
        args.home.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        home = args.home or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        database = (
            postgres_schema(args.postgres_url)
            if args.database == "postgresql"
            else sqlite_database(home)
        )
        url = stack.enter_context(database)
        result = run_chaos(url, home, config)
    print(json.dumps({"database": args.database, **result}))
    sys.exit(0 if result["sound"] else 1)


if __name__ == "__main__":
    main()
