"""What the demo history is made of, read from ``history.yaml`` (ADR 0071).

The file holds the volumes, rates, workflows, step costs and goals; these types check it when
the package is imported, so a broken file fails at once, naming the field.
"""

from importlib.resources import files
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from missionctl.domain.access import Role
from missionctl.schemas.datafiles import read_data_file
from missionctl.schemas.workflows import WorkflowSpec

Share = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[int, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _ordered(pair: tuple[float, float], field: str) -> None:
    if pair[0] > pair[1]:
        raise ValueError(f"{field}: the lowest value comes first")


class People(_Strict):
    """Who joins, and when."""

    founders: Annotated[int, Field(ge=1)]
    joins_per_day: Annotated[float, Field(ge=0, le=10)]
    power_users: Count
    roles: dict[Role, Share]
    test_users: list[str]
    names: Annotated[list[str], Field(min_length=1)]

    @model_validator(mode="after")
    def _power_users_are_founders(self) -> Self:
        if self.power_users >= self.founders:
            raise ValueError("power_users: fewer than founders (the next founder is the admin)")
        if len(set(self.names)) != len(self.names):
            raise ValueError("names: each name once")
        return self


class Activity(_Strict):
    """How often people come back and what they do when they do."""

    first_mission_share: Share
    week_return: Annotated[list[Share], Field(min_length=1)]
    days_per_active_week: tuple[Annotated[int, Field(ge=1, le=7)], Annotated[int, Field(le=7)]]
    weekend_weight: Annotated[float, Field(gt=0, le=1)]
    new_mission_share: Share
    download_share: Share
    viewer_download_share: Share
    test_user_day_share: Share

    @model_validator(mode="after")
    def _range(self) -> Self:
        _ordered(self.days_per_active_week, "days_per_active_week")
        return self


class StepWork(_Strict):
    """What one step's model call takes (seconds) and spends (tokens), before noise.

    ``fragility``: how likely this step is to be the one a failing run fails at, next to its
    workflow's other steps (their weights).
    """

    seconds: tuple[Annotated[float, Field(gt=0)], float]
    prompt_tokens: Annotated[int, Field(gt=0)]
    completion_tokens: Annotated[int, Field(gt=0)]
    fragility: Annotated[float, Field(gt=0)] = 1.0

    @model_validator(mode="after")
    def _range(self) -> Self:
        _ordered(self.seconds, "seconds")
        return self


class DemoWorkflow(_Strict):
    """A workflow the demo's people run, and how often it is picked."""

    weight: Annotated[float, Field(gt=0)]
    spec: WorkflowSpec


class Runs(_Strict):
    """How many runs a day, how they go, and what their steps do."""

    weekday: tuple[Count, Count]
    weekend: tuple[Count, Count]
    success_rate: Share
    noise: Annotated[float, Field(ge=0, lt=1)]
    workflows: Annotated[list[DemoWorkflow], Field(min_length=1)]
    work: dict[str, StepWork]

    @model_validator(mode="after")
    def _every_step_has_work(self) -> Self:
        _ordered(self.weekday, "weekday")
        _ordered(self.weekend, "weekend")
        for workflow in self.workflows:
            for step in workflow.spec.steps:
                if step.id not in self.work:
                    raise ValueError(f"work: no entry for step {step.id!r}")
        return self


class Anomalies(_Strict):
    """The three injections, when asked for."""

    failing_days: Annotated[int, Field(ge=1)]
    failing_success_rate: Share
    costly_days: Annotated[int, Field(ge=1)]
    cost_factor: Annotated[float, Field(gt=0)]
    retention_weeks_ago: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]]
    retention_factor: Share


class Trial(_Strict):
    """A cheaper model tried on a share of runs, through a version of each workflow pinned to it.

    ``share`` of the runs are on trial; of the runs that fail at a step named in
    ``share_when_failing_at``, that share instead, so the trial model fails those steps more
    often while every run ends as it would have (the run-level rates are the history's own).
    """

    model: Annotated[str, Field(min_length=1)]
    share: Share
    share_when_failing_at: dict[str, Share] = Field(default_factory=dict)


class DemoParameters(_Strict):
    """Everything ``history.yaml`` says."""

    model: Annotated[str, Field(min_length=1)]
    trial: Trial
    people: People
    activity: Activity
    runs: Runs
    anomalies: Anomalies
    goals: Annotated[list[Annotated[str, Field(min_length=10)]], Field(min_length=1)]


PARAMETERS: DemoParameters = read_data_file(
    files("missionctl.demo") / "history.yaml", TypeAdapter(DemoParameters)
)
"""The parameters of ``missionctl demo seed``."""
