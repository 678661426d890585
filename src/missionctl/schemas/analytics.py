"""The analytics API's shapes, and the metric definitions file (``analytics.yaml``) read into them.

Every answer is ``{meta, items}``: ``meta`` says when it was computed, that buckets are UTC, the
range and the segment; ``items`` are in a stable order (oldest bucket first, funnel steps and
retention weeks in order), every bucket of the range present, so a chart draws them as they are.
"""

from datetime import date, datetime
from functools import cache
from importlib.resources import files
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from missionctl.domain.analytics import FUNNEL_STEPS, GRAINS, Grain
from missionctl.schemas.datafiles import read_data_file

SegmentKind = Literal["role", "workflow", "planner"]
SEGMENT_KINDS: tuple[SegmentKind, ...] = ("role", "workflow", "planner")
Unit = Literal["users", "missions", "runs", "ratio", "usd", "tokens", "seconds", "tasks", "hours"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


# --- the definitions file -------------------------------------------------------------------


class PeopleRules(BaseModel):
    """Who counts as a person (see ``analytics.yaml``)."""

    model_config = _FROZEN

    test_user_patterns: tuple[str, ...] = ()
    not_activity: tuple[str, ...] = ()


class FunnelStepDefinition(BaseModel):
    """A funnel step: its key, label, definition, events and window after the step before."""

    model_config = _FROZEN

    key: str
    label: str = Field(min_length=1, max_length=80)
    definition: str = Field(min_length=1)
    events: tuple[str, ...] = Field(min_length=1)
    window_days: int | None = Field(default=None, ge=1, le=366)


class FunnelDefinition(BaseModel):
    """The activation funnel."""

    model_config = _FROZEN

    label: str
    definition: str
    unit: Unit
    steps: tuple[FunnelStepDefinition, ...]
    activation: str
    """The step whose reaching counts a person as activated (the key figures)."""

    @model_validator(mode="after")
    def _known_steps(self) -> "FunnelDefinition":
        keys = tuple(step.key for step in self.steps)
        if keys != FUNNEL_STEPS:
            raise ValueError(f"steps must be {', '.join(FUNNEL_STEPS)} in that order")
        if self.steps[0].window_days is not None:
            raise ValueError("the first step starts the funnel and takes no window_days")
        if self.activation not in keys[1:]:
            raise ValueError(f"activation must be one of {', '.join(keys[1:])}")
        return self

    @property
    def activation_index(self) -> int:
        """The position of the activation step among the steps."""
        return [step.key for step in self.steps].index(self.activation)


class MetricDefinition(BaseModel):
    """One trend metric."""

    model_config = _FROZEN

    key: str
    label: str = Field(min_length=1, max_length=80)
    definition: str = Field(min_length=1)
    unit: Unit
    events: tuple[str, ...] = Field(min_length=1)


class RetentionDefinition(BaseModel):
    """Retention by cohort of first mission: weekly, and on chosen days (grain day)."""

    model_config = _FROZEN

    label: str
    definition: str
    unit: Unit
    weeks: int = Field(ge=1, le=26)
    days: tuple[int, ...] = Field(min_length=1, max_length=10)
    events: tuple[str, ...]

    @model_validator(mode="after")
    def _days_in_order(self) -> "RetentionDefinition":
        if (
            list(self.days) != sorted(set(self.days))
            or not 1 <= self.days[0] <= self.days[-1] <= 90
        ):
            raise ValueError("days must be distinct days after the cohort's, 1 to 90, ascending")
        return self


KEY_FIGURE_KEYS = (
    "activated_users",
    "activation_rate",
    "daily_active_users",
    "weekly_active_users",
)
"""The key figures beyond the trend metrics, over a whole range (``RangeTotals``)."""

TREND_KEYS = (
    "active_users",
    "missions_created",
    "runs_started",
    "success_rate",
    "cost_usd",
    "tokens",
    "duration_p50_s",
    "duration_p95_s",
    "tasks_built",
    "tasks_documented",
)


Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("critical", "warning", "info")
"""Most severe first: the order alerts are listed in."""
Comparison = Literal["week_over_week", "day_vs_median", "cohort_vs_prior"]
Direction = Literal["up", "down"]


RATE_KEYS: tuple[str, ...] = ("success_rate", "retention")
"""The watched metrics that are shares of counts: the ones a z-test can judge."""


class AnomalyThresholds(BaseModel):
    """Percentage changes (of the baseline) from which a change is info, warning, critical."""

    model_config = _FROZEN

    info: float = Field(gt=0, le=10_000)
    warning: float = Field(gt=0, le=10_000)
    critical: float = Field(gt=0, le=10_000)

    @model_validator(mode="after")
    def _rising(self) -> "AnomalyThresholds":
        if not self.info <= self.warning <= self.critical:
            raise ValueError("thresholds must rise: info <= warning <= critical")
        return self


class AnomalyRule(BaseModel):
    """How one metric is watched (``anomalies.metrics`` in ``analytics.yaml``)."""

    model_config = _FROZEN

    key: str
    label: str | None = Field(default=None, min_length=1, max_length=80)
    bad: tuple[Direction, ...] = Field(min_length=1)
    noun: str = Field(min_length=1, max_length=40)
    min_delta: float = Field(gt=0)
    min_volume: float = Field(gt=0)
    thresholds: dict[Comparison, AnomalyThresholds] = Field(min_length=1)
    significance: AnomalyThresholds | None = None

    @model_validator(mode="after")
    def _comparisons_fit(self) -> "AnomalyRule":
        if self.significance is not None and self.key not in RATE_KEYS:
            raise ValueError(
                f"significance (a two-proportion test) applies to rates only "
                f"({', '.join(RATE_KEYS)}); remove it from {self.key}"
            )
        if self.key == "retention":
            if set(self.thresholds) != {"cohort_vs_prior"}:
                raise ValueError("retention is compared by cohort_vs_prior only")
        elif self.key not in TREND_KEYS:
            raise ValueError(f"key must be retention or a trend ({', '.join(TREND_KEYS)})")
        elif "cohort_vs_prior" in self.thresholds:
            raise ValueError(f"{self.key} is compared by week_over_week and day_vs_median only")
        return self


class AnomalySettings(BaseModel):
    """The detector's windows (see ``domain.anomalies``)."""

    model_config = _FROZEN

    weekday_lookback_weeks: int = Field(ge=1, le=52)
    weekday_min_samples: int = Field(ge=1, le=52)
    median_days: int = Field(ge=3, le=60)
    median_min_days: int = Field(ge=1, le=60)
    baseline_weeks: int = Field(ge=1, le=12)
    recent_cohorts: int = Field(ge=1, le=12)
    prior_cohorts: int = Field(ge=1, le=26)
    prior_min_cohorts: int = Field(ge=1, le=26)


class AnomalyDefinitions(BaseModel):
    """The ``anomalies`` section: the detector's windows and each watched metric's rule."""

    model_config = _FROZEN

    settings: AnomalySettings
    notify_min_severity: Severity
    metrics: tuple[AnomalyRule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _once_each(self) -> "AnomalyDefinitions":
        keys = [rule.key for rule in self.metrics]
        if len(set(keys)) != len(keys):
            raise ValueError("each metric may have one rule; a key is repeated")
        return self


class Definitions(BaseModel):
    """The contents of ``analytics.yaml``."""

    model_config = _FROZEN

    people: PeopleRules
    funnel: FunnelDefinition
    trends: tuple[MetricDefinition, ...]
    key_figures: tuple[MetricDefinition, ...]
    orchestration: tuple[MetricDefinition, ...] = ()
    retention: RetentionDefinition
    anomalies: AnomalyDefinitions

    @model_validator(mode="after")
    def _every_trend(self) -> "Definitions":
        keys = tuple(metric.key for metric in self.trends)
        if keys != TREND_KEYS:
            raise ValueError(f"trends must define {', '.join(TREND_KEYS)} in that order")
        figures = tuple(metric.key for metric in self.key_figures)
        if figures != KEY_FIGURE_KEYS:
            raise ValueError(f"key_figures must define {', '.join(KEY_FIGURE_KEYS)} in that order")
        return self


@cache
def load_definitions() -> Definitions:
    """The definitions shipped with the package (read and validated once).

    Raises:
        DataFileError: the file is broken; the message names the field and the fix.
    """
    file = files("missionctl.schemas").joinpath("analytics.yaml")
    return read_data_file(file, TypeAdapter(Definitions))


# --- answers --------------------------------------------------------------------------------


class AnalyticsRange(BaseModel):
    """The UTC days an answer covers, both included."""

    since: date
    until: date
    days: int


class Segment(BaseModel):
    """The one segment an answer is narrowed to."""

    kind: SegmentKind
    value: str


class AnalyticsMeta(BaseModel):
    """What every analytics answer says about itself."""

    generated_at: datetime
    time_zone: Literal["UTC"] = "UTC"
    range: AnalyticsRange
    segment: Segment | None
    grain: Grain | None = None
    followed_to: int = Field(description="The last event (seq) the facts include")
    previous_range: AnalyticsRange | None = Field(
        default=None,
        description="With compare=previous: the range of equal length just before, whose "
        "figures are in the answer's previous fields",
    )


class FunnelStepCount(BaseModel):
    """How many of a cohort reached a step."""

    key: str
    label: str
    users: int
    share_of_start: float | None
    share_of_previous: float | None


class FunnelItem(BaseModel):
    """One cohort of first sign-in."""

    cohort: str
    start: date
    complete: bool
    steps: list[FunnelStepCount]


class FunnelAnswer(BaseModel):
    """``GET /api/v1/analytics/funnel``."""

    meta: AnalyticsMeta
    items: list[FunnelItem]
    previous: list[FunnelItem] | None = Field(
        default=None, description="With compare=previous: the cohorts of meta.previous_range"
    )


class TrendItem(BaseModel):
    """One bucket of the trends."""

    bucket: str
    start: date
    active_users: int
    missions_created: int
    runs_started: int
    runs_ended: int
    success_rate: float | None
    cost_usd: float
    tokens: int
    duration_p50_s: float | None
    duration_p95_s: float | None
    tasks_built: int = Field(
        default=0, description="Tasks whose code was changed and verified (outcome built)."
    )
    tasks_documented: int = Field(
        default=0, description="Tasks that wrote documents only (outcome documented)."
    )


UNIT_FORMATS: dict[str, Literal["integer", "percent", "currency", "duration"]] = {
    "users": "integer",
    "missions": "integer",
    "runs": "integer",
    "tasks": "integer",
    "tokens": "integer",
    "ratio": "percent",
    "usd": "currency",
    "seconds": "duration",
}
"""How a client shows a value of each unit: a whole number, a share of 1 as a percentage,
US dollars, or seconds as a duration."""


class TrendSeries(BaseModel):
    """How to show one field of the trend items: its name, what it counts and its format."""

    key: str = Field(description="The field of each item that holds the series")
    label: str
    unit: Unit
    format: Literal["integer", "percent", "currency", "duration"] = Field(
        description="integer; percent (a share of 1); currency (US dollars); duration (seconds)"
    )


class TrendsAnswer(BaseModel):
    """``GET /api/v1/analytics/trends``."""

    meta: AnalyticsMeta
    series: list[TrendSeries] = Field(
        default_factory=list,
        description="Every series of the items, in the definitions' order, with its label, "
        "unit and format",
    )
    items: list[TrendItem]
    previous: list[TrendItem] | None = Field(
        default=None, description="With compare=previous: the buckets of meta.previous_range"
    )


class RetentionCellItem(BaseModel):
    """Week ``week`` after a cohort's: who came back, and whether the week is over."""

    week: int
    users: int
    share: float | None
    complete: bool


class RetentionDayItem(BaseModel):
    """Day ``day`` after a daily cohort's: who was active; ``null`` until that day is over."""

    day: int
    users: int | None = Field(description="null: the day has not ended, so it is not known yet")
    share: float | None


class RetentionItem(BaseModel):
    """One cohort of first mission.

    An ISO week (its cells in ``weeks``) or, with grain=day, a UTC day (its cells in ``days``).
    """

    cohort: str
    start: date
    users: int
    weeks: list[RetentionCellItem] = Field(description="Weeks 1 to 8 (grain=week; else empty)")
    days: list[RetentionDayItem] = Field(
        default_factory=list, description="D1, D7 and D30 (grain=day; else empty)"
    )


class RetentionSummaryItem(BaseModel):
    """One column of the heat map over the range, its cohorts weighted by their people.

    Cohorts whose cell is not over yet are left out, not counted as 0.
    """

    offset: int = Field(description="The week (grain=week) or day (grain=day) after the cohort's")
    cohorts: int
    users: int = Field(description="People in the cohorts counted")
    returned: int
    share: float | None = Field(description="returned / users; null when no cohort counts yet")


class RetentionAnswer(BaseModel):
    """``GET /api/v1/analytics/retention``."""

    meta: AnalyticsMeta
    summary: list[RetentionSummaryItem] = Field(default_factory=list)
    items: list[RetentionItem]
    previous_summary: list[RetentionSummaryItem] | None = Field(
        default=None, description="With compare=previous: the summary of meta.previous_range"
    )
    previous: list[RetentionItem] | None = Field(
        default=None, description="With compare=previous: the cohorts of meta.previous_range"
    )


class RangeTotals(BaseModel):
    """The trend metrics over a whole range, taken as one bucket (each person counted once)."""

    range: AnalyticsRange
    active_users: int
    missions_created: int
    runs_started: int
    runs_ended: int
    success_rate: float | None
    cost_usd: float
    tokens: int
    duration_p50_s: float | None
    duration_p95_s: float | None
    signed_up: int = Field(description="People whose first sign-in fell in the range")
    activated_users: int = Field(
        description="Of those, the people who reached the funnel's activation step"
    )
    activation_rate: float | None = Field(
        description="activated_users / signed_up; null when nobody first signed in"
    )
    daily_active_users: float = Field(
        description="The average over the range's days of the people active on the day"
    )
    weekly_active_users: float | None = Field(
        description="The average over the ISO weeks wholly inside the range of the people "
        "active in the week; null when the range holds no whole week"
    )


class TotalsAnswer(BaseModel):
    """The range's totals and those of the range of equal length just before it."""

    meta: AnalyticsMeta
    current: RangeTotals
    previous: RangeTotals


class DefinitionItem(BaseModel):
    """One metric's definition, for tooltips and the definitions page."""

    key: str
    group: Literal["funnel", "trends", "key_figures", "orchestration", "retention"]
    label: str
    definition: str
    unit: Unit
    events: list[str]
    window_days: int | None = None


class DefinitionsAnswer(BaseModel):
    """``GET /api/v1/analytics/definitions``."""

    time_zone: Literal["UTC"] = "UTC"
    grains: list[Grain] = Field(default_factory=lambda: list(GRAINS))
    segments: list[SegmentKind] = Field(default_factory=lambda: list(SEGMENT_KINDS))
    test_user_patterns: list[str]
    items: list[DefinitionItem]


# --- anomalies and insights (the contract the cockpit, the API and the notifier share) -------


class ComparedWindow(BaseModel):
    """The UTC days (both included) one side of a comparison covers."""

    since: date
    until: date


class AnomalyItem(BaseModel):
    """A metric that moved more than its thresholds allow, said for a product leader.

    ``key`` is stable for the same metric, comparison and current window, so a notifier can
    tell an alert already sent from a new one.
    """

    key: str
    metric: str = Field(description="The metric's key in the definitions (e.g. success_rate)")
    label: str
    unit: Unit
    comparison: Comparison
    current_window: ComparedWindow
    baseline_window: ComparedWindow
    current: float
    baseline: float
    delta: float = Field(description="current - baseline, in the metric's unit")
    change_pct: float | None = Field(description="delta / baseline * 100; empty if baseline is 0")
    direction: Literal["up", "down"]
    severity: Severity
    impact: str = Field(description="What the change likely means for users or spend")
    explanation: str = Field(description="The change in plain language, with its windows")


class AnomaliesAnswer(BaseModel):
    """``GET /api/v1/analytics/anomalies``: most severe first, then by metric and comparison."""

    meta: AnalyticsMeta
    items: list[AnomalyItem]


InsightSource = Literal["model", "deterministic"]


class InsightSections(BaseModel):
    """The four sections of the insights, each a short list of plain sentences."""

    what_changed: list[str]
    why_it_matters: list[str]
    suggested_actions: list[str]
    questions_to_investigate: list[str]


class InsightsAnswer(BaseModel):
    """``GET /api/v1/analytics/insights``: an executive summary and the four sections.

    ``source`` says who wrote it: the configured model, or the deterministic writer (no model
    configured, or the model failed: ``fallback_reason`` says why, without secrets).
    """

    meta: AnalyticsMeta
    source: InsightSource
    model: str | None = None
    fallback_reason: str | None = None
    summary: str
    sections: InsightSections
