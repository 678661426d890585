"""Read models of the dashboard: what the pages show, aggregated by ``services.usecases.dashboard``.

These are contracts for the UI, not for the JSON API: each one gathers what one screen needs
in one read (the missions list with its progress, a mission's cockpit, a run with its steps), so
that a page route makes one service call and a template never queries anything.
"""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from missionctl.domain.outcomes import Outcome
from missionctl.domain.states import RunStatus, StepRunStatus
from missionctl.schemas.artifacts import ArtifactRead
from missionctl.schemas.missions import MissionRead
from missionctl.schemas.plans import PlanRead
from missionctl.schemas.register import DecisionRead, RiskRegister
from missionctl.schemas.reports import ReportDecision, ReportNextStep, ReportRisk
from missionctl.schemas.routing import RouteRead
from missionctl.schemas.runs import AttemptRead, RunRead, StepRunRead
from missionctl.schemas.templates import PhaseTracker


class MissionRow(BaseModel):
    """One line of the missions list."""

    mission: MissionRead
    tasks_total: int | None = Field(description="Tasks of the latest run or plan; null: none.")
    tasks_done: int = Field(description="Tasks of the latest run that succeeded or were skipped.")
    source: str | None = Field(description='Latest plan\'s source: "local", a model, or null.')
    latest_run_id: uuid.UUID | None
    latest_run_status: RunStatus | None


class MissionRowPage(BaseModel):
    """One page of the missions list, newest first."""

    items: list[MissionRow]
    total: int
    next_cursor: str | None


class EventItem(BaseModel):
    """One event of the log as the audit trail shows it."""

    seq: int
    ts: datetime
    type: str
    actor: str
    run_id: uuid.UUID | None
    step_id: str | None
    payload: dict[str, Any]
    mission_id: uuid.UUID | None = None


class EventBatch(BaseModel):
    """Events delivered together by ``follow_events``, in ``seq`` order."""

    items: list[EventItem]


class TaskView(BaseModel):
    """A task of the mission (a step of its run, when it has one) with its live state."""

    key: str
    title: str
    description: str | None = None
    role: str | None = None
    agent: str | None = None
    phase: str | None = None
    depends_on: list[str] = Field(default_factory=list)
    acceptance: list[str] = Field(default_factory=list)
    expected_artifacts: list[str] = Field(default_factory=list)
    status: StepRunStatus | None = Field(default=None, description="null: not started.")
    outcome: Outcome | None = Field(
        default=None,
        description="What the step produced (domain/outcomes.py); null while it has not ended.",
    )
    attempt: int = 0
    started_at: datetime | None = None
    ended_at: datetime | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    error: str | None = None
    hold_reason: str | None = None


ControlName = Literal["plan", "run", "cancel", "rerun", "report"]


class Controls(BaseModel):
    """Which mission controls the states allow now; the services refuse the others anyway."""

    plan: bool
    run: bool
    cancel: bool
    rerun: bool
    report: bool
    retry_steps: list[str] = Field(description="Failed steps of the run that may be retried.")
    plan_label: str = Field(description='"Plan" for a draft, "Plan again" afterwards.')
    why_not: dict[str, str] = Field(description="Why each disabled control is disabled.")


class ArchitectureItem(BaseModel):
    """One component of the plan's architecture: ``Browser UI`` → ``server-rendered HTML``."""

    name: str
    detail: str


class Summary(BaseModel):
    """The Final Summary cockpit's figures."""

    run_status: RunStatus | None
    risks: int
    next_steps: int
    tasks: int
    tasks_done: int
    artifacts: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    duration_s: float | None
    headline: str | None = Field(
        default=None, description="What the shown run's tasks produced, in one sentence."
    )


class DraftPhase(BaseModel):
    """A phase of the plan a model is writing, as its ``plan.drafted`` event shows it."""

    key: str = ""
    name: str = ""
    goal: str = ""
    task_keys: list[str] = Field(default_factory=list)


class DraftTask(BaseModel):
    """A task of the plan a model is writing, as its ``plan.drafted`` event shows it."""

    key: str = ""
    title: str = ""
    role: str = ""
    risk_tier: str = ""
    description: str = ""
    depends_on: list[str] = Field(default_factory=list)


class PlanDraftView(BaseModel):
    """What the model has written of the plan so far, in the reply it is writing now.

    A preview while the mission is ``planning``: the plan is what ``mission.planned`` stores.
    """

    attempt: int = Field(description="Which reply of this planning it is, from 1.")
    phases: list[DraftPhase] = Field(default_factory=list)
    tasks: list[DraftTask] = Field(default_factory=list)


class MissionView(BaseModel):
    """Everything the mission page shows, read at one moment (``last_seq``)."""

    mission: MissionRead
    plan: PlanRead | None
    run: RunRead | None = Field(description="The run the stepper shows (of the newest plan).")
    latest_run_id: uuid.UUID | None = Field(description="Newest run of any plan (reports).")
    runs: int
    tasks: list[TaskView]
    controls: Controls
    summary: Summary
    risks: list[ReportRisk]
    next_steps: list[ReportNextStep]
    decisions: list[ReportDecision]
    architecture: list[ArchitectureItem]
    stack: list[str]
    project_shape: list[str]
    artifacts: list[ArtifactRead]
    audit: list[EventItem] = Field(description="The newest events, newest first.")
    audit_total: int
    planning_problems: list[str] = Field(description="Why the last planning failed, if it did.")
    goal_constraints: list[str] = Field(
        default_factory=list,
        description='Bounds the goal itself states ("working offline on the ward"), beside the '
        "mission's own constraints: the planner holds the plan to them too.",
    )
    last_seq: int = Field(description="Newest event of the mission this view reflects.")
    last_activity_at: datetime = Field(
        description="The latest change of the mission or of any of its runs (one ending, say): "
        "when the mission page says it was updated."
    )
    decision_log: list[DecisionRead] = Field(
        default_factory=list, description="The editable decision log (ADR 0051)."
    )
    risk_register: RiskRegister | None = Field(
        default=None, description="The editable risk register and its heat map (ADR 0051)."
    )
    item_history: dict[str, list[EventItem]] = Field(
        default_factory=dict,
        description="Each decision's and risk's events by its id, oldest first.",
    )
    trace_gaps: int | None = Field(
        default=None, description="Gaps of the newest plan's traceability map; null: no plan."
    )
    phases: PhaseTracker | None = Field(
        default=None, description="The newest run's phases, when its workflow names them."
    )
    draft: PlanDraftView | None = Field(
        default=None,
        description="While a model writes the plan: what it has drafted so far (a preview).",
    )


class RunRow(BaseModel):
    """One line of the runs list."""

    run: RunRead
    workflow: str
    mission_title: str | None
    tasks_total: int
    tasks_done: int


class RunRowPage(BaseModel):
    """One page of the runs list, newest first."""

    items: list[RunRow]
    total: int
    next_cursor: str | None


class RunView(BaseModel):
    """Everything the run page shows, read at one moment (``last_seq``)."""

    run: RunRead
    workflow: str
    workflow_version: int
    mission: MissionRead | None
    tasks: list[TaskView]
    controls: Controls
    last_seq: int
    inputs: dict[str, Any] = Field(
        default_factory=dict, description="The workflow inputs the run started with."
    )
    artifacts: list[ArtifactRead] = Field(default_factory=list, description="Oldest first.")
    approvals: dict[str, uuid.UUID] = Field(
        default_factory=dict, description="Pending approval id by the step id that waits for it."
    )
    latest: EventItem | None = Field(default=None, description="The run's newest event.")
    headline: str = Field(default="", description="What the run's tasks produced, in one sentence.")


class DocumentLink(BaseModel):
    """A document a step's outputs name, and the artifact stored under that name (if any)."""

    name: str
    artifact: ArtifactRead | None


class LogLineItem(BaseModel):
    """One line of a step's log, with the attempt that wrote it."""

    attempt: int
    ts: datetime
    level: str
    message: str


class StepDetail(BaseModel):
    """One step of a run in full: inputs, outputs, error, log lines and what it wrote."""

    run_id: uuid.UUID
    step: StepRunRead
    log: list[EventItem]
    log_total: int
    documents: list[DocumentLink] | None = Field(
        default=None,
        description="The outputs' `documents` (names of what the step wrote), with their "
        "artifacts; null when the outputs name no documents.",
    )
    approval_id: uuid.UUID | None = Field(
        default=None, description="The approval the step waits for, if it waits."
    )
    approval_reason: str | None = Field(
        default=None,
        description="Why the step waits for approval or runs without it, as its definition "
        "says (`approval_reason`: a plan's irreversible task says it); null when it says "
        "nothing.",
    )
    attempts: list[AttemptRead] = Field(
        default_factory=list, description="Every attempt, from the events: times, usage, error."
    )
    model_inputs: list[EventItem] = Field(
        default_factory=list,
        description="The `step.input` events: the redacted messages each attempt sent a model.",
    )
    log_lines: list[LogLineItem] = Field(
        default_factory=list, description="The log lines shown (the newest), oldest first."
    )
    log_lines_total: int = Field(default=0, description="Log lines in the batches read.")
    route: RouteRead | None = Field(
        default=None,
        description="Where model routing sent the step and why (its `step.routed` event); "
        "null when it was not routed.",
    )
