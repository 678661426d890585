"""The event vocabulary of runs and steps, and the payload rule that makes replay possible.

Every event that changes a status carries the new ``status`` in its payload (and, for steps, the
``attempt``); ``run.created`` lists the run's steps. Folding a run's events therefore rebuilds
its state without knowing each event type (see ``domain.replay``).
"""

from typing import Final

MISSION_PLANNING: Final = "mission.planning"
MISSION_NEEDS_CLARIFICATION: Final = "mission.needs_clarification"
MISSION_PLANNED: Final = "mission.planned"
MISSION_RUNNING: Final = "mission.running"
MISSION_COMPLETED: Final = "mission.completed"
MISSION_FAILED: Final = "mission.failed"
MISSION_CANCELED: Final = "mission.canceled"

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

APPROVAL_REQUESTED: Final = "approval.requested"
APPROVAL_APPROVED: Final = "approval.approved"
APPROVAL_REJECTED: Final = "approval.rejected"

EMERGENCY_STOPPED: Final = "emergency.stopped"
EMERGENCY_RELEASED: Final = "emergency.released"
AGENT_UPDATED: Final = "agent.updated"
WORKFLOW_SAVED: Final = "workflow.saved"

ARTIFACT_CREATED: Final = "artifact.created"
