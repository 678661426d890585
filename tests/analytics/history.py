"""A simulated history for the anomaly detector: ~40 people, weekdays busier than weekends.

What the detector is calibrated on (schemas/analytics.yaml, ADR 0069): 5-20 runs a day at
about 90 % success, about $6 a weekday with ±30 % noise a day, run durations around five
minutes, weekly cohorts of 6-10 new people of whom about half come back in weeks 1 and 2.
Everything is drawn from a seeded ``random.Random``; the injections are the failures a product
leader must hear about.
"""

import math
import random
from dataclasses import dataclass, replace
from datetime import date, timedelta

from missionctl.domain.analytics import week_of
from missionctl.domain.anomalies import Cohorts, DayFigures

AS_OF = date(2026, 11, 22)  # a Sunday
WEEKDAY_LOAD = (1.0, 1.05, 1.0, 0.95, 0.9, 0.4, 0.33)
"""How busy each weekday is (Monday first): the weekly seasonality."""


@dataclass(frozen=True, slots=True)
class Injection:
    """What goes wrong in the last days of the history (nothing, by default)."""

    success_rate: float | None = None  # the rate over the last ``success_days`` days
    success_days: int = 10
    cost_factor: float | None = None  # cost multiplied over the last ``cost_days`` days
    cost_days: int = 3
    retention_factor: float | None = None  # week 1-2 returns of the cohorts 3 and 4 weeks ago


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means of a day's runs."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(rng.random() < p for _ in range(n))


def _day(rng: random.Random, day: date, back: int, injection: Injection) -> DayFigures:
    load = WEEKDAY_LOAD[day.weekday()]
    runs = min(20, max(5, _poisson(rng, 15 * load)))
    rate = 0.9
    if injection.success_rate is not None and back < injection.success_days:
        rate = injection.success_rate
    cost = 6.0 * load * (1 + rng.uniform(-0.3, 0.3))
    if injection.cost_factor is not None and back < injection.cost_days:
        cost *= injection.cost_factor
    return DayFigures(
        active_users=_binomial(rng, 40, 0.6 * load),
        missions_created=_poisson(rng, 3 * load),
        runs_started=runs,
        runs_ended=runs,
        runs_completed=_binomial(rng, runs, rate),
        cost_usd=round(cost, 6),
        tokens=round(cost * 25_000),
        duration_p50_s=120 * (1 + rng.uniform(-0.2, 0.2)),
        duration_p95_s=300 * (1 + rng.uniform(-0.25, 0.25)),
    )


def days(
    seed: int, *, as_of: date = AS_OF, history_days: int = 120, injection: Injection = Injection()
) -> dict[date, DayFigures]:
    """``history_days`` days of figures ending ``as_of``."""
    rng = random.Random(seed)
    figures = {}
    for back in range(history_days - 1, -1, -1):
        day = as_of - timedelta(days=back)
        figures[day] = _day(rng, day, back, injection)
    return figures


def cohorts(
    seed: int, *, as_of: date = AS_OF, weeks: int = 16, injection: Injection = Injection()
) -> Cohorts:
    """Weekly cohorts by first mission over ``weeks`` weeks, with their week 1 and 2 returns."""
    rng = random.Random(seed * 7919 + 1)
    this_week = week_of(as_of)
    sizes: dict[date, int] = {}
    returned: dict[tuple[date, date], int] = {}
    for back in range(weeks, 0, -1):
        start = this_week - timedelta(weeks=back)
        size = rng.randint(6, 10)
        sizes[start] = size
        factor = 1.0
        if injection.retention_factor is not None and back in (3, 4):
            factor = injection.retention_factor
        for k, share in ((1, 0.55), (2, 0.45)):
            returned[(start, start + timedelta(weeks=k))] = _binomial(rng, size, share * factor)
    return Cohorts(sizes, returned)


def without(figures: dict[date, DayFigures], day: date) -> dict[date, DayFigures]:
    """The history with ``day`` missing altogether (no row: a day without activity)."""
    return {d: f for d, f in figures.items() if d != day}


def scaled(figures: dict[date, DayFigures], factor: float) -> dict[date, DayFigures]:
    """Every count and amount multiplied by ``factor`` (rounded): a smaller or larger product."""
    return {
        day: replace(
            f,
            active_users=round(f.active_users * factor),
            missions_created=round(f.missions_created * factor),
            runs_started=round(f.runs_started * factor),
            runs_ended=round(f.runs_ended * factor),
            runs_completed=round(f.runs_completed * factor),
            cost_usd=f.cost_usd * factor,
            tokens=round(f.tokens * factor),
        )
        for day, f in figures.items()
    }
