"""The demo history as a plan: who joins when, who comes back, what each session does.

Pure: one ``random.Random(seed)`` drawn in a fixed order decides everything (and a second,
seeded from the same seed, which runs are on the trial model), so the same arguments give the
same plan, and the anomalies change outcomes without changing the draws
(``anomalies=False`` is the same history without the three injections). ``demo.seed`` then
plays the plan through the services.
"""

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from missionctl.demo.parameters import DemoParameters, DemoWorkflow, StepWork
from missionctl.domain.access import Role

MIN_DAYS = 28
MAX_DAYS = 366
_DAY_STARTS = time(7, 30)
_SESSION_SPREAD_MIN = 540  # sessions start between 07:30 and 16:30 UTC
_WEEKDAYS = 5
DIPPED_RETURN_WEEKS = 2
"""The weeks after their own in which the dipped cohorts come back less (the early retention)."""


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who joins the history (a test user when ``test``)."""

    name: str
    role: Role
    joined: date
    power: bool = False
    test: bool = False


@dataclass(frozen=True, slots=True)
class StepCall:
    """What one step's model call does: how long it takes and the tokens it reports."""

    seconds: float
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class PlannedRun:
    """A run to start: its workflow, each step's call, and how it ends.

    ``fails_at`` is the index of the step whose call is refused (the run then fails), or
    ``None`` for a run that completes; ``download`` says whether its owner then downloads its
    report.
    """

    workflow: str
    calls: tuple[StepCall, ...]
    fails_at: int | None
    download: bool
    # Whether the run is on the trial model (``history.yaml``'s ``trial``): its workflow's
    # version pinned to it.
    trial: bool = False


@dataclass(frozen=True, slots=True)
class Session:
    """One visit: a person signs in at ``at`` and does what follows, in order.

    ``joins``: the person is created first. ``goals``: missions they create (each planned at
    once). ``runs``: runs of their newest mission. ``download_latest``: they download the
    report of the newest completed run (a viewer reading others' work).
    """

    at: datetime
    person: str
    joins: bool = False
    goals: tuple[str, ...] = ()
    runs: tuple[PlannedRun, ...] = ()
    download_latest: bool = False


@dataclass(frozen=True, slots=True)
class Injection:
    """One injected anomaly: what it is and the days (or cohort weeks) it covers."""

    name: str
    since: date
    until: date
    description: str


@dataclass(frozen=True, slots=True)
class DemoHistory:
    """The whole plan: people, sessions in time order, and the injections."""

    first_day: date
    last_day: date
    people: tuple[Person, ...]
    sessions: tuple[Session, ...]
    injections: tuple[Injection, ...]


@dataclass(slots=True)
class _Plan:
    """What is decided so far; filled step by step by ``plan_history``."""

    rng: random.Random
    params: DemoParameters
    first: date
    last: date
    anomalies: bool
    # Which runs are on the trial model: a generator of its own, seeded from the seed.
    trial_rng: random.Random = field(default_factory=random.Random)
    trial_turns: int = 0  # runs given a turn on the trial so far (``_on_trial``)
    people: list[Person] = field(default_factory=list)
    first_mission: dict[str, date] = field(default_factory=dict)
    active: dict[date, set[str]] = field(default_factory=lambda: defaultdict(set))

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def check_days(days: int) -> None:
    """Raise ``ValueError`` naming the fix unless ``days`` is a length the demo can write."""
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise ValueError(
            f"days must be between {MIN_DAYS} and {MAX_DAYS} (the retention dip needs cohorts "
            f"of at least four weeks before today); got {days}"
        )


def plan_history(
    params: DemoParameters, *, days: int, seed: int, anomalies: bool, today: date
) -> DemoHistory:
    """Decide the history of the ``days`` UTC days before ``today`` (``today`` excluded).

    Raises:
        ValueError: ``days`` is outside ``MIN_DAYS``..``MAX_DAYS``.
    """
    check_days(days)
    plan = _Plan(
        random.Random(seed),
        params,
        today - timedelta(days=days),
        today,
        anomalies,
        trial_rng=random.Random(f"trial-{seed}"),
    )
    plan.last = today - timedelta(days=1)
    _join_people(plan)
    _first_missions(plan)
    _returns(plan, today)
    sessions = _sessions(plan, today)
    return DemoHistory(
        first_day=plan.first,
        last_day=plan.last,
        people=tuple(plan.people),
        sessions=tuple(sorted(sessions, key=lambda s: (s.at, s.person))),
        injections=injections(params, today) if anomalies else (),
    )


def injections(params: DemoParameters, today: date) -> tuple[Injection, ...]:
    """The three anomalies' windows for a history that ends the day before ``today``."""
    spec = params.anomalies
    latest, earliest = sorted(spec.retention_weeks_ago)
    this_week = _judged_week(today)
    return (
        Injection(
            "run_success_drop",
            today - timedelta(days=spec.failing_days),
            today - timedelta(days=1),
            f"runs succeed {spec.failing_success_rate:.0%} of the time instead of "
            f"{params.runs.success_rate:.0%}",
        ),
        Injection(
            "cost_spike",
            today - timedelta(days=spec.costly_days),
            today - timedelta(days=1),
            f"cost per run times {spec.cost_factor:g} (every step's tokens scaled)",
        ),
        Injection(
            "retention_dip",
            this_week - timedelta(weeks=earliest),
            this_week - timedelta(weeks=latest) + timedelta(days=6),
            f"people whose first mission fell in these weeks come back in weeks 1-2 at "
            f"{spec.retention_factor:.0%} of the usual rate",
        ),
    )


# ---- people --------------------------------------------------------------------------------


def _join_people(plan: _Plan) -> None:
    """Founders in the first days, the others spread over the rest; test users on day one."""
    spec = plan.params.people
    span = (plan.last - plan.first).days + 1
    later = round(spec.joins_per_day * max(0, span - 7))
    joined = sorted(
        [
            plan.first + timedelta(days=plan.rng.randrange(min(5, span)))
            for _ in range(spec.founders)
        ]
        + [plan.first + timedelta(days=7 + plan.rng.randrange(span - 7)) for _ in range(later)]
    )
    roles = list(spec.roles)
    weights = [spec.roles[role] for role in roles]
    for index, day in enumerate(joined):
        power = index < spec.power_users
        drawn = plan.rng.choices(roles, weights)[0]
        role = Role.OPERATOR if power else (Role.ADMIN if index == spec.power_users else drawn)
        plan.people.append(Person(_name(spec.names, index), role, day, power=power))
    for name in spec.test_users:
        plan.people.append(Person(name, Role.OPERATOR, plan.first, test=True))


def _name(names: Sequence[str], index: int) -> str:
    """The ``index``-th name; past the list, names come round again with a number."""
    base = names[index % len(names)]
    return base if index < len(names) else f"{base}-{index // len(names) + 1}"


def _first_missions(plan: _Plan) -> None:
    """Who creates a first mission, and on which day (most on the day they join)."""
    share = plan.params.activity.first_mission_share
    for person in plan.people:
        creates, same_day, delay = plan.rng.random(), plan.rng.random(), plan.rng.randint(1, 5)
        if person.test or person.power or (person.role != Role.VIEWER and creates < share):
            day = person.joined if person.power or same_day < 0.7 else person.joined + _days(delay)
            if day <= plan.last:
                plan.first_mission[person.name] = day
                plan.active[day].add(person.name)
        plan.active[person.joined].add(person.name)


def _days(count: int) -> timedelta:
    return timedelta(days=count)


# ---- who comes back when -------------------------------------------------------------------


def _returns(plan: _Plan, today: date) -> None:
    """Mark each person's active days: power users every day, the others by cohort week.

    A cohort is the people whose first mission (or, without one, whose joining) fell in one
    ISO week; in its k-th week after, exactly the cohort's return rate of them (rounded) come
    back. The retention dip halves week 1 of the injected cohorts.
    """
    cohorts: dict[tuple[date, bool], list[Person]] = defaultdict(list)
    for person in plan.people:
        if person.test:
            continue
        if person.power:
            _power_days(plan, person)
        anchor = plan.first_mission.get(person.name, person.joined)
        cohorts[(_week_of(anchor), person.name in plan.first_mission)].append(person)
    dipped = _dipped_weeks(plan, today)
    for (week, has_mission), members in sorted(cohorts.items()):
        for k in range(1, 60):
            start = week + timedelta(weeks=k)
            if start > plan.last:
                break
            rate = _return_rate(plan, k) * (
                plan.params.anomalies.retention_factor
                if k <= DIPPED_RETURN_WEEKS and has_mission and week in dipped
                else 1.0
            )
            _come_back(plan, members, start, rate)


def _dipped_weeks(plan: _Plan, today: date) -> set[date]:
    if not plan.anomalies:
        return set()
    this_week = _judged_week(today)
    return {this_week - timedelta(weeks=n) for n in plan.params.anomalies.retention_weeks_ago}


def _judged_week(today: date) -> date:
    """The week of the history's last day (yesterday): "weeks ago" count from it.

    The anomaly detector judges as of the last full day, so on a Monday the cohorts "3-4
    weeks ago" are those before last week's, for the seed as for the detector.
    """
    return _week_of(today - timedelta(days=1))


def _return_rate(plan: _Plan, k: int) -> float:
    rates = plan.params.activity.week_return
    return rates[min(k, len(rates)) - 1]


def _come_back(plan: _Plan, members: list[Person], week: date, rate: float) -> None:
    """``rate`` of ``members`` (power users counted first) are active in ``week``."""
    ordinary = [m for m in members if not m.power]
    plan.rng.shuffle(ordinary)  # drawn whatever the rate: the anomalies change no other draw
    wanted = round(rate * len(members)) - (len(members) - len(ordinary))
    lo, hi = plan.params.activity.days_per_active_week
    for index, person in enumerate(ordinary):
        count = plan.rng.randint(lo, hi)
        picked = _pick_days(plan, _week_days(week), count)
        if index < wanted:
            # Days after the history are dropped, not moved into it: its last, cut week is
            # no busier than any other.
            for day in picked:
                if day <= plan.last:
                    plan.active[day].add(person.name)


def _power_days(plan: _Plan, person: Person) -> None:
    """A power user looks in every day, weekends included: there is always someone to run."""
    for day in plan.days():
        if day >= person.joined:
            plan.active[day].add(person.name)


def _week_days(monday: date) -> list[date]:
    return [monday + timedelta(days=n) for n in range(7)]


def _pick_days(plan: _Plan, days: list[date], count: int) -> list[date]:
    """Up to ``count`` distinct days of ``days``, weekdays more likely than weekend days."""
    weekend = plan.params.activity.weekend_weight
    keyed = [
        (plan.rng.random() ** (1 / (1 if d.weekday() < _WEEKDAYS else weekend)), d) for d in days
    ]
    return [d for _, d in sorted(keyed, reverse=True)[:count]]


def _week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


# ---- what each day's sessions do -----------------------------------------------------------


def _sessions(plan: _Plan, today: date) -> list[Session]:
    """Every day's visits: who signs in when, their new missions, runs and downloads."""
    by_name = {person.name: person for person in plan.people}
    has_mission: set[str] = set()
    sessions: list[Session] = []
    for day in plan.days():
        testing = {p.name for p in plan.people if p.test and _test_user_visits(plan, day)}
        visitors = sorted(plan.active.get(day, set()) | testing)
        sessions += _day_sessions(plan, day, today, [by_name[n] for n in visitors], has_mission)
    return sessions


def _test_user_visits(plan: _Plan, day: date) -> bool:
    return day == plan.first or plan.rng.random() < plan.params.activity.test_user_day_share


def _day_sessions(
    plan: _Plan, day: date, today: date, visitors: list[Person], has_mission: set[str]
) -> list[Session]:
    goals: dict[str, tuple[str, ...]] = {}
    for person in visitors:
        goals[person.name] = _new_goals(plan, person, day, has_mission)
        if goals[person.name]:
            has_mission.add(person.name)
    runs = _day_runs(plan, day, today, visitors, has_mission, goals)
    sessions = []
    for person in visitors:
        start = datetime.combine(day, _DAY_STARTS, UTC) + timedelta(
            minutes=plan.rng.randrange(_SESSION_SPREAD_MIN)
        )
        viewer_reads = person.role == Role.VIEWER and (
            plan.rng.random() < plan.params.activity.viewer_download_share
        )
        sessions.append(
            Session(
                at=start,
                person=person.name,
                joins=person.joined == day,
                goals=goals[person.name],
                runs=tuple(runs.get(person.name, [])),
                download_latest=viewer_reads,
            )
        )
    return sessions


def _new_goals(plan: _Plan, person: Person, day: date, has_mission: set[str]) -> tuple[str, ...]:
    """The missions ``person`` creates on ``day``: their first, or now and then another."""
    goal = plan.rng.choice(plan.params.goals)
    another = plan.rng.random() < plan.params.activity.new_mission_share
    if person.test and person.name not in has_mission:
        return (goal,)
    first = plan.first_mission.get(person.name)
    if first == day or (first is not None and first < day and another):
        return (goal,)
    return ()


def _day_runs(
    plan: _Plan,
    day: date,
    today: date,
    visitors: list[Person],
    has_mission: set[str],
    goals: dict[str, tuple[str, ...]],
) -> dict[str, list[PlannedRun]]:
    """The day's runs: one for each new mission, the rest of the day's count spread around.

    Test users visiting run once each, besides.
    """
    spec = plan.params.runs
    lo, hi = spec.weekday if day.weekday() < _WEEKDAYS else spec.weekend
    target = plan.rng.randint(lo, hi)
    people = [p for p in visitors if not p.test and p.name in has_mission]
    owners = [p.name for p in visitors if goals[p.name] and not p.test]
    if people:
        owners += [plan.rng.choice(people).name for _ in range(max(0, target - len(owners)))]
    # A test user's runs come on top: they count nowhere.
    owners += [p.name for p in visitors if p.test and p.name in has_mission]
    runs: dict[str, list[PlannedRun]] = defaultdict(list)
    for owner in owners:
        runs[owner].append(_planned_run(plan, day, today))
    return runs


def _planned_run(plan: _Plan, day: date, today: date) -> PlannedRun:
    """One run: its workflow, each step's call with noise, and whether and where it fails."""
    spec, anomalies = plan.params.runs, plan.params.anomalies
    workflow = _pick_workflow(plan.rng, spec.workflows)
    failing = plan.anomalies and day >= today - timedelta(days=anomalies.failing_days)
    costly = plan.anomalies and day >= today - timedelta(days=anomalies.costly_days)
    factor = _cost_factor(plan.params, failing) if costly else 1.0
    calls = tuple(_call(plan, spec.work[step.id], factor) for step in workflow.spec.steps)
    # A failing run fails at a step drawn by the steps' fragility: some steps fail more.
    fragility = [spec.work[step.id].fragility for step in workflow.spec.steps]
    outcome = plan.rng.random()
    where = plan.rng.choices(range(len(calls)), weights=fragility)[0]
    rate = anomalies.failing_success_rate if failing else spec.success_rate
    downloads = plan.rng.random() < plan.params.activity.download_share
    fails_at = where if outcome >= rate else None
    failed_step = None if fails_at is None else workflow.spec.steps[fails_at].id
    return PlannedRun(
        workflow.spec.name,
        calls,
        fails_at,
        downloads and fails_at is None,
        trial=_on_trial(plan, failed_step),
    )


def _on_trial(plan: _Plan, failed_step: str | None) -> bool:
    """Whether a run that fails at ``failed_step`` (``None``: completes) is on the trial model.

    A run failing at a step the trial names is drawn at that step's share, from the trial's own
    generator (every other draw of the plan stays as it was). The others take turns at the
    trial's share (every third or so), so that each day holds about that share: a random mix
    would swing a day's spend enough to read as an anomaly.
    """
    trial = plan.params.trial
    if failed_step in trial.share_when_failing_at:
        return plan.trial_rng.random() < trial.share_when_failing_at[failed_step]
    turns = plan.trial_turns
    plan.trial_turns += 1
    return int((turns + 1) * trial.share) > int(turns * trial.share)


def _cost_factor(params: DemoParameters, failing: bool) -> float:
    """What a costly day multiplies tokens by: its cost per run is ``cost_factor`` times the usual.

    A failed run pays only for the steps before the refused call, so on a day that also
    fails more often a run costs less on average: the factor makes up for it.
    """
    usual = _expected_cost_share(params, params.runs.success_rate)
    now = _expected_cost_share(
        params, params.anomalies.failing_success_rate if failing else params.runs.success_rate
    )
    return params.anomalies.cost_factor * usual / now


def _expected_cost_share(params: DemoParameters, success: float) -> float:
    """The expected share of a completed run's cost a run pays, at ``success`` rate."""
    total = sum(w.weight for w in params.runs.workflows)
    share = 0.0
    for workflow in params.runs.workflows:
        costs = [_mean_cost(params.runs.work[step.id]) for step in workflow.spec.steps]
        # A failing run fails at a step drawn by fragility; the steps before it were paid for.
        weights = [params.runs.work[step.id].fragility for step in workflow.spec.steps]
        kept = (
            sum(w * sum(costs[:index]) for index, w in enumerate(weights))
            / sum(weights)
            / sum(costs)
        )
        share += workflow.weight / total * (success + (1 - success) * kept)
    return share


def _mean_cost(work: StepWork) -> float:
    # Relative prices of input and output tokens matter, not their level: gpt-4o's ratio.
    return work.prompt_tokens + 4 * work.completion_tokens


def _pick_workflow(rng: random.Random, workflows: Sequence[DemoWorkflow]) -> DemoWorkflow:
    return rng.choices(list(workflows), [w.weight for w in workflows])[0]


def _call(plan: _Plan, work: StepWork, factor: float) -> StepCall:
    noise = plan.params.runs.noise
    jitter = [plan.rng.uniform(1 - noise, 1 + noise) for _ in range(2)]
    return StepCall(
        seconds=round(plan.rng.uniform(*work.seconds), 3),
        prompt_tokens=round(work.prompt_tokens * jitter[0] * factor),
        completion_tokens=round(work.completion_tokens * jitter[1] * factor),
    )


def counted(people: Iterable[Person]) -> list[Person]:
    """The people analytics counts (test users left out)."""
    return [person for person in people if not person.test]
