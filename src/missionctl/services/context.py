"""What every use case needs, and the transaction that publishes events after commit."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.blobs import BlobStore
from missionctl.db import Database
from missionctl.db.migrate import upgrade_database
from missionctl.eventlog import Broadcaster, pending_events
from missionctl.settings import Settings


@dataclass(frozen=True, slots=True)
class ServiceContext:
    """The process's shared resources, built once by ``open_context``."""

    settings: Settings
    db: Database
    blobs: BlobStore
    broadcaster: Broadcaster

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction; events appended in it are published only after it commits.

        If the block raises, the transaction is rolled back, nothing is published and the
        exception propagates.
        """
        async with self.db.write() as session:
            yield session
        # Reached only after a successful commit.
        self.broadcaster.publish(pending_events(session))

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only snapshot."""
        async with self.db.read() as session:
            yield session


@asynccontextmanager
async def open_context(
    settings: Settings, *, upgrade: bool = True
) -> AsyncIterator[ServiceContext]:
    """Build the context for ``settings``: data directory, database (upgraded), blobs, broadcaster.

    Disposes of the database connections when the block ends, whether or not it raised.
    """
    settings.home.mkdir(parents=True, exist_ok=True)
    db = Database(
        settings.database_url,
        busy_timeout_ms=settings.database.busy_timeout_ms,
        pool_size=settings.database.pool_size,
    )
    try:
        if upgrade:
            await upgrade_database(db)
        yield ServiceContext(
            settings=settings,
            db=db,
            blobs=BlobStore(settings.blob_dir),
            broadcaster=Broadcaster(),
        )
    finally:
        await db.dispose()
