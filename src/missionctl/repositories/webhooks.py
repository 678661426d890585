"""Webhook queries: subscriptions, the reads of the log their follower makes, the outbox.

Functions take the session keyword-only and never commit (ADR 0060). The dispatcher's claim
locks the rows it takes with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that processes
sharing a database take different rows; SQLite has one writer at a time, which is the same
guarantee.
"""

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.db.models import (
    Event,
    Run,
    Webhook,
    WebhookDelivery,
    Workflow,
)
from missionctl.db.types import utcnow
from missionctl.domain.webhooks import DeliveryStatus


class Claimed(NamedTuple):
    """A delivery taken under a lease, with what sending it needs."""

    id: uuid.UUID
    token: str
    attempts: int
    event_type: str
    body: str
    url: str
    secret: str


# --- subscriptions --------------------------------------------------------------------------


async def read_webhooks(session: AsyncSession) -> Sequence[Webhook]:
    """Every subscription, oldest first."""
    return (await session.scalars(select(Webhook).order_by(Webhook.id))).all()


async def read_webhook(
    session: AsyncSession, *, webhook_id: uuid.UUID, lock: bool = False
) -> Webhook | None:
    """One subscription (locked for update when ``lock``), or ``None``."""
    return await session.get(Webhook, webhook_id, with_for_update=lock or None)


def enabled_webhooks(session: Session) -> Sequence[Webhook]:
    """The subscriptions that are on (their event types, a JSON list, are matched in Python)."""
    return session.scalars(select(Webhook).where(Webhook.enabled).order_by(Webhook.id)).all()


async def delete_deliveries(session: AsyncSession, *, webhook_id: uuid.UUID) -> None:
    """Delete a subscription's deliveries (before the subscription itself)."""
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id))


# --- following the log ----------------------------------------------------------------------


def read_events(
    session: Session, *, after: int, upto: int, types: Collection[str]
) -> Sequence[Event]:
    """The events of ``types`` with ``after < seq <= upto``, in ``seq`` order."""
    query = (
        select(Event)
        .where(Event.seq > after, Event.seq <= upto, Event.type.in_(list(types)))
        .order_by(Event.seq)
    )
    return session.scalars(query).all()


def workflows_of_runs(session: Session, *, run_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The workflow name of each run in ``run_ids`` that exists."""
    if not run_ids:
        return {}
    query = (
        select(Run.id, Workflow.name)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(Run.id.in_(list(run_ids)))
    )
    return {row.id: row.name for row in session.execute(query)}


def workflow_names(
    session: Session, *, workflow_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The name of each workflow version in ``workflow_ids`` that exists."""
    if not workflow_ids:
        return {}
    query = select(Workflow.id, Workflow.name).where(Workflow.id.in_(list(workflow_ids)))
    return {row.id: row.name for row in session.execute(query)}


def add_deliveries(session: AsyncSession | Session, *, rows: Sequence[WebhookDelivery]) -> None:
    """Queue ``rows`` in the outbox."""
    session.add_all(rows)


def pending_delivery(
    webhook_id: uuid.UUID,
    seq: int | None,
    event_type: str,
    text: str,
    actor: str,
    *,
    redelivery_of: uuid.UUID | None = None,
) -> WebhookDelivery:
    """A new outbox row for ``webhook_id``, due now (``seq`` ``None``: not from the log)."""
    return WebhookDelivery(
        webhook_id=webhook_id,
        event_seq=seq,
        event_type=event_type,
        body=text,
        status=DeliveryStatus.pending.value,
        attempts=0,
        next_attempt_at=utcnow(),
        redelivery_of=redelivery_of,
        created_by=actor,
    )


# --- the outbox -----------------------------------------------------------------------------


def _due(now: datetime) -> Any:
    pending = and_(
        WebhookDelivery.status == DeliveryStatus.pending.value,
        WebhookDelivery.next_attempt_at <= now,
    )
    abandoned = and_(
        WebhookDelivery.status == DeliveryStatus.sending.value,
        WebhookDelivery.lease_expires_at <= now,
    )
    return or_(pending, abandoned)


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime,
    lease_until: datetime,
    token: str,
    limit: int,
    only: uuid.UUID | None = None,
) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries of enabled subscriptions (or the one ``only``).

    Due: pending with ``next_attempt_at <= now``, or being sent under a lease that expired (its
    sender died). Each is moved to ``sending`` under ``token`` until ``lease_until`` and its
    attempt counted. ``only`` is a hand-triggered send: its subscription may be disabled.
    """
    query = (
        select(WebhookDelivery, Webhook.url, Webhook.secret)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )
    if only is None:
        query = query.where(_due(now), Webhook.enabled)
    else:
        query = query.where(
            WebhookDelivery.id == only,
            WebhookDelivery.status == DeliveryStatus.pending.value,
        )
    claimed: list[Claimed] = []
    for delivery, url, secret in (await session.execute(query)).all():
        delivery.status = DeliveryStatus.sending.value
        delivery.lease_token = token
        delivery.lease_expires_at = lease_until
        delivery.attempts += 1
        delivery.attempted_at = now
        claimed.append(
            Claimed(
                delivery.id,
                token,
                delivery.attempts,
                delivery.event_type,
                delivery.body,
                url,
                secret,
            )
        )
    return claimed


async def record_attempt(
    session: AsyncSession, *, delivery_id: uuid.UUID, token: str, values: dict[str, Any]
) -> bool:
    """Write an attempt's outcome if the delivery is still leased under ``token``.

    Returns whether it was (a sender whose lease expired and was taken over writes nothing).
    """
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.lease_token == token,
            WebhookDelivery.status == DeliveryStatus.sending.value,
        )
        .values(lease_token=None, lease_expires_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def read_deliveries(
    session: AsyncSession, *, webhook_id: uuid.UUID | None, limit: int
) -> Sequence[WebhookDelivery]:
    """The newest deliveries, of one subscription or of all, newest first."""
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if webhook_id is not None:
        query = query.where(WebhookDelivery.webhook_id == webhook_id)
    return (await session.scalars(query)).all()


async def read_delivery(session: AsyncSession, *, delivery_id: uuid.UUID) -> WebhookDelivery | None:
    """One delivery, or ``None``."""
    return await session.get(WebhookDelivery, delivery_id)
