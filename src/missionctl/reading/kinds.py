"""The kind of software a mission is about (``firmware``, ``web_app``, …), by weighted words.

The one detector of kinds: the local planner plans the kind found here (its kinds in
``missionctl/planning/kinds/`` have the same keys), and the reading uses it for what a kind
implies (whether people sign in, whether a device keeps records). The words are in
``data/kinds.yaml``.
"""

import re
from dataclasses import dataclass
from functools import cache

from missionctl.reading.vocabulary import vocabulary

__all__ = ["GENERIC_KIND", "KindFinding", "find_kind", "kind_keys"]

GENERIC_KIND = "generic"
"""The kind of a mission whose words say too little about what it is."""


@dataclass(frozen=True, slots=True)
class KindFinding:
    """The kind found, its score, and the patterns that matched, in the table's order."""

    key: str
    score: int
    words: tuple[str, ...]


@cache
def _kinds() -> tuple[tuple[str, tuple[tuple[str, re.Pattern[str], int], ...]], ...]:
    return tuple(
        (
            spec.key,
            tuple(
                (raw, re.compile(rf"(?<!\w)(?:{raw})(?!\w)", re.IGNORECASE), weight)
                for raw, weight in spec.words
            ),
        )
        for spec in vocabulary().kinds
    )


def kind_keys() -> tuple[str, ...]:
    """Every kind but the generic one, in the order they are tried."""
    return tuple(key for key, _ in _kinds())


def find_kind(primary: str, secondary: str, subject: str = "") -> KindFinding:
    """The best-scoring kind; ``GENERIC_KIND`` when none scores the minimum.

    Each pattern counts once: twice its weight in ``primary`` (three times when it is in
    ``subject`` too), its weight in ``secondary``. A tie goes to the kind tried first.

    Args:
        primary: The title and goal (and the existing system the work goes into).
        secondary: The constraints, deployment clauses and repository context.
        subject: What a new goal makes ("Go CLI"): its words weigh most. Empty for a change
            to a system or a move of one.
    """
    best = KindFinding(GENERIC_KIND, 0, ())
    for key, patterns in _kinds():
        score = 0
        matched: list[str] = []
        for raw, pattern, weight in patterns:
            if pattern.search(primary):
                score += (3 if subject and pattern.search(subject) else 2) * weight
                matched.append(raw)
            elif pattern.search(secondary):
                score += weight
                matched.append(raw)
        if score > best.score:
            best = KindFinding(key, score, tuple(matched))
    if best.score < vocabulary().min_kind_score:
        return KindFinding(GENERIC_KIND, best.score, best.words)
    return best
