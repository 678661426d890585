"""What a mission states about its constraints: plan-changing signals, cadence and scale."""

import re
from collections.abc import Sequence
from functools import cache

from missionctl.reading.model import Signal
from missionctl.reading.vocabulary import Scale, SignalSpec, vocabulary
from missionctl.reading.words import WordPattern, fold

__all__ = ["find_cadence", "find_scale", "find_signals"]

_MULTIPLIERS = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000}
_MULTIPLIERS |= {"bn": 1_000_000_000, "billion": 1_000_000_000}


@cache
def _signals() -> tuple[tuple[SignalSpec, WordPattern, WordPattern | None], ...]:
    return tuple(
        (
            spec,
            WordPattern(spec.pattern),
            WordPattern(spec.value_pattern) if spec.value_pattern else None,
        )
        for spec in vocabulary().signals
    )


def find_signals(text: str, constraints: Sequence[str]) -> tuple[Signal, ...]:
    """The signals ``text`` states, in vocabulary order, each with the constraints stating it.

    Args:
        text: Everything the mission says (title, goal, constraints, repository context).
        constraints: The mission's constraints; a signal records the indexes of those that
            state it.
    """
    folded, stated = fold(text), [fold(c) for c in constraints]
    found: list[Signal] = []
    for spec, pattern, value_pattern in _signals():
        if match := pattern.search(folded):
            value = value_pattern.search(folded) if value_pattern else None
            start, end = (value or match).span()
            stating = tuple(i for i, c in enumerate(stated) if pattern.search(c))
            found.append(Signal(key=spec.key, value=text[start:end], constraints=stating))
    return tuple(found)


@cache
def _cadence() -> WordPattern:
    return WordPattern(vocabulary().cadence)


def find_cadence(text: str) -> str | None:
    """How often scheduled work runs ("nightly", "every 5 minutes"), lower case, if stated.

    An interval ("refreshed every hour") wins over an adjective of the data ("daily revenue
    tables"), wherever each is.
    """
    found = [m.group(0).lower() for m in _cadence().finditer(fold(text))]
    return next((f for f in found if f.startswith("every")), found[0] if found else None)


@cache
def _scale() -> tuple[re.Pattern[str], tuple[tuple[Scale, WordPattern], ...]]:
    rules = vocabulary().scale
    count = re.compile(
        r"(?<![\w.,])(?:(?P<number>\d[\d,]*(?:\.\d+)?)|an?|one)\s*"
        rf"(?P<unit>k|thousand|m|million|bn|billion)?\s+(?:{rules.counted})(?!\w)",
        re.IGNORECASE,
    )
    return count, tuple((level.level, WordPattern(level.words)) for level in rules.levels)


def find_scale(text: str) -> tuple[Scale, str | None]:
    """The scale ``text`` implies and the words that say so (``("small", "small bakery")``)."""
    count, levels = _scale()
    for match in count.finditer(text):
        unit = (match.group("unit") or "").lower()
        if not unit and not match.group("number"):
            continue  # "a user" is no count
        people = float((match.group("number") or "1").replace(",", "")) * _MULTIPLIERS.get(unit, 1)
        level = next(
            (lv for lv, most in vocabulary().scale.at_most.items() if people <= most), None
        )
        return level or "large", match.group(0)
    folded = fold(text)
    for level, pattern in levels:
        if found := pattern.search(folded):
            return level, text[found.start() : found.end()]
    return "unstated", None
