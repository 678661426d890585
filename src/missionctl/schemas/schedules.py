"""Schedule contracts: what people send to add or change a schedule, and what they read back.

A schedule names what it starts: a workflow version (``workflow_id``, with ``inputs`` checked
against the version's declared inputs) or a mission (``mission_id``, with ``mission_action``).
The cron expression has five fields (or a macro such as ``@daily``) and is read in
``timezone``, an IANA name. Unknown fields are refused; text is bounded and free of NUL
characters, so that a bad value is a 422 naming its field and never a 500.
"""

import uuid
import zoneinfo
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from pydantic.config import JsonDict

from missionctl.domain.schedules import (
    MisfirePolicy,
    MissionAction,
    OverlapPolicy,
    cron_problem,
    zone_problem,
)
from missionctl.schemas.missions import BudgetUsd, plain_text
from missionctl.schemas.partial import PartialEdit

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
NAME_MAX_CHARS = 100
CRON_MAX_CHARS = 100
ZONE_MAX_CHARS = 64
MAX_INPUTS = 100

ScheduleName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=NAME_MAX_CHARS, pattern=NAME_PATTERN),
    plain_text(NAME_MAX_CHARS),
]


def _cron_field(value: str) -> str:
    """A cron field of ``value``s: ``*`` or a value or a range, each with a step, in a list."""
    atom = rf"(\*|{value}(-{value})?)(/[1-9][0-9]{{0,2}})?"
    return rf"{atom}(,{atom})*"


_CRON_FIELDS = (
    r"[0-5]?[0-9]",  # minute
    r"([01]?[0-9]|2[0-3])",  # hour
    r"(0?[1-9]|[12][0-9]|3[01])",  # day of the month
    r"(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)",  # month
    r"([0-7]|SUN|MON|TUE|WED|THU|FRI|SAT)",  # day of the week
)
CRON_PATTERN = (
    r"^[ \t]*(@(yearly|annually|monthly|weekly|daily|hourly)|"
    + r"[ \t]+".join(_cron_field(value) for value in _CRON_FIELDS)
    + r")[ \t]*$"
)
"""The cron expressions the document promises (``domain.schedules.cron_problem`` decides):
five fields of numbers in range, ``*``, ranges, steps and lists, month and weekday names in
capitals, or a macro. croniter reads more (``L``, ``#``, lower-case names); those are accepted
but not advertised."""

CronText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=CRON_MAX_CHARS),
    plain_text(CRON_MAX_CHARS),
    WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": CRON_MAX_CHARS, "pattern": CRON_PATTERN}
    ),
]
ZoneName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=ZONE_MAX_CHARS),
    plain_text(ZONE_MAX_CHARS),
    # The zones this server's time zone database holds: exactly what ``zone_problem`` accepts.
    WithJsonSchema(
        {
            "type": "string",
            "enum": sorted(z for z in zoneinfo.available_timezones() if len(z) <= ZONE_MAX_CHARS),
        }
    ),
]
Inputs = Annotated[dict[str, Any], Field(max_length=MAX_INPUTS)]


def _check_cron(value: str | None) -> str | None:
    if value is not None and (problem := cron_problem(value)):
        raise ValueError(problem)
    return value


def _check_zone(value: str | None) -> str | None:
    if value is not None and (problem := zone_problem(value)):
        raise ValueError(problem)
    return value


_UUID: JsonDict = {"type": "string", "format": "uuid"}
ONE_TARGET: JsonDict = {
    "oneOf": [
        {
            "required": ["workflow_id"],
            "properties": {"workflow_id": _UUID, "mission_id": {"type": "null"}},
        },
        {
            "required": ["mission_id"],
            "properties": {
                "mission_id": _UUID,
                "workflow_id": {"type": "null"},
                "inputs": {"type": "object", "maxProperties": 0},
            },
        },
    ]
}
"""What ``services.usecases.schedules`` checks first, for OpenAPI: a workflow version (with its
inputs) or a mission (with none), never both or neither."""


class ScheduleCreate(BaseModel):
    """A schedule to add. Exactly one of ``workflow_id`` and ``mission_id``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=ONE_TARGET)

    name: ScheduleName = Field(
        description="Unique among schedules; letters, digits, '.', '_' and '-' (runs it starts "
        "are created by `schedule:<name>`)."
    )
    cron: CronText = Field(
        description="Five fields (minute hour day-of-month month day-of-week), e.g. "
        "`0 9 * * MON-FRI`, or @hourly, @daily, @weekly, @monthly, @yearly."
    )
    timezone: ZoneName = Field(
        default="UTC", description="The IANA time zone the expression is read in."
    )
    workflow_id: uuid.UUID | None = Field(
        default=None, description="The workflow version each tick runs."
    )
    inputs: Inputs = Field(default_factory=dict, description="The workflow's inputs.")
    mission_id: uuid.UUID | None = Field(default=None, description="The mission each tick runs.")
    mission_action: MissionAction = Field(
        default=MissionAction.run,
        description="`run`: run the mission's newest plan; `plan_again`: plan it again first.",
    )
    budget_usd: BudgetUsd | None = Field(
        default=None, description="A cap for each run it starts (the lowest cap applies)."
    )
    misfire_policy: MisfirePolicy = Field(
        default=MisfirePolicy.skip,
        description="Ticks missed while paused or down: `skip` them, or `run_once` to catch up.",
    )
    overlap_policy: OverlapPolicy = Field(
        default=OverlapPolicy.skip,
        description="A tick while the previous run is active: `skip`, `queue` (run when it "
        "ends) or `allow` (run beside it).",
    )
    paused: bool = Field(default=False, description="Add it paused.")

    _cron = field_validator("cron")(_check_cron)
    _zone = field_validator("timezone")(_check_zone)


class ScheduleEdit(PartialEdit):
    """A change to a schedule: the fields sent (omitted: kept). ``budget_usd: null`` removes it."""

    _NULLABLE: ClassVar[frozenset[str]] = frozenset({"budget_usd"})

    name: ScheduleName | None = None
    cron: CronText | None = None
    timezone: ZoneName | None = None
    inputs: Inputs | None = None
    mission_action: MissionAction | None = None
    budget_usd: BudgetUsd | None = None
    misfire_policy: MisfirePolicy | None = None
    overlap_policy: OverlapPolicy | None = None

    _cron = field_validator("cron")(_check_cron)
    _zone = field_validator("timezone")(_check_zone)


class ScheduleRead(BaseModel):
    """A schedule, its next tick and what its runs did."""

    id: uuid.UUID
    name: str
    cron: str
    timezone: str
    target: Literal["workflow", "mission"]
    workflow_id: uuid.UUID | None
    workflow: str | None = Field(description="The workflow version's `name vN`.")
    inputs: dict[str, Any]
    mission_id: uuid.UUID | None
    mission_action: MissionAction | None
    budget_usd: Decimal | None
    misfire_policy: MisfirePolicy
    overlap_policy: OverlapPolicy
    paused: bool
    next_fire_at: datetime | None = Field(description="The next tick (null while paused).")
    queued_tick: datetime | None = Field(
        description="A tick waiting for the previous run to end (overlap policy `queue`)."
    )
    last_fired_at: datetime | None
    last_outcome: str | None = Field(
        description="What the newest firing did: started, skipped, queued, planning or failed."
    )
    last_error: str | None
    last_run_id: uuid.UUID | None
    last_run_status: str | None
    runs_ended: int = Field(description="How many of its newest 50 runs ended.")
    success_rate: float | None = Field(
        description="The share of those that completed (null before any ended)."
    )
    created_by: str
    created_at: datetime
    updated_at: datetime
