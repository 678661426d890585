"""The Webhooks page (admins only): subscriptions, the form that adds one, the delivery log.

- ``GET /webhooks``: every subscription with its newest deliveries (answer codes, errors), a
  Send test button, Enable/Disable, Delete, and Redeliver on each delivery.
- ``POST /webhooks``: add a subscription. The answer is the page with the new secret shown
  this once (it is in no URL, no later page); on invalid input, the form again with a message
  beside each field at fault (422) and nothing stored.
- ``POST /webhooks/{webhook_id}/test|enabled|delete`` and
  ``POST /webhooks/deliveries/{delivery_id}/redeliver``: the buttons; each answers with a 303
  back to the page (tests and redeliveries have been sent by then).
"""

from collections.abc import Mapping
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.status import HTTP_303_SEE_OTHER

from missionctl.domain.webhooks import MAX_URL_CHARS, SUBSCRIBABLE, Format
from missionctl.schemas.webhooks import WebhookCreate, WebhookCreated, WebhookUpdate
from missionctl.security.guard import GuardedRoute
from missionctl.security.signing import sign
from missionctl.services.usecases import webhook_sender, webhooks
from missionctl.web.deps import Context, DeliveryId, Identity, P, WebhookId, requires
from missionctl.web.form_errors import first_per_field
from missionctl.web.routes.add_forms import request_or_page
from missionctl.web.templating import render

PAGE = "pages/webhooks.html"
URL = "/webhooks"
DELIVERIES_SHOWN = 10
"""Deliveries listed under each subscription (the CLI and API read more)."""

router = APIRouter(route_class=GuardedRoute)
Admin = Annotated[Identity, requires(P.WEBHOOKS_ADMIN)]


class WebhookForm(BaseModel):
    """The "Add a webhook" form as posted: every field text, one ``events`` per ticked box."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    url: str = ""
    events: list[str] = []
    workflow: str = ""
    format: str = Format.json.value

    def to_create(self) -> WebhookCreate:
        """The service request (a blank workflow means every workflow).

        Raises:
            pydantic.ValidationError: the input breaks a rule of ``WebhookCreate``.
        """
        return WebhookCreate.model_validate(
            {
                "url": self.url.strip(),
                "events": self.events,
                "workflow": self.workflow.strip() or None,
                "format": self.format,
            }
        )


def form_errors(error: ValidationError) -> dict[str, str]:
    """One readable message per field of the form (the first problem of each)."""
    fields = ("url", "events", "workflow", "format")
    return first_per_field(error, fields=fields, default="url", wording=_message)


def _message(field: str, detail: Mapping[str, Any]) -> str:
    if field == "events":
        return "Tick at least one event; only the listed events can be sent."
    if field == "url" and detail.get("type") == "string_too_long":
        return f"Too long: use an address of at most {MAX_URL_CHARS:,} characters."
    if field == "url":
        text = str(detail.get("msg", "")).removeprefix("Value error, ") or "enter an address"
        return text[0].upper() + text[1:] + "."
    if field == "workflow":
        return "Name a workflow as it is saved, at most 200 characters, or leave it blank."
    return "Choose JSON or Slack."


async def _context(
    ctx: Context,
    *,
    form: WebhookForm | None = None,
    errors: dict[str, str] | None = None,
    created: WebhookCreated | None = None,
) -> dict[str, Any]:
    subscriptions = await webhooks.list_webhooks(ctx)
    logs = {
        w.id: await webhooks.list_deliveries(ctx, webhook_id=w.id, limit=DELIVERIES_SHOWN)
        for w in subscriptions
    }
    return {
        "webhooks": subscriptions,
        "deliveries": logs,
        "event_types": SUBSCRIBABLE,
        "form": form or WebhookForm(),
        "errors": errors or {},
        "created": created,
    }


@router.get(URL, dependencies=[requires(P.WEBHOOKS_ADMIN)])
async def webhooks_page(request: Request, ctx: Context) -> Response:
    """Every subscription with its newest deliveries, and the form that adds one."""
    return render(request, PAGE, await _context(ctx))


@router.post(URL)
async def add_webhook(
    request: Request, ctx: Context, who: Admin, form: Annotated[WebhookForm, Form()]
) -> Response:
    """Add a subscription; the page shows its secret this once (422 and the form on bad input)."""
    refused = partial(_context, ctx, form=form)
    data = await request_or_page(request, PAGE, form.to_create, form_errors, refused)
    if isinstance(data, Response):
        return data
    created = await webhooks.create_webhook(ctx, data=data, actor=who.actor)
    # The secret is in this answer only: never cached, never in a URL.
    headers = {"Cache-Control": "no-store"}
    return render(request, PAGE, await _context(ctx, created=created), headers=headers)


def _back() -> RedirectResponse:
    return RedirectResponse(URL, status_code=HTTP_303_SEE_OTHER)


@router.post(URL + "/{webhook_id}/test")
async def send_test(ctx: Context, who: Admin, webhook_id: WebhookId) -> Response:
    """Send a test delivery now; the page then lists it with its answer."""
    await webhook_sender.send_test(ctx, webhook_id=webhook_id, actor=who.actor, sign=sign)
    return _back()


@router.post(URL + "/{webhook_id}/enabled")
async def switch(
    ctx: Context, who: Admin, webhook_id: WebhookId, enabled: Annotated[bool, Form()]
) -> Response:
    """Turn a subscription on or off."""
    change = WebhookUpdate(enabled=enabled)
    await webhooks.update_webhook(ctx, webhook_id=webhook_id, data=change, actor=who.actor)
    return _back()


@router.post(URL + "/{webhook_id}/delete")
async def delete(ctx: Context, who: Admin, webhook_id: WebhookId) -> Response:
    """Delete a subscription and its delivery log."""
    await webhooks.delete_webhook(ctx, webhook_id=webhook_id, actor=who.actor)
    return _back()


@router.post(URL + "/deliveries/{delivery_id}/redeliver")
async def redeliver(ctx: Context, who: Admin, delivery_id: DeliveryId) -> Response:
    """Send a delivery's body again now; the page then lists the new delivery."""
    await webhook_sender.redeliver(ctx, delivery_id=delivery_id, actor=who.actor, sign=sign)
    return _back()
