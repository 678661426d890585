"""The event vocabulary of runs and steps, and the payload rule that makes replay possible.

Every event that changes a status carries the new ``status`` in its payload (and, for steps, the
``attempt``); ``run.created`` lists the run's steps. Folding a run's events therefore rebuilds
its state without knowing each event type (see ``domain.replay``).
"""

from collections.abc import Mapping
from typing import Any, Final, Literal

MISSION_PLANNING: Final = "mission.planning"
MISSION_NEEDS_CLARIFICATION: Final = "mission.needs_clarification"
MISSION_PLANNED: Final = "mission.planned"
MISSION_RUNNING: Final = "mission.running"
MISSION_COMPLETED: Final = "mission.completed"
MISSION_FAILED: Final = "mission.failed"
MISSION_CANCELED: Final = "mission.canceled"
# A phase or task of the plan a model is writing, shown before the plan is whole (a preview:
# ``mission.planned`` and the stored plan are the plan).
PLAN_DRAFTED: Final = "plan.drafted"

RUN_CREATED: Final = "run.created"
RUN_STARTED: Final = "run.started"
RUN_COMPLETED: Final = "run.completed"
RUN_FAILED: Final = "run.failed"
RUN_CANCELED: Final = "run.canceled"
RUN_RESUMED: Final = "run.resumed"
RUN_PAUSED: Final = "run.paused"
RUN_ABORTED: Final = "run.aborted"
BUDGET_EXCEEDED: Final = "budget.exceeded"
BUDGET_WARNING: Final = "budget.warning"
BUDGET_WARNING_SHARE = 0.8
# Spending caps per agent and per UTC period (ADR 0104): set and removed by an admin; a
# period's spending reaching 80 % of a cap, and the cap holding steps back, once a period each.
SPENDING_CAP_SET: Final = "spending_cap.set"
SPENDING_CAP_REMOVED: Final = "spending_cap.removed"
SPENDING_CAP_WARNING: Final = "spending_cap.warning"
SPENDING_CAP_REACHED: Final = "spending_cap.reached"
"""``budget.warning`` is recorded when spending first reaches this share of a cap."""

STEP_QUEUED: Final = "step.queued"
STEP_STARTED: Final = "step.started"
STEP_SUCCEEDED: Final = "step.succeeded"
STEP_FAILED: Final = "step.failed"
STEP_RETRY_SCHEDULED: Final = "step.retry_scheduled"
STEP_LEASE_EXPIRED: Final = "step.lease_expired"
STEP_BLOCKED: Final = "step.blocked"
STEP_UNBLOCKED: Final = "step.unblocked"
STEP_SKIPPED: Final = "step.skipped"
STEP_CANCELED: Final = "step.canceled"
STEP_REUSED: Final = "step.reused"
STEP_RETRIED: Final = "step.retried"
STEP_LOG: Final = "step.log"
STEP_HELD: Final = "step.held"
STEP_RELEASED: Final = "step.released"
STEP_USAGE: Final = "step.usage"
STEP_INPUT: Final = "step.input"
# A step likely to fail, by the estimate from its history (ADR 0118); once per attempt.
STEP_AT_RISK: Final = "step.at_risk"
# Where model routing sent an llm: step, and why, when its run was created (ADR 0119).
STEP_ROUTED: Final = "step.routed"
# An admin's change to a model of the routing catalogue (ADR 0119).
MODEL_SET: Final = "model.set"
# The endpoint's list of models, as the catalogue recorded it (ADR 0119).
MODEL_SYNCED: Final = "model.synced"
# A workflow suggestion applied: the version it made from the one it edited (ADR 0120).
SUGGESTION_APPLIED: Final = "suggestion.applied"

APPROVAL_REQUESTED: Final = "approval.requested"
APPROVAL_APPROVED: Final = "approval.approved"
APPROVAL_REJECTED: Final = "approval.rejected"

EMERGENCY_STOPPED: Final = "emergency.stopped"
EMERGENCY_RELEASED: Final = "emergency.released"
AGENT_UPDATED: Final = "agent.updated"
WORKFLOW_SAVED: Final = "workflow.saved"

ARTIFACT_CREATED: Final = "artifact.created"
REPORT_DOWNLOADED: Final = "report.downloaded"

DECISION_ADDED: Final = "decision.added"
DECISION_CHANGED: Final = "decision.changed"
RISK_ADDED: Final = "risk.added"
RISK_CHANGED: Final = "risk.changed"
DOCUMENT_GENERATED: Final = "document.generated"
DEMO_SEEDED: Final = "demo.seeded"

# The control plane: engines (workers), schedules and outbound webhook subscriptions.
WORKER_DRAINING: Final = "worker.draining"
WORKER_RESUMED: Final = "worker.resumed"
WORKER_STOP_REQUESTED: Final = "worker.stop_requested"
WORKER_CONCURRENCY_CHANGED: Final = "worker.concurrency_changed"
# A worker given a range sizes itself from the queue (ADR 0115): the range set or cleared, and
# each size it took, with why.
WORKER_AUTOSCALE_SET: Final = "worker.autoscale_set"
WORKER_AUTOSCALE_CLEARED: Final = "worker.autoscale_cleared"
WORKER_AUTOSCALED: Final = "worker.autoscaled"
WORKER_OFFLINE: Final = "worker.offline"
# A process met its database unavailable, and later found it writable again (recorded then).
DATABASE_UNAVAILABLE: Final = "database.unavailable"
DATABASE_RECOVERED: Final = "database.recovered"
SCHEDULE_SAVED: Final = "schedule.saved"
SCHEDULE_PAUSED: Final = "schedule.paused"
SCHEDULE_RESUMED: Final = "schedule.resumed"
SCHEDULE_DELETED: Final = "schedule.deleted"
SCHEDULE_FIRED: Final = "schedule.fired"
SCHEDULE_MISFIRED: Final = "schedule.misfired"
WEBHOOK_SAVED: Final = "webhook.saved"
WEBHOOK_DELETED: Final = "webhook.deleted"
TEMPLATE_SAVED: Final = "template.saved"
TEMPLATE_DELETED: Final = "template.deleted"
TEMPLATE_USED: Final = "template.used"
# Epics: named groups of missions (ADR 0102).
EPIC_SAVED: Final = "epic.saved"
EPIC_MISSION_ADDED: Final = "epic.mission_added"
EPIC_MISSION_REMOVED: Final = "epic.mission_removed"
EPIC_ARCHIVED: Final = "epic.archived"
EPIC_RESTORED: Final = "epic.restored"

# Mini-specs of risky plan tasks (ADR 0066).
SPEC_WRITTEN: Final = "spec.written"
SPEC_APPROVED: Final = "spec.approved"
SPEC_REJECTED: Final = "spec.rejected"
# What an agent working from a mission's pack says about one of its tasks (over MCP).
TASK_PROGRESS: Final = "task.progress"
TASK_REPORTED: Final = "task.reported"
# The product's own metrics (ADR 0069): an anomaly the notifier announces, once per key.
ANALYTICS_ANOMALY_DETECTED: Final = "analytics.anomaly_detected"
# A signing key replaced after a suspected leak (ADR 0075): which key, never its material.
SECURITY_KEY_ROTATED: Final = "security.key_rotated"

# --- Severity ---------------------------------------------------------------------------------
# One mapping from an event to how much it matters, shared by the Audit Trail's badges, the
# event feed's filter (``GET /api/v1/events?severity=``) and its exports. Almost every type has
# one severity; a ``step.log`` batch is as severe as its worst line.

Severity = Literal["info", "success", "warning", "error"]
SEVERITIES: Final[tuple[Severity, ...]] = ("info", "success", "warning", "error")

_SEVERITY_RANK: Final[Mapping[Severity, int]] = {s: i for i, s in enumerate(SEVERITIES)}

TYPE_SEVERITY: Final[Mapping[str, Severity]] = {
    "mission.created": "info",
    MISSION_PLANNING: "info",
    MISSION_NEEDS_CLARIFICATION: "warning",
    "mission.answered": "info",
    "mission.context_changed": "info",
    MISSION_PLANNED: "success",
    MISSION_RUNNING: "info",
    MISSION_COMPLETED: "success",
    MISSION_FAILED: "error",
    MISSION_CANCELED: "warning",
    "plan.created": "success",
    PLAN_DRAFTED: "info",
    "plan.rejected": "error",
    WORKFLOW_SAVED: "info",
    RUN_CREATED: "info",
    RUN_STARTED: "info",
    RUN_RESUMED: "info",
    RUN_COMPLETED: "success",
    RUN_FAILED: "error",
    RUN_CANCELED: "warning",
    RUN_ABORTED: "error",
    RUN_PAUSED: "warning",
    BUDGET_WARNING: "warning",
    BUDGET_EXCEEDED: "error",
    SPENDING_CAP_SET: "info",
    SPENDING_CAP_REMOVED: "warning",
    SPENDING_CAP_WARNING: "warning",
    SPENDING_CAP_REACHED: "error",
    STEP_QUEUED: "info",
    STEP_AT_RISK: "warning",
    STEP_ROUTED: "info",
    MODEL_SET: "info",
    MODEL_SYNCED: "info",
    SUGGESTION_APPLIED: "info",
    STEP_STARTED: "info",
    STEP_SUCCEEDED: "success",
    STEP_FAILED: "error",
    STEP_RETRY_SCHEDULED: "warning",
    STEP_LEASE_EXPIRED: "warning",
    STEP_BLOCKED: "warning",
    STEP_UNBLOCKED: "info",
    STEP_SKIPPED: "info",
    STEP_CANCELED: "warning",
    STEP_REUSED: "info",
    STEP_RETRIED: "info",
    STEP_HELD: "warning",
    STEP_RELEASED: "info",
    STEP_USAGE: "info",
    APPROVAL_REQUESTED: "warning",
    APPROVAL_APPROVED: "success",
    APPROVAL_REJECTED: "error",
    EMERGENCY_STOPPED: "error",
    EMERGENCY_RELEASED: "info",
    AGENT_UPDATED: "info",
    ARTIFACT_CREATED: "info",
    DECISION_ADDED: "info",
    DECISION_CHANGED: "info",
    RISK_ADDED: "warning",
    RISK_CHANGED: "info",
    DOCUMENT_GENERATED: "info",
    WORKER_DRAINING: "warning",
    WORKER_RESUMED: "info",
    WORKER_STOP_REQUESTED: "warning",
    WORKER_CONCURRENCY_CHANGED: "info",
    WORKER_AUTOSCALE_SET: "info",
    WORKER_AUTOSCALE_CLEARED: "info",
    WORKER_AUTOSCALED: "info",
    WORKER_OFFLINE: "error",
    DATABASE_UNAVAILABLE: "error",
    DATABASE_RECOVERED: "success",
    SCHEDULE_SAVED: "info",
    SCHEDULE_PAUSED: "warning",
    SCHEDULE_RESUMED: "info",
    SCHEDULE_DELETED: "warning",
    SCHEDULE_FIRED: "info",
    SCHEDULE_MISFIRED: "warning",
    WEBHOOK_SAVED: "info",
    WEBHOOK_DELETED: "warning",
    TEMPLATE_SAVED: "info",
    TEMPLATE_DELETED: "warning",
    TEMPLATE_USED: "info",
    EPIC_SAVED: "info",
    EPIC_MISSION_ADDED: "info",
    EPIC_MISSION_REMOVED: "info",
    EPIC_ARCHIVED: "warning",
    EPIC_RESTORED: "info",
    "access.denied": "warning",
    SPEC_WRITTEN: "info",
    SPEC_APPROVED: "success",
    SPEC_REJECTED: "warning",
    # An agent's own account of work done outside the engine: information, not a verdict.
    TASK_PROGRESS: "info",
    TASK_REPORTED: "info",
    "report.downloaded": "info",
    # A metric moved past its thresholds: its own severity (info to critical) is in the payload.
    ANALYTICS_ANOMALY_DETECTED: "warning",
    # Every session signed out, or the log's signer replaced: worth noticing, not a failure.
    SECURITY_KEY_ROTATED: "warning",
}
"""The severity of each event type whose severity does not depend on its payload."""

LOG_LINE_LEVELS: Final[Mapping[str, Severity]] = {
    "warning": "warning",
    "warn": "warning",
    "error": "error",
}
"""A log line's ``level`` → its severity; any other level (or none) is ``info``."""

PAYLOAD_SEVERITY_TYPES: Final = frozenset({STEP_LOG})
"""Types whose severity depends on the payload: a ``step.log`` batch is its worst line's."""


def line_severity(level: object) -> Severity:
    """The severity of one log line with this ``level`` (``info`` for anything unknown)."""
    return LOG_LINE_LEVELS.get(str(level), "info")


def severity_of(event_type: str, payload: Mapping[str, Any]) -> Severity:
    """How much an event matters: ``info``, ``success``, ``warning`` or ``error``.

    A type without a mapping is ``info``; a ``step.log`` event is the worst of its lines'
    levels (``LOG_LINE_LEVELS``), ``info`` when it has none.
    """
    if event_type in PAYLOAD_SEVERITY_TYPES:
        lines = payload.get("lines")
        worst: Severity = "info"
        for line in lines if isinstance(lines, list) else []:
            if isinstance(line, dict):
                level = line_severity(line.get("level"))
                if _SEVERITY_RANK[level] > _SEVERITY_RANK[worst]:
                    worst = level
        return worst
    return TYPE_SEVERITY.get(event_type, "info")


def types_not_of(severity: Severity) -> frozenset[str]:
    """The mapped types (payload-independent) whose severity is not ``severity``.

    With ``types_of`` it lets a query select a severity by type: ``info`` is every type not
    mapped to something else (unknown types are ``info``).
    """
    return frozenset(t for t, s in TYPE_SEVERITY.items() if s != severity)


def types_of(severity: Severity) -> frozenset[str]:
    """The mapped types (payload-independent) whose severity is ``severity``."""
    return frozenset(t for t, s in TYPE_SEVERITY.items() if s == severity)


# Keys of payloads by which the chain vouches for step outputs (ADR 0098).
OUTPUTS_DIGEST_KEY = "outputs_sha256"
"""The key of a step event's payload that holds the digest of the outputs written to its row
(``eventlog.receipts.outputs_digest``)."""

OUTPUT_DIGESTS_KEY = "output_digests"
"""The key of a ``run.created`` payload that is ``true`` when the run's steps record digests.

A run created before digests existed has none; for one created since, a step row with outputs
and no digest in the chain was written outside the engine.
"""
