"""Outbound webhooks: subscriptions, and the follower of the log that fills their outbox.

A subscription names event types (``domain.webhooks.SUBSCRIBABLE``), optionally one workflow,
an address and a body format; its secret signs each request and is returned once, by
:func:`create_webhook`. Making, changing and deleting one appends ``webhook.saved`` or
``webhook.deleted`` without the secret, and with the address's credentials masked.

Nothing on the engine's path sends anything (ADR 0060): the outbox's follower of the log
(``services.followers.webhook_outbox``) writes one delivery row per event and matching
subscription; ``services.usecases.webhook_sender`` claims due rows and sends them.

Where an address may point is the ``http`` agent's rule (``agents.addresses``): every
address its host resolves to is public, or inside ``MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS``.
:func:`vet_target` applies it when a subscription is made or its address changed (a refusal
names the field and the setting) and again before every request, whose connection then goes
to the address vetted (a name that resolves elsewhere a moment later changes nothing).
"""

import secrets
import uuid
from collections.abc import Sequence
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.agents.addresses import Network, Resolver, checked_addresses, resolve_host
from missionctl.agents.base import AgentError
from missionctl.db.models import Webhook, WebhookDelivery
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.webhooks import (
    TEST_EVENT,
    DeliveryStatus,
    Format,
    body,
    origin,
    sample_event,
    shown_url,
)
from missionctl.errors import NotFound, Problem, StateRefused
from missionctl.eventlog import NewEvent, append
from missionctl.repositories import webhooks as repo
from missionctl.schemas.webhooks import (
    MAX_DELIVERIES_SHOWN,
    DeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)
from missionctl.services.runtime.context import ServiceContext

FOLLOW_BATCH_EVENTS = 5_000
"""Events of the log read per follower transaction: bounds how long one holds the write lock."""

SECRET_BYTES = 32


class TargetRefused(Exception):
    """A webhook's address leads where the address policy forbids; the message says where."""


class TargetUnresolved(Exception):
    """A webhook's host does not resolve (now); the message says which."""


async def vet_target(
    url: str,
    networks: Sequence[Network],
    *,
    field: str = "url",
    resolve: Resolver = resolve_host,
) -> list[str]:
    """The addresses ``url``'s host resolves to, each one allowed by the address policy.

    Resolves once and judges exactly those addresses (``agents.addresses.checked_addresses``,
    the rule of ``http`` steps), so a caller that connects to one of them connects where the
    policy looked.

    Raises:
        TargetRefused: an address is loopback, private, link-local or reserved, outside
            ``networks``; the message names ``field`` and the setting that allows it.
        TargetUnresolved: the host does not resolve, or to no address.
    """
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        return await checked_addresses(
            parts.hostname or "", port, allowed=networks, resolve=resolve, field=field
        )
    except AgentError as exc:
        if exc.retryable:  # the name may resolve later
            raise TargetUnresolved(str(exc)) from None
        raise TargetRefused(str(exc)) from None


async def _check_target(ctx: ServiceContext, url: str) -> None:
    """Refuse a subscription's address the policy forbids (a 409 on ``url``: a setting).

    A name that does not resolve now is taken: it is judged again before every request.

    Raises:
        StateRefused: the address leads to a forbidden network.
    """
    try:
        await vet_target(url, ctx.settings.http_agent.networks(), field="url")
    except TargetRefused as exc:
        raise StateRefused([Problem("url", str(exc).removeprefix("url: "))]) from None
    except TargetUnresolved:
        return


def webhook_read(webhook: Webhook) -> WebhookRead:
    """A subscription as it may be shown: no secret, the address's credentials masked."""
    return WebhookRead(
        id=webhook.id,
        url=shown_url(webhook.url),
        events=list(webhook.events),
        workflow=webhook.workflow,
        format=Format(webhook.format),
        enabled=webhook.enabled,
        created_by=webhook.created_by,
        created_at=webhook.created_at,
        updated_at=webhook.updated_at,
    )


def delivery_read(delivery: WebhookDelivery) -> DeliveryRead:
    """A delivery as the log shows it."""
    waiting = delivery.status in (DeliveryStatus.pending, DeliveryStatus.sending)
    return DeliveryRead(
        id=delivery.id,
        webhook_id=delivery.webhook_id,
        event_seq=delivery.event_seq,
        event_type=delivery.event_type,
        status=DeliveryStatus(delivery.status),
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at if waiting else None,
        status_code=delivery.status_code,
        response_body=delivery.response_body,
        error=delivery.error,
        duration_ms=delivery.duration_ms,
        redelivery_of=delivery.redelivery_of,
        created_by=delivery.created_by,
        created_at=delivery.created_at,
        attempted_at=delivery.attempted_at,
        delivered_at=delivery.delivered_at,
    )


def _saved(webhook: Webhook, actor: str, change: str) -> NewEvent:
    payload = {
        "id": str(webhook.id),
        "url": origin(webhook.url),
        "events": list(webhook.events),
        "workflow": webhook.workflow,
        "format": webhook.format,
        "enabled": webhook.enabled,
        "change": change,
    }
    return NewEvent(type=ev.WEBHOOK_SAVED, actor=actor, payload=payload)


async def _locked(session: AsyncSession, webhook_id: uuid.UUID) -> Webhook:
    webhook = await repo.read_webhook(session, webhook_id=webhook_id, lock=True)
    if webhook is None:
        raise NotFound(f"no webhook has the id {webhook_id}", field="webhook_id")
    return webhook


# --- subscriptions --------------------------------------------------------------------------


async def create_webhook(ctx: ServiceContext, *, data: WebhookCreate, actor: str) -> WebhookCreated:
    """Subscribe ``data.url`` to ``data.events``; the answer carries the secret, this once.

    The subscription receives the events appended after it (``since_seq``).

    Raises:
        StateRefused: the address leads to a network the address policy forbids.
    """
    await _check_target(ctx, data.url)
    secret = "whsec_" + secrets.token_urlsafe(SECRET_BYTES)
    async with ctx.write() as session:
        webhook = Webhook(
            url=data.url,
            format=data.format.value,
            events=list(data.events),
            workflow=data.workflow,
            secret=secret,
            enabled=data.enabled,
            since_seq=0,
            created_by=actor,
        )
        session.add(webhook)
        await session.flush()
        [record] = await append(session, [_saved(webhook, actor, "created")])
        webhook.since_seq = record.seq
        return WebhookCreated(webhook=webhook_read(webhook), secret=secret)


async def list_webhooks(ctx: ServiceContext) -> list[WebhookRead]:
    """Every subscription, oldest first (never a secret)."""
    async with ctx.read() as session:
        return [webhook_read(w) for w in await repo.read_webhooks(session)]


async def read_webhook(ctx: ServiceContext, *, webhook_id: uuid.UUID) -> WebhookRead:
    """One subscription.

    Raises:
        NotFound: no subscription has that id.
    """
    async with ctx.read() as session:
        webhook = await repo.read_webhook(session, webhook_id=webhook_id)
        if webhook is None:
            raise NotFound(f"no webhook has the id {webhook_id}", field="webhook_id")
        return webhook_read(webhook)


async def update_webhook(
    ctx: ServiceContext, *, webhook_id: uuid.UUID, data: WebhookUpdate, actor: str
) -> WebhookRead:
    """Change the fields ``data`` sets (``workflow`` sent as null clears the filter).

    Deliveries already queued keep their body; a disabled subscription gets no new ones and
    its queued ones wait until it is enabled again. Enabled again, it receives the events
    appended from then on.

    Raises:
        NotFound: no subscription has that id.
        StateRefused: the new address leads to a network the address policy forbids.
    """
    sent = data.model_fields_set
    if "url" in sent and data.url is not None:
        await _check_target(ctx, data.url)
    async with ctx.write() as session:
        webhook = await _locked(session, webhook_id)
        if "url" in sent and data.url is not None:
            webhook.url = data.url
        if "events" in sent and data.events is not None:
            webhook.events = list(data.events)
        if "workflow" in sent:
            webhook.workflow = data.workflow
        if "format" in sent and data.format is not None:
            webhook.format = data.format.value
        switched_on = data.enabled is True and not webhook.enabled
        if "enabled" in sent and data.enabled is not None:
            webhook.enabled = data.enabled
        webhook.updated_at = utcnow()
        changed = ",".join(sorted(sent)) or "nothing"
        [record] = await append(session, [_saved(webhook, actor, changed)])
        if switched_on:  # what was appended while it was off is not sent
            webhook.since_seq = record.seq
        return webhook_read(webhook)


async def delete_webhook(ctx: ServiceContext, *, webhook_id: uuid.UUID, actor: str) -> None:
    """Delete a subscription and its delivery log.

    Raises:
        NotFound: no subscription has that id.
    """
    async with ctx.write() as session:
        webhook = await _locked(session, webhook_id)
        payload = {"id": str(webhook.id), "url": origin(webhook.url)}
        await repo.delete_deliveries(session, webhook_id=webhook.id)
        await session.delete(webhook)
        await append(session, [NewEvent(type=ev.WEBHOOK_DELETED, actor=actor, payload=payload)])


# --- the delivery log -----------------------------------------------------------------------


async def list_deliveries(
    ctx: ServiceContext, *, webhook_id: uuid.UUID | None, limit: int = 50
) -> list[DeliveryRead]:
    """The newest deliveries of one subscription (or of all), newest first.

    Raises:
        NotFound: ``webhook_id`` names no subscription.
    """
    limit = max(1, min(limit, MAX_DELIVERIES_SHOWN))
    async with ctx.read() as session:
        if (
            webhook_id is not None
            and await repo.read_webhook(session, webhook_id=webhook_id) is None
        ):
            raise NotFound(f"no webhook has the id {webhook_id}", field="webhook_id")
        rows = await repo.read_deliveries(session, webhook_id=webhook_id, limit=limit)
        return [delivery_read(d) for d in rows]


async def queue_redelivery(
    ctx: ServiceContext, *, delivery_id: uuid.UUID, actor: str
) -> DeliveryRead:
    """Queue the same body again, due now, as a new delivery (the old one stays in the log).

    Raises:
        NotFound: no delivery has that id (or its subscription was deleted).
    """
    async with ctx.write() as session:
        old = await repo.read_delivery(session, delivery_id=delivery_id)
        if old is None:
            raise NotFound(f"no delivery has the id {delivery_id}", field="delivery_id")
        again = repo.pending_delivery(
            old.webhook_id, old.event_seq, old.event_type, old.body, actor, redelivery_of=old.id
        )
        repo.add_deliveries(session, rows=[again])
        await session.flush()
        return delivery_read(again)


async def queue_test(ctx: ServiceContext, *, webhook_id: uuid.UUID, actor: str) -> DeliveryRead:
    """Queue a ``webhook.test`` delivery, due now, in the subscription's format.

    Raises:
        NotFound: no subscription has that id.
    """
    async with ctx.write() as session:
        webhook = await _locked(session, webhook_id)
        event = sample_event(webhook_id=str(webhook.id), actor=actor, ts=utcnow().isoformat())
        text = body(event, workflow=webhook.workflow, form=Format(webhook.format))
        delivery = repo.pending_delivery(webhook.id, None, TEST_EVENT, text, actor)
        repo.add_deliveries(session, rows=[delivery])
        await session.flush()
        return delivery_read(delivery)
