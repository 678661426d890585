"""The calendar's contracts: which window to read, and its days with firings and runs."""

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field, field_validator

from missionctl.domain.calendar import View
from missionctl.domain.schedules import zone_problem
from missionctl.domain.states import RunStatus
from missionctl.schemas.runs import IsoDate

MAX_FIRINGS_PER_SCHEDULE = 500
"""The most firings of one schedule a window lists (a schedule that ticks every minute would
tick 60,480 times in six weeks); the rest are counted as left out."""
MAX_RUNS_PER_DAY = 20
"""The most runs a day lists (it counts them all)."""
ZONE_MAX_CHARS = 64


class CalendarQuery(BaseModel):
    """The window: a month or a week holding ``date``, in the viewer's time zone ``tz``."""

    model_config = ConfigDict(extra="forbid")

    view: View = Field("month", description="`month` (six weeks, Monday first) or `week`.")
    date: IsoDate | None = Field(
        None, description="A day of the month or week to show (YYYY-MM-DD); left out: today."
    )
    tz: str = Field(
        "UTC", max_length=ZONE_MAX_CHARS, description="The viewer's IANA time zone: days are its."
    )

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        if problem := zone_problem(value):
            raise ValueError(problem)
        return value


class Firing(BaseModel):
    """A tick of a schedule: when it starts its run."""

    schedule_id: uuid.UUID
    schedule: str = Field(description="The schedule's name.")
    at: dt.datetime = Field(description="The instant, in UTC.")
    local_time: str = Field(description="The time of day in the viewer's zone, HH:MM.")


class CalendarRun(BaseModel):
    """A run created on the day, with its result."""

    id: uuid.UUID
    status: RunStatus
    name: str = Field(description="Its mission's title or its workflow's name.")
    trigger: str
    created_at: dt.datetime


class CalendarDay(BaseModel):
    """One of the viewer's days: the firings due on it and the runs created on it."""

    date: dt.date
    in_view: bool = Field(description="In the month shown (false: a neighbouring month's day).")
    today: bool
    firings: list[Firing]
    runs: list[CalendarRun] = Field(description=f"The first {MAX_RUNS_PER_DAY} of its runs.")
    run_count: int
    runs_by_status: dict[RunStatus, int]
    runs_url: str = Field(description="The runs list filtered to this day.")


class CalendarSchedule(BaseModel):
    """A schedule whose firings the window shows."""

    id: uuid.UUID
    name: str
    cron: str
    timezone: str = Field(description="The schedule's own zone, in which its cron is read.")
    paused: bool
    firings: int = Field(description="Its firings listed in the window.")
    more_firings: bool = Field(
        description=f"It ticks more than {MAX_FIRINGS_PER_SCHEDULE} times in the window."
    )


class CalendarRead(BaseModel):
    """A month or a week of the viewer's days."""

    view: View
    tz: str
    first: dt.date
    last: dt.date
    previous: dt.date = Field(description="A day of the window before (for `date`).")
    next: dt.date = Field(description="A day of the window after.")
    days: list[CalendarDay]
    schedules: list[CalendarSchedule] = Field(
        description="Every live schedule; a paused one fires nothing until resumed."
    )
