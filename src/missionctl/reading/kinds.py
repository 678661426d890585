"""The kind of software a mission is about (``cli_tool``, ``web_app``, …), by weighted words."""

from functools import cache

from missionctl.reading.vocabulary import vocabulary
from missionctl.reading.words import WordPattern, fold

__all__ = ["GENERIC_KIND", "find_kind", "kind_label"]

GENERIC_KIND = "generic"
"""The kind of a mission whose words say too little about what it is."""


@cache
def _kinds() -> tuple[tuple[str, tuple[tuple[WordPattern, int], ...]], ...]:
    return tuple(
        (spec.key, tuple((WordPattern(pattern), weight) for pattern, weight in spec.words))
        for spec in vocabulary().kinds
    )


def find_kind(primary: str, secondary: str) -> str:
    """The best-scoring kind's key: words in ``primary`` (title and goal) count twice.

    Args:
        primary: The title and goal.
        secondary: The constraints and repository context.
    """
    first, second = fold(primary), fold(secondary)
    best, best_score = GENERIC_KIND, 0
    for key, patterns in _kinds():
        score = 0
        for pattern, weight in patterns:
            if pattern.search(first):
                score += 2 * weight
            elif pattern.search(second):
                score += weight
        if score > best_score:
            best, best_score = key, score
    return best if best_score >= vocabulary().min_kind_score else GENERIC_KIND


def kind_label(key: str) -> str:
    """How a kind reads in a sentence ("command-line tool"); "software" for the generic kind."""
    return next((spec.label for spec in vocabulary().kinds if spec.key == key), "software")
