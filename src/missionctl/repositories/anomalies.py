"""Anomaly notices (ADR 0069): which anomalies were already announced, claimed by key."""

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import AnomalyNotice
from missionctl.db.types import utcnow


async def claim_notice(session: AsyncSession, *, key: str, severity: str) -> bool:
    """Record that the anomaly ``key`` is being announced; ``False`` if it already was.

    An insert that does nothing on a conflicting key: on PostgreSQL a concurrent transaction
    inserting the same key waits for this one and then finds it taken; on SQLite the write
    lock makes them take turns. Never commits.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(AnomalyNotice)
        .values(key=key, severity=severity, notified_at=utcnow())
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(AnomalyNotice.key)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None
