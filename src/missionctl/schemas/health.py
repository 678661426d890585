"""API contracts of the system's health: its vital figures and the registry of workers."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from missionctl.domain.workers import (
    MAX_CONCURRENCY,
    OFFLINE_S,
    STALE_S,
    DesiredState,
    WorkerStatus,
)


class HealthSummaryRead(BaseModel):
    """The figures of the health strip, as of ``as_of`` (kept at most a second)."""

    model_config = ConfigDict(from_attributes=True)

    queued: int = Field(description="Step runs queued for an engine (the queue depth).")
    running: int = Field(description="Step runs running now.")
    failed_24h: int = Field(description="Step runs that failed for good in the last 24 hours.")
    burn_usd_per_hour: float = Field(
        description=(
            "US dollars spent in the last hour: by steps that ended in it, and by the current "
            "attempts of steps that started in it and have not ended (the cost breakdowns' "
            "burn rate over the last hour)."
        )
    )
    approvals_waiting: int = Field(description="Gated steps waiting for a person's decision.")
    workers_alive: int = Field(
        description="Engines whose last heartbeat is at most 30 seconds old."
    )
    caps_warning: int = Field(
        default=0,
        description=(
            "Spending caps that announced their warning (80 % spent, `spending_cap.warning`) "
            "in their current UTC day or month and have not reached it."
        ),
    )
    caps_reached: int = Field(
        default=0,
        description=(
            "Spending caps that announced they were reached (a step held, "
            "`spending_cap.reached`) in their current UTC day or month."
        ),
    )
    as_of: datetime = Field(description="When the figures were read.")


class HeldStepRead(BaseModel):
    """A step run a worker held at its last heartbeat."""

    step_run_id: str
    run_id: str
    step_id: str


class WorkerRead(BaseModel):
    """One engine that ran against this database in the last day.

    What it does (``state``, ``concurrency``, ``held_count``, utilisation) is as of its last
    heartbeat; what it was asked (``desired_state``, ``desired_concurrency``) it obeys at its
    next one.
    """

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str = Field(description="What its leases name (step_runs.lease_owner): host:pid:tag.")
    host: str
    pid: int
    version: str
    kind: str = Field(description="embedded (in missionctl serve) or worker.")
    status: WorkerStatus = Field(
        description=(
            "online (heartbeating, claiming work), draining (finishing what it holds, claiming "
            f"nothing), stale (no heartbeat for {STALE_S:g} s), offline (none for "
            f"{OFFLINE_S:g} s: gone for good), stopped (it exited cleanly)."
        )
    )
    busy: bool = Field(description="Whether it held a step at its last heartbeat.")
    capabilities: list[str] = Field(
        description="The agents it runs: exact names, and kinds as `kind:*` (e.g. `llm:*`)."
    )
    concurrency: int = Field(description="Steps it runs at once, as of its last heartbeat.")
    held_count: int = Field(description="Steps it held at its last heartbeat.")
    utilisation_5m: float | None = Field(
        description="Percent of its slot-seconds busy over the last 5 minutes (null: none yet)."
    )
    utilisation_1h: float | None = Field(
        description="Percent of its slot-seconds busy over the last hour (null: none yet)."
    )
    desired_state: DesiredState = Field(
        description="What the control plane asks: run, drain, or stop (drain, then exit)."
    )
    desired_concurrency: int | None = Field(
        description="The concurrency the control plane asks for; null: its own setting."
    )
    autoscale_min: int | None = Field(
        None, description="With `autoscale_max`: the range it sizes itself within from the queue."
    )
    autoscale_max: int | None = Field(
        None, description="The most steps at once it may size itself to; null: it does not."
    )
    autoscaled_at: datetime | None = Field(
        None, description="When its size last changed by its range (or the range was set)."
    )
    autoscale_reason: str | None = Field(
        None, description="Why its range last changed its size: the queue's figures then."
    )
    commanded_by: str | None = Field(description="Who gave its last command (an actor).")
    commanded_at: datetime | None
    started_at: datetime
    last_heartbeat_at: datetime
    stopped_at: datetime | None = Field(description="When it stopped cleanly; null: it did not.")
    offline_reported_at: datetime | None = Field(
        description="When it was found offline and `worker.offline` was appended."
    )
    alive: bool = Field(description="Not stopped, and heartbeating within the last 30 seconds.")


class WorkerDetail(WorkerRead):
    """One worker with the steps it held at its last heartbeat."""

    held_steps: list[HeldStepRead]


class WorkerAutoscale(BaseModel):
    """``PUT /api/v1/workers/{id}/autoscale``: the range the worker sizes itself within."""

    model_config = ConfigDict(extra="forbid")

    minimum: int = Field(
        ge=1, le=MAX_CONCURRENCY, description="The fewest steps at once it sizes itself to."
    )
    maximum: int = Field(
        ge=1,
        le=MAX_CONCURRENCY,
        description=f"The most steps at once, up to {MAX_CONCURRENCY}; at least `minimum`.",
    )


class WorkerUpdate(BaseModel):
    """``PATCH /api/v1/workers/{id}``: how many steps the worker runs at once from now on."""

    model_config = ConfigDict(extra="forbid")

    concurrency: int = Field(
        ge=1,
        le=MAX_CONCURRENCY,
        description=f"Steps at once, 1 to {MAX_CONCURRENCY}; obeyed at its next heartbeat.",
    )


class FollowerRead(BaseModel):
    """How far one follower of the log has read (the search index, memory, analytics, outbox)."""

    name: str = Field(
        description="The follower: search, memory, analytics, orchestration, risks or webhooks."
    )
    description: str = Field(description="What it keeps up with the log.")
    read_to: int = Field(description="The last event seq it has folded.")
    head: int = Field(description="The log's last event seq when this was read.")
    lag_events: int = Field(description="Events appended that it has not read yet.")
    lag_s: float = Field(
        description="Seconds since the oldest event it has not read was appended (0: current)."
    )
    as_of: datetime = Field(description="When the positions were read.")
