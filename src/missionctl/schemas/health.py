"""API contracts of the system's health: its vital figures and the registry of workers."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


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
    as_of: datetime = Field(description="When the figures were read.")


class WorkerRead(BaseModel):
    """One engine that ran against this database in the last day."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str = Field(description="What its leases name (step_runs.lease_owner): host:pid:tag.")
    host: str
    pid: int
    version: str
    kind: str = Field(description="embedded (in missionctl serve) or worker.")
    concurrency: int
    started_at: datetime
    last_heartbeat_at: datetime
    stopped_at: datetime | None = Field(description="When it stopped cleanly; null: it did not.")
    alive: bool = Field(description="Not stopped, and heartbeating within the last 30 seconds.")
