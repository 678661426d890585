"""Run report contracts: what happened in a run, what it produced, what it learned, what it cost.

``RunReport`` is the JSON form (stored as the run's ``report.json`` artifact); the Markdown
form (``report.md``) is rendered from it.
"""

import uuid
from datetime import datetime
from typing import Final

from pydantic import BaseModel, Field

from missionctl.schemas.runs import AttemptRead

REPORT_LOG_LINES: Final = 20
"""The log lines a report keeps of each step: its newest."""

REPORT_LOG_LINE_CHARS: Final = 500
"""The characters a report keeps of one log line; a longer one is cut and ends with "…"."""


class ReportWorkflow(BaseModel):
    """The workflow version the run executed."""

    id: uuid.UUID
    name: str
    version: int


class ReportMission(BaseModel):
    """The mission the run served."""

    id: uuid.UUID
    title: str
    goal: str


class ReportPlan(BaseModel):
    """The plan version the run's workflow was compiled from."""

    id: uuid.UUID
    version: int
    source: str = Field(description='"local" or the model name.')
    summary: str


class ReportOutcome(BaseModel):
    """How the run ended."""

    status: str
    error: str | None
    trigger: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: float | None
    steps_by_status: dict[str, int]
    tasks_by_outcome: dict[str, int] = Field(
        default_factory=dict,
        description="How many tasks ended with each outcome (a merge step counts with its task): "
        "built, changed, no_change, merged, documented, ran, failed, skipped, canceled.",
    )


class ReportLogLine(BaseModel):
    """One line of a step's log, as the report keeps it."""

    attempt: int = Field(description="The attempt that wrote it (0: its event named none).")
    ts: datetime = Field(description="When its batch of lines was recorded (the `step.log` event).")
    level: str
    message: str = Field(
        description=f"Redacted, and cut to {REPORT_LOG_LINE_CHARS} characters (a cut line ends "
        "with …).",
    )


class ReportTask(BaseModel):
    """One step of the run."""

    step_id: str
    title: str
    role: str | None
    agent: str
    status: str
    outcome: str | None = Field(
        default=None,
        description="What the step produced (domain/outcomes.py): built, changed, no_change, "
        "merged, documented, ran, failed, skipped, canceled; null while it has not ended.",
    )
    attempt: int
    risk_tier: str
    duration_s: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    summary: str | None
    documents: list[str] = Field(default_factory=list)
    error: str | None = None
    attempts: list[AttemptRead] = Field(
        default_factory=list,
        description="Every attempt of the step, oldest first, rebuilt from the run's events as "
        "its replay is: times, duration, outcome (`succeeded`, `failed`, `lost`, `canceled`; "
        "`null` while it runs) and error. Empty for a step that never started.",
    )
    log_tail: list[ReportLogLine] = Field(
        default_factory=list,
        description=f"The step's last {REPORT_LOG_LINES} log lines (every attempt's), oldest "
        "first.",
    )
    log_lines_omitted: int = Field(
        default=0,
        ge=0,
        description="How many earlier lines of the step's log `log_tail` leaves out "
        "(0: it holds the whole log).",
    )


class ReportArtifact(BaseModel):
    """An artifact a step produced."""

    id: uuid.UUID
    name: str
    kind: str
    media_type: str
    size: int
    sha256: str
    step_id: str | None


class ReportRisk(BaseModel):
    """A risk from the plan or reported by a step."""

    title: str
    severity: str | None = None
    likelihood: str | None = None
    mitigation: str = ""
    source: str = Field(description='"plan" or the id of the step that reported it.')


class ReportNextStep(BaseModel):
    """Something to do next, from the plan or a step."""

    text: str
    priority: str | None = None
    source: str


class ReportRequirement(BaseModel):
    """A requirement of the plan the run executes, with the plan's tasks that trace it."""

    key: str
    text: str
    priority: str
    kind: str = Field(description="feature, constraint or quality (see the plan's requirements).")
    tasks: list[str] = Field(default_factory=list, description="Keys of the tasks tracing it.")


class ReportDecision(BaseModel):
    """A decision recorded in the plan."""

    title: str
    choice: str
    reasons: list[str] = Field(default_factory=list)
    trade_offs: list[str] = Field(default_factory=list)
    alternatives: list[str] = Field(default_factory=list)


class ReportUsage(BaseModel):
    """Tokens and cost of the steps run by one agent."""

    agent: str
    steps: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class ReportTotals(BaseModel):
    """The run's totals, from its stored counters."""

    tasks: int
    tasks_succeeded: int
    artifacts: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    duration_s: float | None


class RunReport(BaseModel):
    """Everything a reader needs to judge a run, in one document."""

    run_id: uuid.UUID
    headline: str = Field(
        default="",
        description="One sentence on what the tasks produced, e.g. '11 tasks documented, 0 built: "
        "to build, …'; it opens the Markdown report and the run's pages.",
    )
    workflow: ReportWorkflow
    mission: ReportMission | None
    plan: ReportPlan | None
    outcome: ReportOutcome
    tasks: list[ReportTask]
    requirements: list[ReportRequirement] = Field(
        default_factory=list,
        description="The plan's requirements (none for a run without a plan), in plan order.",
    )
    artifacts: list[ReportArtifact]
    risks: list[ReportRisk]
    next_steps: list[ReportNextStep]
    decisions: list[ReportDecision]
    usage: list[ReportUsage]
    totals: ReportTotals
    generated_at: datetime
