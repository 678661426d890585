"""The demo history's own writes: claiming an empty log for it (ADR 0071), and emptying it.

Everything else ``missionctl demo seed`` writes goes through the services people use; this
records, as the log's first event, that the history that follows is a demonstration, and
empties a database whose log starts so (``demo seed --reset``) and nothing else.
"""

import asyncio
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from missionctl.db import Database
from missionctl.db.migrate import current_revision, downgrade_database
from missionctl.domain.events import DEMO_SEEDED
from missionctl.errors import Conflict
from missionctl.eventlog import NewEvent, append
from missionctl.repositories import events as events_repo
from missionctl.services.runtime.context import ServiceContext
from missionctl.settings import Settings


@dataclass(frozen=True, slots=True)
class DemoClaim:
    """What the demo history will hold: its days and the arguments that decide it."""

    first_day: date
    last_day: date
    seed: int
    anomalies: bool


async def claim_empty_log(ctx: ServiceContext, *, claim: DemoClaim) -> None:
    """Append ``demo.seeded`` as the log's first event, or refuse a log that holds any.

    The event and the check share one transaction, which holds the log's head: of two seeds
    into one database at once, the second finds the first's event and is refused, writing
    nothing.

    Raises:
        Conflict: the event log is not empty (field ``home``).
    """
    async with ctx.write() as session:
        records = await append(
            session,
            [
                NewEvent(
                    type=DEMO_SEEDED,
                    actor="system",
                    payload={
                        "first_day": claim.first_day.isoformat(),
                        "last_day": claim.last_day.isoformat(),
                        "seed": claim.seed,
                        "anomalies": claim.anomalies,
                    },
                )
            ],
        )
        if records[0].seq != 1:
            raise Conflict(
                f"the event log already holds {records[0].seq - 1} events: a demo history is "
                "written into an empty database only; give a new --home (or an empty "
                "database)",
                field="home",
            )


async def reset_demo(settings: Settings) -> int:
    """Empty a demo history: every table, the blobs, reports and checkpoints; its event count.

    Only a database whose event log is empty or starts with ``demo.seeded`` is a demo's; any
    other is refused and left as it was. Run it before a context opens the database: a SQLite
    database's files are deleted, a PostgreSQL schema is dropped to its base revision, and the
    next context makes it again. The home's blob store, downloaded reports and the log's
    checkpoints go with it (a checkpoint of the old log would make the new one look tampered).

    Raises:
        Conflict: the log is not a demo's (field ``home``), or its checkpoints are kept
            outside the data directory, where they are not this command's to delete.
    """
    home = settings.home.resolve()
    checkpoints = settings.audit_checkpoint_dir.resolve()
    if not checkpoints.is_relative_to(home):
        raise Conflict(
            f"the event log's checkpoints are kept at {checkpoints}, outside the data "
            "directory: --reset does not delete them; reset a demo whose checkpoints are "
            "under its home",
            field="home",
        )
    db = Database(settings.database_url)
    try:
        held = await _demo_events(db)
        if db.dialect != "sqlite":
            await downgrade_database(db, "base")
    finally:
        await db.dispose()
    files = (
        [Path(f"{db.url.database}{suffix}") for suffix in ("", "-wal", "-shm")]
        if db.dialect == "sqlite" and db.url.database
        else []
    )
    await asyncio.to_thread(_remove, files, [settings.blob_dir, home / "reports", checkpoints])
    return held


def _remove(files: list[Path], directories: list[Path]) -> None:
    for file in files:
        file.unlink(missing_ok=True)
    for directory in directories:
        shutil.rmtree(directory, ignore_errors=True)


async def _demo_events(db: Database) -> int:
    """How many events a demo's log holds; refuses a log that is not a demo's.

    Raises:
        Conflict: the log's first event is not ``demo.seeded`` (field ``home``).
    """
    if await current_revision(db) is None:
        return 0  # nothing made yet
    async with db.read() as session:
        first = await events_repo.read_first_type(session)
        held = await events_repo.read_head_seq(session)  # the log is gapless from 1
    if first is not None and first != DEMO_SEEDED:
        raise Conflict(
            f"this database's event log starts with {first!r}, not a demo history's "
            f"{DEMO_SEEDED!r}: --reset empties a demo database only, and this one was left as "
            "it was; give the demo's --home",
            field="home",
        )
    return int(held)
