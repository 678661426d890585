"""Controls queries: the one ``controls`` row every change to the rules and the stop locks."""

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.repositories import execution


async def lock_controls_shared(session: AsyncSession) -> int:
    """The controls' version, under a shared lock until commit (0 without the row).

    The engine's own query (``execution.read_controls_version_locked``), run on the async
    session's connection, so the two take the very same lock.
    """
    return await session.run_sync(execution.read_controls_version_locked)
