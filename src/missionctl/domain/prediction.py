"""How likely a step is to fail, to time out or to cost more than its estimate, from history.

Pure (ADR 0118). A step's chance of each :data:`RISKS` is estimated from the attempts that
came before it, at levels from the most general to the most particular, each level's
rate shrunk towards the one above it by :data:`PRIOR_WEIGHT` pseudo-attempts (a beta prior;
:data:`RECENT_WEIGHT` for the recent level):

1. every step of every workflow, itself shrunk towards :data:`PRIOR_RATES` (what is assumed
   before there is any history: a new install's steps are not all "50 % likely to fail");
2. the steps run by the same agent;
3. for an ``llm:`` step, the same agent's steps on the model this one runs on: a role a
   cheaper model does worse shows here, whichever workflow its steps were in;
4. this step of this workflow, before the last :data:`RECENT_DAYS` days;
5. the same step in the last :data:`RECENT_DAYS` days (apart from 4, so that no attempt counts
   twice): a recent change (a model that got worse, a flaky dependency) moves the estimate as
   far as its evidence allows;

and, for a second or later attempt, 6. the same step's later attempts: a step that failed once
is likelier to fail again. A level with few attempts barely moves the estimate; one with
hundreds is nearly its own rate. The reasons name each level that moved the estimate most,
with its counts, so that a reader can judge how sure it is (:attr:`Estimate.attempts`: the
step's own attempts behind it).

While an attempt runs, :func:`while_running` narrows its estimate by what it shows: how long
it has run, and how large its inputs are, against the step's earlier attempts.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

Risk = Literal["fail", "timeout", "over_estimate"]
RISKS: Final[tuple[Risk, ...]] = ("fail", "timeout", "over_estimate")

PRIOR_WEIGHT: Final = 10.0
"""How many attempts a level's rate is worth when shrinking the level below it."""

PRIOR_RATES: Final[dict[Risk, float]] = {"fail": 0.1, "timeout": 0.02, "over_estimate": 0.1}
"""The rates assumed with no history at all, each worth :data:`PRIOR_WEIGHT` attempts."""

MIN_EVIDENCE: Final = 10
"""The step's own attempts below which an estimate is a guess: shown, never alerted on."""

RECENT_WEIGHT: Final = 30.0
"""The recent level's prior weight: a week's attempts must be about as many as the month's
before them to overrule those, so that a week's noise does not read as a trend."""

RECENT_DAYS: Final = 7
"""The window of the recent level: a week, so a weekday pattern does not read as a trend."""

HISTORY_DAYS: Final = 60
"""How far back the history goes: older attempts describe steps as they no longer are."""

_WHAT: Final[dict[Risk, str]] = {
    "fail": "failed",
    "timeout": "timed out",
    "over_estimate": "cost more than estimated",
}


@dataclass(frozen=True, slots=True)
class Counts:
    """Attempts of some steps, and how many of them ended each way.

    ``failed`` counts attempts that did not succeed (a final failure or one retried);
    ``timed_out`` those of them that ran out of time; ``over_estimate`` attempts that cost
    more than the step's estimate (only attempts of steps with one can).
    """

    attempts: int = 0
    failed: int = 0
    timed_out: int = 0
    over_estimate: int = 0

    def of(self, risk: Risk) -> int:
        """How many attempts ended as ``risk``."""
        return {"fail": self.failed, "timeout": self.timed_out}.get(risk, self.over_estimate)

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(
            self.attempts + other.attempts,
            self.failed + other.failed,
            self.timed_out + other.timed_out,
            self.over_estimate + other.over_estimate,
        )


def total(counts: Iterable[Counts]) -> Counts:
    """The sum of ``counts``."""
    summed = Counts()
    for item in counts:
        summed += item
    return summed


@dataclass(frozen=True, slots=True)
class History:
    """What came before one step's attempt, at each level (see the module's docstring).

    ``model``: the agent's attempts on the step's model (none without one); ``earlier``: the
    step's attempts before the recent days; ``recent``: in them; ``later_attempts``: the
    step's second and later attempts, read only for an attempt > 1.
    """

    everything: Counts
    agent: Counts
    earlier: Counts
    recent: Counts
    later_attempts: Counts = Counts()
    model: Counts = Counts()

    @property
    def own(self) -> int:
        """The step's own attempts in the history."""
        return self.earlier.attempts + self.recent.attempts

    def __add__(self, other: "History") -> "History":
        """Both histories' attempts, level by level."""
        return History(
            everything=self.everything + other.everything,
            agent=self.agent + other.agent,
            earlier=self.earlier + other.earlier,
            recent=self.recent + other.recent,
            later_attempts=self.later_attempts + other.later_attempts,
            model=self.model + other.model,
        )


@dataclass(frozen=True, slots=True)
class Estimate:
    """A step's chance of each risk (0 to 1), with the reasons that drove it.

    ``attempts``: the step's own attempts in the history (how much evidence is its own).
    """

    chances: dict[str, float]
    reasons: list[str] = field(default_factory=list)
    attempts: int = 0

    @property
    def sure(self) -> bool:
        """Whether the step's own history is enough to act on (:data:`MIN_EVIDENCE`)."""
        return self.attempts >= MIN_EVIDENCE


@dataclass(frozen=True, slots=True)
class _Level:
    name: str
    counts: Counts
    weight: float = PRIOR_WEIGHT


def estimate(
    history: History,
    *,
    step: str,
    agent: str,
    attempt: int = 1,
    estimated: bool = True,
    model: str = "",
) -> Estimate:
    """The chance of each risk for attempt ``attempt`` of ``step`` (run by ``agent``).

    ``step`` names it in reasons (``build of deliver-feature``); ``estimated``: the step has a
    cost estimate (without one, it cannot cost more than it: no ``over_estimate`` chance);
    ``model``: the model it runs on (empty: none, and no model level).
    """
    levels = [
        _Level(f"{agent} steps", history.agent),
        *([_Level(f"{agent} steps on {model}", history.model)] if model else []),
        _Level(f"{step} before the last {RECENT_DAYS} days", history.earlier),
        _Level(f"{step} in the last {RECENT_DAYS} days", history.recent, RECENT_WEIGHT),
    ]
    if attempt > 1:
        levels.append(_Level(f"later attempts of {step}", history.later_attempts))
    chances: dict[str, float] = {}
    reasons: list[str] = []
    for risk in RISKS if estimated else ("fail", "timeout"):
        rate, steps = _shrunk(history.everything, levels, risk)
        chances[risk] = round(rate, 4)
        reasons += _reasons(risk, steps)
    if history.own < MIN_EVIDENCE:
        reasons.append(
            f"{step} has {_attempts(history.own)} in {HISTORY_DAYS} days: the "
            f"estimate leans on {agent}'s steps and on every step"
        )
    return Estimate(chances, reasons, history.own)


def _shrunk(
    everything: Counts, levels: list[_Level], risk: Risk
) -> tuple[float, list[tuple[_Level, float, float]]]:
    """The rate after every level, and each level's (rate before it, rate after it)."""
    rate = (everything.of(risk) + PRIOR_WEIGHT * PRIOR_RATES[risk]) / (
        everything.attempts + PRIOR_WEIGHT
    )
    return _narrowed(rate, levels, risk)


def _reasons(risk: Risk, moves: list[tuple[_Level, float, float]]) -> list[str]:
    """The levels that moved the estimate by at least a point, largest move first."""
    moved = sorted(
        (m for m in moves if m[0].counts.attempts and abs(m[2] - m[1]) >= 0.01),
        key=lambda m: -abs(m[2] - m[1]),
    )
    return [
        f"{level.name} {_WHAT[risk]} {level.counts.of(risk)} of "
        f"{_attempts(level.counts.attempts)} ({level.counts.of(risk) / level.counts.attempts:.0%})"
        f": {before:.0%} → {after:.0%}"
        for level, before, after in moved[:2]
    ]


def _attempts(count: int) -> str:
    return f"{count} attempt" if count == 1 else f"{count} attempts"


# --- while an attempt runs --------------------------------------------------------------------

OVERRAN_SHARE: Final = 0.95
"""An earlier attempt that lasted this share of the limit or more ran out of it (the engine
stops one at its limit, a little after it)."""


@dataclass(frozen=True, slots=True)
class Earlier:
    """One earlier attempt of a step, as a running attempt's estimate compares with it.

    ``seconds``: how long it ran; ``failed``: it did not succeed; ``timed_out``: the engine
    stopped it at its limit; ``input_chars``: its rendered inputs' size as JSON.
    """

    seconds: float
    failed: bool
    timed_out: bool
    input_chars: int


@dataclass(frozen=True, slots=True)
class Running:
    """An attempt that is running: for how long, against which limit, with how large inputs."""

    elapsed_s: float
    timeout_s: float
    input_chars: int


def while_running(
    before: Estimate, earlier: Iterable[Earlier], running: Running, *, step: str
) -> Estimate:
    """``before`` (the attempt's estimate at dispatch) narrowed by what the attempt shows now.

    Two nested levels, each shrunk towards the rate above it by :data:`PRIOR_WEIGHT`: the
    step's earlier attempts that ran at least as long as this one has (a step that has run
    long is likelier to run out of time), then of those the ones whose inputs were within a
    factor of two of this one's size. A level that narrows nothing (every earlier attempt ran
    that long, or had inputs of that size) is skipped, so no attempt counts twice for nothing.
    An earlier attempt stopped by a shorter limit than this one's says nothing of this limit
    and is left out.
    """
    known = [
        e for e in earlier if not (e.timed_out and e.seconds < OVERRAN_SHARE * running.timeout_s)
    ]
    lasted = [e for e in known if e.seconds >= running.elapsed_s]
    alike = [e for e in lasted if _alike(e.input_chars, running.input_chars)]
    levels = []
    if len(lasted) < len(known):
        name = f"{step}'s attempts that ran {_duration(running.elapsed_s)} or longer"
        levels.append(_Level(name, _counted(lasted, running.timeout_s)))
    if len(alike) < len(lasted):
        name = f"those of them with inputs of about this size ({running.input_chars:,} characters)"
        levels.append(_Level(name, _counted(alike, running.timeout_s)))
    chances = dict(before.chances)
    reasons: list[str] = []
    for risk in ("fail", "timeout"):
        rate, moves = _narrowed(before.chances[risk], levels, risk)
        chances[risk] = round(rate, 4)
        reasons += _reasons(risk, moves)
    return Estimate(chances, reasons, before.attempts)


def _alike(chars: int, other: int) -> bool:
    """Whether two input sizes are within a factor of two of each other."""
    return max(chars, 1) <= 2 * max(other, 1) and max(other, 1) <= 2 * max(chars, 1)


def _counted(attempts: Sequence[Earlier], timeout_s: float) -> Counts:
    overran = sum(1 for e in attempts if e.seconds >= OVERRAN_SHARE * timeout_s)
    return Counts(len(attempts), sum(1 for e in attempts if e.failed), overran)


def _narrowed(
    start: float, levels: list[_Level], risk: Risk
) -> tuple[float, list[tuple[_Level, float, float]]]:
    """:func:`_shrunk` from a rate already made (``start``) instead of every step's."""
    rate, moves = start, []
    for level in levels:
        after = (level.counts.of(risk) + level.weight * rate) / (
            level.counts.attempts + level.weight
        )
        moves.append((level, rate, after))
        rate = after
    return rate, moves


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"
