"""The product's metrics over its own activity: what an event means, and funnel, trends, retention.

Two halves, both pure (ADR 0068):

- **Following the log.** :func:`interpret` reads one logged event as the changes it makes to the
  facts (who is a person, which mission and run belong to whom, first times, active days);
  :class:`Facts` holds a slice of the facts and :meth:`Facts.apply` makes a change. The
  repository loads the rows a batch of events touches into a :class:`Facts`, applies the batch
  and writes back what changed, so the facts mean exactly what this module says.
- **Computing the metrics** from the rows the repository gives: :func:`funnel`, :func:`trends`
  and :func:`retention`, every bucket a UTC day or an ISO week (Monday to Sunday, UTC).

Timestamps may carry any offset; every bucket is the UTC day of the instant.
"""

import fnmatch
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal

from missionctl.domain.outcomes import OUTCOMES, step_outcome

Grain = Literal["day", "week"]
GRAINS: Final[tuple[Grain, ...]] = ("day", "week")
Planner = Literal["local", "model"]
PLANNERS: Final[tuple[Planner, ...]] = ("local", "model")

ENDED: Final = frozenset({"completed", "failed", "canceled", "aborted"})
"""A run's terminal statuses; ``completed`` is the one success."""

RUN_END_TYPES: Final = frozenset(f"run.{status}" for status in ENDED)
STEP_SPEND_TYPES: Final = frozenset({"step.succeeded", "step.failed"})
REPORT_DOWNLOADED: Final = "report.downloaded"

FUNNEL_STEPS: Final = ("signed_in", "mission", "planned", "ran", "completed", "came_back")
"""The funnel's steps in order; a journey's first times are named after them."""

MAX_RANGE_DAYS: Final = 366
LOCAL_PLANNER_SOURCE: Final = "local"


# --- people ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class People:
    """Who counts as a person, and which of their events are not activity.

    Attributes:
        test_user_patterns: shell-style patterns of test users' names; none of their acts count.
        not_activity: event types a person causes that are not a visit (a failed sign-in).
    """

    test_user_patterns: tuple[str, ...] = ()
    not_activity: frozenset[str] = frozenset()

    def is_test(self, name: str) -> bool:
        """Whether ``name`` is a test user's."""
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.test_user_patterns)


def utc_day(ts: datetime) -> date:
    """The UTC day of an instant (a naive timestamp is taken as UTC)."""
    if ts.tzinfo is None:
        return ts.date()
    return ts.astimezone(UTC).date()


def week_of(day: date) -> date:
    """The Monday that starts ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def bucket_of(day: date, grain: Grain) -> date:
    """The first day of the bucket holding ``day``."""
    return day if grain == "day" else week_of(day)


def bucket_label(start: date, grain: Grain) -> str:
    """``2026-11-24`` for a day, ``2026-W48`` for an ISO week."""
    if grain == "day":
        return start.isoformat()
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


def whole_weeks(since: date, until: date) -> list[date]:
    """The Mondays of the ISO weeks lying wholly inside ``since`` … ``until``, oldest first."""
    return [
        start
        for start in bucket_starts(since, until, "week")
        if start >= since and start + timedelta(days=6) <= until
    ]


def bucket_starts(since: date, until: date, grain: Grain) -> list[date]:
    """Every bucket overlapping ``since`` … ``until`` (both included), oldest first."""
    step = timedelta(days=1 if grain == "day" else 7)
    starts: list[date] = []
    current = bucket_of(since, grain)
    while current <= until:
        starts.append(current)
        current += step
    return starts


# --- following the log ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """What the facts need of one event of the log."""

    seq: int
    ts: datetime
    type: str
    actor: str
    mission_id: str | None = None
    run_id: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Journey:
    """One person: their role, and the first time they reached each funnel step."""

    name: str
    role: str | None = None
    firsts: dict[str, datetime] = field(default_factory=dict)
    report_at: datetime | None = None
    second_mission_at: datetime | None = None
    missions: int = 0


@dataclass(slots=True)
class MissionFact:
    """A mission: who created it (``None``: not a person), when, and its planner."""

    mission_id: str
    owner: str | None
    created_at: datetime
    planner: Planner | None = None


@dataclass(slots=True)
class RunFact:
    """A run: whose, which workflow, when it started and ended, how, and what it spent."""

    run_id: str
    mission_id: str | None
    owner: str | None
    workflow: str
    created_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    status: str = "pending"
    cost_micros: int = 0
    tokens: int = 0

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to end, for a run that ended after starting."""
        if self.started_at is None or self.ended_at is None or self.status not in ENDED:
            return None
        return max(0.0, (self.ended_at - self.started_at).total_seconds())


@dataclass(slots=True)
class Facts:
    """A slice of the facts: what a batch of events reads and changes.

    ``dirty_*`` name the rows :meth:`apply_all` changed, which the repository writes back;
    ``active_days`` holds the (person, UTC day) pairs seen, written if absent.
    """

    people: People
    journeys: dict[str, Journey] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    missions: dict[str, MissionFact] = field(default_factory=dict)
    runs: dict[str, RunFact] = field(default_factory=dict)
    active_days: set[tuple[str, date]] = field(default_factory=set)
    dirty_journeys: set[str] = field(default_factory=set)
    dirty_missions: set[str] = field(default_factory=set)
    dirty_runs: set[str] = field(default_factory=set)
    new_tokens: set[str] = field(default_factory=set)

    def person(self, actor: str) -> str | None:
        """The person acting as ``actor``, or ``None`` (not a person, or a test user)."""
        kind, _, name = actor.partition(":")
        if kind == "token":
            name = self.tokens.get(name, "")
        elif kind != "user":
            return None
        if not name or self.people.is_test(name):
            return None
        return name

    def journey(self, name: str) -> Journey:
        """The person's journey, created on first sight, marked as changed."""
        self.dirty_journeys.add(name)
        if name not in self.journeys:
            self.journeys[name] = Journey(name)
        return self.journeys[name]

    def reach(self, name: str | None, step: str, at: datetime) -> None:
        """Record ``at`` as the person's time for ``step`` if it is their first."""
        if name is None:
            return
        journey = self.journey(name)
        known = journey.firsts.get(step)
        if known is None or at < known:
            journey.firsts[step] = at

    def apply_all(self, events: Iterable[LoggedEvent]) -> None:
        """Apply ``events`` in ``seq`` order."""
        for event in events:
            self.apply(event)

    def apply(self, event: LoggedEvent) -> None:
        """Change the facts as ``event`` says (an event of no interest changes nothing)."""
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            handler(self, event)
        if event.type == "user.signed_in":
            name = self.person(f"user:{event.payload.get('name', '')}")
        else:
            name = self.person(event.actor)
        if name is not None and event.type not in self.people.not_activity:
            self.active_days.add((name, utc_day(event.ts)))


def _user_created(facts: Facts, event: LoggedEvent) -> None:
    name = str(event.payload.get("name", ""))
    if facts.person(f"user:{name}") is not None:
        facts.journey(name).role = str(event.payload.get("role") or "") or None


def _role_changed(facts: Facts, event: LoggedEvent) -> None:
    name = str(event.payload.get("name", ""))
    if facts.person(f"user:{name}") is not None:
        facts.journey(name).role = str(event.payload.get("to") or "") or None


def _token_created(facts: Facts, event: LoggedEvent) -> None:
    token, owner = event.payload.get("name"), event.payload.get("user_name")
    if isinstance(token, str) and isinstance(owner, str):
        facts.tokens[token] = owner
        facts.new_tokens.add(token)


def _signed_in(facts: Facts, event: LoggedEvent) -> None:
    facts.reach(facts.person(f"user:{event.payload.get('name', '')}"), "signed_in", event.ts)


def _mission_created(facts: Facts, event: LoggedEvent) -> None:
    if event.mission_id is None:
        return
    owner = facts.person(event.actor)
    if owner is None and _is_test_actor(event.actor):
        return  # a test user's mission counts nowhere
    facts.missions[event.mission_id] = MissionFact(event.mission_id, owner, event.ts)
    facts.dirty_missions.add(event.mission_id)
    if owner is None:
        return
    journey = facts.journey(owner)
    journey.missions += 1
    facts.reach(owner, "mission", event.ts)
    if journey.missions >= 2 and journey.second_mission_at is None:
        journey.second_mission_at = event.ts


def _is_test_actor(actor: str) -> bool:
    """A user or token actor that is no person: a test user, or a test user's token."""
    return actor.startswith(("user:", "token:"))


def _plan_created(facts: Facts, event: LoggedEvent) -> None:
    mission = facts.missions.get(event.mission_id or "")
    if mission is None:
        return
    source = event.payload.get("source")
    mission.planner = "local" if source == LOCAL_PLANNER_SOURCE else "model"
    facts.dirty_missions.add(mission.mission_id)
    facts.reach(mission.owner, "planned", event.ts)


def _run_created(facts: Facts, event: LoggedEvent) -> None:
    if event.run_id is None:
        return
    mission = facts.missions.get(event.mission_id or "")
    # A person's run is theirs; a schedule's or the system's run of a mission is its owner's.
    owner = facts.person(event.actor)
    if owner is None and _is_test_actor(event.actor):
        return  # a test user's run counts nowhere
    if owner is None and mission is not None:
        owner = mission.owner  # a schedule's (or the system's) run of a person's mission
    facts.runs[event.run_id] = RunFact(
        run_id=event.run_id,
        mission_id=event.mission_id,
        owner=owner,
        workflow=str(event.payload.get("workflow") or ""),
        created_at=event.ts,
    )
    facts.dirty_runs.add(event.run_id)
    facts.reach(owner, "ran", event.ts)


def _run_started(facts: Facts, event: LoggedEvent) -> None:
    run = facts.runs.get(event.run_id or "")
    if run is not None and run.started_at is None:
        run.started_at = event.ts
        run.status = "running"
        facts.dirty_runs.add(run.run_id)


def _run_ended(facts: Facts, event: LoggedEvent) -> None:
    run = facts.runs.get(event.run_id or "")
    if run is None:
        return
    run.status = event.type.partition(".")[2]
    run.ended_at = event.ts
    facts.dirty_runs.add(run.run_id)
    if run.status == "completed":
        facts.reach(run.owner, "completed", event.ts)


def _step_spent(facts: Facts, event: LoggedEvent) -> None:
    run = facts.runs.get(event.run_id or "")
    if run is None:
        return
    run.cost_micros += _count(event.payload.get("cost_micros"))
    run.tokens += _count(event.payload.get("input_tokens"))
    run.tokens += _count(event.payload.get("output_tokens"))
    facts.dirty_runs.add(run.run_id)


def _report_downloaded(facts: Facts, event: LoggedEvent) -> None:
    name = facts.person(event.actor)
    if name is None:
        return
    journey = facts.journey(name)
    if journey.report_at is None or event.ts < journey.report_at:
        journey.report_at = event.ts


def _count(value: object) -> int:
    """A non-negative whole count from a payload value; anything else is 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0
    return max(0, int(value))


_HANDLERS: Final = {
    "user.created": _user_created,
    "user.role_changed": _role_changed,
    "token.created": _token_created,
    "user.signed_in": _signed_in,
    "mission.created": _mission_created,
    "plan.created": _plan_created,
    "run.created": _run_created,
    "run.started": _run_started,
    **dict.fromkeys(RUN_END_TYPES, _run_ended),
    **dict.fromkeys(STEP_SPEND_TYPES, _step_spent),
    REPORT_DOWNLOADED: _report_downloaded,
}

FOLLOWED_TYPES: Final = frozenset(_HANDLERS)
"""Event types that change facts beyond the active days."""


# --- the funnel -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FunnelStep:
    """A step of the funnel: its key and how many days after the step before it may come."""

    key: str
    window_days: int | None = None


@dataclass(frozen=True, slots=True)
class FunnelCohort:
    """One cohort's counts: how many reached each step (in step order)."""

    start: date
    label: str
    reached: tuple[int, ...]
    complete: bool


def _step_time(journey: Journey, key: str, after: datetime) -> datetime | None:
    """When the person first did step ``key`` at or after ``after``."""
    if key == "came_back":
        times = [t for t in (journey.report_at, journey.second_mission_at) if t is not None]
    else:
        first = journey.firsts.get(key)
        times = [] if first is None else [first]
    times = [t for t in times if t >= after]
    return min(times) if times else None


def chosen_steps(steps: Sequence[FunnelStep], keys: Sequence[str]) -> list[FunnelStep]:
    """The funnel of ``keys`` only (a subsequence of ``steps``' keys, starting with the first).

    A chosen step's window is the sum of its own and those of the steps left out before it: it
    may come as long after the chosen step before it as the full funnel would allow.

    Raises:
        ValueError: ``keys`` is not such a subsequence of at least two steps; the message says
            which keys are known and in what order.
    """
    known = [step.key for step in steps]
    positions = [known.index(key) if key in known else -1 for key in keys]
    if len(keys) < 2 or positions[0] != 0 or positions != sorted(set(positions)) or -1 in positions:
        raise ValueError(
            f"give at least two of {', '.join(known)}, in that order, starting with {known[0]}"
        )
    chosen = [steps[0]]
    for before, at in itertools.pairwise(positions):
        windows = [step.window_days for step in steps[before + 1 : at + 1]]
        window = None if None in windows else sum(w or 0 for w in windows)
        chosen.append(FunnelStep(steps[at].key, window))
    return chosen


def steps_reached(journey: Journey, steps: Sequence[FunnelStep]) -> int:
    """How many steps of the funnel, in order and each within its window, the person reached."""
    previous = journey.firsts.get(steps[0].key) if steps else None
    if previous is None:
        return 0
    reached = 1
    for step in steps[1:]:
        at = _step_time(journey, step.key, previous)
        if at is None:
            break
        if step.window_days is not None and at - previous > timedelta(days=step.window_days):
            break
        reached += 1
        previous = at
    return reached


def funnel(
    journeys: Iterable[Journey],
    steps: Sequence[FunnelStep],
    *,
    since: date,
    until: date,
    grain: Grain,
    now: datetime,
) -> list[FunnelCohort]:
    """The funnel per cohort of first sign-in in ``since`` … ``until``, every bucket listed.

    A cohort is complete once every member's whole window has passed: its last day plus the
    sum of the steps' windows is before ``now``.
    """
    starts = bucket_starts(since, until, grain)
    counts = {start: [0] * len(steps) for start in starts}
    for journey in journeys:
        first = journey.firsts.get(steps[0].key) if steps else None
        if first is None or not since <= utc_day(first) <= until:
            continue
        row = counts[bucket_of(utc_day(first), grain)]
        for index in range(steps_reached(journey, steps)):
            row[index] += 1
    horizon = timedelta(days=sum(step.window_days or 0 for step in steps))
    width = timedelta(days=1 if grain == "day" else 7)
    return [
        FunnelCohort(
            start=start,
            label=bucket_label(start, grain),
            reached=tuple(counts[start]),
            complete=_midnight(start + width) + horizon <= now,
        )
        for start in starts
    ]


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# --- trends ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunDay:
    """The runs started on one UTC day: how many, how many ended and completed, what they spent."""

    day: date
    started: int = 0
    ended: int = 0
    completed: int = 0
    cost_micros: int = 0
    tokens: int = 0


@dataclass(frozen=True, slots=True)
class StepEnd:
    """A step that succeeded, as its ``step.succeeded`` event and its step run record it.

    ``logged_outcome`` is the event payload's ``outcome`` (``None`` for events recorded before
    outcomes were logged); ``agent`` and ``outputs`` are the step run's, to derive it then.
    ``count``: how many such ends this one stands for (the database counts those of one day
    and logged outcome together).
    """

    ts: datetime
    logged_outcome: object
    agent: str
    outputs: Mapping[str, Any]
    count: int = 1

    @property
    def outcome(self) -> str | None:
        """What the step produced: as logged, else derived (``domain.outcomes.step_outcome``)."""
        if isinstance(self.logged_outcome, str) and self.logged_outcome in OUTCOMES:
            return self.logged_outcome
        return step_outcome(self.agent, "succeeded", self.outputs)


def outcome_days(ends: Iterable[StepEnd]) -> dict[date, tuple[int, int]]:
    """Tasks built and tasks documented per UTC day of their step's end.

    Built is the ``built`` outcome only (code changed and its test command passed), never
    ``changed`` or ``merged``; documented is ``documented`` (documents only: builtin
    specialists and model roles). Days with neither are absent.
    """
    days: dict[date, tuple[int, int]] = {}
    for end in ends:
        outcome = end.outcome
        if outcome not in ("built", "documented"):
            continue
        built, documented = days.get(utc_day(end.ts), (0, 0))
        if outcome == "built":
            built += end.count
        else:
            documented += end.count
        days[utc_day(end.ts)] = (built, documented)
    return days


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One bucket of the trends."""

    start: date
    label: str
    active_users: int
    missions_created: int
    runs_started: int
    runs_ended: int
    success_rate: float | None
    cost_micros: int
    tokens: int
    duration_p50_s: float | None
    duration_p95_s: float | None
    tasks_built: int = 0
    tasks_documented: int = 0


def median_and_p95(values: Sequence[float]) -> tuple[float, float] | None:
    """The median and 95th percentile (nearest rank) of ``values``; ``None`` when empty.

    One sort for both: a year's durations are a hundred thousand values.
    """
    if not values:
        return None
    ordered = sorted(values)
    return _nearest_rank(ordered, 0.5), _nearest_rank(ordered, 0.95)


def _nearest_rank(ordered: Sequence[float], share: float) -> float:
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def active_counts(active_days: Iterable[tuple[str, date]], grain: Grain) -> dict[date, int]:
    """Distinct people per bucket from (person, UTC day) pairs."""
    seen: dict[date, set[str]] = defaultdict(set)
    for name, day in active_days:
        seen[bucket_of(day, grain)].add(name)
    return {start: len(names) for start, names in seen.items()}


def duration_percentiles(
    durations: Iterable[tuple[date, float]], grain: Grain
) -> dict[date, tuple[float, float]]:
    """Median and 95th percentile (nearest rank) per bucket of (start day, seconds) rows.

    What the repository ranks in SQL; buckets without a duration are absent.
    """
    lasted: dict[date, list[float]] = defaultdict(list)
    for day, seconds in durations:
        lasted[bucket_of(day, grain)].append(seconds)
    return {start: median_and_p95(values) or (0.0, 0.0) for start, values in lasted.items()}


def trends(
    *,
    since: date,
    until: date,
    grain: Grain,
    active_users: Mapping[date, int],
    missions: Mapping[date, int],
    run_days: Iterable[RunDay],
    durations: Mapping[date, tuple[float, float]],
    outcomes: Mapping[date, tuple[int, int]] | None = None,
) -> list[TrendPoint]:
    """Every bucket of ``since`` … ``until``, oldest first, zero where nothing happened.

    ``active_users`` and ``durations`` (median and 95th percentile) are already per bucket:
    distinct people and percentiles cannot be added up. ``missions`` (per UTC day),
    ``run_days`` and ``outcomes`` (tasks built and documented per UTC day,
    :func:`outcome_days`) are rolled into the buckets here. Days outside the range are ignored.
    """
    made = _rolled_outcomes(since, until, grain, outcomes or {})
    starts = bucket_starts(since, until, grain)
    runs: dict[date, RunDay] = {start: RunDay(start) for start in starts}
    created: dict[date, int] = dict.fromkeys(starts, 0)
    for day, count in missions.items():
        if since <= day <= until:
            created[bucket_of(day, grain)] += count
    for run_day in run_days:
        if since <= run_day.day <= until:
            key = bucket_of(run_day.day, grain)
            runs[key] = _add(runs[key], run_day)
    return [
        TrendPoint(
            start=start,
            label=bucket_label(start, grain),
            active_users=active_users.get(start, 0),
            missions_created=created[start],
            runs_started=runs[start].started,
            runs_ended=runs[start].ended,
            success_rate=runs[start].completed / runs[start].ended if runs[start].ended else None,
            cost_micros=runs[start].cost_micros,
            tokens=runs[start].tokens,
            duration_p50_s=durations[start][0] if start in durations else None,
            duration_p95_s=durations[start][1] if start in durations else None,
            tasks_built=made.get(start, (0, 0))[0],
            tasks_documented=made.get(start, (0, 0))[1],
        )
        for start in starts
    ]


def _rolled_outcomes(
    since: date, until: date, grain: Grain, outcomes: Mapping[date, tuple[int, int]]
) -> dict[date, tuple[int, int]]:
    """Tasks built and documented per bucket, from per-day counts inside the range."""
    rolled: dict[date, tuple[int, int]] = {}
    for day, (built, documented) in outcomes.items():
        if since <= day <= until:
            had_built, had_documented = rolled.get(bucket_of(day, grain), (0, 0))
            rolled[bucket_of(day, grain)] = (had_built + built, had_documented + documented)
    return rolled


def _add(total: RunDay, more: RunDay) -> RunDay:
    return replace(
        total,
        started=total.started + more.started,
        ended=total.ended + more.ended,
        completed=total.completed + more.completed,
        cost_micros=total.cost_micros + more.cost_micros,
        tokens=total.tokens + more.tokens,
    )


def run_days(runs: Iterable[RunFact]) -> list[RunDay]:
    """``RunDay`` rows from run facts, by UTC start day (what the repository sums in SQL)."""
    days: dict[date, RunDay] = {}
    for run in runs:
        day = utc_day(run.created_at)
        ended = run.status in ENDED
        one = RunDay(
            day,
            started=1,
            ended=int(ended),
            completed=int(run.status == "completed"),
            cost_micros=run.cost_micros,
            tokens=run.tokens,
        )
        days[day] = _add(days[day], one) if day in days else one
    return sorted(days.values(), key=lambda d: d.day)


# --- retention ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetentionCell:
    """How many of a cohort were active in its ``week``-th week, and whether that week is over."""

    week: int
    users: int
    complete: bool


@dataclass(frozen=True, slots=True)
class RetentionCohort:
    """People whose first mission fell in the ISO week starting ``start``."""

    start: date
    label: str
    users: int
    cells: tuple[RetentionCell, ...]


@dataclass(frozen=True, slots=True)
class DayCell:
    """How many of a daily cohort were active on its ``day``-th day after; ``None`` until then.

    A day not yet over cannot be observed: its count is unknown, not 0.
    """

    day: int
    users: int | None


@dataclass(frozen=True, slots=True)
class DayCohort:
    """People whose first mission fell on the UTC day ``start``."""

    start: date
    users: int
    cells: tuple[DayCell, ...]


def day_retention(
    first_missions: Mapping[str, date],
    active: Iterable[tuple[str, date]],
    *,
    since: date,
    until: date,
    offsets: Sequence[int],
    now: datetime,
) -> list[DayCohort]:
    """Daily cohorts by first mission, and how many were active on each day ``offsets`` after.

    ``first_missions`` maps a person to the UTC day of their first mission (only those in
    ``since`` … ``until`` count); ``active`` holds (person, a UTC day they were active). Every
    day of the range is a cohort, in order; a cell whose day has not ended before ``now`` is
    ``None``.
    """
    members: dict[date, set[str]] = defaultdict(set)
    for name, day in first_missions.items():
        if since <= day <= until:
            members[day].add(name)
    seen: set[tuple[str, date]] = set(active)
    cohorts = []
    for start in bucket_starts(since, until, "day"):
        people = members.get(start, set())
        cells = tuple(
            DayCell(
                k,
                None
                if _midnight(start + timedelta(days=k + 1)) > now
                else sum((name, start + timedelta(days=k)) in seen for name in people),
            )
            for k in offsets
        )
        cohorts.append(DayCohort(start, len(people), cells))
    return cohorts


def weighted_return(cohorts: Iterable[tuple[int, int | None]]) -> tuple[int, int, float | None]:
    """The people counted, those who returned and the share, over (cohort size, returned).

    Cohorts not yet observable (``None``) are left out; the share is ``None`` when nobody is
    counted.

    Each cohort weighs its size: the share is of people, not an average of cohorts' shares.
    """
    counted = [(size, back) for size, back in cohorts if back is not None and size]
    people = sum(size for size, _ in counted)
    returned = sum(back for _, back in counted if back is not None)
    return people, returned, (round(returned / people, 4) if people else None)


def retention_counts(
    first_missions: Mapping[str, date], active_weeks: Iterable[tuple[str, date]]
) -> tuple[dict[date, int], dict[tuple[date, date], int]]:
    """Cohort sizes and returns from people's first-mission days and active weeks.

    ``first_missions`` maps a person to the UTC day of their first mission; ``active_weeks``
    holds (person, Monday of a week they were active in). Returns the people per cohort week,
    and per (cohort week, later active week) how many of the cohort were active: what the
    repository counts in SQL.
    """
    sizes: dict[date, int] = defaultdict(int)
    cohort_of = {name: week_of(day) for name, day in first_missions.items()}
    for start in cohort_of.values():
        sizes[start] += 1
    returned: dict[tuple[date, date], set[str]] = defaultdict(set)
    for name, week in active_weeks:
        cohort = cohort_of.get(name)
        if cohort is not None and week > cohort:
            returned[(cohort, week)].add(name)
    return dict(sizes), {key: len(names) for key, names in returned.items()}


def retention(
    cohort_sizes: Mapping[date, int],
    returned: Mapping[tuple[date, date], int],
    *,
    since: date,
    until: date,
    weeks: int,
    now: datetime,
) -> list[RetentionCohort]:
    """Weekly cohorts by first mission, and how many came back in each of weeks 1 … ``weeks``.

    ``cohort_sizes`` maps a cohort's Monday to its people (those whose first mission falls in
    ``since`` … ``until``); ``returned`` maps (cohort Monday, later week's Monday) to how many
    of them were active that week. Cohorts are the ISO weeks overlapping the range, every one
    listed. A cell is complete when its week ended before ``now``.
    """
    return [
        RetentionCohort(
            start=start,
            label=bucket_label(start, "week"),
            users=cohort_sizes.get(start, 0),
            cells=tuple(
                RetentionCell(
                    week=k,
                    users=returned.get((start, start + timedelta(days=7 * k)), 0),
                    complete=_midnight(start + timedelta(days=7 * (k + 1))) <= now,
                )
                for k in range(1, weeks + 1)
            ),
        )
        for start in bucket_starts(since, until, "week")
    ]
