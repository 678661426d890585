"""What the insights are written from, and the deterministic writer (pure; ADR 0070).

:class:`InsightFacts` gathers, for a range and the equally long range just before it, only
aggregates: the funnel's conversion from sign-in to each step, weekly retention of the two
ranges' cohorts, headline totals (runs, success rate, cost, tokens, average daily active
people) and the anomalies a detector found. Both writers work from it: the configured model
(``services.usecases.insights``, which sends :meth:`InsightFacts.as_data` and nothing else) and
:func:`write_insights`, which turns it into a summary and four sections with the phrases of a
:class:`Phrasebook` (``schemas/insights.yaml``), most important first: critical anomalies, then
the funnel's biggest move, then retention, then the rest.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Final, Literal

from missionctl.domain.money import usd_text
from missionctl.domain.outcomes import BUILD_HINT

Direction = Literal["up", "down"]
DIRECTIONS: Final[tuple[Direction, ...]] = ("up", "down")
SEVERITY_RANK: Final = {"critical": 0, "warning": 1, "info": 2}
"""Most severe first; an unknown severity sorts last."""
MAX_SENTENCES: Final = 5
"""Sentences a section holds at most."""
MAX_SUMMARY_SENTENCES: Final = 4
TEMPLATE_FIELDS: Final = frozenset(
    {"window", "prior", "label", "step", "week", "scope", "since", "until"}
)
"""The placeholders a phrase may use (``{window}``…); the phrasebook's loader checks them."""
SECTION_KEYS: Final = (
    "what_changed",
    "why_it_matters",
    "suggested_actions",
    "questions_to_investigate",
)


# --- the facts ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """UTC days ``since`` … ``until``, both included."""

    since: date
    until: date

    @property
    def days(self) -> int:
        """How many days the window holds."""
        return (self.until - self.since).days + 1

    def before(self) -> "Window":
        """The equally long window that ends the day before this one starts."""
        until = self.since - timedelta(days=1)
        return Window(until - timedelta(days=self.days - 1), until)

    def text(self) -> str:
        """``2026-11-01 to 2026-11-30``, or the one day."""
        if self.since == self.until:
            return self.since.isoformat()
        return f"{self.since.isoformat()} to {self.until.isoformat()}"


@dataclass(frozen=True, slots=True)
class StepConversion:
    """The share of the range's first sign-ins that reached one funnel step, now and before."""

    key: str
    label: str
    current_users: int
    prior_users: int
    current_share: float | None
    prior_share: float | None

    @property
    def change_points(self) -> float | None:
        """The change in percentage points, or None when either range had no sign-in."""
        return _change_points(self.current_share, self.prior_share)


@dataclass(frozen=True, slots=True)
class FunnelShift:
    """The funnel of the range against the range before, from sign-in to each later step.

    ``settled`` is whether every cohort of the range is complete (its later steps can no
    longer grow).
    """

    signed_in_current: int
    signed_in_prior: int
    steps: tuple[StepConversion, ...]
    settled: bool = True

    def biggest_move(self, *, points: float, min_people: int) -> StepConversion | None:
        """The step whose conversion fell most, at least ``points``; else the one that rose most.

        None when no step moved ``points`` or more (ties go to the earlier step), or when
        either range had fewer than ``min_people`` first sign-ins.
        """
        if min(self.signed_in_current, self.signed_in_prior) < min_people:
            return None
        moved = [s for s in self.steps if s.change_points is not None]
        drops = [s for s in moved if s.change_points is not None and s.change_points <= -points]
        if drops:
            return min(drops, key=lambda s: s.change_points or 0.0)
        gains = [s for s in moved if s.change_points is not None and s.change_points >= points]
        return max(gains, key=lambda s: s.change_points or 0.0) if gains else None


@dataclass(frozen=True, slots=True)
class RetentionShift:
    """Week ``week`` retention of the range's cohorts against the range before's.

    Each share is the people of complete cells who came back over those cells' cohort sizes
    (a mean weighted by cohort size); None when no cell of that week is complete yet.
    """

    week: int
    recent: float | None
    earlier: float | None
    recent_people: int
    earlier_people: int

    @property
    def change_points(self) -> float | None:
        """The change in percentage points, or None when either side is unknown."""
        return _change_points(self.recent, self.earlier)


def _change_points(now: float | None, before: float | None) -> float | None:
    """``now`` less ``before``, two shares, in percentage points to one decimal.

    None when either is unknown.
    """
    if now is None or before is None:
        return None
    return round((now - before) * 100, 1)


@dataclass(frozen=True, slots=True)
class TrendTotal:
    """A headline figure of the range and of the range before (None: nothing to measure).

    For a share (the success rate), ``current_of`` and ``prior_of`` are how many it is a share
    of in each range (ended runs); None for a figure that is not a share.
    """

    key: str
    label: str
    unit: str
    current: float | None
    prior: float | None
    current_of: int | None = None
    prior_of: int | None = None

    @property
    def change_pct(self) -> float | None:
        """The relative change in percent; None when either is unknown or the prior is 0."""
        if self.current is None or self.prior is None or self.prior == 0:
            return None
        return round((self.current - self.prior) / abs(self.prior) * 100, 1)


@dataclass(frozen=True, slots=True)
class AnomalyFact:
    """An anomaly's figures, without its prose (only numbers, names and windows are kept)."""

    metric: str
    label: str
    unit: str
    severity: str
    direction: Direction
    current: float
    baseline: float
    change_pct: float | None
    current_window: Window
    baseline_window: Window


@dataclass(frozen=True, slots=True)
class TaskOutcomes:
    """Tasks built and tasks documented in the range and in the range before.

    From the ``tasks_built`` and ``tasks_documented`` trends (``domain.analytics``): built is a
    coding step whose code changed and whose test command passed; documented, a step that
    wrote documents only. They count every run, whatever the segment.
    """

    built: int = 0
    documented: int = 0
    prior_built: int = 0
    prior_documented: int = 0

    @property
    def any(self) -> bool:
        """Whether either range built or documented a task."""
        return bool(self.built or self.documented or self.prior_built or self.prior_documented)


@dataclass(frozen=True, slots=True)
class InsightFacts:
    """Everything either writer may use: aggregates over a range and the range before it."""

    window: Window
    segment: tuple[str, str] | None
    funnel: FunnelShift
    retention: tuple[RetentionShift, ...]
    totals: tuple[TrendTotal, ...]
    anomalies: tuple[AnomalyFact, ...] = ()
    tasks: TaskOutcomes = TaskOutcomes()

    @property
    def prior(self) -> Window:
        """The equally long range just before."""
        return self.window.before()

    @property
    def quiet(self) -> bool:
        """Whether neither range holds any activity to write about."""
        return (
            not self.anomalies
            and self.funnel.signed_in_current == 0
            and self.funnel.signed_in_prior == 0
            and not any(r.recent_people or r.earlier_people for r in self.retention)
            and not any(t.current or t.prior for t in self.totals)
            # Tasks are every run's: a segment without activity stays quiet whatever they say.
            and (self.segment is not None or not self.tasks.any)
        )

    def total(self, key: str) -> TrendTotal | None:
        """The headline total ``key``, if gathered."""
        return next((t for t in self.totals if t.key == key), None)

    def as_data(self) -> dict[str, Any]:
        """The facts as JSON-ready data: numbers, metric names, windows and the segment only."""
        data = asdict(self)
        data["prior"] = asdict(self.prior)
        data["segment"] = (
            None if self.segment is None else {"kind": self.segment[0], "value": self.segment[1]}
        )
        for step, conversion in zip(data["funnel"]["steps"], self.funnel.steps, strict=True):
            step["change_points"] = conversion.change_points
        for week, shift in zip(data["retention"], self.retention, strict=True):
            week["change_points"] = shift.change_points
        for total, figure in zip(data["totals"], self.totals, strict=True):
            total["change_pct"] = figure.change_pct
        ready: dict[str, Any] = _json_ready(data)
        return ready

    def digest(self) -> str:
        """A hash of the facts: equal facts, equal digest (the model's answers are cached by it)."""
        text = json.dumps(self.as_data(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    return value.isoformat() if isinstance(value, date) else value


# --- building the facts from the answers' figures --------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def funnel_shift(
    steps: Sequence[tuple[str, str]],
    current: Iterable[Sequence[int]],
    prior: Iterable[Sequence[int]],
    *,
    settled: bool,
) -> FunnelShift:
    """Conversion from sign-in to each later step, summed over each range's cohorts.

    ``steps`` are the funnel's (key, label) in order, sign-in first; ``current`` and ``prior``
    give each cohort's people per step, in the same order.
    """
    now, before = _column_sums(current, len(steps)), _column_sums(prior, len(steps))
    conversions = tuple(
        StepConversion(
            key=key,
            label=label,
            current_users=now[i],
            prior_users=before[i],
            current_share=_share(now[i], now[0]),
            prior_share=_share(before[i], before[0]),
        )
        for i, (key, label) in enumerate(steps)
        if i
    )
    return FunnelShift(now[0], before[0], conversions, settled)


def _column_sums(rows: Iterable[Sequence[int]], width: int) -> list[int]:
    sums = [0] * width
    for row in rows:
        for i, value in enumerate(row[:width]):
            sums[i] += value
    return sums


@dataclass(frozen=True, slots=True)
class CohortReturns:
    """A retention cohort's size and, per week after, who came back and whether it is over."""

    users: int
    weeks: Sequence[tuple[int, int, bool]]


def retention_shift(
    weeks: Sequence[int], recent: Sequence[CohortReturns], earlier: Sequence[CohortReturns]
) -> tuple[RetentionShift, ...]:
    """For each of ``weeks``, the retention of the range's cohorts against the range before's."""
    return tuple(
        RetentionShift(
            week=week,
            recent=_pooled_share(recent, week),
            earlier=_pooled_share(earlier, week),
            recent_people=sum(c.users for c in recent),
            earlier_people=sum(c.users for c in earlier),
        )
        for week in weeks
    )


def _pooled_share(cohorts: Sequence[CohortReturns], week: int) -> float | None:
    came_back = size = 0
    for cohort in cohorts:
        for number, users, complete in cohort.weeks:
            if number == week and complete and cohort.users:
                came_back, size = came_back + users, size + cohort.users
    return _share(came_back, size)


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One UTC day of the trends, as the headline totals need it."""

    active_users: int
    runs_started: int
    runs_ended: int
    success_rate: float | None
    cost_usd: float
    tokens: int
    tasks_built: int = 0
    tasks_documented: int = 0


HEADLINE_UNITS: Final = {
    "success_rate": "ratio",
    "cost_usd": "usd",
    "runs_started": "runs",
    "tokens": "tokens",
    "active_users": "users",
}
"""The headline totals with their units, most telling first (the order they are told in)."""


def trend_totals(
    current: Sequence[DayFigures], prior: Sequence[DayFigures], labels: Mapping[str, str]
) -> tuple[TrendTotal, ...]:
    """Runs, success rate, cost, tokens and average daily active people of both ranges."""
    now, before = _headline(current), _headline(prior)
    shares_of = {"success_rate": (_ended(current), _ended(prior))}
    return tuple(
        TrendTotal(
            key,
            labels.get(key, key),
            unit,
            now[key],
            before[key],
            *shares_of.get(key, (None, None)),
        )
        for key, unit in HEADLINE_UNITS.items()
    )


def task_outcomes(current: Sequence[DayFigures], prior: Sequence[DayFigures]) -> TaskOutcomes:
    """Tasks built and documented over the days of the range and of the range before."""
    return TaskOutcomes(
        built=sum(d.tasks_built for d in current),
        documented=sum(d.tasks_documented for d in current),
        prior_built=sum(d.tasks_built for d in prior),
        prior_documented=sum(d.tasks_documented for d in prior),
    )


def _ended(days: Sequence[DayFigures]) -> int:
    return sum(d.runs_ended for d in days)


def _headline(days: Sequence[DayFigures]) -> dict[str, float | None]:
    ended = _ended(days)
    # A day's success rate is its completed runs over its ended runs: undo it to add days up.
    completed = sum(round((d.success_rate or 0.0) * d.runs_ended) for d in days)
    active = sum(d.active_users for d in days)
    return {
        "runs_started": float(sum(d.runs_started for d in days)),
        "success_rate": _share(completed, ended),
        "cost_usd": round(sum(d.cost_usd for d in days), 6),
        "tokens": float(sum(d.tokens for d in days)),
        # Two decimals: one person on one day of 30 is 0.03, which one decimal would print as 0
        # beside a key figure of 1 active person.
        "active_users": round(active / len(days), 2) if days else None,
    }


# --- the phrasebook -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MovePhrases:
    """What to say about a metric that moved one way: why it matters, what to do, what to ask."""

    why: str
    action: str
    question: str


@dataclass(frozen=True, slots=True)
class MetricPhrases:
    """A metric's label and its phrases per direction (``up``, ``down``)."""

    label: str
    moves: Mapping[str, MovePhrases]


@dataclass(frozen=True, slots=True)
class Phrasebook:
    """The writer's words and thresholds (``schemas/insights.yaml``).

    ``metrics`` is keyed by metric (``success_rate``…, ``funnel``, ``retention``, ``default``
    for a metric it does not know); ``empty`` and ``steady`` hold a phrase per section (and
    ``summary``) for a range without activity and one where nothing moved;
    ``funnel_unsettled`` is the question added when the funnel moved while some of the range's
    cohorts are still within their step windows. ``points`` (a share's change, in percentage
    points) and ``percent`` (a total's relative change) are how far a figure must move to be
    told; ``min_people``, how many people each range needs behind a funnel or retention share
    for it to be compared; ``min_runs``, how many ended runs each range needs behind a success
    rate, and how many runs started the range before needs for the other totals to be compared
    with it (``history`` holds what to say when it has fewer).
    """

    points: float
    percent: float
    min_people: int
    min_runs: int
    metrics: Mapping[str, MetricPhrases]
    empty: Mapping[str, tuple[str, ...]]
    steady: Mapping[str, tuple[str, ...]]
    funnel_unsettled: str

    def metric(self, key: str) -> MetricPhrases:
        """Phrases of ``key``, else of its family (``funnel.mission``: ``funnel``), else default."""
        family = key.partition(".")[0]
        return self.metrics.get(key) or self.metrics.get(family) or self.metrics["default"]


# --- the deterministic writer ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WrittenInsights:
    """A summary (2 to 4 sentences) and the four sections (1 to 5 sentences each)."""

    summary: str
    what_changed: tuple[str, ...]
    why_it_matters: tuple[str, ...]
    suggested_actions: tuple[str, ...]
    questions_to_investigate: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Move:
    """One thing that moved, said once, with what the phrasebook says about it."""

    metric: str
    direction: Direction
    sentence: str
    # 0 critical anomaly, 1 funnel, 2 retention, 3 other anomaly, 4 headline total or history
    rank: int
    values: dict[str, str] = field(default_factory=dict)


def write_insights(facts: InsightFacts, book: Phrasebook) -> WrittenInsights:
    """The summary and four sections of ``facts``, in plain sentences with numbers and windows.

    A range without activity (and none before it) gets the phrasebook's honest ``empty``
    words, never a made-up figure; one where nothing moved past the thresholds says so with
    its headline totals.
    """
    values = _base_values(facts)
    if facts.quiet:
        return _canned(book.empty, values, summary=())
    moves = sorted(_moves(facts, book), key=lambda m: m.rank)  # stable: input order within
    headline = _headline_sentence(facts, values)
    made = _tasks_sentence(facts)
    if not moves:
        steady = _canned(book.steady, values, summary=(headline, *([made] if made else [])))
        return _with_tasks(steady, facts, made)
    phrases = [(move, book.metric(move.metric).moves[move.direction]) for move in _once(moves)]

    def said(pick: str) -> tuple[str, ...]:
        texts = (_fill(getattr(p, pick), {**values, **m.values}) for m, p in phrases)
        return _first_distinct(texts, MAX_SENTENCES)

    questions = said("question")
    if not facts.funnel.settled and any(m.metric.startswith("funnel") for m in moves):
        unsettled = _fill(book.funnel_unsettled, values)
        questions = _first_distinct([*questions, unsettled], MAX_SENTENCES)
    # Moves are in order of importance; the headline totals and what the tasks produced close
    # the summary (a move gives way to the tasks' sentence: a summary holds four at most).
    told = [m.sentence for m in moves[: 3 if made is None else 2]]
    summary = [*told, headline, *([made] if made else [])]
    written = WrittenInsights(
        summary=" ".join(_first_distinct(summary, MAX_SUMMARY_SENTENCES)),
        what_changed=_first_distinct((m.sentence for m in moves), MAX_SENTENCES),
        why_it_matters=said("why"),
        suggested_actions=said("action"),
        questions_to_investigate=questions,
    )
    return _with_tasks(written, facts, made)


def _tasks_sentence(facts: InsightFacts) -> str | None:
    """What the runs produced: tasks built against tasks documented, in the range and before.

    ``None`` when neither range built or documented a task. The counts are every run's,
    whatever the segment; the sentence says so when a segment is chosen.
    """
    tasks = facts.tasks
    if not tasks.any:
        return None
    whose = " across every run (tasks are not segmented)" if facts.segment else ""
    before = (
        f"{_tasks(tasks.prior_built)} built and {tasks.prior_documented:,} documented "
        f"from {facts.prior.text()}"
    )
    window = facts.window.text()
    if tasks.built:
        return (
            f"From {window}, {_tasks(tasks.built)} {_were(tasks.built)} built{whose} (code "
            f"changed and its tests passed) and {tasks.documented:,} documented, against {before}."
        )
    if tasks.documented:
        return (
            f"From {window}, {_tasks(tasks.documented)} {_were(tasks.documented)} "
            f"documented{whose} and none built: the runs wrote documents, not code (against "
            f"{before})."
        )
    return f"From {window}, no task was built or documented{whose}, against {before}."


def _tasks(count: int) -> str:
    return f"{count:,} task{'' if count == 1 else 's'}"


def _were(count: int) -> str:
    return "was" if count == 1 else "were"


BUILD_ACTION: Final = f"{BUILD_HINT[0].upper()}{BUILD_HINT[1:]}."
"""The action when the range documented tasks and built none (``domain.outcomes``)."""


def _with_tasks(written: WrittenInsights, facts: InsightFacts, made: str | None) -> WrittenInsights:
    """``written`` with what the tasks produced, and how to build when nothing was.

    The tasks' sentence closes What changed (always kept); when the range documented tasks and
    built none, how to build is the first suggested action.
    """
    if made is None:
        return written
    changed = (*written.what_changed[: MAX_SENTENCES - 1], made)
    actions = written.suggested_actions
    if facts.tasks.documented and not facts.tasks.built:
        actions = _first_distinct([BUILD_ACTION, *actions], MAX_SENTENCES)
    return replace(written, what_changed=changed, suggested_actions=actions)


def _once(moves: Sequence[_Move]) -> list[_Move]:
    """The first move of each metric and direction, in order.

    A metric that moved one way twice (a day's anomaly and a week's) gets its why, action and
    question once, with the windows of the move told first, the most severe.
    """
    seen: set[tuple[str, str]] = set()
    first = []
    for move in moves:
        if (move.metric, move.direction) not in seen:
            seen.add((move.metric, move.direction))
            first.append(move)
    return first


def _base_values(facts: InsightFacts) -> dict[str, str]:
    segment = facts.segment
    return {
        "window": facts.window.text(),
        "prior": facts.prior.text(),
        "since": facts.window.since.isoformat(),
        "until": facts.window.until.isoformat(),
        "scope": "" if segment is None else f" (segment {segment[0]}:{segment[1]})",
        "label": "",
        "step": "",
        "week": "",
    }


def _fill(template: str, values: Mapping[str, str]) -> str:
    return template.format_map(values).strip()


def _first_distinct(texts: Iterable[str], limit: int) -> tuple[str, ...]:
    chosen: list[str] = []
    for text in texts:
        if text and text not in chosen:
            chosen.append(text)
    return tuple(chosen[:limit])


def _canned(
    words: Mapping[str, tuple[str, ...]], values: Mapping[str, str], *, summary: Sequence[str]
) -> WrittenInsights:
    def fill(key: str) -> tuple[str, ...]:
        return tuple(_fill(text, values) for text in words[key])[:MAX_SENTENCES]

    return WrittenInsights(
        " ".join([*summary, *fill("summary")][:MAX_SUMMARY_SENTENCES]),
        *(fill(key) for key in SECTION_KEYS),
    )


def _moves(facts: InsightFacts, book: Phrasebook) -> list[_Move]:
    moves = [_anomaly_move(a) for a in _by_severity(facts.anomalies)]
    step = facts.funnel.biggest_move(points=book.points, min_people=book.min_people)
    if step is not None:
        moves.append(_funnel_move(facts, step))
    moves += [
        _retention_move(facts, shift)
        for shift in facts.retention
        if shift.change_points is not None
        and abs(shift.change_points) >= book.points
        and min(shift.recent_people, shift.earlier_people) >= book.min_people
    ]
    flagged = {a.metric for a in facts.anomalies}
    runs_now, runs_before = _runs_started(facts)
    moves += [
        _total_move(facts, total, book)
        for total in facts.totals
        if total.key not in flagged and _total_moved(total, book, runs_before=runs_before)
    ]
    if runs_before < book.min_runs and max(runs_now, runs_before) > 0:
        moves.append(_thin_history_move(facts, runs_now, runs_before))
    return moves


def _runs_started(facts: InsightFacts) -> tuple[int, int]:
    """How many runs started in the range and in the range before."""
    runs = facts.total("runs_started")
    if runs is None:
        return 0, 0
    return int(runs.current or 0), int(runs.prior or 0)


def _by_severity(anomalies: Iterable[AnomalyFact]) -> list[AnomalyFact]:
    return sorted(anomalies, key=lambda a: SEVERITY_RANK.get(a.severity, len(SEVERITY_RANK)))


def _anomaly_move(anomaly: AnomalyFact) -> _Move:
    verb = "rose" if anomaly.direction == "up" else "fell"
    change = _change(anomaly.unit, anomaly.current - anomaly.baseline, anomaly.change_pct)
    sentence = (
        f"{anomaly.severity.capitalize()}: {anomaly.label} {verb} from "
        f"{format_value(anomaly.baseline, anomaly.unit)} ({anomaly.baseline_window.text()}) to "
        f"{format_value(anomaly.current, anomaly.unit)} ({anomaly.current_window.text()}), "
        f"{change}."
    )
    values = {
        "label": anomaly.label,
        "step": anomaly.label,
        "window": anomaly.current_window.text(),
        "since": anomaly.current_window.since.isoformat(),
        "until": anomaly.current_window.until.isoformat(),
        "prior": anomaly.baseline_window.text(),
        # The detector's retention pools a cohort's weeks 1 and 2 (domain.anomalies).
        "week": "1-2" if anomaly.metric == "retention" else "",
    }
    rank = 0 if anomaly.severity == "critical" else 3
    return _Move(anomaly.metric, anomaly.direction, sentence, rank, values)


def _funnel_move(facts: InsightFacts, step: StepConversion) -> _Move:
    points = step.change_points or 0.0
    sentence = (
        f"Of the people who first signed in from {facts.window.text()}, "
        f"{format_value(step.current_share or 0.0, 'ratio')} reached “{step.label}”, against "
        f"{format_value(step.prior_share or 0.0, 'ratio')} from {facts.prior.text()}: "
        f"{_points(points)} {'lower' if points < 0 else 'higher'}."
    )
    direction: Direction = "down" if points < 0 else "up"
    return _Move(f"funnel.{step.key}", direction, sentence, 1, {"step": step.label})


def _retention_move(facts: InsightFacts, shift: RetentionShift) -> _Move:
    points = shift.change_points or 0.0
    sentence = (
        f"Week-{shift.week} retention {'fell' if points < 0 else 'rose'} to "
        f"{format_value(shift.recent or 0.0, 'ratio')} for the cohorts of {facts.window.text()}, "
        f"from {format_value(shift.earlier or 0.0, 'ratio')} for those of {facts.prior.text()} "
        f"({_points(points)} {'lower' if points < 0 else 'higher'})."
    )
    direction: Direction = "down" if points < 0 else "up"
    return _Move("retention", direction, sentence, 2, {"week": str(shift.week)})


def _total_moved(total: TrendTotal, book: Phrasebook, *, runs_before: int) -> bool:
    """Whether ``total`` moved past its threshold, against a range before that can tell.

    A share needs ``min_runs`` behind it in each range; any other total, ``min_runs`` runs
    started in the range before (``_thin_history_move`` says when it has fewer).
    """
    if total.current is None or total.prior is None:
        return False
    if total.unit == "ratio":
        if min(total.current_of or 0, total.prior_of or 0) < book.min_runs:
            return False
        return abs(total.current - total.prior) * 100 >= book.points
    if runs_before < book.min_runs:
        return False
    if total.prior == 0:
        return total.current > 0  # from nothing to something is news (with runs before)
    change = total.change_pct
    return change is not None and abs(change) >= book.percent


def _total_move(facts: InsightFacts, total: TrendTotal, book: Phrasebook) -> _Move:
    current, prior = total.current or 0.0, total.prior or 0.0
    direction: Direction = "up" if current > prior else "down"
    sentence = (
        f"{total.label.capitalize()} {'rose' if direction == 'up' else 'fell'} from "
        f"{format_value(prior, total.unit)} ({facts.prior.text()}) to "
        f"{format_value(current, total.unit)} ({facts.window.text()}), "
        f"{_change(total.unit, current - prior, total.change_pct)}."
    )
    return _Move(total.key, direction, sentence, 4, {"label": book.metric(total.key).label})


def _thin_history_move(facts: InsightFacts, runs_now: int, runs_before: int) -> _Move:
    """Say that the range before holds too few runs to be the totals' baseline.

    Such a range often lies before the history, or the segment, began: "up 9889%" would only
    say that. The success rate keeps its own rule (ended runs in each range).
    """
    held = f"{runs_before:,} run{'' if runs_before == 1 else 's'}" if runs_before else "no runs"
    labels = [total.label for total in facts.totals if total.unit != "ratio"]
    named = ", ".join(labels[:-1]) + f" and {labels[-1]}" if len(labels) > 1 else "".join(labels)
    sentence = (
        f"The range before ({facts.prior.text()}) holds {held} against {runs_now:,} "
        f"from {facts.window.text()}: too few to compare {named} with."
    )
    return _Move("history", "down", sentence, 4)


def _headline_sentence(facts: InsightFacts, values: Mapping[str, str]) -> str:
    parts = [
        f"{total.label}: {format_value(total.current, total.unit)} "
        f"({format_value(total.prior, total.unit)} before)"
        for total in facts.totals
        if total.current is not None or total.prior is not None
    ]
    told = "; ".join(parts) if parts else "no runs and no active people"
    return f"From {values['window']}{values['scope']}: {told}."


def _points(points: float) -> str:
    size = f"{abs(points):.1f}".removesuffix(".0")
    return f"{size} point{'' if size == '1' else 's'}"


def _change(unit: str, delta: float, change_pct: float | None) -> str:
    if unit == "ratio":
        return f"{_points(delta * 100)} {'up' if delta >= 0 else 'down'}"
    if change_pct is None:
        return f"{'up' if delta >= 0 else 'down'} {format_value(abs(delta), unit)}"
    return f"{'up' if change_pct >= 0 else 'down'} {abs(change_pct):.0f}%"


def format_value(value: float | None, unit: str) -> str:
    """A figure as a person reads it: ``61%``, ``$12.40``, ``42 s``, ``1,234,000``, ``4.5``.

    A fraction below 1 keeps two decimals (``0.03``): rounded to one, a few people over many
    days would read as none.
    """
    if value is None:
        return "none"
    if unit == "ratio":
        return f"{value * 100:.0f}%"
    if unit == "usd":
        return usd_text(value)
    if unit == "seconds":
        return f"{value:,.0f} s"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 1 else f"{value:,.1f}"
