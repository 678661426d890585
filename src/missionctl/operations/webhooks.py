"""Webhooks: outbound subscriptions to events and their delivery logs (admins only, ADR 0060).

A subscription's signing secret is in the answer that creates it and nowhere else, ever; its
address is read back with any user name and password masked. Redelivering and testing send at
once and answer with the delivery as it then stands (at most the request timeout later).
"""

from missionctl.domain.access import Permission as P
from missionctl.operations import Operation
from missionctl.schemas.webhooks import (
    DeliveryQuery,
    DeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)

_SERVICE = "missionctl.services.usecases.webhooks"
URL_RULE = (
    "an http or https address whose host parses (a name, an IPv4 address or a bracketed IPv6 one)"
)
"""What of an address the schema's ``uri`` format does not check (``api.refusals``)."""
_SENDER = "missionctl.services.usecases.webhook_sender"

CREATE: Operation[WebhookCreated] = Operation(
    name="create_webhook",
    doc="Subscribe an address to event types; the answer carries the signing secret, this "
    "once.\n\n422 names the field at fault: an address that is not http(s), too long or has no "
    "host, an event type that cannot be subscribed to, an unknown format; 409 an address the "
    "address policy (a setting) forbids.",
    method="POST",
    path="/webhooks",
    permission=P.WEBHOOKS_ADMIN,
    service=f"{_SERVICE}:create_webhook",
    body=WebhookCreate,
    output=WebhookCreated,
    status_code=201,
    cli="webhooks add",
    errors=(409,),
    refusals={"url": URL_RULE},
)
LIST: Operation[list[WebhookRead]] = Operation(
    name="list_webhooks",
    doc="Every subscription, oldest first; never a secret.",
    method="GET",
    path="/webhooks",
    permission=P.WEBHOOKS_ADMIN,
    service=f"{_SERVICE}:list_webhooks",
    output=list[WebhookRead],
    cli="webhooks list",
)
READ: Operation[WebhookRead] = Operation(
    name="read_webhook",
    doc="One subscription (404 if none has the id).",
    method="GET",
    path="/webhooks/{webhook_id}",
    permission=P.WEBHOOKS_ADMIN,
    service=f"{_SERVICE}:read_webhook",
    output=WebhookRead,
    cli="webhooks show",
)
UPDATE: Operation[WebhookRead] = Operation(
    name="update_webhook",
    doc="Change the fields sent: `enabled`, `events`, `url`, `workflow` (null clears), `format`.",
    method="PATCH",
    path="/webhooks/{webhook_id}",
    permission=P.WEBHOOKS_ADMIN,
    service=f"{_SERVICE}:update_webhook",
    body=WebhookUpdate,
    output=WebhookRead,
    cli="webhooks disable",  # and `webhooks enable`
    errors=(409,),
    refusals={"url": URL_RULE},
)
DELETE: Operation[None] = Operation(
    name="delete_webhook",
    doc="Delete a subscription and its delivery log.",
    method="DELETE",
    path="/webhooks/{webhook_id}",
    permission=P.WEBHOOKS_ADMIN,
    service=f"{_SERVICE}:delete_webhook",
    status_code=204,
    cli="webhooks delete",
)
DELIVERIES: Operation[list[DeliveryRead]] = Operation(
    name="list_deliveries",
    doc="The subscription's newest deliveries, newest first, each with its last answer.",
    method="GET",
    path="/webhooks/{webhook_id}/deliveries",
    permission=P.WEBHOOKS_ADMIN,
    service=f"{_SERVICE}:list_deliveries",
    query=DeliveryQuery,
    output=list[DeliveryRead],
    cli="webhooks deliveries",
)
REDELIVER: Operation[DeliveryRead] = Operation(
    name="redeliver",
    doc="Send a delivery's body again now, as a new delivery (retried like any other if it fails).",
    method="POST",
    path="/webhooks/deliveries/{delivery_id}/redeliver",
    permission=P.WEBHOOKS_ADMIN,
    service=f"{_SENDER}:redeliver",
    needs=("sign",),
    output=DeliveryRead,
    cli="webhooks redeliver",
)
TEST: Operation[DeliveryRead] = Operation(
    name="send_test",
    doc="Send a `webhook.test` delivery now, even to a disabled subscription; its answer.",
    method="POST",
    path="/webhooks/{webhook_id}/test",
    permission=P.WEBHOOKS_ADMIN,
    service=f"{_SENDER}:send_test",
    needs=("sign",),
    output=DeliveryRead,
    cli="webhooks test",
)

# The literal path /webhooks/deliveries/… is declared before /webhooks/{webhook_id}/… reads.
OPERATIONS = (CREATE, LIST, REDELIVER, READ, UPDATE, DELETE, DELIVERIES, TEST)
