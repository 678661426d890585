"""ORM classes for the domain: missions, plans, workflows, runs, events, agents, operations.

Conventions: primary keys are UUIDv7 (time-ordered, so ``ORDER BY id`` is creation order); money
is integer micro-US-dollars (``*_micros``; 1 USD = 1,000,000) so that sums are exact on every
dialect; the statuses of missions, runs and step runs are stored as plain strings and typed with
the domain's enums (``StatusColumn``), whose allowed values and moves live in
``missionctl.domain.states`` — only services write them, through the domain's ``transition``.
Mission intelligence (plans, requirements, risks, decisions, next steps) hangs off the mission
for traceability.
"""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from missionctl.db.base import Base, created_column, id_column, updated_column
from missionctl.db.types import StatusColumn
from missionctl.domain.states import MissionStatus, RunStatus, StepRunStatus


def _mission_ref(nullable: bool = False) -> Mapped[Any]:
    return mapped_column(
        ForeignKey("missions.id", ondelete="RESTRICT"), nullable=nullable, index=True
    )


class Mission(Base):
    """A software goal submitted by a user, and the root of everything done for it."""

    __tablename__ = "missions"

    id: Mapped[uuid.UUID] = id_column()
    title: Mapped[str] = mapped_column(String(200))
    goal: Mapped[str] = mapped_column(Text)
    constraints: Mapped[list[str]] = mapped_column(default=list)
    repo_context: Mapped[str] = mapped_column(Text, default="")
    budget_micros: Mapped[int | None]
    spent_micros: Mapped[int] = mapped_column(default=0)
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    status: Mapped[MissionStatus] = mapped_column(StatusColumn(MissionStatus), index=True)
    # The planner's questions and the user's answers, oldest first: one round per time a
    # planner asked, ``{"reason", "questions", "answers"}``, answers null until given (0010).
    clarifications: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    # The repository its coding steps work on, ``{"source", "base", "agent"}`` (0025).
    repository: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class Plan(Base):
    """One version of a mission's plan; re-planning adds a version, never edits one."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("mission_id", "version"),)

    id: Mapped[uuid.UUID] = id_column()
    mission_id: Mapped[uuid.UUID] = _mission_ref()
    version: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(200))  # "local" or the model name
    phases: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    tasks: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    validation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created_column()


class Requirement(Base):
    """A requirement a plan traces tasks to (goal → requirement → task → artifact)."""

    __tablename__ = "requirements"

    id: Mapped[uuid.UUID] = id_column()
    mission_id: Mapped[uuid.UUID] = _mission_ref()
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(20), default="must")
    kind: Mapped[str] = mapped_column(String(20), default="feature", server_default="feature")
    created_at: Mapped[datetime] = created_column()


class Risk(Base):
    """A risk to the mission, with how likely, how bad, and what to do about it."""

    __tablename__ = "risks"

    id: Mapped[uuid.UUID] = id_column()
    mission_id: Mapped[uuid.UUID] = _mission_ref()
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plans.id"), index=True)
    run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("runs.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(20))
    likelihood: Mapped[str] = mapped_column(String(20))
    mitigation: Mapped[str] = mapped_column(Text, default="")
    # open, mitigating or closed (domain.register.RiskStatus); people edit it (0018).
    status: Mapped[str] = mapped_column(String(20), default="open")
    owner: Mapped[str] = mapped_column(String(200), default="")
    # Keys of the plan's tasks that carry the mitigation, checked against the newest plan.
    mitigation_tasks: Mapped[list[str]] = mapped_column(default=list)
    # The finished mission a planner carried the risk over from (mission memory, 0020).
    from_mission_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("missions.id"))
    # Optimistic concurrency: every edit states the version it read and increments it (ADR 0051).
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class Decision(Base):
    """A recorded choice, ADR style: its context, what was chosen, why, and what it replaced.

    ``number`` is the decision's place in its mission's log (1, 2, …; never reused), the
    number of its ADR file. ``status`` is proposed, accepted or superseded
    (``domain.register.DecisionStatus``); a decision is superseded exactly while another
    decision of the mission names it in ``supersedes_id`` (ADR 0051).
    """

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("mission_id", "number"),)

    id: Mapped[uuid.UUID] = id_column()
    mission_id: Mapped[uuid.UUID] = _mission_ref()
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plans.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="accepted")
    decided_on: Mapped[date]
    deciders: Mapped[list[str]] = mapped_column(default=list)
    context: Mapped[str] = mapped_column(Text, default="")
    choice: Mapped[str] = mapped_column(Text)
    consequences: Mapped[str] = mapped_column(Text, default="")
    reasons: Mapped[list[str]] = mapped_column(default=list)
    trade_offs: Mapped[list[str]] = mapped_column(default=list)
    alternatives: Mapped[list[str]] = mapped_column(default=list)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("decisions.id"))
    # The finished mission a planner reused the decision from (mission memory, 0020).
    from_mission_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("missions.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class Document(Base):
    """One version of one kind of a mission's documents (ADR 0053); never edited.

    Regenerating a kind adds the next ``version`` (unique per mission and kind). ``writer`` is
    ``local`` or the model's name; ``notes`` say why the local writer stood in for a model.
    """

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("mission_id", "kind", "version"),)

    id: Mapped[uuid.UUID] = id_column()
    mission_id: Mapped[uuid.UUID] = _mission_ref()
    kind: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    plan_version: Mapped[int] = mapped_column(Integer)
    writer: Mapped[str] = mapped_column(String(200))
    notes: Mapped[list[str]] = mapped_column(default=list)
    author: Mapped[str] = mapped_column(String(200))
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    # A technical design's diagrams as drawn when it was written (MissionDiagramsRead's JSON).
    diagrams: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = created_column()


class NextStep(Base):
    """Something to do after (or outside) the plan's tasks."""

    __tablename__ = "next_steps"

    id: Mapped[uuid.UUID] = id_column()
    mission_id: Mapped[uuid.UUID] = _mission_ref()
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plans.id"), index=True)
    run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("runs.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(20), default="medium")
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = created_column()


class Workflow(Base):
    """One saved version of a workflow definition (a DAG of steps); runs pin a version."""

    __tablename__ = "workflows"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    mission_id: Mapped[uuid.UUID | None] = _mission_ref(nullable=True)
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plans.id"), index=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    budget_micros: Mapped[int | None]
    max_concurrency: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_column()


class Run(Base):
    """One execution of a workflow version."""

    __tablename__ = "runs"
    __table_args__ = (
        # The runs list filtered by status, newest first, and its count (migration 0007).
        Index("ix_runs_status_id", "status", "id"),
        # The runs list's creation time range (migration 0007).
        Index("ix_runs_created_at", "created_at"),
        # The audit explorer's run search: who started a run, and when (migration 0014).
        Index("ix_runs_created_by", "created_by"),
        Index("ix_runs_started_at", "started_at"),
        # The orchestration figures: runs that ended in a range, and the runs rerun (0043).
        Index("ix_runs_ended_at", "ended_at"),
        Index("ix_runs_rerun_of", "rerun_of"),
        # The Costs page's totals, read from the index alone (migration 0040).
        Index(
            "ix_runs_spend",
            "mission_id",
            "spent_micros",
            "input_tokens",
            "output_tokens",
            "budget_micros",
        ),
    )

    id: Mapped[uuid.UUID] = id_column()
    workflow_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflows.id"), index=True)
    mission_id: Mapped[uuid.UUID | None] = _mission_ref(nullable=True)
    trigger: Mapped[str] = mapped_column(String(20))
    status: Mapped[RunStatus] = mapped_column(StatusColumn(RunStatus))
    # The workflow inputs this run was started with, defaults filled in.
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    budget_micros: Mapped[int | None]
    spent_micros: Mapped[int] = mapped_column(default=0)
    reserved_micros: Mapped[int] = mapped_column(default=0)
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    rerun_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("runs.id"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_column()
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = updated_column()


class StepRun(Base):
    """The execution record of one step within a run (one row per step; attempts count up)."""

    __tablename__ = "step_runs"
    __table_args__ = (
        UniqueConstraint("run_id", "step_id"),
        # The claim: queued work in claim order, read a page at a time (migration 0004).
        Index("ix_step_runs_status_queued_at", "status", "queued_at", "id"),
        # A run's steps by status: "has it ready / running / active work", counts by status.
        Index("ix_step_runs_run_id_status", "run_id", "status"),
        # The runs that used an agent (the runs list's agent filter; migration 0007).
        Index("ix_step_runs_agent_run_id", "agent", "run_id"),
        # The steps that ended in a time range: cost over time, burn rate, the health strip's
        # failures of the last day (migration 0013).
        Index("ix_step_runs_ended_at", "ended_at"),
    )

    id: Mapped[uuid.UUID] = id_column()
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id"))
    step_id: Mapped[str] = mapped_column(String(100))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[StepRunStatus] = mapped_column(StatusColumn(StepRunStatus))
    agent: Mapped[str] = mapped_column(String(200))
    risk_tier: Mapped[str] = mapped_column(String(20), default="read")
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    outputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    estimate_micros: Mapped[int] = mapped_column(default=0)
    # The most the step may cost (its token limit at the model's highest token price; 0 for
    # agents that use no tokens): what a capped run holds back while the step runs.
    reserve_micros: Mapped[int] = mapped_column(default=0, server_default="0")
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    cost_micros: Mapped[int] = mapped_column(default=0)
    # The model the step's usage was last billed at (``None`` until an attempt used tokens).
    model: Mapped[str | None] = mapped_column(String(200))
    # Where routing sent an ``llm:`` step when its run was created, and the configured model
    # it would have run on otherwise (ADR 0119, migration 0046); ``None`` for other steps.
    routed_model: Mapped[str | None] = mapped_column(String(200))
    routed_from: Mapped[str | None] = mapped_column(String(200))
    # What the attempts before the current one spent: a new claim moves the row's tokens and
    # cost here, so ``cost_micros + earlier_cost_micros`` is all the step cost (0013, ADR 0042).
    earlier_input_tokens: Mapped[int] = mapped_column(default=0, server_default="0")
    earlier_output_tokens: Mapped[int] = mapped_column(default=0, server_default="0")
    earlier_cost_micros: Mapped[int] = mapped_column(default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    # What the step produced, derived from facts when it ended (``domain.outcomes``: built,
    # documented, failed, …; migration 0032); ``None`` until it ends, and again once re-queued.
    outcome: Mapped[str | None] = mapped_column(String(20))
    # Why a queued step is held back from dispatch (its agent is disabled or not allowed for
    # its risk tier); held steps are not claimable until an agent change releases them.
    hold_reason: Mapped[str | None] = mapped_column(Text)
    # The spending cap that holds it, when a cap does (``hold_reason`` says why; ADR 0104):
    # such a hold ends when the cap's period turns or an admin changes the cap, not with an
    # agent's rule (migration 0037).
    hold_cap_id: Mapped[uuid.UUID | None]
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_token: Mapped[uuid.UUID | None]
    lease_expires_at: Mapped[datetime | None]
    not_before: Mapped[datetime | None]
    queued_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class UsageDay(Base):
    """The steps, tokens and spend dated in one UTC day, per agent and billed model (ADR 0048).

    The database keeps it: triggers on ``step_runs`` write a ``UsageDelta`` for every change of
    a step's contribution, and ``repositories.costs.fold_usage_deltas`` adds them in here. The
    sum of these rows and the deltas equals ``step_runs`` summed over its dated rows (a step's
    spend is dated at ``coalesce(ended_at, started_at)``). ``model`` is ``''`` for steps billed
    at no model.
    """

    __tablename__ = "usage_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    agent: Mapped[str] = mapped_column(String(200), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    steps: Mapped[int] = mapped_column(BigInteger)
    input_tokens: Mapped[int] = mapped_column(BigInteger)
    output_tokens: Mapped[int] = mapped_column(BigInteger)
    cost_micros: Mapped[int] = mapped_column(BigInteger)


class UsageDelta(Base):
    """A change to ``usage_days`` not folded in yet: one row added, or taken away (negative)."""

    __tablename__ = "usage_deltas"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    day: Mapped[date]
    agent: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(200))
    steps: Mapped[int] = mapped_column(BigInteger)
    input_tokens: Mapped[int] = mapped_column(BigInteger)
    output_tokens: Mapped[int] = mapped_column(BigInteger)
    cost_micros: Mapped[int] = mapped_column(BigInteger)


class Event(Base):
    """One entry of the append-only, hash-chained event log.

    Rows are written only by ``missionctl.eventlog.append``; database triggers reject UPDATE and
    DELETE (and TRUNCATE on PostgreSQL), and an INSERT that does not extend the chain head
    (revision 0006). ``seq`` is assigned by the appender under the chain-head lock, so it is
    gapless and commit order equals ``seq`` order — readers can use it as a cursor.
    There are deliberately no foreign keys: the log is a record that must outlive any projection.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_mission_id_seq", "mission_id", "seq"),
        Index("ix_events_run_id_seq", "run_id", "seq"),
        # The event feed's time window and its actor filter, newest first (migration 0014).
        Index("ix_events_ts", "ts"),
        Index("ix_events_actor_seq", "actor", "seq"),
        # The event search by type and time (migration 0038; made for the analytics' step ends,
        # which the analytics follower now counts itself, ADR 0111).
        Index("ix_events_type_ts", "type", "ts"),
    )

    # On SQLite only a column declared exactly INTEGER is the rowid: an index fewer per event.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    ts: Mapped[datetime]
    type: Mapped[str] = mapped_column(String(80), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    mission_id: Mapped[uuid.UUID | None]
    run_id: Mapped[uuid.UUID | None]
    step_id: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    # Not indexed: nothing looks an event up by its hash, and ``verify_chain`` is what checks
    # the chain (revision 0005).
    hash: Mapped[str] = mapped_column(String(64))


class EventLogHead(Base):
    """The single row holding the chain's last ``seq`` and ``hash``.

    Appenders lock this row (``SELECT … FOR UPDATE``; on SQLite the ``BEGIN IMMEDIATE`` write lock
    does the same) so that appends are serialised and the chain never forks. Only the database
    moves it: the trigger that admits each event at ``last_seq + 1`` after ``last_hash`` makes
    that event the head (revision 0006).
    """

    __tablename__ = "event_log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class Artifact(Base):
    """An output kept in the blob store, with what it is and where it came from.

    Names are unique within a run (``domain.artifact_names``, ADR 29).
    """

    __tablename__ = "artifacts"
    __table_args__ = (Index("uq_artifacts_run_id_name", "run_id", "name", unique=True),)

    id: Mapped[uuid.UUID] = id_column()
    mission_id: Mapped[uuid.UUID | None] = _mission_ref(nullable=True)
    run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("runs.id"), index=True)
    step_run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("step_runs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))
    media_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    uri: Mapped[str] = mapped_column(String(2000))
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created_column()


class Agent(Base):
    """A registered agent: how to run it, what it may do, and whether it is alive."""

    __tablename__ = "agents"

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    capabilities: Mapped[list[str]] = mapped_column(default=list)
    model: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="idle")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    allowed_risk_tiers: Mapped[list[str]] = mapped_column(default=list)
    max_concurrency: Mapped[int | None] = mapped_column(Integer)
    last_heartbeat: Mapped[datetime | None]
    version: Mapped[str | None] = mapped_column(String(50))
    runtime_location: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class Approval(Base):
    """A gate on one step run: requested, then decided once by a named person.

    ``inputs`` is exactly what the step will run with (templates rendered), ``estimate_micros``
    what it is expected to cost. A database trigger refuses to change a decided row or to
    delete any row, so a decision cannot be rewritten after the fact.
    """

    __tablename__ = "approvals"
    __table_args__ = (
        # The approvals queue: undecided requests, oldest first.
        Index("ix_approvals_decision_requested_at", "decision", "requested_at"),
    )

    id: Mapped[uuid.UUID] = id_column()
    step_run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("step_runs.id"), index=True)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id"), index=True)
    mission_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    step_id: Mapped[str] = mapped_column(String(100), default="")
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    agent: Mapped[str] = mapped_column(String(200), default="")
    risk_tier: Mapped[str] = mapped_column(String(20), default="read")
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    estimate_micros: Mapped[int] = mapped_column(default=0)
    requested_at: Mapped[datetime] = created_column()
    decision: Mapped[str | None] = mapped_column(String(20))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    # The person behind ``decided_by`` (a token's owner); None for Mission Control itself.
    decided_by_user: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]


class Control(Base):
    """The single row of system-wide controls: the emergency stop.

    ``version`` goes up with every change to the stop or to an agent's restrictions, so an
    engine re-reads its cached agent restrictions only when it has moved.
    """

    __tablename__ = "controls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    emergency_stop: Mapped[bool] = mapped_column(Boolean, default=False)
    stopped_by: Mapped[str | None] = mapped_column(String(200))
    stopped_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = updated_column()


class ModelPrice(Base):
    """An admin override of a model's token prices (defaults come from genai-prices)."""

    __tablename__ = "model_prices"
    __table_args__ = (UniqueConstraint("model", "effective_from"),)

    id: Mapped[uuid.UUID] = id_column()
    model: Mapped[str] = mapped_column(String(200), index=True)
    input_micros_per_mtok: Mapped[int]
    cached_input_micros_per_mtok: Mapped[int]
    output_micros_per_mtok: Mapped[int]
    effective_from: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_column()


UNMAPPED_TABLES: frozenset[str] = frozenset(
    {
        "search_entries",
        # SQLite's FTS5 keeps its index in these shadow tables of ``search_entries``.
        "search_entries_data",
        "search_entries_idx",
        "search_entries_content",
        "search_entries_docsize",
        "search_entries_config",
        # Mission memory (revision 0020, ADR 0055): its entries and FTS5 index.
        "memory_entries",
        "memory_fts",
        "memory_fts_data",
        "memory_fts_idx",
        "memory_fts_content",
        "memory_fts_docsize",
        "memory_fts_config",
        # Analytics facts (revision 0028, ADR 0068): derived from the log by its follower.
        "analytics_people",
        "analytics_tokens",
        "analytics_active_days",
        "analytics_missions",
        "analytics_runs",
        "analytics_run_days",
        "analytics_run_weeks",
        "analytics_step_outcomes",  # revision 0039
    }
)
"""Tables the migrations create that no model maps (revisions 0011 and 0015, ADRs 0041, 0047).

The search index differs by dialect (an FTS5 virtual table on SQLite, a table with a ``tsvector``
on PostgreSQL), is written from the ``search_entries_source`` view and read only with each
dialect's own SQL (``repositories/search.py``): a model could describe neither. The
comparison of the migrated schema with the models leaves them out.
"""


class Worker(Base):
    """One engine that ran against this database: who it is, and when it last said so.

    An engine writes its row when it starts (``kind`` ``embedded`` in ``missionctl serve``,
    ``worker`` for ``missionctl worker``), moves ``last_heartbeat_at`` every few seconds from a
    task of its own, and sets ``stopped_at`` when it stops cleanly. ``name`` is what the engine
    writes as ``step_runs.lease_owner``. Alive means a heartbeat within
    ``domain.workers.ALIVE_S``; a crashed engine just stops heartbeating.

    Each heartbeat also writes what the engine does (``state``, ``concurrency``, the steps it
    holds, its utilisation) and reads back what the control plane asks of it
    (``desired_state``, ``desired_concurrency``, ADR 0058). ``offline_reported_at`` is set once,
    with the ``worker.offline`` event, when the worker has been silent past
    ``domain.workers.OFFLINE_S``.
    """

    __tablename__ = "workers"

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(20))
    concurrency: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = created_column()
    last_heartbeat_at: Mapped[datetime] = mapped_column(index=True)
    stopped_at: Mapped[datetime | None]
    capabilities: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    state: Mapped[str] = mapped_column(String(20), default="running", server_default="running")
    held_steps: Mapped[list[dict[str, str]]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    held_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    utilisation_5m: Mapped[float | None] = mapped_column(Float)
    utilisation_1h: Mapped[float | None] = mapped_column(Float)
    desired_state: Mapped[str] = mapped_column(String(20), default="run", server_default="run")
    desired_concurrency: Mapped[int | None] = mapped_column(Integer)
    commanded_by: Mapped[str | None] = mapped_column(String(200))
    commanded_at: Mapped[datetime | None]
    offline_reported_at: Mapped[datetime | None]
    # A range (both set) makes each heartbeat re-size the worker from the queue (ADR 0115);
    # autoscaled_at is when its size last changed, which it waits on before shrinking, and
    # autoscale_reason why it took that size.
    autoscale_min: Mapped[int | None] = mapped_column(Integer)
    autoscale_max: Mapped[int | None] = mapped_column(Integer)
    autoscaled_at: Mapped[datetime | None]
    autoscale_reason: Mapped[str | None] = mapped_column(Text)


class Webhook(Base):
    """A subscription: where to send which events, signed with its own secret (ADR 0060).

    ``events`` lists the subscribed event types (``domain.webhooks.SUBSCRIBABLE``);
    ``workflow`` optionally narrows them to one workflow's runs. ``secret`` signs every
    request and is shown once, when the subscription is made; nothing else ever reads it
    out. ``since_seq`` is the log's ``seq`` when it was made: older events are not sent.
    """

    __tablename__ = "webhooks"

    id: Mapped[uuid.UUID] = id_column()
    url: Mapped[str] = mapped_column(String(2000))
    format: Mapped[str] = mapped_column(String(10))
    events: Mapped[list[str]] = mapped_column(JSON)
    workflow: Mapped[str | None] = mapped_column(String(200))
    secret: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean)
    since_seq: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class WebhookDelivery(Base):
    """One body to send to one subscription, and what happened the last time it was sent.

    The outbox (ADR 0060): the log's follower writes a row per matching subscription and
    event; a dispatcher claims due rows under a lease (``lease_token`` until
    ``lease_expires_at``), sends them and records the answer. ``body`` is exactly what is
    sent (a redelivery sends it again, signed anew). ``event_seq`` is null for a test.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The dispatcher's question: which deliveries are due, oldest first.
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
        # A subscription's delivery log, newest first.
        Index("ix_webhook_deliveries_webhook_id", "webhook_id", "id"),
    )

    id: Mapped[uuid.UUID] = id_column()
    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_seq: Mapped[int | None] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_expires_at: Mapped[datetime | None]
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    redelivery_of: Mapped[uuid.UUID | None]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_column()
    attempted_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


class FollowerCursor(Base):
    """How far one follower of the log has read: its ``name`` and the last ``seq`` it folded.

    Each follower (``services.followers``) moves its row in the transaction that writes what it
    derived from those events, and locks it meanwhile, so two processes following the log take
    turns and no event is folded twice (revision 0034, ADR 0086).
    """

    __tablename__ = "follower_cursors"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)


class RateLimitHit(Base):
    """One allowed attempt a shared rate limit counts (revision 0041, ADR 0113).

    ``bucket`` is the SHA-256 (hex) of the limiter's name and its key (an API token's actor, an
    account, an address), so the table holds no name or address and every key has one size;
    ``at`` is the attempt's wall-clock time in seconds. Every server process of one database
    counts against the same rows (``security.limits``); rows older than the longest window are
    of no use and are purged as attempts come. On PostgreSQL the table is ``UNLOGGED``: a crash
    of the database forgets recent attempts, which only restarts their windows.
    """

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_bucket_at", "bucket", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    bucket: Mapped[str] = mapped_column(String(64))
    at: Mapped[float] = mapped_column(Float, index=True)


class HttpCallback(Base):
    """A pending answer of an external HTTP agent, redeemable once (revision 0024, ADR 0061).

    The ``http`` agent opens one per attempt and sends ``callback_url`` (the server's address +
    ``/api/v1/callbacks/<token>``); only the SHA-256 of the token is kept. The callback route
    stores the agent's answer in ``result`` and sets ``used_at`` in one conditional UPDATE, so
    a token is redeemed at most once; the engine holding the step polls the row by ``id``.
    """

    __tablename__ = "http_callbacks"

    id: Mapped[uuid.UUID] = id_column()
    step_run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("step_runs.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = created_column()


class Schedule(Base):
    """A cron expression in a time zone that starts a workflow's or a mission's runs (ADR 0059).

    Exactly one of ``workflow_id`` (a workflow version, run with ``inputs``) and ``mission_id``
    (with ``mission_action``: run the newest plan, or plan again first) is set. A tick is
    claimed by moving ``next_fire_at`` from the value read to the next tick in the transaction
    that starts its run, so one engine fires it however many look. ``queued_tick`` is a tick
    waiting for the previous run to end (overlap policy ``queue``). ``last_*`` describe the
    newest firing. A deleted schedule keeps its row (its runs still name it), with
    ``deleted_at`` set; names are unique among the others.
    """

    __tablename__ = "schedules"
    __table_args__ = (
        Index(
            "uq_schedules_live_name",
            "name",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(100))
    cron: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    workflow_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workflows.id"), index=True)
    mission_id: Mapped[uuid.UUID | None] = _mission_ref(nullable=True)
    mission_action: Mapped[str | None] = mapped_column(String(20))
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    budget_micros: Mapped[int | None]
    misfire_policy: Mapped[str] = mapped_column(String(20))
    overlap_policy: Mapped[str] = mapped_column(String(20))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    next_fire_at: Mapped[datetime] = mapped_column(index=True)
    queued_tick: Mapped[datetime | None]
    last_fired_at: Mapped[datetime | None]
    last_run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("runs.id"))
    last_outcome: Mapped[str | None] = mapped_column(String(20))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()
    deleted_at: Mapped[datetime | None]


class Epic(Base):
    """A named group of missions with an owner, a target date and an optional budget (ADR 0102).

    A mission is in at most one epic (``epic_missions``). An archived epic keeps its row and
    its missions, with ``archived_at`` set; names are unique among the epics not archived.
    """

    __tablename__ = "epics"
    __table_args__ = (
        Index(
            "uq_epics_live_name",
            "name",
            unique=True,
            sqlite_where=text("archived_at IS NULL"),
            postgresql_where=text("archived_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(63))  # a user's name
    target_date: Mapped[date | None]
    budget_micros: Mapped[int | None]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()
    archived_at: Mapped[datetime | None]


class SpendingCap(Base):
    """A cap on what some agents' steps may spend per UTC day or month (ADR 0104, 0037).

    ``agent`` is an agent's name, a kind (``llm:*``) or ``*`` (every agent); one cap per agent
    and period. ``notified_period`` and ``notified_level`` remember the last level recorded
    (``spending_cap.warning``, ``.reached``) and the period it was in, so each is recorded once
    a period.
    """

    __tablename__ = "spending_caps"
    __table_args__ = (UniqueConstraint("agent", "period"),)

    id: Mapped[uuid.UUID] = id_column()
    agent: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(10))
    cap_micros: Mapped[int] = mapped_column(BigInteger)
    notified_period: Mapped[date | None]
    notified_level: Mapped[str | None] = mapped_column(String(10))
    updated_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class EpicMission(Base):
    """A mission in an epic: the mission is the key, so it is in one epic at most."""

    __tablename__ = "epic_missions"

    mission_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("missions.id", ondelete="RESTRICT"), primary_key=True
    )
    epic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("epics.id"), index=True)
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = created_column()


class ScheduleRun(Base):
    """A run a schedule started, and the tick it stands for (``None``: started by run-now)."""

    __tablename__ = "schedule_runs"

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    schedule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schedules.id"), index=True)
    tick: Mapped[datetime | None]


class Spec(Base):
    """A mini-spec of one plan task, written before risky work starts (revision 0027).

    ``status`` is ``draft``, ``approved`` or ``rejected`` (``domain.specs.SPEC_STATUSES``); a
    decision is made once, by someone other than the author, and names who made it, when and
    (for a rejection) why. The body is also kept as an artifact of the mission
    (``artifact_id``). A task's implementation steps are held until a fresh approved spec of
    that task exists (ADR 0066).
    """

    __tablename__ = "specs"
    __table_args__ = (Index("ix_specs_mission_id_task_key", "mission_id", "task_key"),)

    id: Mapped[uuid.UUID] = id_column()
    mission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("missions.id", ondelete="RESTRICT"))
    task_key: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    author: Mapped[str] = mapped_column(String(200))
    # The user behind ``author`` (a person or their API token): nobody decides on their own spec.
    author_user: Mapped[str] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    artifact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("artifacts.id"))
    created_at: Mapped[datetime] = created_column()


class WorkflowTemplate(Base):
    """A template a user saved to the gallery from a workflow version (ADR 0065).

    ``definition`` is the whole ``TemplateSpec`` (its inputs and its workflow body). Names are
    unique, and unique across the shipped templates too (checked on save). Deleting one deletes
    the row; its ``template.deleted`` event keeps what it was.
    """

    __tablename__ = "workflow_templates"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(63))
    title: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(40))
    definition: Mapped[dict[str, Any]]
    source_workflow_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("workflows.id", ondelete="SET NULL")
    )
    saved_by: Mapped[str] = mapped_column(String(200))
    saved_at: Mapped[datetime] = created_column()


class AnomalyNotice(Base):
    """An anomaly already announced (``analytics.anomaly_detected``), by its key (revision 0029).

    Inserted in the transaction that appends the event: a notifier whose insert finds the key
    taken knows another one (or an earlier pass) sent it, so each anomaly is announced once
    however many servers run (ADR 0069).
    """

    __tablename__ = "anomaly_notices"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    severity: Mapped[str] = mapped_column(String(10))
    notified_at: Mapped[datetime] = created_column()
