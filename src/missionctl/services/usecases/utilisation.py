"""Agent utilisation: executions, durations, failures, tokens, cost and busy time per agent.

Computed from ``step_runs`` over a window (``1h``, ``24h``, ``7d`` back from now, or explicit
``since``/``until``): the finished steps are summed, averaged and ranked by the database
(``repositories.utilisation``); the running ones, at most as many as the engines' capacity, add
their busy seconds here. See ``schemas.utilisation`` for what each figure means.
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from missionctl.db.types import utcnow
from missionctl.errors import Problem, ValidationFailed
from missionctl.repositories import utilisation as repo
from missionctl.schemas.utilisation import (
    MAX_SPAN_DAYS,
    WINDOW_SECONDS,
    AgentUtilisation,
    UtilisationRead,
    UtilisationWindow,
)
from missionctl.services.runtime.context import ServiceContext


def resolve_window(
    *,
    window: UtilisationWindow | None,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
) -> tuple[datetime, datetime]:
    """The window's bounds in UTC: ``window`` back from ``until`` (default now), or ``since``.

    Raises:
        ValidationFailed: both ``window`` and ``since`` given, ``since`` not before ``until``,
            a span over ``MAX_SPAN_DAYS`` days, or a time out of range.
    """
    problems: list[Problem] = []
    if window is not None and since is not None:
        problems.append(Problem("window", "give either window or since, not both"))
    try:
        end = now if until is None else _utc(until)
        start = (
            _utc(since)
            if since is not None
            else end - timedelta(seconds=WINDOW_SECONDS[window or "24h"])
        )
    except OverflowError:
        raise ValidationFailed(
            [Problem("since", "is out of range: give a time between years 1 and 9999")]
        ) from None
    if start >= end:
        problems.append(Problem("since", "must be before until"))
    elif end - start > timedelta(days=MAX_SPAN_DAYS):
        problems.append(Problem("since", f"the window may span at most {MAX_SPAN_DAYS} days"))
    if problems:
        raise ValidationFailed(problems)
    return start, end


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def read_utilisation(
    ctx: ServiceContext,
    *,
    window: UtilisationWindow | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> UtilisationRead:
    """Every agent that ran in the window, busiest first (then by name).

    Raises:
        ValidationFailed: the window is malformed (see :func:`resolve_window`).
    """
    moment = now or utcnow()
    start, end = resolve_window(window=window, since=since, until=until, now=moment)
    async with ctx.read() as session:
        finished = await repo.read_finished_usage(
            session, since=start, until=end, since_s=start.timestamp()
        )
        running = await repo.read_running_steps(session, until=end)
    window_s = (end - start).total_seconds()
    busy_running: dict[str, float] = defaultdict(float)
    count_running: dict[str, int] = defaultdict(int)
    for step in running:
        # A running step is busy from its start (or the window's) to now (or the window's end).
        busy_running[step.agent] += max(
            0.0, (min(moment, end) - max(step.started_at, start)).total_seconds()
        )
        count_running[step.agent] += 1
    lines = {usage.agent: usage for usage in finished}
    agents = [
        _line(agent, lines.get(agent), busy_running[agent], count_running[agent], window_s)
        for agent in sorted(set(lines) | set(count_running))
    ]
    agents.sort(key=lambda line: -line.busy_s)
    return UtilisationRead(since=start, until=end, window_s=window_s, agents=agents)


def _line(
    agent: str,
    usage: repo.FinishedUsage | None,
    busy_running_s: float,
    running: int,
    window_s: float,
) -> AgentUtilisation:
    usage = usage or repo.FinishedUsage(agent, 0, 0, 0, 0.0, 0.0, 0, 0, 0, 0.0)
    busy_s = usage.busy_s + busy_running_s
    return AgentUtilisation(
        agent=agent,
        executions=usage.executions,
        attempts=usage.attempts,
        failures=usage.failures,
        failure_rate=usage.failures / usage.executions if usage.executions else 0.0,
        avg_duration_s=round(usage.avg_duration_s, 3),
        p95_duration_s=round(usage.p95_duration_s, 3),
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        tokens=usage.input_tokens + usage.output_tokens,
        cost_micros=usage.cost_micros,
        running=running,
        busy_s=round(busy_s, 3),
        busy_pct=round(100.0 * busy_s / window_s, 2),
    )
