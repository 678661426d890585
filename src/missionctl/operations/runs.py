"""A run: read it, cancel it, retry a failed step, run it again, and read its history.

Reading needs ``runs:read`` (its events ``audit:read``); acting on it ``runs:control``. Listing
runs, with its filters, is still a route of its own (``api.routes.runs``).
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from missionctl.domain.access import Permission as P
from missionctl.operations import Operation
from missionctl.schemas.replay import RunStateRead
from missionctl.schemas.runs import EventPage, RunRead
from missionctl.schemas.workflows import STEP_ID_PATTERN

_SERVICE = "missionctl.services.usecases.runs"

MAX_SEQ = 2**63 - 1
"""Event seqs are a signed 64-bit BIGINT: a larger cursor cannot name an event, and the
databases refuse to compare the column with it (a 500 instead of an empty page)."""


class RerunQuery(BaseModel):
    """Where a rerun starts."""

    model_config = ConfigDict(extra="forbid")

    from_step: str | None = Field(
        None,
        pattern=STEP_ID_PATTERN,
        description="Rerun from this step: it and every step downstream of it run again, the "
        "other steps that succeeded are reused (any ended run). Without it: rerun from the "
        "failure (a failed, canceled or aborted run).",
    )


class StateQuery(BaseModel):
    """Which moment of the run to rebuild."""

    model_config = ConfigDict(extra="forbid")

    at: int | None = Field(
        None,
        ge=1,
        le=MAX_SEQ,
        description="An event seq: the run as it was just after that event (default: the "
        "run's last event; past its last event: its final state).",
    )


class EventQuery(BaseModel):
    """A page of the run's events."""

    model_config = ConfigDict(extra="forbid")

    after: int = Field(0, ge=0, le=MAX_SEQ, description="Return events with seq > after")
    limit: int = Field(200, ge=1, le=1000)


READ: Operation[RunRead] = Operation(
    name="get_run",
    doc="A run with its steps.",
    method="GET",
    path="/runs/{run_id}",
    permission=P.RUNS_READ,
    service=f"{_SERVICE}:read_run",
    output=RunRead,
    cli="runs show",
)
CANCEL: Operation[RunRead] = Operation(
    name="cancel_run",
    doc="Cancel the run: no more dispatch; running steps are stopped (409 if it already ended).",
    method="POST",
    path="/runs/{run_id}/cancel",
    permission=P.RUNS_CONTROL,
    service=f"{_SERVICE}:cancel_run",
    output=RunRead,
    errors=(409,),
    cli="runs cancel",
)
RETRY: Operation[RunRead] = Operation(
    name="retry_step",
    doc="Queue a failed step again; a failed run resumes (409 if the step has not failed).",
    method="POST",
    path="/runs/{run_id}/steps/{step_id}/retry",
    permission=P.RUNS_CONTROL,
    service=f"{_SERVICE}:retry_step",
    path_types={"step_id": Annotated[str, Field(pattern=STEP_ID_PATTERN)]},
    output=RunRead,
    errors=(409,),
    cli="runs retry",
)
RERUN: Operation[RunRead] = Operation(
    name="rerun",
    doc="A new run that reuses what succeeded and runs the rest again.\n\n404 names "
    "`from_step` when the run's workflow has no such step; 409 when the run has not ended, "
    "or its mission cannot run again.",
    method="POST",
    path="/runs/{run_id}/rerun",
    permission=P.RUNS_CONTROL,
    service=f"{_SERVICE}:rerun_from_failure",
    query=RerunQuery,
    output=RunRead,
    status_code=201,
    errors=(409,),
    cli="runs rerun",
)
STATE: Operation[RunStateRead] = Operation(
    name="run_state",
    doc="The run rebuilt from its events as of one of them: statuses, attempts, usage, "
    "errors.\n\nSteps show their inputs once started and their stored final outputs once "
    "succeeded; the approval decisions made so far are listed. 422 names `at` when it is not "
    "a seq, 409 when it comes before the run's first event.",
    method="GET",
    path="/runs/{run_id}/state",
    permission=P.RUNS_READ,
    service="missionctl.services.usecases.replay:read_run_state",
    query=StateQuery,
    output=RunStateRead,
    errors=(409,),
    cli="replay",
)
EVENTS: Operation[EventPage] = Operation(
    name="run_events",
    doc="The run's events after a cursor (replay them to rebuild its state).",
    method="GET",
    path="/runs/{run_id}/events",
    permission=P.AUDIT_READ,
    service="missionctl.services.usecases.audit:read_run_event_page",
    query=EventQuery,
    output=EventPage,
    cli="runs events",
)

OPERATIONS = (READ, CANCEL, RETRY, RERUN, STATE, EVENTS)
"""Every declared operation, for what checks or lists them all (tests, documentation)."""
