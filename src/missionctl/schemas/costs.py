"""Cost and usage: what the API, the Costs page and ``missionctl costs`` ask and answer."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from missionctl.schemas.missions import NO_NUL_PATTERN
from missionctl.schemas.runs import IsoDateTime

CostScope = Literal["system", "run", "mission", "workflow"]
CostBucketSize = Literal["hour", "day"]
CostGrouping = Literal["agent", "model", "role", "requirement"]

SCOPE_ID_MAX_CHARS = 200
# The most buckets one answer holds: 62 days of hours, or about five and a half years of days.
MAX_BUCKETS = {"hour": 24 * 62, "day": 2_000}

REQUIREMENT_SPLIT = (
    "A task that traces several requirements has its cost split evenly between them (the "
    "remainder of a micro-dollar goes to the first), so the rows add up to the total."
)
OUTSIDE_RUNS = "(outside runs)"
"""The key of spend that no step holds: a mission's planning and clarifying."""
NO_MODEL = "(no model)"
"""The model key of steps no attempt was billed for (agents that use no tokens)."""
NO_REQUIREMENT = "(no requirement)"
"""The requirement key of steps whose task traces none, or of runs not compiled from a plan."""


class CostQuery(BaseModel):
    """Which spend a cost breakdown covers.

    ``id`` names the run or mission (a UUID) or the workflow (its name, every version); the
    system scope takes none. ``since``/``until`` bound the spend by when it was dated (a step's
    end, or its current attempt's start); the breakdowns cover the whole history without them,
    and the time series the run's life, or the last 48 hours (hour buckets) or 30 days (day).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    scope: CostScope = Field("system", description="What to add up")
    id: str | None = Field(
        default=None,
        max_length=SCOPE_ID_MAX_CHARS,
        pattern=NO_NUL_PATTERN,
        description="The run's or mission's id, or the workflow's name; none for `system`",
    )
    bucket: CostBucketSize = Field("hour", description="Time series buckets (UTC)")
    since: IsoDateTime | None = Field(
        default=None, description="Spend dated at or after (ISO 8601; UTC if no zone)"
    )
    until: IsoDateTime | None = Field(
        default=None, description="Spend dated before (ISO 8601; UTC if no zone)"
    )


class CostLine(BaseModel):
    """The tokens and spend of one group of steps."""

    key: str = Field(description="The agent, model, role or requirement key.")
    label: str = Field(description="What the page shows for the key.")
    steps: int = Field(
        description=(
            "Steps in the group that started, whose spend is dated (a requirement's: every "
            "step of the tasks tracing it, so a requirement not yet worked on is listed)."
        )
    )
    input_tokens: int
    output_tokens: int
    cost_micros: int
    cost_usd: float


class CostBucket(BaseModel):
    """The spend dated in one UTC hour or day."""

    start: datetime
    input_tokens: int
    output_tokens: int
    cost_micros: int
    cost_usd: float


class BurnRate(BaseModel):
    """How fast the scope spends, in US dollars per hour."""

    last_hour_usd_per_hour: float
    last_day_usd_per_hour: float = Field(description="The last 24 hours' spend divided by 24.")


class BudgetUse(BaseModel):
    """What the scope spent against its cap (``None`` when it has none)."""

    spent_usd: float
    cap_usd: float | None
    used: float | None = Field(description="spent / cap, e.g. 0.42; none without a cap.")


class RoutedRole(BaseModel):
    """One role's routed steps beside its steps on the configured model, in the scope."""

    role: str
    routed_steps: int = Field(description="Ended steps routing sent to another model.")
    routed_succeeded: int
    default_steps: int = Field(description="Ended steps that ran on the configured model.")
    default_succeeded: int
    saved_usd: float = Field(description="What the routed steps cost less than they would have.")
    held: bool | None = Field(
        description="Whether the routed steps succeeded as often as those on the configured "
        "model, within routing's tolerance; null: too few steps on either side to say."
    )


class RoutingSavings(BaseModel):
    """What model routing saved in the scope, and whether success rates held (ADR 0119)."""

    since: datetime | None = Field(
        description="Where the figures start: the scope's `since`, or 30 days ago for a scope "
        "without a window."
    )
    routed_steps: int
    cost_usd: float = Field(description="What the routed steps cost.")
    default_cost_usd: float = Field(
        description="What the same tokens would have cost at the configured model's price now."
    )
    saved_usd: float
    saved_share: float | None = Field(description="Saved over the default cost; null at 0.")
    roles: list[RoutedRole]


class CostBreakdown(BaseModel):
    """Tokens and spend of a scope, grouped several ways, over time, with its burn rate."""

    scope: CostScope
    id: str | None
    title: str = Field(description="What the scope is, for people.")
    since: datetime | None
    until: datetime | None
    bucket: CostBucketSize
    series_since: datetime = Field(description="The first bucket's start.")
    series_until: datetime = Field(description="The end of the last bucket.")
    runs: int = Field(description="Runs in the scope.")
    input_tokens: int
    output_tokens: int
    cost_micros: int
    cost_usd: float
    by_agent: list[CostLine]
    by_model: list[CostLine]
    by_role: list[CostLine]
    by_requirement: list[CostLine] | None = Field(
        description="Spend per requirement the plan's tasks trace (run and mission scopes; "
        "none for the others, whose requirements belong to different missions)."
    )
    requirement_split: str = REQUIREMENT_SPLIT
    over_time: list[CostBucket]
    burn_rate: BurnRate
    budget: BudgetUse
    routing: RoutingSavings | None = Field(
        default=None,
        description="What model routing saved and whether success held; null when no step of "
        "the scope was routed.",
    )
