"""Cost and usage of a run, a mission, a workflow or the whole system (ADR 0042).

One read answers everything the Costs page, the run and mission pages, ``GET /api/v1/costs``
and ``missionctl costs`` show: tokens and spend by agent, by billed model, by specialist role
and by requirement, over time in UTC hours or days, the burn rate and the budget used.

Without a time window the groups add up to what the scope was charged: the runs' own counters,
plus, for a mission and for the system, the spend no step holds (planning and clarifying),
shown as its own line ``(outside runs)``. With a window they add up to the steps' spend dated
in it (a step's spend is dated when it ended, or when its current attempt started).
"""

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.types import utcnow
from missionctl.errors import NotFound, Problem, ValidationFailed
from missionctl.repositories import costs as repo
from missionctl.schemas.costs import (
    MAX_BUCKETS,
    NO_MODEL,
    NO_REQUIREMENT,
    OUTSIDE_RUNS,
    BudgetUse,
    BurnRate,
    CostBreakdown,
    CostBucket,
    CostLine,
    CostQuery,
    RoutingSavings,
)
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.runtime.periodic import repeating
from missionctl.services.usecases.money import micros_to_usd
from missionctl.services.usecases.routing_savings import routing_savings

FOLD_EVERY_S = 1.0
"""How often the server folds the usage deltas into the day sums (ADR 0048)."""

_STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
# The time series' span when neither the query nor the scope gives one.
_DEFAULT_SPAN = {"hour": timedelta(hours=48), "day": timedelta(days=30)}


def parse_cost_query(raw: dict[str, Any]) -> CostQuery:
    """A ``CostQuery`` from loose values (a page's URL, the CLI's options); empty means unset.

    Raises:
        ValidationFailed: a value the API would refuse too, named by its field.
    """
    try:
        return CostQuery.model_validate({name: value for name, value in raw.items() if value})
    except ValidationError as exc:
        problems = [Problem(str(e["loc"][0]), str(e["msg"])) for e in exc.errors()]
        raise ValidationFailed(problems) from None


@dataclass
class _Scope:
    """A checked query, and what resolving its id taught about the scope."""

    query: CostQuery
    filter: repo.CostFilter
    title: str = "Everything"
    cap_micros: int | None = None
    own: tuple[int, int, int] | None = None  # a mission's own spend and tokens
    began: datetime | None = None  # when the scope began (its series starts there by default)
    ended: datetime | None = None


@dataclass
class _Figures:
    """What the database answered for a scope."""

    totals: repo.Totals
    agents: list[repo.UsageRow]
    models: list[repo.UsageRow]
    requirements: list[CostLine] | None
    buckets: list[CostBucket]
    span: tuple[datetime, datetime]
    hour: int
    day: int
    outside: tuple[int, int, int] = (0, 0, 0)  # spend, tokens in, tokens out
    routing: RoutingSavings | None = None


async def read_costs(
    ctx: ServiceContext, *, query: CostQuery, now: datetime | None = None
) -> CostBreakdown:
    """Tokens and spend of the scope ``query`` names, grouped, over time, and its burn rate.

    Raises:
        ValidationFailed: the scope and its id do not fit (a system scope with an id, another
            scope without one, a run or mission id that is not a UUID), ``since`` is not
            before ``until``, a time is out of range, or the time series would hold more
            buckets than ``MAX_BUCKETS`` allows.
        NotFound: no run, mission or workflow has that id or name.
    """
    now = now or utcnow()
    scope = _checked(query)
    async with ctx.read() as session:
        await _resolve(session, scope)
        figures = await _read_figures(session, scope, now)
    return _answer(scope, figures)


def _checked(query: CostQuery) -> _Scope:
    """The repository's filter for ``query``.

    Raises:
        ValidationFailed: every problem of the query at once, each naming its field.
    """
    problems: list[Problem] = []
    since, until = _utc(query.since, "since", problems), _utc(query.until, "until", problems)
    if since is not None and until is not None and since >= until:
        problems.append(Problem("since", "is not before until: give since earlier than until"))
    ids: dict[str, Any] = {}
    if query.scope == "system":
        if query.id:
            problems.append(Problem("id", "is not taken by scope system: leave it out"))
    elif not query.id:
        problems.append(Problem("id", f"is required for scope {query.scope}: name the {_NAMES}"))
    elif query.scope == "workflow":
        ids["workflow"] = query.id
    else:
        try:
            ids[f"{query.scope}_id"] = uuid.UUID(query.id)
        except ValueError:
            problems.append(Problem("id", f"is not a {query.scope} id: give its UUID"))
    if problems:
        raise ValidationFailed(problems)
    checked = query.model_copy(update={"since": since, "until": until})
    return _Scope(checked, repo.CostFilter(**ids, since=since, until=until))


_NAMES = "run's or mission's id, or the workflow's name"


def _utc(value: datetime | None, name: str, problems: list[Problem]) -> datetime | None:
    """``value`` in UTC (a time without a zone is UTC); an out-of-range time is a problem."""
    if value is None:
        return None
    try:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        _ = (value - _STEP["day"], value + _STEP["day"])  # its neighbouring buckets exist too
    except OverflowError:
        problems.append(Problem(name, "is out of range: give a time between years 1 and 9999"))
        return None
    return value


async def _resolve(session: AsyncSession, scope: _Scope) -> None:
    """Fill what the scope's row says: its title, cap, counter and life.

    Raises:
        NotFound: no run, mission or workflow has that id or name.
    """
    f = scope.filter
    if f.run_id is not None:
        run = await repo.read_run_scope(session, run_id=f.run_id)
        if run is None:
            raise NotFound(f"no run has id {f.run_id}: list runs to find it", field="id")
        scope.title, scope.cap_micros = f"Run {run.id}", run.budget_micros
        scope.began, scope.ended = run.created_at, run.ended_at
    elif f.mission_id is not None:
        mission = await repo.read_mission_scope(session, mission_id=f.mission_id)
        if mission is None:
            raise NotFound(f"no mission has id {f.mission_id}: list missions", field="id")
        scope.title, scope.cap_micros = mission.title, mission.budget_micros
        scope.own = (mission.spent_micros, mission.input_tokens, mission.output_tokens)
        scope.began = mission.created_at
    elif f.workflow is not None:
        if not await repo.workflow_exists(session, name=f.workflow):
            raise NotFound(f"no workflow is named {f.workflow!r}: list workflows", field="id")
        scope.title = f"Workflow {f.workflow}"


async def _read_figures(session: AsyncSession, scope: _Scope, now: datetime) -> _Figures:
    """Every figure of the answer, read in the caller's snapshot."""
    f, query = scope.filter, scope.query
    system = query.scope == "system"
    if system and f.since is None and f.until is None:
        pairs = await repo.all_usage_by_agent_and_model(session)
    else:
        pairs = await repo.usage_by_agent_and_model(session, scope=f)
    span = _series_span(scope, now)
    if system and query.bucket == "day":  # whole days: the kept sums answer exactly
        rows = await repo.all_usage_by_day(session, first=span[0].date(), end=span[1].date())
    else:
        series = repo.CostFilter(f.run_id, f.mission_id, f.workflow, since=span[0], until=span[1])
        rows = await repo.usage_over_time(session, scope=series, bucket=query.bucket)
    hour, day = await repo.spent_since(
        session, scope=f, hour_ago=now - _STEP["hour"], day_ago=now - _STEP["day"]
    )
    figures = _Figures(
        totals=await repo.run_totals(session, scope=f),
        agents=_grouped(pairs, lambda pair: pair.agent),
        models=_grouped(pairs, lambda pair: pair.model),
        requirements=None,
        buckets=_dense(rows, query.bucket, span),
        span=span,
        hour=hour,
        day=day,
    )
    if query.scope in ("run", "mission"):
        figures.requirements = await _by_requirement(session, f)
    if f.since is None and f.until is None:
        figures.outside = await _outside_runs(session, scope, figures.totals)
    figures.routing = await routing_savings(session, f)
    return figures


async def _outside_runs(
    session: AsyncSession, scope: _Scope, totals: repo.Totals
) -> tuple[int, int, int]:
    """The spend no step holds: a mission's (or every mission's) planning and clarifying."""
    if scope.own is not None:  # a mission's counters hold its runs' spend and its planning's
        return (
            scope.own[0] - totals.spent_micros,
            scope.own[1] - totals.input_tokens,
            scope.own[2] - totals.output_tokens,
        )
    if scope.query.scope == "system":
        missions = await repo.missions_spent(session)
        in_runs = await repo.mission_runs_spent(session)
        return (missions[0] - in_runs[0], missions[1] - in_runs[1], missions[2] - in_runs[2])
    return (0, 0, 0)


def _series_span(scope: _Scope, now: datetime) -> tuple[datetime, datetime]:
    """The time series' first bucket start and last bucket end.

    The query's window when it gives one; otherwise a run's life, a mission's since it was
    created, or the default span up to now. A default span longer than ``MAX_BUCKETS`` keeps
    its most recent buckets; a span the query asked for is refused instead.

    Raises:
        ValidationFailed: the asked span holds more than ``MAX_BUCKETS`` buckets.
    """
    bucket = scope.query.bucket
    step, limit = _STEP[bucket], MAX_BUCKETS[bucket]
    until = scope.filter.until or scope.ended or now
    since = scope.filter.since or scope.began or until - _DEFAULT_SPAN[bucket]
    first, end = _floor(min(since, until), bucket), _floor(until, bucket) + step
    count = (end - first) // step
    if count > limit:
        if scope.filter.since is not None or scope.filter.until is not None:
            raise ValidationFailed(
                [
                    Problem(
                        "since",
                        f"the range holds {count} {bucket} buckets, at most {limit}: narrow "
                        "since and until, or use day buckets",
                    )
                ]
            )
        first = end - limit * step
    return first, end


def _floor(moment: datetime, bucket: str) -> datetime:
    """The start of the UTC hour or day ``moment`` is in."""
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if bucket == "day" else moment


def _bucket_start(value: Any) -> datetime:
    """A bucket start as the database wrote it (text on SQLite), as an aware UTC datetime."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _dense(
    rows: Iterable[repo.BucketRow], bucket: str, span: tuple[datetime, datetime]
) -> list[CostBucket]:
    """One bucket per hour or day of ``span``, empty ones included, oldest first."""
    found = {_bucket_start(row.start): row for row in rows}
    step, moment, buckets = _STEP[bucket], span[0], []
    while moment < span[1]:
        row = found.get(moment)
        tokens_in, tokens_out, micros = (
            (row.input_tokens, row.output_tokens, row.cost_micros) if row else (0, 0, 0)
        )
        buckets.append(
            CostBucket(
                start=moment,
                input_tokens=int(tokens_in),
                output_tokens=int(tokens_out),
                cost_micros=int(micros),
                cost_usd=micros_to_usd(int(micros)),
            )
        )
        moment += step
    return buckets


def _grouped(
    pairs: Iterable[repo.AgentModelUsage], key: Callable[[repo.AgentModelUsage], str | None]
) -> list[repo.UsageRow]:
    """The (agent, model) rows summed per ``key``."""
    sums: dict[str | None, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for pair in pairs:
        total = sums[key(pair)]
        for i, value in enumerate(pair[2:]):
            total[i] += value
    return [repo.UsageRow(k, *values) for k, values in sums.items()]


def role_of(agent: str) -> str:
    """The specialist role an agent name carries: ``builtin:backend`` → ``backend``.

    Plan-compiled steps are named ``<kind>:<role>``; an agent without a kind (``command``) is
    its own role.
    """
    return agent.split(":", 1)[1] if ":" in agent else agent


def _roles(agents: Iterable[repo.UsageRow]) -> list[repo.UsageRow]:
    """The agents' usage summed per role."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in agents:
        total = sums[role_of(row.key or "")]
        for i, value in enumerate(row[1:]):
            total[i] += value
    return [repo.UsageRow(key, *values) for key, values in sums.items()]


async def _by_requirement(session: AsyncSession, f: repo.CostFilter) -> list[CostLine]:
    """Spend per requirement the plans' tasks trace, split evenly between a task's requirements."""
    steps = await repo.usage_by_step(session, scope=f)
    plan_ids = sorted({s.plan_id for s in steps if s.plan_id is not None})
    traces = await repo.read_traces(session, plan_ids=plan_ids)
    texts = await repo.read_requirement_texts(session, plan_ids=plan_ids)
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    labels: dict[str, str] = {NO_REQUIREMENT: NO_REQUIREMENT}
    for step in steps:
        keys = traces.get(step.plan_id, {}).get(step.step_id) if step.plan_id else None
        keys = keys or [NO_REQUIREMENT]
        for key in keys:
            if step.plan_id is not None and (step.plan_id, key) in texts:
                labels.setdefault(key, f"{key}: {texts[(step.plan_id, key)]}")
        figures = (step.steps, step.input_tokens, step.output_tokens, step.cost_micros)
        for key, shares in zip(keys, _split(figures, len(keys)), strict=True):
            total = sums[key]
            for i, value in enumerate(shares):
                total[i] += value
    rows = [repo.UsageRow(key, *values) for key, values in sums.items()]
    return _to_lines(rows, lambda key: labels.get(key, key))


def _split(figures: Sequence[int], parts: int) -> list[list[int]]:
    """``figures`` shared evenly into ``parts`` (steps counted whole in each), remainders first."""
    shares: list[list[int]] = [[figures[0]] for _ in range(parts)]
    for value in figures[1:]:
        base, rest = divmod(value, parts)
        for i, share in enumerate(shares):
            share.append(base + (1 if i < rest else 0))
    return shares


def _to_lines(
    rows: Iterable[repo.UsageRow], label: Callable[[str], str], empty: str = NO_MODEL
) -> list[CostLine]:
    """Rows as lines, costliest first; a row without a key takes ``empty``."""
    lines = [
        CostLine(
            key=row.key or empty,
            label=label(row.key or empty),
            steps=row.steps,
            input_tokens=row.input_tokens,
            output_tokens=row.output_tokens,
            cost_micros=row.cost_micros,
            cost_usd=micros_to_usd(row.cost_micros),
        )
        for row in rows
    ]
    return sorted(lines, key=lambda line: (-line.cost_micros, line.key))


def _with_outside(lines: list[CostLine], outside: tuple[int, int, int]) -> list[CostLine]:
    """``lines`` and, when some spend is held by no step, its own line."""
    if not any(outside):
        return lines
    micros, tokens_in, tokens_out = outside
    extra = CostLine(
        key=OUTSIDE_RUNS,
        label="Planning and clarifying (outside runs)",
        steps=0,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        cost_micros=micros,
        cost_usd=micros_to_usd(micros),
    )
    return sorted([*lines, extra], key=lambda line: (-line.cost_micros, line.key))


def _answer(scope: _Scope, figures: _Figures) -> CostBreakdown:
    """The breakdown the figures make, with totals that the groups add up to."""
    query, outside = scope.query, figures.outside
    by_agent = _with_outside(_to_lines(figures.agents, str), outside)
    windowed = scope.filter.since is not None or scope.filter.until is not None
    if windowed:  # the steps' spend in the window; no counter is dated
        micros = sum(line.cost_micros for line in by_agent)
        tokens_in = sum(line.input_tokens for line in by_agent)
        tokens_out = sum(line.output_tokens for line in by_agent)
    else:
        micros = figures.totals.spent_micros + outside[0]
        tokens_in = figures.totals.input_tokens + outside[1]
        tokens_out = figures.totals.output_tokens + outside[2]
    requirements = figures.requirements
    # The cap holds the scope's whole spend, whatever the window.
    if query.scope == "run":
        spent = figures.totals.spent_micros
    else:
        spent = micros if scope.own is None else scope.own[0]
    cap = scope.cap_micros
    return CostBreakdown(
        scope=query.scope,
        id=query.id,
        title=scope.title,
        since=query.since,
        until=query.until,
        bucket=query.bucket,
        series_since=figures.span[0],
        series_until=figures.span[1],
        runs=figures.totals.runs,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        cost_micros=micros,
        cost_usd=micros_to_usd(micros),
        by_agent=by_agent,
        by_model=_with_outside(_to_lines(figures.models, str), outside),
        by_role=_with_outside(_to_lines(_roles(figures.agents), str), outside),
        by_requirement=None if requirements is None else _with_outside(requirements, outside),
        over_time=figures.buckets,
        burn_rate=BurnRate(
            last_hour_usd_per_hour=micros_to_usd(figures.hour),
            last_day_usd_per_hour=micros_to_usd(figures.day) / 24,
        ),
        budget=BudgetUse(
            spent_usd=micros_to_usd(spent),
            cap_usd=None if cap is None else micros_to_usd(cap),
            used=None if not cap else spent / cap,
        ),
        routing=figures.routing,
    )


async def fold_usage(ctx: ServiceContext) -> int:
    """Fold the usage deltas into the day sums, if there are any; how many were folded.

    Reads stay exact either way (they add the deltas); folding keeps what they add small.
    """
    async with ctx.read() as session:
        if not await repo.has_usage_deltas(session):
            return 0
    return await ctx.write_blocking(repo.fold_usage_deltas)


def usage_folder(
    ctx: ServiceContext, *, every_s: float = FOLD_EVERY_S
) -> AbstractAsyncContextManager[None]:
    """Fold the usage deltas every ``every_s`` while the block runs (the server's lifespan)."""
    return repeating(lambda: fold_usage(ctx), every_s=every_s, what="the usage sums folding")
