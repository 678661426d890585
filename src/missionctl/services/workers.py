"""The registry of engines: registering one, its heartbeats, its clean stop, who is alive.

An engine (``engine.presence.Presence``) registers when it starts, heartbeats from a task of
its own every ``domain.workers.heartbeat_interval`` seconds, and marks itself stopped when it
stops cleanly. Heartbeats are no events: they change nothing anyone replays, and one every few
seconds per engine would bury the log.
"""

import os
import socket
import uuid
from datetime import datetime, timedelta

from missionctl import __version__
from missionctl.db.models import Worker
from missionctl.db.types import utcnow
from missionctl.domain.workers import WorkerKind, is_alive
from missionctl.repositories import workers as repo
from missionctl.schemas.health import WorkerRead
from missionctl.services.context import ServiceContext

RECENT_S = 86_400.0
"""How far back ``list_workers`` looks: workers that heartbeat within the last day."""


async def register_worker(
    ctx: ServiceContext, *, name: str, kind: WorkerKind, concurrency: int
) -> uuid.UUID:
    """Record that an engine called ``name`` starts in this process; returns its worker id."""
    now = utcnow()
    worker = Worker(
        name=name[:200],
        host=socket.gethostname()[:255],
        pid=os.getpid(),
        version=__version__[:50],
        kind=kind.value,
        concurrency=concurrency,
        started_at=now,
        last_heartbeat_at=now,
    )
    async with ctx.write() as session:
        repo.add_worker(session, worker=worker)
    return worker.id


async def heartbeat(ctx: ServiceContext, *, worker_id: uuid.UUID) -> bool:
    """Say that the worker is alive now; ``False``: it is unknown or was marked stopped."""
    async with ctx.write() as session:
        return await repo.beat(session, worker_id=worker_id, now=utcnow())


async def mark_stopped(ctx: ServiceContext, *, worker_id: uuid.UUID) -> bool:
    """Record the worker's clean stop; ``False``: it is unknown or stopped already."""
    async with ctx.write() as session:
        return await repo.mark_stopped(session, worker_id=worker_id, now=utcnow())


async def count_alive_workers(ctx: ServiceContext, *, now: datetime | None = None) -> int:
    """How many workers are alive at ``now`` (default: now); see ``domain.workers.ALIVE_S``."""
    async with ctx.read() as session:
        return await repo.count_alive(session, now=now or utcnow())


async def list_workers(
    ctx: ServiceContext, *, now: datetime | None = None, limit: int = 200
) -> list[WorkerRead]:
    """Workers seen in the last day (alive ones and those gone), newest start first."""
    moment = now or utcnow()
    since = moment - timedelta(seconds=RECENT_S)
    async with ctx.read() as session:
        rows = await repo.read_workers(session, since=since, limit=limit)
    return [
        WorkerRead(
            id=row.id,
            name=row.name,
            host=row.host,
            pid=row.pid,
            version=row.version,
            kind=row.kind,
            concurrency=row.concurrency,
            started_at=row.started_at,
            last_heartbeat_at=row.last_heartbeat_at,
            stopped_at=row.stopped_at,
            alive=is_alive(
                last_heartbeat_at=row.last_heartbeat_at, stopped_at=row.stopped_at, now=moment
            ),
        )
        for row in rows
    ]
