"""What the parts of ``bench/scale.py`` share: a schema of their own, the queue, CPU from /proc.

- ``postgres_schema(base)``: a new schema on the server ``base`` names, with a data directory;
  every connection the product opens on it carries the schema's name as its
  ``application_name``, so the server's processes that serve the benchmark can be told from
  those that serve anyone else. The schema is dropped afterwards.
- ``queue_workflow`` / ``fill_queue``: queued work, seeded through the product's own use cases:
  a workflow of independent ``builtin:noop`` steps saved once, then started as many times as
  needed (``start_run`` writes a run's step runs in one multi-row insert and appends their
  ``step.queued`` events in one batch, each run one transaction).
- ``sample_cpu`` / ``cpu_shares``: CPU seconds of processes and of the machine, from /proc, as
  percent of one core over a window (a machine with two cores is 200 % busy at most).
"""

import contextlib
import math
import os
import tempfile
import time
import uuid
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, text

from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.followers import FOLLOWERS, WEBHOOK_OUTBOX, catch_up, follower_lags
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import DatabaseSettings, Settings

ACTOR = "user:bench"
# The tables the measured work rewrites: vacuumed between measurements (see ``vacuum``).
BUSY_TABLES = ("step_runs", "runs", "events", "event_log_head", "workers")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Database:
    """A schema of the benchmark's own.

    Attributes:
        settings: The data directory and the URL the product (and every process it starts)
            uses; its connections' ``application_name`` is ``schema``.
        schema: The schema's name.
        admin: The benchmark's own connections to the schema (another ``application_name``),
            for the counts, the vacuum and the server's processes.
    """

    settings: Settings
    schema: str
    admin: Engine


def _with_query(base: str, query: str) -> str:
    return f"{base}{'&' if '?' in base else '?'}{query}"


@contextlib.contextmanager
def postgres_schema(base: str, prefix: str = "scale") -> Iterator[Database]:
    """A new schema on the server ``base`` names, and a data directory; both removed after."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    server = create_engine(base)
    with server.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    path = f"options=-csearch_path%3D{schema}"
    url = _with_query(base, f"{path}&application_name={schema}")
    admin = create_engine(_with_query(base, f"{path}&application_name={schema}_bench"))
    try:
        with tempfile.TemporaryDirectory() as home:
            database = DatabaseSettings(url=SecretStr(url))
            yield Database(Settings(home=Path(home), database=database), schema, admin)
    finally:
        admin.dispose()
        with server.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        server.dispose()


# -- The queue ----------------------------------------------------------------------------------


async def queue_workflow(ctx: ServiceContext, steps: int) -> uuid.UUID:
    """Save a workflow of ``steps`` independent ``builtin:noop`` steps; its version's id.

    ``builtin:noop`` is the cheapest step there is: no model, no program, it returns at once;
    yet it is claimed, run and recorded as any step is, with its events.
    """
    definition = {
        "name": f"scale-{steps}",
        "steps": [{"id": f"s{i}", "agent": "builtin:noop"} for i in range(steps)],
    }
    spec = WorkflowSpec.model_validate(definition)
    workflow = await create_workflow(ctx, spec=spec, actor=ACTOR)
    return workflow.id


async def fill_queue(
    ctx: ServiceContext, db: Database, workflow_id: uuid.UUID, run_steps: int, target: int
) -> dict[str, float]:
    """Start runs of ``workflow_id`` until at least ``target`` steps are queued.

    Returns how many runs were started and how long it took.
    """
    missing = target - queued_steps(db)
    runs = max(0, math.ceil(missing / run_steps))
    started = time.perf_counter()
    for _ in range(runs):
        await start_run(ctx, workflow_id=workflow_id, actor=ACTOR)
    return {"runs_started": runs, "seconds": round(time.perf_counter() - started, 2)}


async def catch_up_followers(ctx: ServiceContext) -> None:
    """Fold every event into each follower of the log a worker runs (all but the outbox)."""
    for follower in FOLLOWERS:
        if follower is not WEBHOOK_OUTBOX:
            await catch_up(ctx, follower)


async def follower_lag(ctx: ServiceContext) -> int:
    """The most events any follower a worker runs has yet to fold."""
    lags = await follower_lags(ctx)
    return max(lag.lag_events for lag in lags if lag.name != WEBHOOK_OUTBOX.name)


def _count(db: Database, sql: str) -> int:
    with db.admin.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def queued_steps(db: Database) -> int:
    """Step runs waiting in the queue."""
    return _count(db, "SELECT count(*) FROM step_runs WHERE status = 'queued'")


def succeeded_steps(db: Database) -> int:
    """Step runs that succeeded so far."""
    return _count(db, "SELECT count(*) FROM step_runs WHERE status = 'succeeded'")


def busy_workers(db: Database) -> int:
    """How many engines hold a step now (distinct lease owners of running steps)."""
    sql = "SELECT count(DISTINCT lease_owner) FROM step_runs WHERE status = 'running'"
    return _count(db, sql)


def vacuum(db: Database) -> None:
    """``VACUUM ANALYZE`` the tables the measured work rewrites.

    Autovacuum would do it on a production server, where it is on; a test server may have it
    off, and every measurement should start from tables without the dead rows of the last.
    """
    with db.admin.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in BUSY_TABLES:
            conn.execute(text(f'VACUUM ANALYZE "{db.schema}"."{table}"'))


def database_pids(db: Database) -> set[int]:
    """The server's processes that serve the product on this schema, and its own background
    processes (WAL writer, checkpointer, autovacuum...), which work for every client."""
    sql = (
        "SELECT pid FROM pg_stat_activity"
        " WHERE application_name = :name OR backend_type <> 'client backend'"
    )
    with db.admin.connect() as conn:
        return {int(pid) for pid in conn.execute(text(sql), {"name": db.schema}).scalars()}


# A connection waiting for a lock is told apart by what its statement locks: the chain head
# (``eventlog.append``), a run's advisory lock (``repositories.execution.serialize_runs``: ticks
# that record results of one run take turns), a follower's cursor (``services.followers``:
# processes take turns folding the log), or anything else.
_STATES = text(
    "SELECT"
    " count(*) FILTER (WHERE wait_event_type = 'Lock' AND query LIKE '%event_log_head%'),"
    " count(*) FILTER (WHERE wait_event_type = 'Lock' AND query LIKE '%pg_advisory_xact_lock%'),"
    " count(*) FILTER (WHERE wait_event_type = 'Lock' AND query LIKE '%follower_cursors%'),"
    " count(*) FILTER (WHERE wait_event_type = 'Lock' AND query NOT LIKE '%event_log_head%'"
    "  AND query NOT LIKE '%pg_advisory_xact_lock%' AND query NOT LIKE '%follower_cursors%'),"
    " count(*) FILTER (WHERE state = 'active' AND wait_event_type IS DISTINCT FROM 'Lock'),"
    " count(*) FILTER (WHERE state = 'idle in transaction')"
    " FROM pg_stat_activity WHERE application_name = :name"
)
STATES = (
    "head_waiting",
    "run_lock_waiting",
    "cursor_waiting",
    "other_lock_waiting",
    "active",
    "idle_in_transaction",
)


class ConnectionWatch:
    """What the product's connections on a schema are doing, sampled from ``pg_stat_activity``.

    Each ``sample`` counts them: waiting for a lock (the chain head's, a run's, a follower's
    cursor, another), at work in the server (a statement running, committing included), and
    inside a transaction but waiting for their process (which has the next statement to send:
    it may be computing, or waiting for a core). Writers that serialise on the chain head show
    as one transaction holding it and the others waiting for it.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.samples: list[tuple[int, ...]] = []

    def sample(self) -> None:
        """Count the connections in each state now."""
        with self.db.admin.connect() as conn:
            row = conn.execute(_STATES, {"name": self.db.schema}).one()
        self.samples.append(tuple(int(count) for count in row))

    def figures(self) -> dict[str, float]:
        """The mean count of connections in each state over the samples, and how many."""
        taken = max(1, len(self.samples))
        means = {
            name: round(sum(sample[n] for sample in self.samples) / taken, 2)
            for n, name in enumerate(STATES)
        }
        return {**means, "samples": len(self.samples)}


# -- CPU ----------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float | None:
    """CPU seconds process ``pid`` (all its threads) has used so far; ``None`` once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _machine_seconds() -> tuple[float, float]:
    """(Busy, total) CPU seconds of every core since boot, from /proc/stat."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    total = sum(ticks[:8])  # guest time is already counted in user time
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds at one moment: the machine's and some processes'."""

    at: float
    busy_s: float
    total_s: float
    pids: dict[int, float] = field(default_factory=dict)


def sample_cpu(pids: Collection[int]) -> CpuSample:
    """The machine's CPU seconds and those of ``pids`` (the ones still alive), now."""
    busy, total = _machine_seconds()
    seconds = {pid: cpu for pid in pids if (cpu := cpu_seconds(pid)) is not None}
    return CpuSample(time.perf_counter(), busy, total, seconds)


def cpu_shares(
    start: CpuSample, end: CpuSample, groups: dict[str, Collection[int]]
) -> dict[str, float]:
    """Percent of one core each group of processes used between two samples, and the machine.

    A process only in ``end`` started within the window: all its CPU counts. One gone by
    ``end`` is lost (none of the measured ones ends early). ``machine_pct`` is every core's
    busy time (``cores`` x 100 at most); ``rest_pct`` what the groups do not explain (the
    benchmark itself and whatever else the machine runs).
    """
    wall = end.at - start.at
    shares = {}
    for name, pids in groups.items():
        used = sum(end.pids.get(pid, 0.0) - start.pids.get(pid, 0.0) for pid in pids)
        shares[f"{name}_pct"] = round(100 * used / wall, 1)
    cores = os.cpu_count() or 1
    busy = (end.busy_s - start.busy_s) / max(end.total_s - start.total_s, 1e-9)
    shares["machine_pct"] = round(100 * busy * cores, 1)
    shares["rest_pct"] = round(shares["machine_pct"] - sum(shares[f"{n}_pct"] for n in groups), 1)
    return shares


# -- Figures ------------------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values`` (not empty)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]
