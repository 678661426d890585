"""Engine-facing use cases: claim work, record results, keep and recover leases.

The engine calls ``tick`` in a loop. One tick is ONE write transaction that records every result
that finished since the last tick, promotes the steps those results made ready, finishes runs
with nothing left to do, and claims new work up to the engine's free capacity — so the cost of a
transaction is shared by every transition in it (batched per tick, not per row).

Every result write is fenced: it applies only if the step run is still ``running`` under the same
``lease_token`` and ``attempt`` that the claim handed out. A worker that lost its lease (expired,
run canceled) therefore cannot overwrite what happened since.
"""

from missionctl.domain.retry import LEASE_RECOVERY_EXTRA_ATTEMPTS
from missionctl.services.usecases.execution.ticks import (
    checkpoint,
    price_for,
    read_upstream_outputs,
    record_running_usage,
    record_step_input,
    recover_expired_leases,
    renew_leases,
    tick,
    usage_cost_micros,
)
from missionctl.services.usecases.execution.types import (
    ENGINE_ACTOR,
    ClaimedStep,
    DagCache,
    LogLine,
    PolicyCache,
    StepOutcome,
    StoredArtifact,
)

__all__ = [
    "ENGINE_ACTOR",
    "LEASE_RECOVERY_EXTRA_ATTEMPTS",
    "ClaimedStep",
    "DagCache",
    "LogLine",
    "PolicyCache",
    "StepOutcome",
    "StoredArtifact",
    "checkpoint",
    "price_for",
    "read_upstream_outputs",
    "record_running_usage",
    "record_step_input",
    "recover_expired_leases",
    "renew_leases",
    "tick",
    "usage_cost_micros",
]
