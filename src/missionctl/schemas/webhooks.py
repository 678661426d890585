"""Webhook contracts: a subscription as sent and as read, and its deliveries (ADR 0060).

A subscription's secret is in ``WebhookCreated`` (the answer that makes it) and nowhere else;
its address is read back with any user name and password masked (``domain.webhooks.shown_url``).
"""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

from missionctl.domain.webhooks import (
    MAX_URL_CHARS,
    MAX_WORKFLOW_CHARS,
    SUBSCRIBABLE,
    DeliveryStatus,
    Format,
    url_problem,
)
from missionctl.schemas.missions import NO_NUL_PATTERN, plain_text

EventType = Literal[
    "run.failed",
    "run.completed",
    "approval.requested",
    "budget.warning",
    "budget.exceeded",
    "spending_cap.warning",
    "spending_cap.reached",
    "emergency.stopped",
    "emergency.released",
    "worker.offline",
    "schedule.misfired",
    "analytics.anomaly_detected",
    "step.at_risk",
]
"""``domain.webhooks.SUBSCRIBABLE`` as a type (``tests/webhooks`` checks the two agree)."""


def _good_url(url: str) -> str:
    if problem := url_problem(url):
        raise ValueError(f"the address {problem}")
    return url


def _distinct(events: list[EventType]) -> list[EventType]:
    return list(dict.fromkeys(events))  # a type named twice is subscribed once


_VISIBLE = r"[^\s\x00-\x1f\x7f"
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
URL_PATTERN = (
    rf"^[Hh][Tt][Tt][Pp][Ss]?://({_VISIBLE}/?#@]*@)?"
    rf"({_VISIBLE}/?#@:\[\]]+|\[[0-9A-Fa-f:.]+\])(:{_PORT}?)?([/?#]{_VISIBLE}]*)?$"
)
"""What ``domain.webhooks.url_problem`` accepts, for OpenAPI: an http or https address with a
host and a port that exists, without spaces or control characters."""

Url = Annotated[
    str,
    plain_text(MAX_URL_CHARS),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL_CHARS),
    AfterValidator(_good_url),
    WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": MAX_URL_CHARS, "pattern": URL_PATTERN}
    ),
]
Events = Annotated[
    list[EventType],
    Field(min_length=1, max_length=len(SUBSCRIBABLE) * 2),
    AfterValidator(_distinct),
]
WorkflowName = Annotated[
    str,
    plain_text(MAX_WORKFLOW_CHARS),
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_WORKFLOW_CHARS, pattern=NO_NUL_PATTERN
    ),
]


class WebhookCreate(BaseModel):
    """A new subscription: where, which events, optionally of which workflow, in what body."""

    model_config = ConfigDict(extra="forbid")

    url: Url = Field(description="An http:// or https:// address that receives POST requests.")
    events: Events = Field(description="The event types to send: " + ", ".join(SUBSCRIBABLE) + ".")
    workflow: WorkflowName | None = Field(
        default=None,
        description="Only this workflow's events (by name); events of no workflow, such as "
        "the emergency stop, are sent too. Omit for every workflow.",
    )
    format: Format = Field(
        default=Format.json,
        description='`json`: the event; `slack`: `{"text": "..."}` for Slack-compatible receivers.',
    )
    enabled: bool = True


class WebhookUpdate(BaseModel):
    """A change to a subscription: only the fields sent change (``workflow: null`` clears it)."""

    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    events: Events | None = None
    workflow: WorkflowName | None = None
    format: Format | None = None
    enabled: bool | None = None


class WebhookRead(BaseModel):
    """A subscription as anyone may read it: never its secret; its address's credentials masked."""

    id: uuid.UUID
    url: str
    events: list[str]
    workflow: str | None
    format: Format
    enabled: bool
    created_by: str
    created_at: datetime
    updated_at: datetime


class WebhookCreated(BaseModel):
    """The new subscription and its signing secret: shown this once, never again."""

    webhook: WebhookRead
    secret: str = Field(
        description="Verifies the `Missionctl-Signature` header of each request (HMAC-SHA256)."
    )


class DeliveryRead(BaseModel):
    """One body sent (or to send) to one subscription, and the last attempt's answer."""

    id: uuid.UUID
    webhook_id: uuid.UUID
    event_seq: int | None = Field(description="The event's seq in the log; null for a test.")
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None = Field(description="When it is tried again, if it will be.")
    status_code: int | None = Field(description="The HTTP status of the last answer.")
    response_body: str | None = Field(
        description="The last answer's status line and media type (never its body), at most 200 "
        "characters."
    )
    error: str | None = Field(description="Why the last attempt failed, if it did.")
    duration_ms: int | None
    redelivery_of: uuid.UUID | None
    created_by: str
    created_at: datetime
    attempted_at: datetime | None
    delivered_at: datetime | None


MAX_DELIVERIES_SHOWN = 200
"""The most deliveries one read of a delivery log returns."""


class DeliveryQuery(BaseModel):
    """Which of a subscription's deliveries to read: the newest ``limit``."""

    limit: int = Field(50, ge=1, le=MAX_DELIVERIES_SHOWN, description="How many, newest first.")
