"""Ids in a range: those that start with the digits a person typed (``domain.id_prefixes``)."""

import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from missionctl.db.models import (
    Approval,
    Artifact,
    Decision,
    Epic,
    Mission,
    Risk,
    Run,
    Schedule,
    Spec,
    Webhook,
    WebhookDelivery,
    Worker,
    Workflow,
)
from missionctl.schemas.ids import IdKind

_ID_COLUMNS: Mapping[IdKind, InstrumentedAttribute[uuid.UUID]] = {
    IdKind.MISSIONS: Mission.id,
    IdKind.EPICS: Epic.id,
    IdKind.RUNS: Run.id,
    IdKind.ARTIFACTS: Artifact.id,
    IdKind.APPROVALS: Approval.id,
    IdKind.SPECS: Spec.id,
    IdKind.DECISIONS: Decision.id,
    IdKind.RISKS: Risk.id,
    IdKind.SCHEDULES: Schedule.id,
    IdKind.WORKFLOWS: Workflow.id,
    IdKind.WORKERS: Worker.id,
    IdKind.WEBHOOKS: Webhook.id,
    IdKind.DELIVERIES: WebhookDelivery.id,
}


async def ids_between(
    session: AsyncSession, kind: IdKind, lowest: uuid.UUID, highest: uuid.UUID, *, limit: int
) -> Sequence[uuid.UUID]:
    """At most ``limit`` ids of ``kind`` from ``lowest`` to ``highest``, in order.

    One range over the primary key's index on both databases: PostgreSQL orders UUIDs by
    their bytes and SQLite stores them as 32 lower-case hexadecimal digits.
    """
    column = _ID_COLUMNS[kind]
    rows = await session.scalars(
        select(column).where(column.between(lowest, highest)).order_by(column).limit(limit)
    )
    return rows.all()
