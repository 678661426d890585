"""Runs: listed with filters; one read, cancelled, retried, run again, and its history read.

Reading needs ``runs:read`` (its events ``audit:read``); acting on it ``runs:control``.
"""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from missionctl.domain.access import Permission as P
from missionctl.domain.states import RunStatus
from missionctl.operations import Operation
from missionctl.schemas.events import MAX_SEQ
from missionctl.schemas.missions import NO_NUL_PATTERN
from missionctl.schemas.paging import KeysetQuery
from missionctl.schemas.replay import RunStateRead
from missionctl.schemas.risks import RunRisks
from missionctl.schemas.runs import (
    RUN_FILTER_TEXT_MAX_CHARS,
    EventPage,
    RunPage,
    RunRead,
    not_a_number,
)
from missionctl.schemas.workflows import STEP_ID_PATTERN

_SERVICE = "missionctl.services.usecases.runs"


FilterText = Annotated[
    str | None, Field(max_length=RUN_FILTER_TEXT_MAX_CHARS, pattern=NO_NUL_PATTERN)
]
"""A filter's text: no NUL, which PostgreSQL cannot compare (a 422, not a 500)."""
Time = Annotated[datetime | None, BeforeValidator(not_a_number)]
"""A time as ISO 8601 text, never a number (Unix seconds)."""


class ListQuery(KeysetQuery):
    """A page of the runs list, and its filters (they combine with AND)."""

    status: RunStatus | None = None
    mission_id: uuid.UUID | None = Field(None, description="Runs of this mission")
    workflow: FilterText = Field(None, description="Workflow name (any version)")
    agent: FilterText = Field(None, description="Runs with a step of this agent, e.g. `command`")
    created_after: Time = Field(None, description="Created at or after (ISO 8601; UTC if no zone)")
    created_before: Time = Field(None, description="Created before (ISO 8601; UTC if no zone)")
    q: FilterText = Field(None, description="Text in the workflow name, mission title or run error")


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


LIST: Operation[RunPage] = Operation(
    name="list_runs",
    doc="List runs, newest first, with keyset paging; the filters combine with AND.\n\n"
    "422 names the field at fault: an unknown status (with the allowed values), a malformed "
    "id, `created_after` later than `created_before`, a cursor this list did not issue.",
    method="GET",
    path="/runs",
    permission=P.RUNS_READ,
    service="missionctl.services.usecases.dashboard.runs:list_runs",
    query=ListQuery,
    output=RunPage,
    cli="runs list",
)
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
RISKS: Operation[RunRisks] = Operation(
    name="run_risks",
    doc="Each step's chance of failing, timing out or costing more than its estimate, from "
    "the history, with the reasons and the counts behind them.\n\nEstimated when the run "
    "starts and again as each retry starts; a step that ended keeps its last estimate. "
    "`sure` says the step has ten attempts of its own behind it; `at_risk`, that its chance "
    "of failing reaches MISSIONCTL_RISK_ALERT_AT.",
    method="GET",
    path="/runs/{run_id}/risks",
    permission=P.RUNS_READ,
    service="missionctl.services.usecases.risks:read_run_risks",
    output=RunRisks,
    cli="runs risks",
)

OPERATIONS = (LIST, READ, CANCEL, RETRY, RERUN, STATE, EVENTS, RISKS)
"""Every declared operation, for what checks or lists them all (tests, documentation)."""
