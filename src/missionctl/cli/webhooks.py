"""``missionctl webhooks …``: outbound webhook subscriptions and their delivery logs.

On the local database as ``system``, or on the server at ``MISSIONCTL_URL`` as
``MISSIONCTL_TOKEN`` (an admin's). ``add`` prints the signing secret once; nothing prints it
again. Locally, ``redeliver`` and ``test`` send from this process; the outbox itself is sent by
``missionctl serve`` (docs/webhooks.md).
"""

import json
import uuid
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from missionctl.cli._ids import id_argument
from missionctl.cli._runtime import console, report_validation_error
from missionctl.domain.webhooks import SUBSCRIBABLE, Format

if TYPE_CHECKING:  # the schemas are imported where used, so that `missionctl --help` is fast
    from missionctl.schemas.webhooks import DeliveryRead, WebhookRead

app = typer.Typer(
    help="Outbound webhooks: signed POSTs to your address when runs fail or complete, approvals "
    "wait, budgets run low, the emergency stop moves, workers go offline or schedules misfire.",
    no_args_is_help=True,
)

OPTIONS = {"url": "URL", "events": "--event", "workflow": "--workflow", "format": "--format"}
"""The option that sets each field, so that a problem names what to fix."""

WebhookId = Annotated[
    uuid.UUID, id_argument("webhooks", "WEBHOOK_ID", "The subscription's id (`webhooks list`)")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _print(webhook: "WebhookRead") -> None:
    state = "on" if webhook.enabled else "[yellow]off[/yellow]"
    only = f"  only workflow {escape(webhook.workflow)}" if webhook.workflow else ""
    console.print(f"[bold]{webhook.id}[/bold]  {escape(webhook.url)}  {state}  {webhook.format}")
    console.print(f"  events: {', '.join(webhook.events)}{only}")


def _print_delivery(delivery: "DeliveryRead") -> None:
    code = delivery.status_code if delivery.status_code is not None else "-"
    why = f"  {escape(delivery.error)}" if delivery.error else ""
    console.print(
        f"{delivery.id}  {delivery.event_type}  {delivery.status}  {code}  "
        f"attempt {delivery.attempts}{why}"
    )


@app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="The http:// or https:// address to POST to.")],
    event: Annotated[
        list[str],
        typer.Option(
            "--event", "-e", help="An event type to send (repeat): " + ", ".join(SUBSCRIBABLE)
        ),
    ],
    workflow: Annotated[
        str | None, typer.Option(help="Only this workflow's events (by name).")
    ] = None,
    body_format: Annotated[
        Format, typer.Option("--format", help='json: the event; slack: {"text": ...}.')
    ] = Format.json,
    disabled: Annotated[bool, typer.Option("--disabled", help="Add it switched off.")] = False,
) -> None:
    """Subscribe an address; prints the signing secret, which is never shown again."""
    from pydantic import ValidationError

    from missionctl.cli._backend import open_backend
    from missionctl.operations import webhooks as ops
    from missionctl.schemas.webhooks import WebhookCreate

    try:
        data = WebhookCreate.model_validate(
            {
                "url": url,
                "events": event,
                "workflow": workflow,
                "format": body_format,
                "enabled": not disabled,
            }
        )
    except ValidationError as exc:
        report_validation_error(exc, option_for=OPTIONS)
        return
    with open_backend() as api:
        created = api.call(ops.CREATE, body=data, options=OPTIONS)
    console.print("[green]added[/green]")
    _print(created.webhook)
    console.print(
        "Signing secret (shown this once; verify the Missionctl-Signature header with it):"
    )
    typer.echo(created.secret)


@app.command("list")
def list_webhooks(as_json: AsJson = False) -> None:
    """List every subscription (never a secret)."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import webhooks as ops

    with open_backend() as api:
        webhooks = api.call(ops.LIST)
    if as_json:
        typer.echo(json.dumps([w.model_dump(mode="json") for w in webhooks], indent=2))
        return
    # One block per subscription, as `add` and `show` print it: an id and an address are
    # too long to share an 80-column row with a list of events.
    console.print(f"Webhooks ({len(webhooks)})", highlight=False)
    for webhook in webhooks:
        _print(webhook)


@app.command("show")
def show(webhook_id: WebhookId, as_json: AsJson = False) -> None:
    """Show one subscription."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import webhooks as ops

    with open_backend() as api:
        webhook = api.call(ops.READ, webhook_id=webhook_id)
    if as_json:
        typer.echo(webhook.model_dump_json(indent=2))
        return
    _print(webhook)


def _switch(webhook_id: uuid.UUID, enabled: bool) -> None:
    from missionctl.cli._backend import open_backend
    from missionctl.operations import webhooks as ops
    from missionctl.schemas.webhooks import WebhookUpdate

    with open_backend() as api:
        webhook = api.call(ops.UPDATE, webhook_id=webhook_id, body=WebhookUpdate(enabled=enabled))
    _print(webhook)


@app.command("disable")
def disable(webhook_id: WebhookId) -> None:
    """Stop sending to a subscription (queued deliveries wait until it is enabled)."""
    _switch(webhook_id, False)


@app.command("enable")
def enable(webhook_id: WebhookId) -> None:
    """Send to a subscription again, from the events appended from now on."""
    _switch(webhook_id, True)


@app.command("delete")
def delete(webhook_id: WebhookId) -> None:
    """Delete a subscription and its delivery log."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import webhooks as ops

    with open_backend() as api:
        api.call(ops.DELETE, webhook_id=webhook_id)
    console.print(f"[green]deleted[/green] {webhook_id}")


@app.command("deliveries")
def deliveries(
    webhook_id: WebhookId,
    limit: Annotated[int, typer.Option(min=1, max=200, help="How many, newest first.")] = 20,
    as_json: AsJson = False,
) -> None:
    """A subscription's newest deliveries with their answer codes."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import webhooks as ops
    from missionctl.schemas.webhooks import DeliveryQuery

    with open_backend() as api:
        rows = api.call(ops.DELIVERIES, webhook_id=webhook_id, query=DeliveryQuery(limit=limit))
    if as_json:
        typer.echo(json.dumps([d.model_dump(mode="json") for d in rows], indent=2))
        return
    table = Table(
        title=f"Deliveries ({len(rows)})",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        collapse_padding=True,
    )
    table.add_column("id", overflow="fold")  # whole, even folded: `redeliver` takes it
    for column in ("event", "status", "code", "attempts", "ms", "error"):
        table.add_column(column, overflow="fold")
    for d in rows:
        table.add_row(
            str(d.id),
            d.event_type,
            d.status,
            "-" if d.status_code is None else str(d.status_code),
            str(d.attempts),
            "-" if d.duration_ms is None else str(d.duration_ms),
            escape(d.error or ""),
        )
    console.print(table)


@app.command("redeliver")
def redeliver(
    delivery_id: Annotated[
        uuid.UUID, id_argument("deliveries", "DELIVERY_ID", "A delivery's id (`deliveries`)")
    ],
) -> None:
    """Send a delivery's body again now, as a new delivery; prints its answer."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import webhooks as ops

    with open_backend() as api:
        _print_delivery(api.call(ops.REDELIVER, delivery_id=delivery_id))


@app.command("test")
def test(webhook_id: WebhookId) -> None:
    """Send a webhook.test delivery now; prints the answer."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import webhooks as ops

    with open_backend() as api:
        _print_delivery(api.call(ops.TEST, webhook_id=webhook_id))
