"""The analytics facts (ADR 0068): following the log into them, and the metrics' reads.

:func:`fold_events` is the only writer of the ``analytics_*`` tables (the migration aside): it
reads a window of events, loads the fact rows they touch into a
:class:`~missionctl.domain.analytics.Facts`, lets the domain apply them and writes back what
changed, in the write transaction of the follower that moves its cursor with them
(``services.followers.analytics_facts``). The reads return the rows
the domain's :func:`~missionctl.domain.analytics.funnel`, ``trends`` and ``retention`` take.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

from missionctl.db.models import Event, StepRun
from missionctl.db.plans import CUSTOM_PLANS
from missionctl.db.prepared import Prepared
from missionctl.db.types import UTCDateTime, utc_day_of
from missionctl.domain.analytics import (
    FOLLOWED_TYPES,
    Facts,
    Journey,
    LoggedEvent,
    MissionFact,
    People,
    RunDay,
    RunFact,
    StepEnd,
    median_and_p95,
    utc_day,
    week_of,
)
from missionctl.domain.events import STEP_SUCCEEDED
from missionctl.domain.outcomes import OUTCOMES

_meta = sa.MetaData()
_TS = UTCDateTime(timezone=True)
_STEP_COLUMNS = {
    "signed_in": "signed_in_at",
    "mission": "mission_at",
    "planned": "planned_at",
    "ran": "ran_at",
    "completed": "completed_at",
}

people = sa.Table(
    "analytics_people",
    _meta,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("role", sa.String(20)),
    *(sa.Column(column, _TS) for column in _STEP_COLUMNS.values()),
    sa.Column("report_at", _TS),
    sa.Column("second_mission_at", _TS),
    sa.Column("missions", sa.Integer),
    sa.Column("mission_week", sa.Date),
)
tokens = sa.Table(
    "analytics_tokens",
    _meta,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("user_name", sa.String(200)),
)
active_days = sa.Table(
    "analytics_active_days",
    _meta,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("user_name", sa.String(200), primary_key=True),
    sa.Column("week", sa.Date),
)
missions = sa.Table(
    "analytics_missions",
    _meta,
    sa.Column("mission_id", sa.String(36), primary_key=True),
    sa.Column("owner", sa.String(200)),
    sa.Column("created_at", _TS),
    sa.Column("day", sa.Date),
    sa.Column("planner", sa.String(10)),
)
runs = sa.Table(
    "analytics_runs",
    _meta,
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("mission_id", sa.String(36)),
    sa.Column("owner", sa.String(200)),
    sa.Column("workflow", sa.String(200)),
    sa.Column("created_at", _TS),
    sa.Column("day", sa.Date),
    sa.Column("week", sa.Date),
    sa.Column("started_at", _TS),
    sa.Column("ended_at", _TS),
    sa.Column("status", sa.String(20)),
    sa.Column("duration_s", sa.Float),
    sa.Column("cost_micros", sa.BigInteger),
    sa.Column("tokens", sa.BigInteger),
)
run_days = sa.Table(
    "analytics_run_days",
    _meta,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("runs", sa.Integer),
    sa.Column("ended", sa.Integer),
    sa.Column("completed", sa.Integer),
    sa.Column("cost_micros", sa.BigInteger),
    sa.Column("tokens", sa.BigInteger),
    sa.Column("p50_s", sa.Float),
    sa.Column("p95_s", sa.Float),
)
run_weeks = sa.Table(
    "analytics_run_weeks",
    _meta,
    sa.Column("week", sa.Date, primary_key=True),
    sa.Column("p50_s", sa.Float),
    sa.Column("p95_s", sa.Float),
)
step_outcomes = sa.Table(
    "analytics_step_outcomes",
    _meta,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("outcome", sa.String(20), primary_key=True),
    sa.Column("steps", sa.Integer),
)
_FACT_TABLES = (people, tokens, active_days, missions, runs, run_days, run_weeks, step_outcomes)
_ENDED_STATUSES = ("completed", "failed", "canceled", "aborted")


# --- following the log ----------------------------------------------------------------------


def fold_events(session: Session, *, after: int, upto: int, rules: People) -> None:
    """Fold the events ``after < seq <= upto`` into the facts, in the caller's transaction.

    Appends commit in ``seq`` order (ADR 0006), so no event can commit behind a window.
    """
    events = _events_between(session, after, upto)
    facts = _load_facts(session, events, rules)
    facts.apply_all(events)
    _store_facts(session, facts)
    _refresh_run_days(session, {utc_day(facts.runs[r].created_at) for r in facts.dirty_runs})
    _add_step_outcomes(session, _step_outcomes_between(session, after, upto))


def _events_between(session: Session, after: int, upto: int) -> list[LoggedEvent]:
    """The events in ``(after, upto]`` that change facts or may be a person's activity."""
    query = (
        sa.select(
            Event.seq,
            Event.ts,
            Event.type,
            Event.actor,
            Event.mission_id,
            Event.run_id,
            Event.payload,
        )
        .where(Event.seq > after, Event.seq <= upto, _changes_facts())
        .order_by(Event.seq)
    )
    return [
        LoggedEvent(
            seq=row.seq,
            ts=row.ts,
            type=row.type,
            actor=row.actor,
            mission_id=None if row.mission_id is None else str(row.mission_id),
            run_id=None if row.run_id is None else str(row.run_id),
            payload=row.payload if isinstance(row.payload, dict) else {},
        )
        for row in session.execute(query)
    ]


def _changes_facts() -> sa.ColumnElement[bool]:
    """Whether an event changes the facts: a followed type, or a person's activity."""
    return sa.or_(
        Event.type.in_(sorted(FOLLOWED_TYPES)),
        Event.actor.startswith("user:"),
        Event.actor.startswith("token:"),
    )


def any_to_fold(session: Session, *, after: int, upto: int) -> bool:
    """Whether folding ``(after, upto]`` would change a fact (a cheap read of that window).

    When it would not, facts folded up to ``after`` are also the facts up to ``upto``.
    """
    changes = sa.or_(_changes_facts(), Event.type == STEP_SUCCEEDED)
    query = sa.select(Event.seq).where(Event.seq > after, Event.seq <= upto, changes).limit(1)
    return session.execute(query).first() is not None


def _load_facts(session: Session, events: Sequence[LoggedEvent], rules: People) -> Facts:
    """The fact rows ``events`` may read or change."""
    facts = Facts(rules)
    facts.tokens = {r.name: r.user_name for r in session.execute(sa.select(tokens))}
    mission_ids = {e.mission_id for e in events if e.mission_id is not None}
    run_ids = {e.run_id for e in events if e.run_id is not None}
    for chunk in _chunks(sorted(mission_ids)):
        for row in session.execute(sa.select(missions).where(missions.c.mission_id.in_(chunk))):
            facts.missions[row.mission_id] = MissionFact(
                row.mission_id, row.owner, row.created_at, row.planner
            )
    for chunk in _chunks(sorted(run_ids)):
        for row in session.execute(sa.select(runs).where(runs.c.run_id.in_(chunk))):
            facts.runs[row.run_id] = _run_fact(row)
    names = _names_in(events, facts)
    for chunk in _chunks(sorted(names)):
        for row in session.execute(sa.select(people).where(people.c.name.in_(chunk))):
            facts.journeys[row.name] = _journey(row)
    return facts


def _names_in(events: Iterable[LoggedEvent], facts: Facts) -> set[str]:
    """Every person the events may change: actors, named users, owners of their runs."""
    names: set[str] = set()
    for event in events:
        kind, _, name = event.actor.partition(":")
        if kind == "user":
            names.add(name)
        for key in ("name", "user_name"):
            value = event.payload.get(key)
            if isinstance(value, str):
                names.add(value)
    names |= set(facts.tokens.values())
    names |= {m.owner for m in facts.missions.values() if m.owner is not None}
    names |= {r.owner for r in facts.runs.values() if r.owner is not None}
    return names


def _chunks(items: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _run_fact(row: Any) -> RunFact:
    return RunFact(
        run_id=row.run_id,
        mission_id=row.mission_id,
        owner=row.owner,
        workflow=row.workflow,
        created_at=row.created_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        status=row.status,
        cost_micros=row.cost_micros,
        tokens=row.tokens,
    )


def _journey(row: Any) -> Journey:
    firsts = {step: at for step, column in _STEP_COLUMNS.items() if (at := row._mapping[column])}
    return Journey(
        name=row.name,
        role=row.role,
        firsts=firsts,
        report_at=row.report_at,
        second_mission_at=row.second_mission_at,
        missions=row.missions,
    )


def _store_facts(session: Session, facts: Facts) -> None:
    """Write back the rows ``facts`` changed."""
    _upsert(session, tokens, [{"name": t, "user_name": facts.tokens[t]} for t in facts.new_tokens])
    _upsert(session, people, [_person_row(facts.journeys[n]) for n in facts.dirty_journeys])
    _upsert(session, missions, [_mission_row(facts.missions[m]) for m in facts.dirty_missions])
    _upsert(session, runs, [_run_row(facts.runs[r]) for r in facts.dirty_runs])
    rows = [
        {"day": day, "user_name": name, "week": week_of(day)}
        for name, day in sorted(facts.active_days)
    ]
    _upsert(session, active_days, rows, update=False)


def _person_row(journey: Journey) -> dict[str, Any]:
    row: dict[str, Any] = {
        column: journey.firsts.get(step) for step, column in _STEP_COLUMNS.items()
    }
    row.update(
        name=journey.name,
        role=journey.role,
        report_at=journey.report_at,
        second_mission_at=journey.second_mission_at,
        missions=journey.missions,
        mission_week=week_of(utc_day(first)) if (first := journey.firsts.get("mission")) else None,
    )
    return row


def _mission_row(mission: MissionFact) -> dict[str, Any]:
    return {
        "mission_id": mission.mission_id,
        "owner": mission.owner,
        "created_at": mission.created_at,
        "day": utc_day(mission.created_at),
        "planner": mission.planner,
    }


def _run_row(run: RunFact) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "mission_id": run.mission_id,
        "owner": run.owner,
        "workflow": run.workflow[:200],
        "created_at": run.created_at,
        "day": utc_day(run.created_at),
        "week": week_of(utc_day(run.created_at)),
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "status": run.status,
        "duration_s": run.duration_s,
        "cost_micros": run.cost_micros,
        "tokens": run.tokens,
    }


def _upsert(
    session: Session, table: sa.Table, rows: list[dict[str, Any]], *, update: bool = True
) -> None:
    """Insert ``rows``, replacing (or, without ``update``, keeping) a row of the same key."""
    if not rows:
        return
    insert = _insert(session, table)
    keys = [column.name for column in table.primary_key.columns]
    if update:
        changed = {c.name: insert.excluded[c.name] for c in table.columns if c.name not in keys}
        statement = insert.on_conflict_do_update(index_elements=keys, set_=changed)
    else:
        statement = insert.on_conflict_do_nothing(index_elements=keys)
    # Key order: two writers of the same rows lock them in the same order.
    rows.sort(key=lambda row: tuple(str(row[key]) for key in keys))
    session.execute(statement, rows)


def _insert(session: Session, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An ``INSERT`` into ``table`` in the session's dialect, which can say what a conflict does."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _refresh_run_days(session: Session, days: set[date]) -> None:
    """Sum the runs of ``days`` again, with their durations' percentiles, and of their weeks.

    Recomputed from ``analytics_runs`` (already written), not adjusted: exact whatever changed.
    """
    if not days:
        return
    day_list = sorted(days)
    weeks = sorted({week_of(day) for day in days})
    every_day = Scope(day_list[0], day_list[-1])
    daily = duration_percentiles(session, every_day, weekly=False, exact=True)
    whole_weeks = Scope(weeks[0], weeks[-1] + timedelta(days=6))
    weekly = duration_percentiles(session, whole_weeks, weekly=True, exact=True)
    sums = session.execute(_run_sums(runs.c.day.in_(day_list))).all()
    session.execute(sa.delete(run_days).where(run_days.c.day.in_(day_list)))
    session.execute(sa.delete(run_weeks).where(run_weeks.c.week.in_(weeks)))
    rows = [
        {
            "day": day,
            "runs": n,
            "ended": int(ended or 0),
            "completed": int(completed or 0),
            "cost_micros": int(cost or 0),
            "tokens": int(tok or 0),
            "p50_s": daily[day][0] if day in daily else None,
            "p95_s": daily[day][1] if day in daily else None,
        }
        for day, n, ended, completed, cost, tok in sums
    ]
    if rows:
        session.execute(sa.insert(run_days), rows)
    kept = [{"week": w, "p50_s": weekly[w][0], "p95_s": weekly[w][1]} for w in weeks if w in weekly]
    if kept:
        session.execute(sa.insert(run_weeks), kept)


def _run_sums(*where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """Runs per start day: how many, ended, completed, spend and tokens."""
    ended = runs.c.status.in_(_ENDED_STATUSES)
    return (
        sa.select(
            runs.c.day,
            sa.func.count(),
            sa.func.sum(sa.case((ended, 1), else_=0)),
            sa.func.sum(sa.case((runs.c.status == "completed", 1), else_=0)),
            sa.func.sum(runs.c.cost_micros),
            sa.func.sum(runs.c.tokens),
        )
        .where(*where)
        .group_by(runs.c.day)
        .order_by(runs.c.day)
    )


def empty_facts(session: Session) -> None:
    """Delete every fact (the caller sends the follower back to the log's start)."""
    for table in _FACT_TABLES:
        session.execute(sa.delete(table))


# --- reading --------------------------------------------------------------------------------


def plan_for_values(session: Session) -> None:
    """On PostgreSQL, plan each statement of this transaction for its range and segment.

    Under the generic plan (``db.plans.CUSTOM_PLANS``), a workflow's retention took 105 ms
    instead of 10 over a year of ``bench/analytics.py``.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(CUSTOM_PLANS)


@dataclass(frozen=True, slots=True)
class Scope:
    """What a read covers: UTC days ``since`` … ``until`` and at most one segment.

    ``segment`` is ``(kind, value)`` with kind ``role``, ``workflow`` or ``planner``.
    """

    since: date
    until: date
    segment: tuple[str, str] | None = None


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _person_filter(column: sa.ColumnElement[Any], scope: Scope) -> sa.ColumnElement[bool]:
    """``column`` (a person's name) is in the segment's people."""
    if scope.segment is None:
        return sa.true()
    kind, value = scope.segment
    if kind == "role":
        return column.in_(sa.select(people.c.name).where(people.c.role == value))
    if kind == "workflow":
        return column.in_(
            sa.select(runs.c.owner).where(runs.c.workflow == value, runs.c.owner.is_not(None))
        )
    return column.in_(
        sa.select(missions.c.owner).where(
            missions.c.planner == value, missions.c.owner.is_not(None)
        )
    )


def _mission_filter(scope: Scope) -> sa.ColumnElement[bool]:
    """The segment's missions: its people's, those with a run of its workflow, or its planner's."""
    if scope.segment is None:
        return sa.true()
    kind, value = scope.segment
    if kind == "planner":
        return missions.c.planner == value
    if kind == "workflow":
        return missions.c.mission_id.in_(
            sa.select(runs.c.mission_id).where(
                runs.c.workflow == value, runs.c.mission_id.is_not(None)
            )
        )
    return _person_filter(missions.c.owner, scope)


def _run_filter(scope: Scope) -> sa.ColumnElement[bool]:
    """The segment's runs: of its workflow, of its planner's missions, or its people's."""
    if scope.segment is None:
        return sa.true()
    kind, value = scope.segment
    if kind == "workflow":
        return runs.c.workflow == value
    if kind == "planner":
        return runs.c.mission_id.in_(
            sa.select(missions.c.mission_id).where(missions.c.planner == value)
        )
    return _person_filter(runs.c.owner, scope)


def journeys_signed_in(session: Session, scope: Scope) -> list[Journey]:
    """The people whose first sign-in falls in the scope's days (and segment)."""
    query = (
        sa.select(people)
        .where(people.c.signed_in_at >= _start(scope.since))
        .where(people.c.signed_in_at < _start(scope.until + timedelta(days=1)))
        .where(_person_filter(people.c.name, scope))
        .order_by(people.c.name)
    )
    return [_journey(row) for row in session.execute(query)]


def active_user_counts(session: Session, scope: Scope, *, weekly: bool) -> dict[date, int]:
    """Distinct active people per UTC day (or per ISO week's Monday) in the scope."""
    bucket = active_days.c.week if weekly else active_days.c.day
    low = week_of(scope.since) if weekly else scope.since
    # A person has one row a day: a day's rows are its distinct people, counted without the
    # sort that DISTINCT costs (a third of the read on PostgreSQL over a year).
    people_in = sa.func.count(sa.distinct(active_days.c.user_name)) if weekly else sa.func.count()
    query = (
        sa.select(bucket, people_in)
        .where(bucket >= low, bucket <= scope.until)
        .where(_person_filter(active_days.c.user_name, scope))
        .group_by(bucket)
    )
    # A week that starts before ``since`` counts only the days in range.
    if weekly:
        query = query.where(active_days.c.day >= scope.since, active_days.c.day <= scope.until)
    return {day: int(count) for day, count in session.execute(query)}


def first_day(session: Session) -> date | None:
    """The first UTC day with any activity, mission or run in the facts (``None``: none yet).

    Where a history starts: a day after it without facts is a day of no activity.
    """
    firsts = [
        session.execute(sa.select(sa.func.min(column))).scalar()
        for column in (active_days.c.day, missions.c.day, run_days.c.day)
    ]
    found = [day for day in firsts if day is not None]
    return min(found) if found else None


def missions_per_day(session: Session, scope: Scope) -> dict[date, int]:
    """Missions created per UTC day in the scope."""
    query = (
        sa.select(missions.c.day, sa.func.count())
        .where(missions.c.day >= scope.since, missions.c.day <= scope.until)
        .where(_mission_filter(scope))
        .group_by(missions.c.day)
    )
    return {day: int(count) for day, count in session.execute(query)}


def runs_per_day(session: Session, scope: Scope) -> list[RunDay]:
    """Runs started per UTC day in the scope: counts, outcomes, spend.

    Without a segment, from the day sums (a row per day); with one, summed from the runs.
    """
    if scope.segment is None:
        query = (
            sa.select(
                run_days.c.day,
                run_days.c.runs,
                run_days.c.ended,
                run_days.c.completed,
                run_days.c.cost_micros,
                run_days.c.tokens,
            )
            .where(run_days.c.day >= scope.since, run_days.c.day <= scope.until)
            .order_by(run_days.c.day)
        )
    else:
        query = _run_sums(runs.c.day >= scope.since, runs.c.day <= scope.until, _run_filter(scope))
    return [
        RunDay(day, int(n), int(e or 0), int(c or 0), int(cost or 0), int(tok or 0))
        for day, n, e, c, cost, tok in session.execute(query)
    ]


def _summed_percentiles(
    session: Session, scope: Scope, *, weekly: bool
) -> dict[date, tuple[float, float]]:
    """``duration_percentiles`` of an unsegmented scope, from the day and week sums.

    A week cut by the range's ends is ranked from its runs inside the range, as the scan would.
    """
    if not weekly:
        query = sa.select(run_days.c.day, run_days.c.p50_s, run_days.c.p95_s).where(
            run_days.c.day >= scope.since,
            run_days.c.day <= scope.until,
            run_days.c.p50_s.is_not(None),
        )
        return {day: (float(p50), float(p95)) for day, p50, p95 in session.execute(query)}
    first_whole = week_of(scope.since + timedelta(days=6))
    last_whole = week_of(scope.until + timedelta(days=1)) - timedelta(days=7)
    found: dict[date, tuple[float, float]] = {}
    if first_whole <= last_whole:
        query = sa.select(run_weeks.c.week, run_weeks.c.p50_s, run_weeks.c.p95_s).where(
            run_weeks.c.week >= first_whole, run_weeks.c.week <= last_whole
        )
        found = {week: (float(p50), float(p95)) for week, p50, p95 in session.execute(query)}
        edges = [
            Scope(scope.since, first_whole - timedelta(days=1)),
            Scope(last_whole + timedelta(days=7), scope.until),
        ]
    else:
        edges = [scope]
    for edge in edges:
        if edge.since <= edge.until:
            found.update(duration_percentiles(session, edge, weekly=True, exact=True))
    return found


def duration_percentiles(
    session: Session, scope: Scope, *, weekly: bool, exact: bool = False
) -> dict[date, tuple[float, float]]:
    """The median and 95th percentile (nearest rank) of run durations per day or ISO week.

    Over the runs in the scope that ended after starting, by the bucket of their start day.
    An unsegmented scope reads the sums kept per day and week, unless ``exact`` asks to rank
    the runs themselves (what the sums are made from).
    PostgreSQL ranks them itself (``percentile_disc`` is the nearest rank); SQLite, which has
    no such aggregate and whose window functions sort slowly, hands over the durations in
    index order, day by day, and ``domain.analytics.percentile`` ranks them.
    """
    if scope.segment is None and not exact:
        return _summed_percentiles(session, scope, weekly=weekly)
    in_scope = (
        runs.c.day >= scope.since,
        runs.c.day <= scope.until,
        runs.c.duration_s.is_not(None),
        _run_filter(scope),
    )
    if session.get_bind().dialect.name == "postgresql":
        bucket = runs.c.week if weekly else runs.c.day
        query = (
            sa.select(
                bucket,
                sa.func.percentile_disc(0.5).within_group(runs.c.duration_s),
                sa.func.percentile_disc(0.95).within_group(runs.c.duration_s),
            )
            .where(*in_scope)
            .group_by(bucket)
        )
        return {start: (float(p50), float(p95)) for start, p50, p95 in session.execute(query)}
    counts = session.execute(
        sa.select(runs.c.day, sa.func.count())
        .where(*in_scope)
        .group_by(runs.c.day)
        .order_by(runs.c.day)
    ).all()
    seconds = _durations(
        session,
        sa.select(runs.c.duration_s).where(*in_scope).order_by(runs.c.day, runs.c.duration_s),
    )
    by_bucket: dict[date, list[float]] = {}
    offset = 0
    for day, count in counts:
        start = week_of(day) if weekly else day
        by_bucket.setdefault(start, []).extend(seconds[offset : offset + count])
        offset += count
    return {start: median_and_p95(values) or (0.0, 0.0) for start, values in by_bucket.items()}


def _durations(session: Session, query: sa.Select[Any]) -> list[float]:
    """The seconds ``query`` selects, read on the driver's cursor.

    SQLAlchemy's work per result row costs three times SQLite's own on a year of runs
    (100,000 durations: about 130 ms against 40), so these reads skip it.
    """
    return Prepared(query).scalars(session)


class _DaysAfter(sa.sql.functions.FunctionElement[date]):
    """A date column plus a whole number of days, on either database."""

    inherit_cache = True
    name = "days_after"
    type = sa.Date()

    def __init__(self, day: sa.ColumnElement[date], days: int) -> None:
        self.days = days
        super().__init__(day)


@compiles(_DaysAfter, "postgresql")
def _days_after_postgresql(element: _DaysAfter, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(({compiler.process(element.clauses, **kw)}) + {int(element.days)})"


@compiles(_DaysAfter, "sqlite")
def _days_after_sqlite(element: _DaysAfter, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored as ISO text: date() shifts it and answers in the same form, which compares in order.
    return f"date({compiler.process(element.clauses, **kw)}, '+{int(element.days)} days')"


def retention_counts(
    session: Session, scope: Scope, *, weeks: int
) -> tuple[dict[date, int], dict[tuple[date, date], int]]:
    """People per cohort, and per (cohort, later active week) how many of them were active.

    A cohort is the ISO week (its Monday) of the first mission of people whose first mission
    falls in the scope's days; later weeks are each cohort's weeks 1 … ``weeks``.
    """
    cohort = (
        people.c.mission_at >= _start(scope.since),
        people.c.mission_at < _start(scope.until + timedelta(days=1)),
        _person_filter(people.c.name, scope),
    )
    sizes = session.execute(
        sa.select(people.c.mission_week, sa.func.count())
        .where(*cohort)
        .group_by(people.c.mission_week)
    )
    # Implied by each cohort's own bound, but a constant the index range can stop at.
    last = week_of(scope.until) + timedelta(weeks=weeks)
    returned = session.execute(
        sa.select(
            people.c.mission_week,
            active_days.c.week,
            sa.func.count(sa.distinct(active_days.c.user_name)),
        )
        .join(active_days, active_days.c.user_name == people.c.name)
        .where(*cohort)
        .where(active_days.c.week > people.c.mission_week, active_days.c.week <= last)
        .where(active_days.c.week <= _DaysAfter(people.c.mission_week, 7 * weeks))
        .group_by(people.c.mission_week, active_days.c.week)
    )
    return (
        {week: int(n) for week, n in sizes},
        {(start, week): int(n) for start, week, n in returned},
    )


def day_retention_facts(
    session: Session, scope: Scope, *, longest: int
) -> tuple[dict[str, date], list[tuple[str, date]]]:
    """First-mission days of the scope's people and their active days after them.

    What ``domain.analytics.day_retention`` counts. The people are those whose first mission
    falls in the scope's days (and segment); their active days run from the day after the
    range starts to ``longest`` days after it ends.
    """
    cohort = (
        sa.select(people.c.name, people.c.mission_at)
        .where(people.c.mission_at >= _start(scope.since))
        .where(people.c.mission_at < _start(scope.until + timedelta(days=1)))
        .where(_person_filter(people.c.name, scope))
    )
    firsts = {name: utc_day(at) for name, at in session.execute(cohort)}
    if not firsts:
        return {}, []
    days = (
        sa.select(active_days.c.user_name, active_days.c.day)
        .where(active_days.c.day > scope.since)
        .where(active_days.c.day <= scope.until + timedelta(days=longest))
        .where(active_days.c.user_name.in_(cohort.with_only_columns(people.c.name)))
    )
    return firsts, [(name, day) for name, day in session.execute(days)]


# --- the range as one bucket (the cockpit's figures) ----------------------------------------


def active_people(session: Session, scope: Scope) -> int:
    """Distinct people with any activity on any day of the scope (each counted once)."""
    query = (
        sa.select(sa.func.count(sa.distinct(active_days.c.user_name)))
        .where(active_days.c.day >= scope.since, active_days.c.day <= scope.until)
        .where(_person_filter(active_days.c.user_name, scope))
    )
    return int(session.execute(query).scalar_one())


def active_person_days(session: Session, scope: Scope) -> int:
    """How many (day, person) pairs of activity the scope's days hold: the sum of daily actives."""
    query = (
        sa.select(sa.func.count())
        .select_from(active_days)
        .where(active_days.c.day >= scope.since, active_days.c.day <= scope.until)
        .where(_person_filter(active_days.c.user_name, scope))
    )
    return int(session.execute(query).scalar_one())


def weekly_active_people(session: Session, scope: Scope, *, weeks: Sequence[date]) -> list[int]:
    """Distinct people active in each ISO week of ``weeks`` (their Mondays), in that order."""
    if not weeks:
        return []
    query = (
        sa.select(active_days.c.week, sa.func.count(sa.distinct(active_days.c.user_name)))
        .where(active_days.c.week >= min(weeks), active_days.c.week <= max(weeks))
        .where(_person_filter(active_days.c.user_name, scope))
        .group_by(active_days.c.week)
    )
    found = {week: int(n) for week, n in session.execute(query)}
    return [found.get(week, 0) for week in weeks]


def range_duration_percentiles(session: Session, scope: Scope) -> tuple[float, float] | None:
    """The median and 95th percentile (nearest rank) of the scope's run durations, all days.

    Over the runs started in the scope that ended after starting; ``None`` when there are none.
    PostgreSQL ranks them itself; SQLite hands them over in index order to be ranked here.
    """
    in_scope = (
        runs.c.day >= scope.since,
        runs.c.day <= scope.until,
        runs.c.duration_s.is_not(None),
        _run_filter(scope),
    )
    if session.get_bind().dialect.name == "postgresql":
        p50, p95 = session.execute(
            sa.select(
                sa.func.percentile_disc(0.5).within_group(runs.c.duration_s),
                sa.func.percentile_disc(0.95).within_group(runs.c.duration_s),
            ).where(*in_scope)
        ).one()
        return None if p50 is None else (float(p50), float(p95))
    return median_and_p95(_durations(session, sa.select(runs.c.duration_s).where(*in_scope)))


def workflow_names(session: Session, *, limit: int) -> list[str]:
    """The names of the workflows that have runs, alphabetically, at most ``limit``."""
    query = (
        sa.select(runs.c.workflow)
        .where(runs.c.workflow.is_not(None))
        .distinct()
        .order_by(runs.c.workflow)
        .limit(limit)
    )
    return [str(name) for name in session.execute(query).scalars()]


def step_ends(session: Session, since: date, until: date) -> list[StepEnd]:
    """The step ends of ``since`` … ``until`` (UTC days) per day and outcome.

    As the follower counted them (``_step_outcomes_between``): one ``StepEnd`` per day and
    outcome, at the day's midnight, with its ``count``.

    Every run counts: the facts' segments (planner, role, workflow) do not reach steps.
    """
    counted = session.execute(
        sa.select(step_outcomes.c.day, step_outcomes.c.outcome, step_outcomes.c.steps).where(
            step_outcomes.c.day >= since, step_outcomes.c.day <= until
        )
    )
    return [
        StepEnd(datetime.combine(day, time(), tzinfo=UTC), outcome, "", {}, int(steps))
        for day, outcome, steps in counted
    ]


def _step_outcomes_between(session: Session, after: int, upto: int) -> Counter[tuple[date, str]]:
    """How many ``step.succeeded`` events in ``(after, upto]`` had each outcome, per UTC day.

    The event's own ``outcome`` decides; for events logged before outcomes were (or with one
    that is not an outcome), the step run's agent and outputs do
    (``domain.analytics.StepEnd.outcome``). The database counts the first kind; only the others
    are read one by one, with their step run.
    """
    logged = Event.payload["outcome"].as_string()
    window = (Event.type == STEP_SUCCEEDED, Event.seq > after, Event.seq <= upto)
    day = utc_day_of(Event.ts)
    counts: Counter[tuple[date, str]] = Counter()
    for on, outcome, steps in session.execute(
        sa.select(day, logged, sa.func.count())
        .where(*window, logged.in_(OUTCOMES))
        .group_by(day, logged)
    ):
        counts[(on, outcome)] += steps
    joined = sa.and_(StepRun.run_id == Event.run_id, StepRun.step_id == Event.step_id)
    derived = session.execute(
        sa.select(Event.ts, StepRun.agent, StepRun.outputs)
        .join(StepRun, joined)
        .where(*window, sa.or_(logged.is_(None), logged.not_in(OUTCOMES)))
    )
    for ts, agent, outputs in derived:
        if (outcome := StepEnd(ts, None, agent, outputs or {}).outcome) is not None:
            counts[(utc_day(ts), outcome)] += 1
    return counts


def _add_step_outcomes(session: Session, counts: Counter[tuple[date, str]]) -> None:
    """Add ``counts`` to the stored ones (each window is folded once, with its cursor)."""
    if not counts:
        return
    insert = _insert(session, step_outcomes)
    statement = insert.on_conflict_do_update(
        index_elements=["day", "outcome"],
        set_={"steps": step_outcomes.c.steps + insert.excluded.steps},
    )
    rows = [{"day": d, "outcome": o, "steps": n} for (d, o), n in sorted(counts.items())]
    session.execute(statement, rows)
