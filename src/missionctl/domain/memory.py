"""Mission memory's pure rules: what a finished mission taught, and what a new one recalls.

A finished mission (``completed``, ``failed`` or ``canceled``) is remembered as entries: its
summary, its decisions, its risks, the lessons of its runs and its documents (ADR 0055). The
lessons are sentences made here from the facts of its runs (:func:`lessons`): which steps
failed and why, which were retried, what the mission and its dearest steps cost. A new
mission recalls the finished missions whose summaries share significant words with its own
text (:func:`significant_words`, :func:`shared_words`), the database ranking them.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from missionctl.domain.money import micros_text
from missionctl.domain.similarity import content_words
from missionctl.domain.states import MissionStatus

FINISHED: frozenset[MissionStatus] = frozenset(
    {MissionStatus.completed, MissionStatus.failed, MissionStatus.canceled}
)
"""The statuses of a mission memory remembers."""

MAX_PAGE = 50
"""The most missions one page of a memory search holds."""

MAX_QUERY_WORDS = 24
"""The most words of a new mission's text that look for similar missions (the rarest first
is the database's business; these are the first distinct ones in the text)."""

MIN_SHARED_WORDS = 2
"""A past mission is similar when its summary shares at least this many content words."""

MAX_LESSONS = 8
"""The most lessons one mission leaves (its failures first)."""

ERROR_CHARS = 200
"""The most characters of a step's error a lesson quotes."""

_WORD = re.compile(r"[^\W_]+")
# Words too common in goals to say what a mission is about.
_COMMON = frozenset(
    (
        "build", "make", "create", "add", "want", "need", "should", "must", "will", "can",
        "our", "we", "you", "your", "they", "them", "app", "new", "simple", "basic",
    )
)  # fmt: skip


class MemoryKind(StrEnum):
    """What a remembered entry is."""

    summary = "summary"
    decision = "decision"
    risk = "risk"
    lesson = "lesson"
    document = "document"


@dataclass(frozen=True, slots=True)
class StepFact:
    """What one step of a run did: the facts its lesson is made of."""

    step_id: str
    status: str
    attempts: int
    cost_micros: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RunFact:
    """How one run of the mission ended, and its steps."""

    status: str
    steps: tuple[StepFact, ...]
    error: str | None = None


def usd(micros: int) -> str:
    """Micro-dollars as a price (``domain.money``: ``$0.0123``, ``$2.50``)."""
    return micros_text(micros)


def _clip(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def lessons(*, outcome: str, spent_micros: int, runs: Sequence[RunFact]) -> list[str]:
    """The lessons of a finished mission's runs, one sentence each, failures first.

    - a step that failed: "Step build failed after 3 attempts: <its error>";
    - a step retried before it succeeded: "Step test succeeded on attempt 2 (1 retry)";
    - a run that ended without completing, with its error;
    - what the mission cost, in how many runs, and its dearest step when one cost anything.

    Returns at most :data:`MAX_LESSONS` sentences; none for a mission that never ran and
    cost nothing.
    """
    failed: list[str] = []
    retried: list[str] = []
    dearest: StepFact | None = None
    for run in runs:
        if run.status in ("failed", "aborted", "canceled") and run.error:
            failed.append(f"A run ended {run.status}: {_clip(run.error, ERROR_CHARS)}")
        for step in run.steps:
            if dearest is None or step.cost_micros > dearest.cost_micros:
                dearest = step
            failed.extend(_failure(step))
            if step.status == "succeeded" and step.attempts > 1:
                retries = step.attempts - 1
                retried.append(
                    f"Step {step.step_id} succeeded on attempt {step.attempts} "
                    f"({retries} {'retry' if retries == 1 else 'retries'}; "
                    f"it cost {usd(step.cost_micros)})"
                )
    cost = _cost_lesson(outcome, spent_micros, len(runs), dearest)
    found = _distinct([*failed, *retried, *([cost] if cost else [])])
    return found[:MAX_LESSONS]


def _failure(step: StepFact) -> list[str]:
    if step.status not in ("failed", "blocked"):
        return []
    attempts = "1 attempt" if step.attempts == 1 else f"{step.attempts} attempts"
    why = f": {_clip(step.error, ERROR_CHARS)}" if step.error else ""
    return [f"Step {step.step_id} {step.status} after {attempts}{why}"]


def _cost_lesson(outcome: str, spent: int, runs: int, dearest: StepFact | None) -> str | None:
    if not runs and not spent:
        return None
    sentence = f"The mission ended {outcome} and cost {usd(spent)}"
    if runs:
        sentence += f" over {runs} run{'' if runs == 1 else 's'}"
    if dearest is not None and dearest.cost_micros > 0:
        sentence += f"; its dearest step was {dearest.step_id} ({usd(dearest.cost_micros)})"
    return sentence


def _distinct(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(texts))


def significant_words(texts: Iterable[str]) -> list[str]:
    """The distinct words of ``texts`` that say what a mission is about, in order.

    Letters and digits only (no query syntax survives), lower case, at least three
    characters, neither a function word nor a word every goal uses; at most
    :data:`MAX_QUERY_WORDS`.
    """
    found: list[str] = []
    for text in texts:
        for word in _WORD.findall(text.lower()):
            if len(word) < 3 or word in _COMMON or word in found:
                continue
            if not content_words(word):  # a function word
                continue
            found.append(word)
            if len(found) == MAX_QUERY_WORDS:
                return found
    return found


def shared_words(first: str, second: str) -> frozenset[str]:
    """The content words (folded stems) two texts share, common goal words left out."""
    return (content_words(first) & content_words(second)) - content_words(" ".join(_COMMON))


def is_similar(new_text: str, past_text: str) -> bool:
    """Whether a past mission's summary shares enough with a new mission's text."""
    return len(shared_words(new_text, past_text)) >= MIN_SHARED_WORDS
