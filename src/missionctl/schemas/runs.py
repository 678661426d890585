"""Run contracts."""

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from missionctl.domain.outcomes import Outcome
from missionctl.domain.states import RunStatus, StepRunStatus
from missionctl.schemas.missions import NO_NUL_PATTERN

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _is_number(value: Any) -> bool:
    """Whether ``value`` is a number, or the text of one."""
    return isinstance(value, int | float) or (
        isinstance(value, str) and _NUMBER.fullmatch(value.strip()) is not None
    )


def not_a_number(value: Any) -> Any:
    """Refuse a number where an ISO 8601 date-time is documented.

    Pydantic reads a number (or a string of one) as Unix seconds; the API promises ISO 8601,
    so ``created_after=-4e-146`` is a client mistake to name, not a filter to apply.
    """
    if _is_number(value):
        raise ValueError("expected an ISO 8601 date-time such as 2026-11-22T09:30:00Z")
    return value


def not_a_day_number(value: Any) -> Any:
    """Refuse a number where a day (``YYYY-MM-DD``) is documented, as :func:`not_a_number`."""
    if _is_number(value):
        raise ValueError("expected a day as YYYY-MM-DD, such as 2027-04-30")
    return value


IsoDate = Annotated[date, BeforeValidator(not_a_day_number)]
"""A day given as ``YYYY-MM-DD`` text, never as a number (Unix seconds)."""

IsoDateTime = Annotated[datetime, BeforeValidator(not_a_number)]
"""A date-time given as ISO 8601 text (UTC when it names no zone), never as a number."""


class AttemptRead(BaseModel):
    """One attempt of a step, from its events."""

    attempt: int
    started_at: datetime
    ended_at: datetime | None = Field(description="`null` while the attempt runs")
    duration_ms: int | None
    outcome: str | None = Field(
        description="`succeeded`, `failed`, `lost` (its worker vanished), `canceled`; "
        "`null` while it runs"
    )
    error: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: float


class StepRunRead(BaseModel):
    """One step's execution record."""

    id: uuid.UUID
    step_id: str
    agent: str
    status: StepRunStatus
    outcome: Outcome | None = Field(
        default=None,
        description="What the step produced, derived from facts Mission Control measured, never "
        "from the agent's words: `built` (a coding step changed code and its test command "
        "passed), `changed` (changed code, no test command), `no_change`, `merged` (a "
        "`git:merge` step), `documented` (wrote documents only: builtin specialists, model "
        "roles), `ran` (any other step that succeeded), `failed`, `skipped`, `canceled`; "
        "`null` while the step has not ended.",
    )
    attempt: int
    risk_tier: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    error: str | None
    hold_reason: str | None = Field(
        default=None,
        description="Why a queued step is held back: its agent is disabled or not allowed "
        "its risk tier.",
    )
    input_tokens: int
    output_tokens: int
    cost_usd: float
    started_at: datetime | None
    ended_at: datetime | None
    routed_model: str | None = Field(
        default=None,
        description="The model routing chose for an `llm:` step when the run was created "
        "(docs/routing.md); null: the step runs on the configured model, or calls none.",
    )
    routed_from: str | None = Field(
        default=None,
        description="The configured model the step would have run on, had it not been routed.",
    )


class RunRead(BaseModel):
    """A run and its steps."""

    id: uuid.UUID
    workflow_id: uuid.UUID
    mission_id: uuid.UUID | None
    trigger: str
    status: RunStatus
    budget_usd: float | None
    spent_usd: float
    reserved_usd: float = Field(
        default=0.0,
        description="What the running steps of a capped run may still spend: the sum of their "
        "reserves (each step's token limit at its model's highest token price). Dispatch keeps "
        "spent + reserved within the cap; a step's actual cost replaces its reserve when it ends.",
    )
    input_tokens: int
    output_tokens: int
    error: str | None
    rerun_of: uuid.UUID | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    steps: list[StepRunRead] = Field(default_factory=list)
    outcomes: dict[Outcome, int] = Field(
        default_factory=dict,
        description="How many of the run's tasks ended with each outcome, strongest first "
        "(`built` before `documented` before `failed`); a task of a plan is its step and its "
        "merge step, and a run not compiled from a plan counts its steps. Outcomes that did not "
        "occur are left out.",
    )
    headline: str = Field(
        default="",
        description="What the run's tasks produced, in one sentence, e.g. `11 tasks documented, "
        "0 built: to build, …` (steps instead of tasks for a run not compiled from a plan); "
        "while the run goes on, what has ended so far; empty where the run is read without its "
        "steps (in lists).",
    )
    schedule_id: uuid.UUID | None = Field(
        default=None, description="The schedule that started the run, if one did."
    )
    schedule_name: str | None = Field(default=None, description="That schedule's name.")


RUN_FILTER_TEXT_MAX_CHARS = 200


def _filter_text(description: str) -> Any:
    """A text filter: optional, at most ``RUN_FILTER_TEXT_MAX_CHARS``, never a NUL character.

    Every text filter of the runs list is bounded alike (the Runs page's query declares the
    same limit).
    """
    return Field(
        default=None,
        max_length=RUN_FILTER_TEXT_MAX_CHARS,
        pattern=NO_NUL_PATTERN,
        description=description,
    )


class RunFilters(BaseModel):
    """What narrows the runs list; every filter is optional and they combine with AND.

    The API's query parameters and the Runs page's URL carry the same names.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: RunStatus | None = None
    mission_id: uuid.UUID | None = Field(default=None, description="Runs of this mission.")
    workflow: str | None = _filter_text("Runs of the workflow with this name (any version).")
    agent: str | None = _filter_text(
        "Runs with at least one step of this agent, e.g. `command` or `llm:writer`."
    )
    created_after: IsoDateTime | None = Field(
        default=None, description="Runs created at or after this time (ISO 8601; UTC if no zone)."
    )
    created_before: IsoDateTime | None = Field(
        default=None, description="Runs created before this time (ISO 8601; UTC if no zone)."
    )
    q: str | None = _filter_text(
        "Text to find in the workflow's name, the mission's title or the run's error."
    )
    created_by: str | None = _filter_text(
        "Runs started by this actor (the audit explorer's `actor`)."
    )
    started_after: IsoDateTime | None = Field(
        default=None, description="Runs that started at or after this time (ISO 8601, UTC)."
    )
    started_before: IsoDateTime | None = Field(
        default=None, description="Runs that started before this time (ISO 8601, UTC)."
    )

    @property
    def active(self) -> bool:
        """Whether any filter narrows the list."""
        return any(value not in (None, "") for value in self.model_dump().values())


class RunSummary(BaseModel):
    """A run as the runs list shows it: no steps, but its workflow, mission title and progress."""

    id: uuid.UUID
    workflow_id: uuid.UUID
    workflow: str = Field(description="The workflow's name.")
    workflow_version: int
    mission_id: uuid.UUID | None
    mission_title: str | None
    trigger: str
    status: RunStatus
    budget_usd: float | None
    spent_usd: float
    input_tokens: int
    output_tokens: int
    error: str | None
    rerun_of: uuid.UUID | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    tasks_total: int = Field(description="Steps of the run.")
    tasks_done: int = Field(description="Steps that succeeded or were skipped.")
    outcomes: dict[Outcome, int] = Field(
        default_factory=dict,
        description="How many of the run's tasks ended with each outcome, as `RunRead.outcomes` "
        "counts them.",
    )
    headline: str = Field(
        default="",
        description="What the run's tasks produced, in one sentence, as `RunRead.headline` "
        "says it (empty for a run without steps).",
    )


class RunPage(BaseModel):
    """One page of runs, newest first."""

    items: list[RunSummary]
    total: int = Field(description="Runs matching the filters, on all pages.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class EventRead(BaseModel):
    """One event of the log."""

    seq: int
    ts: str
    type: str
    actor: str
    step_id: str | None
    payload: dict[str, Any]


class EventPage(BaseModel):
    """Events after a cursor, in order."""

    items: list[EventRead]
    next_after: int | None
