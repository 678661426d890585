"""Anomalies in the product's own metrics: what moved more than its thresholds allow (ADR 0069).

Pure: the service hands over the per-day figures and the weekly retention counts, the day the
comparison is made for (``as_of``, the last full UTC day) and the rules (from
``schemas/analytics.yaml``); :func:`detect` returns the anomalies, most severe first.

Three comparisons:

- **week_over_week**: the 7 days ending ``as_of`` against the weekly mean of the
  ``baseline_weeks`` weeks before (as many whole weeks as the history holds). Counts, money and
  tokens are summed; ``success_rate`` is recomputed from the summed completed and ended runs
  (not a mean of daily rates); active users are the mean of the daily active users; run
  durations the mean of the daily 95th percentiles (or medians).
- **day_vs_median**: ``as_of`` against the median of the 14 days before it, adjusted for the
  day of the week. A weekday's factor is the mean of that weekday's values over the 8 weeks
  before ``as_of`` divided by the mean of all those days (1 when the history holds fewer than
  3 of that weekday, or the mean is 0). Each of the 14 days is divided by its weekday's factor;
  the median of those is multiplied by ``as_of``'s weekday factor: the value expected for that
  weekday. A quiet Sunday is compared with what Sundays usually are.
- **cohort_vs_prior**: the share of person-weeks in which the people of the latest
  ``recent_cohorts`` weekly cohorts (by first mission) whose weeks 1-2 ended before ``as_of``'s
  week began were active in weeks 1 and 2, pooled (people and returns summed), against the
  cohorts before them, pooled. A cohort is a handful of people; pooled, one of them moving is
  a small share, and two weeks give twice the evidence for a signal one week later.

Every day of the history counts, a day without activity as zero; days before the history's
first day (``history_start``) are no data. An alert needs its percentage change **and** its
absolute change past the metric's thresholds, with enough volume behind both sides; for a
rate (success rate, retention) also a two-proportion z past the rule's ``significance``: a
severity is the lowest the percentage and the z reach. A change in a bad direction takes the
highest severity it passes; a change the other way (an improvement) is ``info`` at most, and
only once it passes the ``critical`` limits.
"""

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final, Literal

from missionctl.domain.analytics import RunDay, week_of
from missionctl.domain.english import join_words
from missionctl.domain.insights import Window
from missionctl.domain.money import usd_text

Severity = Literal["info", "warning", "critical"]
Comparison = Literal["week_over_week", "day_vs_median", "cohort_vs_prior"]
Direction = Literal["up", "down"]
SEVERITY_ORDER: Final[tuple[Severity, ...]] = ("critical", "warning", "info")
COMPARISON_ORDER: Final[tuple[Comparison, ...]] = (
    "week_over_week",
    "day_vs_median",
    "cohort_vs_prior",
)
RETENTION: Final = "retention"
"""The key of the cohort metric (the retention's key in the definitions)."""

WEEK_DAYS: Final = 7
_WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)

MetricKind = Literal["sum", "mean", "rate", "duration"]
KINDS: Final[Mapping[str, MetricKind]] = {
    "active_users": "mean",
    "missions_created": "sum",
    "runs_started": "sum",
    "success_rate": "rate",
    "cost_usd": "sum",
    "tokens": "sum",
    "duration_p50_s": "duration",
    "duration_p95_s": "duration",
}
"""How a window aggregates each trend metric (see the module's docstring)."""


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One UTC day's figures: the trend metrics before any rolling up."""

    active_users: int = 0
    missions_created: int = 0
    runs_started: int = 0
    runs_ended: int = 0
    runs_completed: int = 0
    cost_usd: float = 0.0
    tokens: int = 0
    duration_p50_s: float | None = None
    duration_p95_s: float | None = None


def day_figures(
    *,
    active_users: Mapping[date, int],
    missions: Mapping[date, int],
    run_days: Iterable[RunDay],
    durations: Mapping[date, tuple[float, float]],
) -> dict[date, DayFigures]:
    """The per-day figures from what the trends read (days without any are absent: zero)."""
    runs = {run.day: run for run in run_days}
    figures: dict[date, DayFigures] = {}
    for day in {*active_users, *missions, *runs, *durations}:
        run = runs.get(day, RunDay(day))
        p50, p95 = durations.get(day, (None, None))
        figures[day] = DayFigures(
            active_users=active_users.get(day, 0),
            missions_created=missions.get(day, 0),
            runs_started=run.started,
            runs_ended=run.ended,
            runs_completed=run.completed,
            cost_usd=run.cost_micros / 1_000_000,
            tokens=run.tokens,
            duration_p50_s=p50,
            duration_p95_s=p95,
        )
    return figures


@dataclass(frozen=True, slots=True)
class Cohorts:
    """Weekly cohorts by first mission: their sizes, and per (cohort, later week) who returned."""

    sizes: Mapping[date, int] = field(default_factory=dict)
    returned: Mapping[tuple[date, date], int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Percentage changes (of the baseline) for each severity, e.g. 10.0 for 10 %."""

    info: float
    warning: float
    critical: float

    def severity(self, change_pct: float) -> Severity | None:
        """The highest severity whose threshold ``|change_pct|`` reaches, or ``None``."""
        size = abs(change_pct)
        levels: tuple[tuple[Severity, float], ...] = (
            ("critical", self.critical),
            ("warning", self.warning),
            ("info", self.info),
        )
        for level, limit in levels:
            if size >= limit:
                return level
        return None


@dataclass(frozen=True, slots=True)
class Trials:
    """A proportion's counts: ``hits`` out of ``count``.

    Completed runs of ended runs; a cohort's returns of its person-weeks.
    """

    hits: int
    count: int


def z_score(current: Trials, baseline: Trials) -> float:
    """The two-proportion z statistic of ``current`` against ``baseline`` (pooled variance).

    Positive when the current share is higher. 0 when either side is empty or the pooled
    share is 0 or 1 (no variation: nothing to test).
    """
    if current.count <= 0 or baseline.count <= 0:
        return 0.0
    pooled = (current.hits + baseline.hits) / (current.count + baseline.count)
    spread = pooled * (1 - pooled) * (1 / current.count + 1 / baseline.count)
    if spread <= 0:
        return 0.0
    return (current.hits / current.count - baseline.hits / baseline.count) / math.sqrt(spread)


@dataclass(frozen=True, slots=True)
class MetricRule:
    """How one metric is watched.

    Attributes:
        metric: a trend metric's key, or ``retention``.
        label, unit, noun: how it is named (``noun``: what its impact counts, e.g. "runs").
        bad: the directions that are bad news (cost up, success rate down).
        min_delta: the least absolute change that may alert, in the metric's unit. For summed
            metrics it is per day: a week's window needs seven times as much.
        min_volume: the least volume behind each side, per day (a week needs seven times as
            much, except for the mean of active users): the baseline's value for sums and
            means, the ended runs for rates and durations, the people of a cohort.
        thresholds: the percentage thresholds per comparison; a comparison not named is not
            made for this metric.
        significance: for rates only, the least z of a two-proportion test per severity (a
            change must also be unlikely by chance); ``None``: no test.
    """

    metric: str
    label: str
    unit: str
    noun: str
    bad: frozenset[Direction]
    min_delta: float
    min_volume: float
    thresholds: Mapping[Comparison, Thresholds]
    significance: Thresholds | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """The detector's windows (see the module's docstring)."""

    weekday_lookback_weeks: int = 8
    weekday_min_samples: int = 3
    median_days: int = 14
    median_min_days: int = 7
    baseline_weeks: int = 4
    recent_cohorts: int = 2
    prior_cohorts: int = 6
    prior_min_cohorts: int = 3


# --- the answer -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A metric that moved past its thresholds (the fields of ``schemas.AnomalyItem``)."""

    key: str
    metric: str
    label: str
    unit: str
    comparison: Comparison
    current_window: Window
    baseline_window: Window
    current: float
    baseline: float
    delta: float
    change_pct: float | None
    direction: Direction
    severity: Severity
    impact: str
    explanation: str


@dataclass(frozen=True, slots=True)
class _Change:
    """A measured change before it is judged: the two sides and their volumes."""

    rule: MetricRule
    comparison: Comparison
    current_window: Window
    baseline_window: Window
    current: float
    baseline: float
    current_volume: float
    baseline_volume: float
    scale: int  # how many days' worth of min_volume (and, for sums, min_delta) apply
    per_week: float  # how many of the current window's units make a week (impact)
    context: str = ""  # the weekday, or the pooled cohorts' weeks, for the sentences
    trials: tuple[Trials, Trials] | None = None  # a rate's counts (current, baseline): z-test


def detect(
    days: Mapping[date, DayFigures],
    cohorts: Cohorts,
    *,
    as_of: date,
    history_start: date | None,
    rules: Sequence[MetricRule],
    settings: Settings = Settings(),
) -> list[Anomaly]:
    """Every anomaly as of ``as_of``: most severe first, then by metric, then by comparison.

    ``days`` holds the figures of the days with any (a day absent is a day of zero activity
    once the history has started at ``history_start``; ``None``: no history at all, nothing
    to compare). ``cohorts`` are the weekly retention counts.
    """
    if history_start is None or history_start > as_of:
        return []
    series = _Series(days, history_start)
    changes: list[_Change] = []
    for rule in rules:
        if rule.metric == RETENTION:
            if "cohort_vs_prior" in rule.thresholds:
                changes += _cohort_changes(rule, cohorts, as_of, history_start, settings)
            continue
        if "week_over_week" in rule.thresholds:
            changes += _week_over_week(rule, series, as_of, settings)
        if "day_vs_median" in rule.thresholds:
            changes += _day_vs_median(rule, series, as_of, settings)
    found = [anomaly for change in changes if (anomaly := _judge(change)) is not None]
    return sorted(found, key=_order)


def _order(anomaly: Anomaly) -> tuple[int, str, int, str]:
    return (
        SEVERITY_ORDER.index(anomaly.severity),
        anomaly.metric,
        COMPARISON_ORDER.index(anomaly.comparison),
        anomaly.key,
    )


# --- reading the series ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Series:
    """The per-day figures, a day after ``start`` without figures being a day of zeros."""

    days: Mapping[date, DayFigures]
    start: date

    def has(self, day: date) -> bool:
        return day >= self.start

    def figures(self, day: date) -> DayFigures:
        return self.days.get(day, DayFigures())

    def window(self, window: Window) -> list[DayFigures] | None:
        """The figures of every day of ``window``; ``None`` if it starts before the history."""
        if not self.has(window.since):
            return None
        return [self.figures(window.since + timedelta(days=n)) for n in range(window.days)]


def _daily_value(metric: str, figures: DayFigures) -> float | None:
    """One day's value of ``metric`` (``None``: a rate or duration of a day without runs)."""
    kind = KINDS[metric]
    if kind == "rate":
        return figures.runs_completed / figures.runs_ended if figures.runs_ended else None
    value = getattr(figures, metric)
    return None if value is None else float(value)


def _daily_volume(metric: str, figures: DayFigures) -> float:
    """What stands behind one day's value: the value itself, or the runs ended."""
    if KINDS[metric] in ("rate", "duration"):
        return float(figures.runs_ended)
    return _daily_value(metric, figures) or 0.0


def _window_value(metric: str, figures: Sequence[DayFigures]) -> tuple[float | None, float]:
    """A window's value of ``metric`` and the volume behind it (see the module's docstring)."""
    kind = KINDS[metric]
    ended = float(sum(f.runs_ended for f in figures))
    if kind == "rate":
        completed = sum(f.runs_completed for f in figures)
        return (completed / ended if ended else None), ended
    values = [v for f in figures if (v := _daily_value(metric, f)) is not None]
    if kind == "sum":
        total = math.fsum(values)
        return total, total
    if kind == "mean":
        mean = math.fsum(values) / len(figures) if figures else 0.0
        return mean, mean
    return (statistics.fmean(values) if values else None), ended


# --- the comparisons ------------------------------------------------------------------------


def _week_over_week(
    rule: MetricRule, series: _Series, as_of: date, settings: Settings
) -> list[_Change]:
    current = Window(as_of - timedelta(days=WEEK_DAYS - 1), as_of)
    weeks = _baseline_weeks(series, current.since, settings.baseline_weeks)
    if weeks == 0:
        return []
    baseline = Window(current.since - timedelta(weeks=weeks), current.since - timedelta(days=1))
    now, before = series.window(current), series.window(baseline)
    if now is None or before is None:
        return []
    value, volume = _window_value(rule.metric, now)
    base, base_volume = _window_value(rule.metric, before)
    if value is None or base is None:
        return []
    kind = KINDS[rule.metric]
    if kind == "sum":  # a week's average over the baseline's weeks
        base, base_volume = base / weeks, base_volume / weeks
    elif kind in ("rate", "duration"):
        base_volume /= weeks  # the volume's threshold is per week
    return [
        _Change(
            rule,
            "week_over_week",
            current,
            baseline,
            value,
            base,
            volume,
            base_volume,
            scale=1 if kind == "mean" else WEEK_DAYS,
            per_week=1.0,
            context=str(weeks),
            trials=(_run_trials(now), _run_trials(before)) if kind == "rate" else None,
        )
    ]


def _baseline_weeks(series: _Series, since: date, most: int) -> int:
    """How many whole weeks before ``since`` (up to ``most``) the history holds."""
    held = (since - series.start).days // WEEK_DAYS if series.has(since) else 0
    return max(0, min(most, held))


def _run_trials(figures: Sequence[DayFigures]) -> Trials:
    """The completed runs out of the ended runs of some days."""
    return Trials(sum(f.runs_completed for f in figures), sum(f.runs_ended for f in figures))


def weekday_factors(
    series_days: Mapping[date, DayFigures],
    metric: str,
    *,
    as_of: date,
    history_start: date,
    settings: Settings = Settings(),
) -> dict[int, float]:
    """Each weekday's factor (Monday 0): its mean over the lookback / the mean of all its days.

    The lookback is the ``weekday_lookback_weeks`` weeks before ``as_of`` (not including it),
    from ``history_start`` on. A weekday seen fewer than ``weekday_min_samples`` times, or a
    lookback whose mean is 0, gets 1. A weekday that is always empty gets 0: nothing is
    expected of it, so its empty days are no alert.
    """
    series = _Series(series_days, history_start)
    by_weekday: dict[int, list[float]] = {n: [] for n in range(WEEK_DAYS)}
    for back in range(1, settings.weekday_lookback_weeks * WEEK_DAYS + 1):
        day = as_of - timedelta(days=back)
        if series.has(day) and (value := _daily_value(metric, series.figures(day))) is not None:
            by_weekday[day.weekday()].append(value)
    every = [value for values in by_weekday.values() for value in values]
    overall = statistics.fmean(every) if every else 0.0
    factors: dict[int, float] = {}
    for weekday, values in by_weekday.items():
        enough = len(values) >= settings.weekday_min_samples and overall > 0
        factors[weekday] = statistics.fmean(values) / overall if enough else 1.0
    return factors


def _day_vs_median(
    rule: MetricRule, series: _Series, as_of: date, settings: Settings
) -> list[_Change]:
    factors = weekday_factors(
        series.days, rule.metric, as_of=as_of, history_start=series.start, settings=settings
    )
    current = _daily_value(rule.metric, series.figures(as_of))
    before = [as_of - timedelta(days=back) for back in range(1, settings.median_days + 1)]
    known = [day for day in before if series.has(day)]
    adjusted = [
        value / factors[day.weekday()]
        for day in known
        if factors[day.weekday()] > 0
        and (value := _daily_value(rule.metric, series.figures(day))) is not None
    ]
    if current is None or len(adjusted) < settings.median_min_days:
        return []
    expected = statistics.median(adjusted) * factors[as_of.weekday()]
    if KINDS[rule.metric] in ("rate", "duration"):
        base_volume = statistics.median(
            _daily_volume(rule.metric, series.figures(d)) for d in known
        )
    else:
        base_volume = expected
    return [
        _Change(
            rule,
            "day_vs_median",
            Window(as_of, as_of),
            Window(before[-1], before[0]),
            current,
            expected,
            _daily_volume(rule.metric, series.figures(as_of)),
            base_volume,
            scale=1,
            per_week=float(WEEK_DAYS),
            context=_WEEKDAYS[as_of.weekday()],
            trials=(
                _run_trials([series.figures(as_of)]),
                _run_trials([series.figures(day) for day in known]),
            )
            if KINDS[rule.metric] == "rate"
            else None,
        )
    ]


RETURN_WEEKS: Final = 2
"""A cohort's retention counts who was active in the weeks 1 and 2 after its own."""


def _pooled(cohorts: Cohorts, starts: Sequence[date]) -> Trials:
    """The returns of ``starts``' cohorts out of their person-weeks (people x 2), summed."""
    hits = sum(
        cohorts.returned.get((start, start + timedelta(weeks=k)), 0)
        for start in starts
        for k in range(1, RETURN_WEEKS + 1)
    )
    return Trials(hits, RETURN_WEEKS * sum(cohorts.sizes.get(start, 0) for start in starts))


def _cohort_changes(
    rule: MetricRule, cohorts: Cohorts, as_of: date, history_start: date, settings: Settings
) -> list[_Change]:
    """The latest ``recent_cohorts`` cohorts pooled against the ``prior_cohorts`` before them.

    The latest are those whose weeks 1-2 ended before ``as_of``'s week began (they started 3
    and 4 weeks before it): the same pair is judged all week, under one key.
    """
    first = week_of(history_start)
    latest = week_of(as_of) - timedelta(weeks=RETURN_WEEKS + 1)
    recent = [latest - timedelta(weeks=n) for n in range(settings.recent_cohorts)]
    oldest = recent[-1]
    priors = [
        p
        for k in range(1, settings.prior_cohorts + 1)
        if (p := oldest - timedelta(weeks=k)) >= first and cohorts.sizes.get(p, 0)
    ]
    now, before = _pooled(cohorts, recent), _pooled(cohorts, priors)
    if oldest < first or not now.count or len(priors) < settings.prior_min_cohorts:
        return []
    return [
        _Change(
            rule,
            "cohort_vs_prior",
            Window(oldest, latest + timedelta(days=WEEK_DAYS - 1)),
            Window(priors[-1], priors[0] + timedelta(days=WEEK_DAYS - 1)),
            now.hits / now.count,
            before.hits / before.count,
            float(now.count // RETURN_WEEKS),
            float(before.count // RETURN_WEEKS),
            scale=1,
            per_week=float(now.count // RETURN_WEEKS),
            context=join_words([day_text(start) for start in sorted(recent)]),
            trials=(now, before),
        )
    ]


# --- judging --------------------------------------------------------------------------------


def _judge(change: _Change) -> Anomaly | None:
    """The anomaly ``change`` is, or ``None`` when it is within the rule's bounds."""
    rule = change.rule
    delta = change.current - change.baseline
    summed = KINDS.get(rule.metric) == "sum"
    min_delta = rule.min_delta * (change.scale if summed else 1)
    min_volume = rule.min_volume * change.scale
    if change.baseline <= 0 or delta == 0 or abs(delta) < min_delta:
        return None
    if change.baseline_volume < min_volume:
        return None
    if (
        KINDS.get(rule.metric, "rate") in ("rate", "duration")
        and change.current_volume < min_volume
    ):
        return None  # a rate from a handful of runs (or of one cohort too small) says little
    change_pct = delta / change.baseline * 100
    direction: Direction = "up" if delta > 0 else "down"
    severity = _severity(change, change_pct, direction)
    if severity is None:
        return None
    until = change.current_window.since if change.comparison == "cohort_vs_prior" else None
    return Anomaly(
        key=f"{rule.metric}:{change.comparison}:{until or change.current_window.until}",
        metric=rule.metric,
        label=rule.label,
        unit=rule.unit,
        comparison=change.comparison,
        current_window=change.current_window,
        baseline_window=change.baseline_window,
        current=_rounded(change.current),
        baseline=_rounded(change.baseline),
        delta=_rounded(delta),
        change_pct=round(change_pct, 1),
        direction=direction,
        severity=severity,
        impact=_impact(change, delta),
        explanation=_explanation(change, direction),
    )


def _severity(change: _Change, change_pct: float, direction: Direction) -> Severity | None:
    """The lower of the severities the percentage and (for a rate) the z-test reach.

    A change the other way than ``bad`` is ``info`` at most, past both ``critical`` limits.
    """
    rule = change.rule
    thresholds = rule.thresholds[change.comparison]
    z_test = rule.significance if change.trials is not None else None
    z = z_score(*change.trials) if change.trials is not None else 0.0
    if direction not in rule.bad:
        calm = abs(change_pct) < thresholds.critical or (
            z_test is not None and abs(z) < z_test.critical
        )
        return None if calm else "info"
    found = [thresholds.severity(change_pct)]
    if z_test is not None:
        found.append(z_test.severity(z))
    if None in found:
        return None
    return max((level for level in found if level is not None), key=SEVERITY_ORDER.index)


def _rounded(value: float) -> float:
    return round(value, 4)


# --- saying it ------------------------------------------------------------------------------


def day_text(day: date) -> str:
    """``23 Nov`` (English month names, whatever the locale)."""
    return f"{day.day} {_MONTHS[day.month - 1]}"


def amount(value: float, unit: str) -> str:
    """A value in its unit, as people read it: ``92%``, ``$1,234.50``, ``95 s``, ``12 runs``."""
    if unit == "ratio":
        return f"{value * 100:.0f}%"
    if unit == "usd":
        return usd_text(value)
    if unit == "seconds":
        return f"{value / 60:,.1f} min" if value >= 120 else f"{value:,.0f} s"
    number = f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.1f}"
    noun = "people" if unit == "users" else unit
    return f"{number} {noun}"


def _explanation(change: _Change, direction: Direction) -> str:
    rule = change.rule
    now, base = amount(change.current, rule.unit), amount(change.baseline, rule.unit)
    moved = "rose" if direction == "up" else "fell"
    if change.comparison == "week_over_week":
        kind = KINDS[rule.metric]
        per = {"mean": " a day", "duration": " (mean of the daily values)"}.get(kind, "")
        weeks = int(change.context)
        before = "the 7 days" if weeks == 1 else f"the {weeks} weeks"
        per_before = " a week" if weeks > 1 and kind == "sum" else per
        return (
            f"{rule.label} {moved} from {base}{per_before} in {before} to "
            f"{day_text(change.baseline_window.until)} to {now}{per} in the 7 days to "
            f"{day_text(change.current_window.until)}."
        )
    if change.comparison == "day_vs_median":
        weekday = change.context
        return (
            f"{rule.label} was {now} on {weekday} {day_text(change.current_window.until)}, "
            f"against {base} expected for a {weekday} (the weekday-adjusted median of the "
            f"{change.baseline_window.days} days before)."
        )
    last_prior = change.baseline_window.until - timedelta(days=WEEK_DAYS - 1)
    return (
        f"Of the {int(change.current_volume)} people whose first mission was in the weeks of "
        f"{change.context}, {now} were active in each of the two weeks after, against {base} "
        f"of the {int(change.baseline_volume)} people of the weeks of "
        f"{day_text(change.baseline_window.since)} to {day_text(last_prior)}."
    )


def _impact(change: _Change, delta: float) -> str:
    rule = change.rule
    more = delta > 0
    if change.comparison == "cohort_vs_prior":
        people = round(abs(delta) * change.current_volume)
        size = int(change.current_volume)
        if more:
            return f"about {people} more of the cohorts' {size} people came back than usual"
        return f"about {people} of the cohorts' {size} people did not come back who usually would"
    kind = KINDS[rule.metric]
    if kind == "mean":
        return (
            f"about {abs(delta):,.1f} {'more' if more else 'fewer'} {rule.noun} on an average day"
        )
    if kind == "duration":
        return (
            f"{rule.noun} take about {amount(abs(delta), 'seconds')} {'longer' if more else 'less'}"
        )
    if kind == "rate":
        weekly = abs(delta) * change.current_volume * change.per_week
        return f"about {weekly:,.0f} {'more' if more else 'fewer'} {rule.noun} a week at this rate"
    weekly = abs(delta) * change.per_week
    if rule.unit == "usd":
        return f"{usd_text(weekly)} {'more' if more else 'less'} {rule.noun} a week at this rate"
    return f"about {weekly:,.0f} {'more' if more else 'fewer'} {rule.noun} a week at this rate"
