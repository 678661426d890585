"""The webhook outbox follows the log: one delivery per event and matching subscription.

Nothing on the engine's path sends anything (ADR 0060): each window of events becomes rows of
``webhook_deliveries``, written in the transaction that moves the follower's cursor, so an event
is queued once per subscription even when two servers follow the log. A subscription that is off
gets nothing, and none gets an event older than itself (its ``since_seq``).
``services.usecases.webhook_sender`` claims the due rows and sends them.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from missionctl.db.models import Event
from missionctl.domain.webhooks import SUBSCRIBABLE, Format, body, event_matches
from missionctl.repositories import webhooks as repo
from missionctl.repositories.followers import Window
from missionctl.services.followers.follower import Follower
from missionctl.services.runtime.context import ServiceContext


def _fold(session: Session, window: Window, _ctx: ServiceContext) -> None:
    webhooks = repo.enabled_webhooks(session)
    if not webhooks:
        return
    events = repo.read_events(session, after=window.after, upto=window.upto, types=SUBSCRIBABLE)
    workflows = _workflows(session, events) if events else {}
    rows = [
        repo.pending_delivery(
            webhook.id,
            event.seq,
            event.type,
            body(_event_dict(event), workflow=workflows[event.seq], form=Format(webhook.format)),
            "system",
        )
        for event in events
        for webhook in webhooks
        if event.seq > webhook.since_seq
        and event_matches(
            subscribed=webhook.events,
            workflow_filter=webhook.workflow,
            event_type=event.type,
            workflow=workflows[event.seq],
        )
    ]
    repo.add_deliveries(session, rows=rows)


WEBHOOK_OUTBOX = Follower(name="webhooks", description="the webhook outbox", fold=_fold)


def _event_dict(event: Event) -> dict[str, Any]:
    return {
        "type": event.type,
        "seq": event.seq,
        "ts": event.ts.isoformat(),
        "actor": event.actor,
        "mission_id": None if event.mission_id is None else str(event.mission_id),
        "run_id": None if event.run_id is None else str(event.run_id),
        "step_id": event.step_id,
        "payload": event.payload,
    }


def _named_workflow_id(event: Event) -> uuid.UUID | None:
    """The workflow version an event's payload names (a schedule's events do), if any."""
    found = event.payload.get("workflow_id")
    if not isinstance(found, str):
        return None
    try:
        return uuid.UUID(found)
    except ValueError:  # not an id: it names no version that can be looked up
        return None


def _workflows(session: Session, events: Sequence[Event]) -> dict[int, str | None]:
    """Each event's workflow name: its run's, else the one its payload names (a schedule's)."""
    runs = repo.workflows_of_runs(
        session, run_ids={e.run_id for e in events if e.run_id is not None}
    )
    named = {e.seq: _named_workflow_id(e) for e in events}
    by_id = repo.workflow_names(session, workflow_ids={i for i in named.values() if i is not None})
    names: dict[int, str | None] = {}
    for event in events:
        name = runs.get(event.run_id) if event.run_id is not None else None
        if name is None and isinstance(event.payload.get("workflow"), str):
            name = event.payload["workflow"]
        if name is None and (version := named[event.seq]) is not None:
            name = by_id.get(version)
        names[event.seq] = name
    return names
