"""The product's metrics over its own activity: funnel, trends, retention (ADR 0068).

The facts follow the log, off the appending path, as the search index does (ADR 0047): their
follower (``services.followers.analytics_facts``) folds new events every second, and every read
catches it up first, so an answer includes every event committed before the request.
:func:`rebuild` empties the facts and folds the whole log again (after the definitions'
test-user patterns change, say).
"""

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal, TypeVar

from sqlalchemy.orm import Session

from missionctl.db.types import utcnow
from missionctl.domain import analytics as metrics
from missionctl.domain.access import ROLES
from missionctl.domain.analytics import MAX_RANGE_DAYS, PLANNERS, Grain
from missionctl.errors import Problem, ValidationFailed
from missionctl.repositories import analytics as repo
from missionctl.repositories import followers as cursors
from missionctl.schemas.analytics import (
    SEGMENT_KINDS,
    UNIT_FORMATS,
    AnalyticsMeta,
    AnalyticsRange,
    DefinitionItem,
    DefinitionsAnswer,
    FunnelAnswer,
    FunnelItem,
    FunnelStepCount,
    MetricDefinition,
    RangeTotals,
    RetentionAnswer,
    RetentionCellItem,
    RetentionDayItem,
    RetentionItem,
    RetentionSummaryItem,
    Segment,
    TotalsAnswer,
    TrendItem,
    TrendsAnswer,
    TrendSeries,
    load_definitions,
)
from missionctl.services.runtime.context import FollowerName, ServiceContext
from missionctl.services.usecases.money import micros_to_usd

T = TypeVar("T")

FOLLOWER: FollowerName = "analytics"
"""The follower of the log that keeps the facts (``services.followers.analytics_facts``)."""

DEFAULT_RANGE_DAYS = 30
"""The days an answer covers when ``since`` is not given (ending ``until``, today by default)."""

FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)
"""The days a range may name: room on both sides for the weeks a read looks around it."""

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SEGMENT_VALUES: dict[str, tuple[str, ...]] = {
    "role": tuple(role.value for role in ROLES),
    "planner": PLANNERS,
}
"""The values a segment of a closed kind may take (a workflow is any name)."""
_WORKFLOW = re.compile(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,199}")


# --- following the log ----------------------------------------------------------------------


async def rebuild(ctx: ServiceContext) -> int:
    """Empty the facts and fold the whole log again; returns the last ``seq`` folded."""

    def empty(session: Session) -> None:
        cursors.claim(session, FOLLOWER, max_events=0)  # waits for a batch under way
        repo.empty_facts(session)
        cursors.rewind(session, FOLLOWER)

    await ctx.write_blocking(empty)
    await ctx.catch_up(FOLLOWER, quietly=False)
    async with ctx.read() as session:
        return await session.run_sync(lambda s: cursors.read_to(s, FOLLOWER))


def _progress(session: Session) -> tuple[int, int]:
    return cursors.read_to(session, FOLLOWER), cursors.log_head(session)


# --- what is asked --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnalyticsQuery:
    """A validated request: UTC days ``since`` … ``until`` and at most one segment."""

    since: date
    until: date
    segment: tuple[str, str] | None = None


def parse_query(
    *, since: str | None, until: str | None, segment: str | None, today: date | None = None
) -> AnalyticsQuery:
    """Check the range and the segment as given in a URL.

    ``since``/``until`` are UTC days (``YYYY-MM-DD``, both included); ``until`` defaults to
    today and ``since`` to ``DEFAULT_RANGE_DAYS`` days ending ``until``. ``segment`` is
    ``role:NAME``, ``workflow:NAME`` or ``planner:local|model``.

    Raises:
        ValidationFailed: a malformed day, ``until`` before ``since``, more than
            ``MAX_RANGE_DAYS`` days, or a segment of unknown kind or value; every problem names
            its parameter and the fix.
    """
    problems: list[Problem] = []
    end = _day("until", until, problems) if until is not None else (today or utcnow().date())
    start = _day("since", since, problems) if since is not None else None
    if since is None and end is not None:
        start = end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start is not None and end is not None:
        if end < start:
            problems.append(Problem("until", f"{end} is before since ({start}); swap them"))
        elif (end - start).days + 1 > MAX_RANGE_DAYS:
            problems.append(
                Problem(
                    "since",
                    f"the range holds {(end - start).days + 1} days; ask for at most "
                    f"{MAX_RANGE_DAYS} (move since to {end - timedelta(days=MAX_RANGE_DAYS - 1)} "
                    "or later)",
                )
            )
    parsed = _segment(segment, problems) if segment is not None else None
    if problems or start is None or end is None:
        raise ValidationFailed(problems)
    return AnalyticsQuery(start, end, parsed)


def _day(field: str, value: str, problems: list[Problem]) -> date | None:
    if _DAY.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            if FIRST_DAY <= day <= LAST_DAY:
                return day
            problems.append(Problem(field, f"give a day from {FIRST_DAY} to {LAST_DAY}"))
            return None
    # The value is not echoed: a pasted token or other secret stays out of answers and logs.
    problems.append(Problem(field, "is not a UTC day; give YYYY-MM-DD, e.g. 2026-11-24"))
    return None


def _segment(value: str, problems: list[Problem]) -> tuple[str, str] | None:
    kind, _, name = value.partition(":")
    kinds = ", ".join(f"{k}:…" for k in SEGMENT_KINDS)
    if kind not in SEGMENT_KINDS:
        problems.append(Problem("segment", f"unknown segment kind; give one of {kinds}"))
        return None
    allowed = _SEGMENT_VALUES.get(kind)
    if allowed is not None and name not in allowed:
        problems.append(Problem("segment", f"{kind} must be one of {', '.join(allowed)}"))
        return None
    if allowed is None and not _WORKFLOW.fullmatch(name):
        problems.append(
            Problem("segment", "give a workflow's name after workflow:, e.g. workflow:release")
        )
        return None
    return kind, name


# --- answers --------------------------------------------------------------------------------


async def read_current(ctx: ServiceContext, work: Callable[[Session], T]) -> tuple[T, int]:
    """``work`` in one read snapshot of facts that include every event committed before.

    Returns ``work``'s result and the last ``seq`` the facts include. When the events the
    follower has yet to read change no fact (a busy run's logs and step starts, say), the facts
    are current as they are. When they would change some, it catches them up first; if that
    fails (a busy database), it answers from the facts as they are (``meta.followed_to`` says
    how far they reach) and logs why. Each statement is planned for its values
    (``repositories.analytics.plan_for_values``).
    """

    def current(session: Session) -> tuple[T, int] | None:
        repo.plan_for_values(session)
        done, head = _progress(session)
        if done < head and not repo.any_to_fold(session, after=done, upto=head):
            done = head  # what the follower has yet to read changes no fact
        return (work(session), done) if done >= head else None

    answer = await ctx.read_blocking(current)
    if answer is not None:  # the common case: one snapshot, no write
        return answer
    await ctx.catch_up(FOLLOWER)

    def both(session: Session) -> tuple[T, int]:
        repo.plan_for_values(session)
        return work(session), cursors.read_to(session, FOLLOWER)

    return await ctx.read_blocking(both)


def answer_meta(query: AnalyticsQuery, grain: Grain | None, followed_to: int) -> AnalyticsMeta:
    """The ``meta`` block of an answer to ``query``: now, UTC, its range, segment and grain."""
    segment = (
        None
        if query.segment is None
        else Segment.model_validate({"kind": query.segment[0], "value": query.segment[1]})
    )
    return AnalyticsMeta(
        generated_at=utcnow(),
        range=AnalyticsRange(
            since=query.since, until=query.until, days=(query.until - query.since).days + 1
        ),
        segment=segment,
        grain=grain,
        followed_to=followed_to,
    )


def _scope(query: AnalyticsQuery) -> repo.Scope:
    return repo.Scope(query.since, query.until, query.segment)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def read_funnel(
    ctx: ServiceContext,
    *,
    query: AnalyticsQuery,
    grain: Grain,
    steps: str | None = None,
    compare: bool = False,
) -> FunnelAnswer:
    """The activation funnel per cohort of first sign-in (every cohort of the range listed).

    ``steps``: the keys of the steps to show, comma-separated, in the funnel's order and
    starting with its first (``None``: every step); see ``domain.analytics.chosen_steps``.
    ``compare``: also the range of equal length before (``previous``), in the same snapshot.

    Raises:
        ValidationFailed: ``steps`` names an unknown step, or not in order (``field="steps"``).
    """
    chosen = funnel_steps(steps)
    before = previous_range(query)
    (now, then), followed = await read_current(
        ctx, lambda s: (funnel_rows(s, query), funnel_rows(s, before) if compare else [])
    )
    answer = funnel_answer(query, grain, now, followed, steps=chosen)
    if not compare:
        return answer
    earlier = funnel_answer(before, grain, then, followed, steps=chosen)
    return answer.model_copy(
        update={"meta": _compared(answer.meta, before), "previous": earlier.items}
    )


def funnel_steps(text: str | None) -> list[str] | None:
    """The step keys ``text`` chooses, checked (``None``: every step).

    Raises:
        ValidationFailed: an unknown step, fewer than two, or out of order (``field="steps"``).
    """
    if text is None:
        return None
    keys = [key.strip() for key in text.split(",") if key.strip()]
    definition = load_definitions().funnel
    try:
        metrics.chosen_steps(
            [metrics.FunnelStep(s.key, s.window_days) for s in definition.steps], keys
        )
    except ValueError as exc:
        raise ValidationFailed([Problem("steps", str(exc))]) from exc
    return keys


def funnel_rows(session: Session, query: AnalyticsQuery) -> list[metrics.Journey]:
    """What :func:`funnel_answer` is built from: journeys of people first signed in in range."""
    return repo.journeys_signed_in(session, _scope(query))


def _every_step() -> list[metrics.FunnelStep]:
    """The funnel's steps with their windows, as the definitions give them."""
    return [metrics.FunnelStep(s.key, s.window_days) for s in load_definitions().funnel.steps]


def funnel_answer(
    query: AnalyticsQuery,
    grain: Grain,
    journeys: list[metrics.Journey],
    followed: int,
    *,
    steps: Sequence[str] | None = None,
) -> FunnelAnswer:
    """The funnel of ``query`` from :func:`funnel_rows`, the facts followed to ``followed``.

    ``steps``: the keys :func:`funnel_steps` checked (``None``: every step).
    """
    every = _every_step()
    chosen = every if steps is None else metrics.chosen_steps(every, steps)
    labels = {s.key: s.label for s in load_definitions().funnel.steps}
    cohorts = metrics.funnel(
        journeys, chosen, since=query.since, until=query.until, grain=grain, now=utcnow()
    )
    items = []
    for cohort in cohorts:
        start = cohort.reached[0]
        counts = [
            FunnelStepCount(
                key=step.key,
                label=labels[step.key],
                users=users,
                share_of_start=_share(users, start),
                share_of_previous=_share(users, cohort.reached[i - 1] if i else users),
            )
            for i, (step, users) in enumerate(zip(chosen, cohort.reached, strict=True))
        ]
        items.append(
            FunnelItem(
                cohort=cohort.label, start=cohort.start, complete=cohort.complete, steps=counts
            )
        )
    return FunnelAnswer(meta=answer_meta(query, grain, followed), items=items)


@dataclass(frozen=True, slots=True)
class TrendRows:
    """What :func:`trends_answer` is built from."""

    active: dict[date, int]
    missions: dict[date, int]
    runs: list[metrics.RunDay]
    durations: dict[date, tuple[float, float]]
    outcomes: dict[date, tuple[int, int]] = field(default_factory=dict)


def trend_rows(
    session: Session, query: AnalyticsQuery, grain: Grain, *, durations: bool = True
) -> TrendRows:
    """The trends' figures of ``query`` per bucket.

    Without ``durations`` the run durations' percentiles (which rank every run of the range)
    are not read, and every bucket's are ``None``: for readers that do not use them.
    """
    scope = _scope(query)
    weekly = grain == "week"
    return TrendRows(
        active=repo.active_user_counts(session, scope, weekly=weekly),
        missions=repo.missions_per_day(session, scope),
        runs=repo.runs_per_day(session, scope),
        durations=repo.duration_percentiles(session, scope, weekly=weekly) if durations else {},
        outcomes=metrics.outcome_days(repo.step_ends(session, query.since, query.until)),
    )


async def read_trends(
    ctx: ServiceContext, *, query: AnalyticsQuery, grain: Grain, compare: bool = False
) -> TrendsAnswer:
    """Active users, missions, runs, success rate, cost, tokens and durations per bucket.

    ``compare``: also the range of equal length before (``previous``), in the same snapshot.
    """
    before = previous_range(query)
    (now, then), followed = await read_current(
        ctx,
        lambda s: (trend_rows(s, query, grain), trend_rows(s, before, grain) if compare else None),
    )
    answer = trends_answer(query, grain, now, followed)
    if then is None:
        return answer
    earlier = trends_answer(before, grain, then, followed)
    return answer.model_copy(
        update={"meta": _compared(answer.meta, before), "previous": earlier.items}
    )


def _compared(meta: AnalyticsMeta, before: AnalyticsQuery) -> AnalyticsMeta:
    """``meta`` naming the range an answer is compared with."""
    days = (before.until - before.since).days + 1
    earlier = AnalyticsRange(since=before.since, until=before.until, days=days)
    return meta.model_copy(update={"previous_range": earlier})


def trends_answer(
    query: AnalyticsQuery, grain: Grain, rows: TrendRows, followed: int
) -> TrendsAnswer:
    """The trends of ``query`` from :func:`trend_rows`, the facts followed to ``followed``."""
    points = metrics.trends(
        since=query.since,
        until=query.until,
        grain=grain,
        active_users=rows.active,
        missions=rows.missions,
        run_days=rows.runs,
        durations=rows.durations,
        outcomes=rows.outcomes,
    )
    items = [
        TrendItem(
            bucket=p.label,
            start=p.start,
            active_users=p.active_users,
            missions_created=p.missions_created,
            runs_started=p.runs_started,
            runs_ended=p.runs_ended,
            success_rate=None if p.success_rate is None else round(p.success_rate, 4),
            cost_usd=micros_to_usd(p.cost_micros),
            tokens=p.tokens,
            duration_p50_s=p.duration_p50_s,
            duration_p95_s=p.duration_p95_s,
            tasks_built=p.tasks_built,
            tasks_documented=p.tasks_documented,
        )
        for p in points
    ]
    return TrendsAnswer(meta=answer_meta(query, grain, followed), series=_series(), items=items)


def _series() -> list[TrendSeries]:
    """Each trend metric's label, unit and format, from the definitions."""
    return [
        TrendSeries(key=m.key, label=m.label, unit=m.unit, format=UNIT_FORMATS[m.unit])
        for m in load_definitions().trends
    ]


async def read_retention(
    ctx: ServiceContext,
    *,
    query: AnalyticsQuery,
    grain: Grain = "week",
    compare: bool = False,
) -> RetentionAnswer:
    """Cohorts by first mission and who was active after them.

    Weeks 1-8 by ISO week, or with ``grain="day"`` the definitions' days (D1, D7, D30) by UTC
    day. ``compare``: also the range of equal length before (``previous`` and
    ``previous_summary``), in the same snapshot.
    """
    before = previous_range(query)
    if grain == "day":
        (facts, old), followed = await read_current(
            ctx,
            lambda s: (
                day_retention_rows(s, query),
                day_retention_rows(s, before) if compare else None,
            ),
        )
        answer = day_retention_answer(query, facts, followed)
        earlier = None if old is None else day_retention_answer(before, old, followed)
    else:
        (rows, past), followed = await read_current(
            ctx,
            lambda s: (retention_rows(s, query), retention_rows(s, before) if compare else None),
        )
        answer = retention_answer(query, rows, followed)
        earlier = None if past is None else retention_answer(before, past, followed)
    if earlier is None:
        return answer
    update = {
        "meta": _compared(answer.meta, before),
        "previous": earlier.items,
        "previous_summary": earlier.summary,
    }
    return answer.model_copy(update=update)


RetentionRows = tuple[dict[date, int], dict[tuple[date, date], int]]
"""People per cohort, and per (cohort, later week) how many came back (``retention_counts``)."""

DayRetentionRows = tuple[dict[str, date], list[tuple[str, date]]]
"""People's first-mission days, and their active days (``day_retention_facts``)."""


def retention_rows(session: Session, query: AnalyticsQuery) -> RetentionRows:
    """What :func:`retention_answer` is built from, for the definitions' weeks."""
    weeks = load_definitions().retention.weeks
    return repo.retention_counts(session, _scope(query), weeks=weeks)


def day_retention_rows(session: Session, query: AnalyticsQuery) -> DayRetentionRows:
    """What :func:`day_retention_answer` is built from, for the definitions' days."""
    longest = load_definitions().retention.days[-1]
    return repo.day_retention_facts(session, _scope(query), longest=longest)


def retention_answer(query: AnalyticsQuery, rows: RetentionRows, followed: int) -> RetentionAnswer:
    """The retention of ``query`` from :func:`retention_rows`, facts followed to ``followed``."""
    weeks = load_definitions().retention.weeks
    sizes, returned = rows
    cohorts = metrics.retention(
        sizes, returned, since=query.since, until=query.until, weeks=weeks, now=utcnow()
    )
    items = [
        RetentionItem(
            cohort=c.label,
            start=c.start,
            users=c.users,
            weeks=[
                RetentionCellItem(
                    week=cell.week,
                    users=cell.users,
                    share=_share(cell.users, c.users),
                    complete=cell.complete,
                )
                for cell in c.cells
            ],
        )
        for c in cohorts
    ]
    summary = _summary(
        range(1, weeks + 1),
        [[(c.users, cell.users if cell.complete else None) for cell in c.cells] for c in cohorts],
    )
    return RetentionAnswer(meta=answer_meta(query, "week", followed), summary=summary, items=items)


def day_retention_answer(
    query: AnalyticsQuery, rows: DayRetentionRows, followed: int
) -> RetentionAnswer:
    """The daily retention of ``query`` from :func:`day_retention_rows`."""
    offsets = load_definitions().retention.days
    firsts, active = rows
    cohorts = metrics.day_retention(
        firsts, active, since=query.since, until=query.until, offsets=offsets, now=utcnow()
    )
    items = [
        RetentionItem(
            cohort=metrics.bucket_label(c.start, "day"),
            start=c.start,
            users=c.users,
            weeks=[],
            days=[
                RetentionDayItem(
                    day=cell.day,
                    users=cell.users,
                    share=None if cell.users is None else _share(cell.users, c.users),
                )
                for cell in c.cells
            ],
        )
        for c in cohorts
    ]
    summary = _summary(offsets, [[(c.users, cell.users) for cell in c.cells] for c in cohorts])
    return RetentionAnswer(meta=answer_meta(query, "day", followed), summary=summary, items=items)


def _summary(
    offsets: Iterable[int], rows: list[list[tuple[int, int | None]]]
) -> list[RetentionSummaryItem]:
    """Each column over every cohort whose cell is known, weighted by the cohorts' people.

    ``rows`` holds, per cohort, (its people, the cell's count or ``None`` when not known yet).
    """
    summary = []
    for index, offset in enumerate(offsets):
        column = [row[index] for row in rows]
        people, returned, share = metrics.weighted_return(column)
        counted = sum(1 for size, back in column if back is not None and size)
        summary.append(
            RetentionSummaryItem(
                offset=offset, cohorts=counted, users=people, returned=returned, share=share
            )
        )
    return summary


def previous_range(query: AnalyticsQuery) -> AnalyticsQuery:
    """The range of equal length that ends the day before ``query``'s, with the same segment."""
    days = (query.until - query.since).days + 1
    return AnalyticsQuery(
        query.since - timedelta(days=days), query.since - timedelta(days=1), query.segment
    )


@dataclass(frozen=True, slots=True)
class _RangeRows:
    active: int
    missions: int
    runs: metrics.RunDay
    durations: tuple[float, float] | None
    journeys: list[metrics.Journey]
    person_days: int
    weekly_active: list[int]


def _range_rows(session: Session, query: AnalyticsQuery) -> _RangeRows:
    scope = _scope(query)
    total = metrics.RunDay(query.since)
    for day in repo.runs_per_day(session, scope):
        total = metrics.RunDay(
            query.since,
            started=total.started + day.started,
            ended=total.ended + day.ended,
            completed=total.completed + day.completed,
            cost_micros=total.cost_micros + day.cost_micros,
            tokens=total.tokens + day.tokens,
        )
    return _RangeRows(
        active=repo.active_people(session, scope),
        missions=sum(repo.missions_per_day(session, scope).values()),
        runs=total,
        durations=repo.range_duration_percentiles(session, scope),
        journeys=repo.journeys_signed_in(session, scope),
        person_days=repo.active_person_days(session, scope),
        weekly_active=repo.weekly_active_people(
            session, scope, weeks=metrics.whole_weeks(query.since, query.until)
        ),
    )


def _activation(query: AnalyticsQuery, journeys: list[metrics.Journey]) -> tuple[int, int]:
    """People first signed in during the range, and those of them who reached activation.

    The funnel's own counting (each step within its window), its cohorts added up: a person
    belongs to one cohort.
    """
    definition = load_definitions().funnel
    steps = [metrics.FunnelStep(s.key, s.window_days) for s in definition.steps]
    cohorts = metrics.funnel(
        journeys, steps, since=query.since, until=query.until, grain="week", now=utcnow()
    )
    index = definition.activation_index
    return sum(c.reached[0] for c in cohorts), sum(c.reached[index] for c in cohorts)


def _totals(query: AnalyticsQuery, rows: _RangeRows) -> RangeTotals:
    runs = rows.runs
    days = (query.until - query.since).days + 1
    signed_up, activated = _activation(query, rows.journeys)
    return RangeTotals(
        range=AnalyticsRange(since=query.since, until=query.until, days=days),
        active_users=rows.active,
        missions_created=rows.missions,
        runs_started=runs.started,
        runs_ended=runs.ended,
        success_rate=_share(runs.completed, runs.ended),
        cost_usd=micros_to_usd(runs.cost_micros),
        tokens=runs.tokens,
        duration_p50_s=None if rows.durations is None else rows.durations[0],
        duration_p95_s=None if rows.durations is None else rows.durations[1],
        signed_up=signed_up,
        activated_users=activated,
        activation_rate=_share(activated, signed_up),
        daily_active_users=round(rows.person_days / days, 2),
        weekly_active_users=(
            round(sum(rows.weekly_active) / len(rows.weekly_active), 2)
            if rows.weekly_active
            else None
        ),
    )


async def read_totals(ctx: ServiceContext, *, query: AnalyticsQuery) -> TotalsAnswer:
    """The trend metrics over the whole range (one bucket), and over the range before it.

    Active users are distinct people over the range, the percentiles rank every run of the
    range: neither is a sum of the daily figures. Both ranges are read in one snapshot.
    """
    before = previous_range(query)
    (now, then), followed = await read_current(
        ctx, lambda s: (_range_rows(s, query), _range_rows(s, before))
    )
    return TotalsAnswer(
        meta=answer_meta(query, None, followed),
        current=_totals(query, now),
        previous=_totals(before, then),
    )


WORKFLOW_NAMES_LISTED = 200
"""At most this many workflow names are offered as segments (alphabetically)."""


async def read_workflow_names(ctx: ServiceContext) -> list[str]:
    """The names of workflows with runs that a ``workflow:NAME`` segment accepts."""
    names, _ = await read_current(
        ctx, lambda s: repo.workflow_names(s, limit=WORKFLOW_NAMES_LISTED)
    )
    return [name for name in names if _WORKFLOW.fullmatch(name)]


Compare = Literal["previous"] | None
"""``previous``: also answer for the range of equal length just before; ``None``: not."""


async def ask_funnel(
    ctx: ServiceContext,
    *,
    since: str | None = None,
    until: str | None = None,
    segment: str | None = None,
    grain: Grain = "week",
    steps: str | None = None,
    compare: Compare = None,
) -> FunnelAnswer:
    """:func:`read_funnel` of the range and segment as a URL gives them (:func:`parse_query`).

    Raises:
        ValidationFailed: as :func:`parse_query` and :func:`read_funnel`.
    """
    query = parse_query(since=since, until=until, segment=segment)
    return await read_funnel(
        ctx, query=query, grain=grain, steps=steps, compare=compare == "previous"
    )


async def ask_trends(
    ctx: ServiceContext,
    *,
    since: str | None = None,
    until: str | None = None,
    segment: str | None = None,
    grain: Grain = "day",
    compare: Compare = None,
) -> TrendsAnswer:
    """:func:`read_trends` of the range and segment as a URL gives them (:func:`parse_query`).

    Raises:
        ValidationFailed: as :func:`parse_query`.
    """
    query = parse_query(since=since, until=until, segment=segment)
    return await read_trends(ctx, query=query, grain=grain, compare=compare == "previous")


async def ask_retention(
    ctx: ServiceContext,
    *,
    since: str | None = None,
    until: str | None = None,
    segment: str | None = None,
    grain: Grain = "week",
    compare: Compare = None,
) -> RetentionAnswer:
    """:func:`read_retention` of the range and segment as a URL gives them (:func:`parse_query`).

    Raises:
        ValidationFailed: as :func:`parse_query`.
    """
    query = parse_query(since=since, until=until, segment=segment)
    return await read_retention(ctx, query=query, grain=grain, compare=compare == "previous")


async def ask_definitions(ctx: ServiceContext) -> DefinitionsAnswer:
    """:func:`read_definitions`, as an operation asks for it (it reads no database)."""
    return read_definitions()


def read_definitions() -> DefinitionsAnswer:
    """Every metric's label, definition, unit and events, in the file's order."""
    data = load_definitions()
    items = [
        DefinitionItem(
            key=f"funnel.{step.key}",
            group="funnel",
            label=step.label,
            definition=step.definition,
            unit=data.funnel.unit,
            events=list(step.events),
            window_days=step.window_days,
        )
        for step in data.funnel.steps
    ]
    groups: tuple[
        tuple[Literal["trends", "key_figures", "orchestration"], tuple[MetricDefinition, ...]], ...
    ] = (
        ("trends", data.trends),
        ("key_figures", data.key_figures),
        ("orchestration", data.orchestration),
    )
    items += [
        DefinitionItem(
            key=f"{group}.{m.key}",
            group=group,
            label=m.label,
            definition=m.definition,
            unit=m.unit,
            events=list(m.events),
        )
        for group, metrics_of_group in groups
        for m in metrics_of_group
    ]
    r = data.retention
    items.append(
        DefinitionItem(
            key="retention",
            group="retention",
            label=r.label,
            definition=r.definition,
            unit=r.unit,
            events=list(r.events),
        )
    )
    return DefinitionsAnswer(test_user_patterns=list(data.people.test_user_patterns), items=items)
