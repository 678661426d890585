"""Liveness and readiness, and the system's vital figures (the health strip, the metrics)."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from missionctl import __version__
from missionctl.db.database import ping
from missionctl.db.faults import DatabaseFault, database_fault
from missionctl.db.migrate import current_revision, head_revision
from missionctl.db.types import utcnow
from missionctl.domain.states import RunStatus, StepRunStatus
from missionctl.repositories import health as health_repo
from missionctl.schemas.health import HealthSummaryRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.disk import DiskReport, read_disk
from missionctl.services.usecases.money import micros_to_usd


@dataclass(frozen=True, slots=True)
class Check:
    """One dependency's state: ``status`` (a key) and ``detail`` (a sentence)."""

    status: str
    detail: str


@dataclass(frozen=True, slots=True)
class Health:
    """Whether the process can serve: the database answers, its schema is current, its disk.

    ``ok`` (serve at all: 200 rather than 503) needs the database and the schema; a disk low
    or full, or writes that the database has just refused, make the ``status`` "degraded".
    """

    ok: bool
    status: str
    database: Check
    schema: Check
    disk: DiskReport
    version: str = __version__
    log_origin: str | None = None


async def check_health(ctx: ServiceContext, *, recent: DatabaseFault | None = None) -> Health:
    """Ping the database, compare its schema with the code's, measure the disk. Never raises.

    ``recent`` is a database fault this process met in the last moments (writes refused for a
    full disk, say) while the ping, a read, still succeeds.
    """
    settings = ctx.settings
    places = {"data directory": settings.home}
    if ctx.db.dialect == "sqlite" and ctx.db.url.database:
        places["database"] = Path(ctx.db.url.database).parent
    disk = read_disk(places, free_min_bytes=settings.disk_free_min_mb * 1024 * 1024)
    database, schema, origin = await _database_checks(ctx, recent)
    ok = database.status in ("ok", "degraded") and schema.status == "current"
    degraded = database.status != "ok" or disk.status != "ok"
    status = "error" if not ok else "degraded" if degraded else "ok"
    return Health(
        ok=ok, status=status, database=database, schema=schema, disk=disk, log_origin=origin
    )


async def _database_checks(
    ctx: ServiceContext, recent: DatabaseFault | None
) -> tuple[Check, Check, str | None]:
    """The database's check, the schema's and the log's origin (``None`` unless current)."""
    head = head_revision()
    try:
        async with ctx.read() as session:
            await ping(session)
        revision = await current_revision(ctx.db)
        origin = await log_origin(ctx) if revision == head else None
    except Exception as exc:
        fault = database_fault(exc)
        database = (
            Check("unavailable", f"{fault.cause}: {fault.message}")
            if fault is not None
            else Check("error", type(exc).__name__)
        )
        return database, Check("unknown", "the database did not answer"), None
    if recent is not None:
        database = Check("degraded", f"writes refused ({recent.cause}): {recent.message}")
    else:
        database = Check("ok", "answers")
    if revision != head:
        detail = f"at {revision}, the code expects {head}: run `missionctl db upgrade`"
        return database, Check("behind", detail), None
    return database, Check("current", f"at {head}"), origin


async def log_origin(ctx: ServiceContext) -> str | None:
    """Which record this database keeps: the hash of its log's first event (``None`` if empty).

    Two processes on one database give the same answer, so a command can tell whether the
    server it finds on this machine holds the runs it made (and link to them); the hash
    reveals nothing of what the event says.
    """
    async with ctx.read() as session:
        return await health_repo.first_event_hash(session)


async def read_health_summary(ctx: ServiceContext) -> HealthSummaryRead:
    """The figures now, read in one statement (see ``repositories.health``).

    ``burn_usd_per_hour`` is the spend dated in the last hour, as the cost breakdowns' burn
    rate counts it (``repositories.costs.dated_spend``); ``failed_24h``
    counts step runs that failed for good in the last 24 hours; ``workers_alive`` the engines
    that heartbeat within ``domain.workers.ALIVE_S``; ``caps_warning`` and ``caps_reached`` the
    spending caps whose last announced level, in their current UTC period, is that one.
    """
    now = utcnow()
    async with ctx.read() as session:
        figures = await health_repo.read_health_figures(session, now=now)
    return HealthSummaryRead(
        queued=figures.queued,
        running=figures.running,
        failed_24h=figures.failed_24h,
        burn_usd_per_hour=micros_to_usd(figures.spent_1h_micros),
        approvals_waiting=figures.approvals_waiting,
        workers_alive=figures.workers_alive,
        caps_warning=figures.caps_warning,
        caps_reached=figures.caps_reached,
        as_of=now,
    )


class HealthSummaryCache:
    """The latest summary, kept ``ttl_s`` seconds: N viewers cost one read a second.

    Concurrent callers that find it stale share one read (a lock, not one read each). A failed
    read raises to its callers and is tried again by the next one.
    """

    def __init__(self, ttl_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        """Nothing is read until ``get``."""
        self.ttl_s = ttl_s
        self._clock = clock
        self._kept: tuple[float, HealthSummaryRead] | None = None
        self._lock = asyncio.Lock()

    async def get(self, ctx: ServiceContext) -> HealthSummaryRead:
        """The summary, read again when the kept one is older than ``ttl_s``."""
        kept = self._kept
        if kept is not None and self._clock() - kept[0] < self.ttl_s:
            return kept[1]
        async with self._lock:
            kept = self._kept
            if kept is not None and self._clock() - kept[0] < self.ttl_s:
                return kept[1]  # another caller read it while this one waited
            summary = await read_health_summary(ctx)
            self._kept = (self._clock(), summary)
            return summary


async def read_cached_health_summary(
    ctx: ServiceContext, *, health_cache: HealthSummaryCache
) -> HealthSummaryRead:
    """The summary through ``health_cache``, the app's: read at most once a ``ttl_s``."""
    return await health_cache.get(ctx)


@dataclass(frozen=True, slots=True)
class StatusCounts:
    """How many runs and step runs are in each status (every status named, zeros included)."""

    runs: dict[str, int]
    steps: dict[str, int]


async def count_by_status(ctx: ServiceContext) -> StatusCounts:
    """Runs and step runs by status, now (the Prometheus gauges read them at scrape time)."""
    async with ctx.read() as session:
        runs, steps = await health_repo.count_by_status(session)
    return StatusCounts(
        runs={status.value: runs.get(status.value, 0) for status in RunStatus},
        steps={status.value: steps.get(status.value, 0) for status in StepRunStatus},
    )
