"""Liveness and readiness."""

from dataclasses import dataclass

from missionctl import __version__
from missionctl.db.database import ping
from missionctl.db.migrate import current_revision, head_revision
from missionctl.services.context import ServiceContext


@dataclass(frozen=True, slots=True)
class Health:
    """Whether the process can serve: the database answers and its schema is current."""

    ok: bool
    database: str
    schema: str
    version: str = __version__


async def check_health(ctx: ServiceContext) -> Health:
    """Ping the database and compare its schema revision with the code's. Never raises."""
    try:
        async with ctx.read() as session:
            await ping(session)
        revision = await current_revision(ctx.db)
    except Exception as exc:
        return Health(ok=False, database=f"error: {type(exc).__name__}", schema="unknown")
    head = head_revision()
    schema = "current" if revision == head else f"at {revision}, code expects {head}"
    return Health(ok=revision == head, database="ok", schema=schema)
