"""The event vocabulary of runs and steps, and the payload rule that makes replay possible.

Every event that changes a status carries the new ``status`` in its payload (and, for steps, the
``attempt``); ``run.created`` lists the run's steps. Folding a run's events therefore rebuilds
its state without knowing each event type (see ``domain.replay``).
"""

from typing import Final

RUN_CREATED: Final = "run.created"
RUN_STARTED: Final = "run.started"
RUN_COMPLETED: Final = "run.completed"
RUN_FAILED: Final = "run.failed"
RUN_CANCELED: Final = "run.canceled"
RUN_RESUMED: Final = "run.resumed"
BUDGET_EXCEEDED: Final = "budget.exceeded"

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

ARTIFACT_CREATED: Final = "artifact.created"
