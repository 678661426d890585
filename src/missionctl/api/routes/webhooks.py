"""``/api/v1/webhooks``: outbound webhook subscriptions and their delivery logs (admins only).

A subscription's signing secret is in the answer that creates it and nowhere else, ever; its
address is read back with any user name and password masked. Redelivering and testing send at
once and answer with the delivery as it then stands (at most the request timeout later).
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from missionctl.api.deps import Context, Identity, P, requires
from missionctl.api.errors import BODY_RESPONSES, ERROR_RESPONSES
from missionctl.schemas.webhooks import (
    DeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)
from missionctl.security.guard import GuardedRoute
from missionctl.security.signing import sign
from missionctl.services.usecases import webhook_sender, webhooks
from missionctl.services.usecases.webhooks import MAX_DELIVERIES_SHOWN

router = APIRouter(route_class=GuardedRoute, tags=["webhooks"], responses=ERROR_RESPONSES)

Admin = Annotated[Identity, requires(P.WEBHOOKS_ADMIN)]


@router.post(
    "/webhooks",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    responses=BODY_RESPONSES,
)
async def create_webhook(body: WebhookCreate, ctx: Context, who: Admin) -> WebhookCreated:
    """Subscribe an address to event types; the answer carries the signing secret, this once.

    422 names the field at fault: an address that is not http(s), too long or has no host, an
    event type that cannot be subscribed to, an unknown format.
    """
    return await webhooks.create_webhook(ctx, data=body, actor=who.actor)


@router.get(
    "/webhooks", response_model=list[WebhookRead], dependencies=[requires(P.WEBHOOKS_ADMIN)]
)
async def list_webhooks(ctx: Context) -> list[WebhookRead]:
    """Every subscription, oldest first; never a secret."""
    return await webhooks.list_webhooks(ctx)


@router.get(
    "/webhooks/{webhook_id}",
    response_model=WebhookRead,
    dependencies=[requires(P.WEBHOOKS_ADMIN)],
)
async def read_webhook(webhook_id: uuid.UUID, ctx: Context) -> WebhookRead:
    """One subscription (404 if none has the id)."""
    return await webhooks.read_webhook(ctx, webhook_id=webhook_id)


@router.patch("/webhooks/{webhook_id}", response_model=WebhookRead, responses=BODY_RESPONSES)
async def update_webhook(
    webhook_id: uuid.UUID, body: WebhookUpdate, ctx: Context, who: Admin
) -> WebhookRead:
    """Change the fields sent: `enabled`, `events`, `url`, `workflow` (null clears), `format`."""
    return await webhooks.update_webhook(ctx, webhook_id=webhook_id, data=body, actor=who.actor)


@router.delete(
    "/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response
)
async def delete_webhook(webhook_id: uuid.UUID, ctx: Context, who: Admin) -> Response:
    """Delete a subscription and its delivery log."""
    await webhooks.delete_webhook(ctx, webhook_id=webhook_id, actor=who.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=list[DeliveryRead],
    dependencies=[requires(P.WEBHOOKS_ADMIN)],
)
async def list_deliveries(
    webhook_id: uuid.UUID,
    ctx: Context,
    limit: Annotated[int, Query(ge=1, le=MAX_DELIVERIES_SHOWN)] = 50,
) -> list[DeliveryRead]:
    """The subscription's newest deliveries, newest first, each with its last answer."""
    return await webhooks.list_deliveries(ctx, webhook_id=webhook_id, limit=limit)


@router.post("/webhooks/deliveries/{delivery_id}/redeliver", response_model=DeliveryRead)
async def redeliver(delivery_id: uuid.UUID, ctx: Context, who: Admin) -> DeliveryRead:
    """Send a delivery's body again now, as a new delivery (retried like any other if it fails)."""
    return await webhook_sender.redeliver(ctx, delivery_id=delivery_id, actor=who.actor, sign=sign)


@router.post("/webhooks/{webhook_id}/test", response_model=DeliveryRead)
async def send_test(webhook_id: uuid.UUID, ctx: Context, who: Admin) -> DeliveryRead:
    """Send a `webhook.test` delivery now, even to a disabled subscription; its answer."""
    return await webhook_sender.send_test(ctx, webhook_id=webhook_id, actor=who.actor, sign=sign)
