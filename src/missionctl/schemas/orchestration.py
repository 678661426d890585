"""The orchestration figures' answer: clean runs and time to bootstrap (ADR 0116)."""

from datetime import date

from pydantic import BaseModel, Field

from missionctl.schemas.analytics import AnalyticsMeta


class CleanRunsRead(BaseModel):
    """Runs that ended, and how many completed with no manual fix-up."""

    ended: int = Field(description="Runs that ended: completed, failed, canceled or aborted.")
    clean: int = Field(description="Of those, the runs that completed and needed no fix-up.")
    share: float | None = Field(description="clean / ended (0 to 1); null when none ended.")
    fixes: dict[str, int] = Field(
        description="Runs with each kind of fix-up: retried (a person retried a step), rerun "
        "(someone reran it, or it is a rerun), merge_rejected (a merge in it was rejected); a "
        "run may have several."
    )


class CleanRunsBucket(CleanRunsRead):
    """One day or week of clean runs, by the day each run ended."""

    start: date
    label: str


class WorkflowCleanRuns(CleanRunsRead):
    """One workflow's clean runs over the range."""

    workflow: str


class BootstrapRead(BaseModel):
    """Missions created, and how long each took from creation to its first run's start."""

    missions: int = Field(description="Missions created in the range.")
    bootstrapped: int = Field(description="Of those, the missions whose plan has run.")
    median_hours: float | None = Field(description="Median hours to the first run; null: none.")
    p90_hours: float | None = Field(description="90th percentile hours (nearest rank).")


class BootstrapBucket(BootstrapRead):
    """One day or week of missions, by the day each was created."""

    start: date
    label: str


class OrchestrationAnswer(BaseModel):
    """How well orchestration went by itself over the range, per bucket and per workflow."""

    meta: AnalyticsMeta
    clean_runs: CleanRunsRead
    clean_runs_by_bucket: list[CleanRunsBucket]
    clean_runs_by_workflow: list[WorkflowCleanRuns] = Field(
        description="Each workflow that had a run end in the range, most runs first."
    )
    bootstrap: BootstrapRead
    bootstrap_by_bucket: list[BootstrapBucket]
