"""Search test helpers: a run that logs and fails through the engine; what the index holds."""

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.domain.search import parse_query
from missionctl.repositories.search import EntryFilters, Markers, search_entries
from missionctl.schemas.runs import RunRead
from missionctl.services import ServiceContext
from tests.engine.helpers import running_engine, start, step, wait_for_run


async def failing_run(ctx: ServiceContext, message: str, step_id: str = "boom") -> RunRead:
    """Run a workflow whose step logs ``attempt 1: MESSAGE`` and fails with ``MESSAGE``."""
    failing = step(step_id, "builtin:fail", inputs={"message": message, "retryable": False})
    run = await start(ctx, [failing])
    async with running_engine(ctx):
        return await wait_for_run(ctx, run.id)


async def indexed_texts(session: AsyncSession, word: str) -> list[str]:
    """The texts the search index holds for ``word``, newest first (without catching up)."""
    found = await search_entries(
        session,
        query=parse_query(word),
        filters=EntryFilters(),
        markers=Markers("[", "]"),
        before_id=None,
        limit=500,
    )
    return [entry.body for entry in found]
