"""The orchestration figures' answer (ADR 0116, 0117).

Clean runs, time to bootstrap, duplicated edits and groundwork first.
"""

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


class DuplicatedEditsRead(BaseModel):
    """Lines coding steps changed, and how many an earlier coding step of the mission had."""

    steps: int = Field(description="Coding steps' diffs recorded.")
    lines: int = Field(description="The lines they changed (added or removed; see the docs).")
    duplicated: int = Field(
        description="Of those, the lines an earlier coding step of the same mission had changed."
    )
    share: float | None = Field(description="duplicated / lines (0 to 1); null: no line.")
    steps_repeating: int = Field(description="The diffs that repeated at least one line.")


class DuplicatedEditsBucket(DuplicatedEditsRead):
    """One day or week of coding steps' diffs, by the day each was recorded."""

    start: date
    label: str


class WorkflowDuplicatedEdits(DuplicatedEditsRead):
    """One workflow's coding steps' diffs over the range."""

    workflow: str


class GroundworkRead(BaseModel):
    """Implementation tasks started, and how many had their groundwork first."""

    started: int = Field(description="Implementation tasks whose work started (first start).")
    prepared: int = Field(
        description="Of those, the tasks that had their PRD, their task list and, when the "
        "spec policy asked for one, an approved mini-spec by then."
    )
    share: float | None = Field(description="prepared / started (0 to 1); null: none started.")
    specs_required: int = Field(description="The tasks the spec policy asked a mini-spec of.")
    missing: dict[str, int] = Field(
        description="Tasks that lacked each: prd, task_list, spec (a task may lack several)."
    )


class GroundworkBucket(GroundworkRead):
    """One day or week of implementation work, by the day it started."""

    start: date
    label: str


class WorkflowGroundwork(GroundworkRead):
    """One workflow's implementation tasks over the range."""

    workflow: str


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
    duplicated_edits: DuplicatedEditsRead
    duplicated_edits_by_bucket: list[DuplicatedEditsBucket]
    duplicated_edits_by_workflow: list[WorkflowDuplicatedEdits] = Field(
        description="Each workflow with a coding step's diff in the range, by name."
    )
    groundwork: GroundworkRead
    groundwork_by_bucket: list[GroundworkBucket]
    groundwork_by_workflow: list[WorkflowGroundwork] = Field(
        description="Each workflow with implementation work started in the range, by name."
    )
