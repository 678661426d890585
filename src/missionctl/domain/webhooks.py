"""Outbound webhooks as pure rules: what may be subscribed to, good addresses, bodies, backoff.

No I/O here (the domain is pure): ``services/followers/webhook_outbox.py`` follows the log
and stores deliveries, ``services/usecases/webhook_sender.py`` sends them. See docs/webhooks.md
and ADR 0060.
"""

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from missionctl.domain import events as ev
from missionctl.domain.money import micros_text

SUBSCRIBABLE: Final[tuple[str, ...]] = (
    ev.RUN_FAILED,
    ev.RUN_COMPLETED,
    ev.APPROVAL_REQUESTED,
    ev.BUDGET_WARNING,
    ev.BUDGET_EXCEEDED,
    ev.SPENDING_CAP_WARNING,
    ev.SPENDING_CAP_REACHED,
    ev.EMERGENCY_STOPPED,
    ev.EMERGENCY_RELEASED,
    ev.WORKER_OFFLINE,
    ev.SCHEDULE_MISFIRED,
    ev.ANALYTICS_ANOMALY_DETECTED,
    ev.STEP_AT_RISK,
)
"""The event types a subscription may name, in the order forms list them."""

TEST_EVENT: Final = "webhook.test"
"""The type a test delivery carries: it is sent, never appended to the log."""

MAX_URL_CHARS: Final = 2000
MAX_WORKFLOW_CHARS: Final = 200
MAX_RESPONSE_CHARS: Final = 2000
"""How much of a receiver's answer a delivery keeps."""
MAX_ERROR_CHARS: Final = 500
MAX_SLACK_TEXT_CHARS: Final = 3000
"""Slack shows at most about 3,000 characters of a message's text."""


class Format(StrEnum):
    """What a delivery's body looks like."""

    json = "json"  # the event as JSON (docs/webhooks.md)
    slack = "slack"  # {"text": "..."}: what Slack's and compatible incoming webhooks read


class DeliveryStatus(StrEnum):
    """Where a delivery is: waiting, being sent under a lease, or done either way."""

    pending = "pending"
    sending = "sending"
    delivered = "delivered"
    failed = "failed"


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot receive webhooks (a sentence naming the fix), or ``None`` if it can.

    Only absolute ``http``/``https`` addresses with a host, at most ``MAX_URL_CHARS`` long,
    without spaces or control characters.
    """
    if len(url) > MAX_URL_CHARS:
        return f"is {len(url):,} characters long; use an address of at most {MAX_URL_CHARS:,}"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not a valid address; write e.g. https://hooks.example.com/missionctl"
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname:
        return "names no host; write e.g. https://hooks.example.com/missionctl"
    del port  # read only so that a bad port is refused here
    return _host_problem(parts.hostname)


def _host_problem(host: str) -> str | None:
    """Why ``host`` cannot be looked up, or ``None``: the resolver writes it in IDNA first."""
    try:
        host.encode("idna")
    except UnicodeError as exc:
        reason = str(exc.__cause__ or exc).removeprefix("encoding with 'idna' codec failed ")
        return (
            f"names the host {host[:100]!r}, which is not a host name ({reason.strip('()')}); "
            "write e.g. https://hooks.example.com/missionctl"
        )
    return None


def shown_url(url: str) -> str:
    """``url`` as it may be shown and recorded: a user name and password become ``***``.

    The full address (which may carry basic-auth credentials) is only ever sent to.
    """
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: what events record of an address.

    The path and query may be the credential itself (a Slack incoming webhook's path is), so
    the log, which every viewer reads, keeps only where requests go.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port is not None else "")


def backoff(attempts: int, delays_s: Sequence[float]) -> float:
    """Seconds to wait after failed attempt ``attempts`` (from 1); the last delay repeats."""
    if not delays_s:
        raise ValueError("a backoff needs at least one delay")
    return float(delays_s[min(max(attempts, 1), len(delays_s)) - 1])


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def event_matches(
    *,
    subscribed: Sequence[str],
    workflow_filter: str | None,
    event_type: str,
    workflow: str | None,
) -> bool:
    """Whether a subscription receives an event.

    The type must be subscribed. A workflow filter lets through the events of that workflow's
    runs (and schedules), and the events that belong to no workflow at all (the emergency stop,
    a worker going offline): those concern every workflow.
    """
    if event_type not in subscribed:
        return False
    return workflow_filter is None or workflow is None or workflow == workflow_filter


def json_body(event: Mapping[str, Any], *, workflow: str | None) -> dict[str, Any]:
    """The ``json`` body: the event as the log holds it, with its workflow's name."""
    return {
        "type": event["type"],
        "seq": event["seq"],
        "ts": event["ts"],
        "actor": event["actor"],
        "mission_id": event.get("mission_id"),
        "run_id": event.get("run_id"),
        "step_id": event.get("step_id"),
        "workflow": workflow,
        "payload": event.get("payload") or {},
    }


def slack_body(event: Mapping[str, Any], *, workflow: str | None) -> dict[str, str]:
    """The ``slack`` body: one line of text saying what happened (``{"text": ...}``)."""
    return {"text": clip(describe(event, workflow=workflow), MAX_SLACK_TEXT_CHARS)}


def body(event: Mapping[str, Any], *, workflow: str | None, form: Format) -> str:
    """The body to send for ``event`` in ``form``, as compact JSON text."""
    content = (
        slack_body(event, workflow=workflow)
        if form is Format.slack
        else json_body(event, workflow=workflow)
    )
    return json.dumps(content, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _where(event: Mapping[str, Any], workflow: str | None) -> str:
    run = f" run {event['run_id']}" if event.get("run_id") else ""
    flow = f" of workflow {workflow}" if workflow else ""
    return f"{run}{flow}"


def describe(event: Mapping[str, Any], *, workflow: str | None) -> str:
    """A sentence for people: what the event says, where, and the reason when there is one."""
    kind = str(event["type"])
    payload: Mapping[str, Any] = event.get("payload") or {}
    where = _where(event, workflow)
    reason = str(payload.get("error") or payload.get("reason") or "").strip()
    # A run's end says what its tasks produced: "completed" alone reads as "built".
    produced = str(payload.get("headline") or "").strip()
    produced = f" ({produced})" if produced else ""
    lines = {
        ev.RUN_FAILED: f":x: Mission Control:{where} failed{produced}",
        ev.RUN_COMPLETED: f":white_check_mark: Mission Control:{where} completed{produced}",
        ev.APPROVAL_REQUESTED: f":raised_hand: Mission Control: step {event.get('step_id')}"
        f"{where} waits for an approval",
        ev.BUDGET_WARNING: f":warning: Mission Control:{where} has spent 80 % of its budget",
        ev.BUDGET_EXCEEDED: f":no_entry: Mission Control:{where} reached its budget cap",
        ev.SPENDING_CAP_WARNING: f":warning: Mission Control: {_cap(payload)} is 80 % spent",
        ev.SPENDING_CAP_REACHED: f":no_entry: Mission Control: {_cap(payload)} is reached; "
        "steps wait for the next period or a higher cap",
        ev.EMERGENCY_STOPPED: ":rotating_light: Mission Control: emergency stop "
        f"by {event['actor']}",
        ev.EMERGENCY_RELEASED: f":large_green_circle: Mission Control: emergency stop released "
        f"by {event['actor']}",
        ev.WORKER_OFFLINE: f":electric_plug: Mission Control: worker "
        f"{payload.get('name') or payload.get('worker') or ''} went offline",
        ev.SCHEDULE_MISFIRED: f":alarm_clock: Mission Control: schedule "
        f"{payload.get('name') or payload.get('schedule_id') or ''}{where} misfired",
        ev.ANALYTICS_ANOMALY_DETECTED: _anomaly_line(payload),
        TEST_EVENT: ":wave: Mission Control: a test delivery from this webhook",
    }
    line = lines.get(kind, f"Mission Control: {kind}{where}")
    return f"{line}: {reason}" if reason else line


def _cap(payload: Mapping[str, Any]) -> str:
    """A spending cap in words: ``the cap on llm:writer per UTC day ($0.40 of $0.50)``."""
    agent = str(payload.get("agent") or "")
    who = "all agents" if agent == "*" else agent
    spent, cap = micros_text(payload.get("spent_micros")), micros_text(payload.get("cap_micros"))
    return f"the spending cap on {who} per UTC {payload.get('period')} ({spent} of {cap})"


_ANOMALY_ICONS: Final = {"critical": ":rotating_light:", "warning": ":warning:", "info": ":bulb:"}


def _anomaly_line(payload: Mapping[str, Any]) -> str:
    """An anomaly said in a line: its severity, what changed with its windows, what it means."""
    severity = str(payload.get("severity") or "info")
    icon = _ANOMALY_ICONS.get(severity, ":bulb:")
    explanation = str(payload.get("explanation") or payload.get("label") or "a metric moved")
    impact = str(payload.get("impact") or "").strip()
    line = f"{icon} Mission Control: {severity} anomaly: {explanation}"
    return f"{line} Impact: {impact}." if impact else line


def sample_event(*, webhook_id: str, actor: str, ts: str) -> dict[str, Any]:
    """The event a test delivery describes (never appended to the log)."""
    return {
        "type": TEST_EVENT,
        "seq": None,
        "ts": ts,
        "actor": actor,
        "payload": {"webhook_id": webhook_id},
    }
