"""How many problems one answer lists: the first ones, then a count of the rest.

A body of 300,000 unknown keys has 300,000 problems; listing them all made a 52 MB answer that
took seconds to build, and no one reads past the first screen. Every list of problems that
leaves the server (a 422, the editor's check, a preview) is cut here (ADR 0076).
"""

from collections.abc import Sequence

from missionctl.errors import Problem

MAX_PROBLEMS = 50
"""Most problems listed in one answer; the rest are counted."""


def more_problems(count: int) -> str:
    """The words that stand for ``count`` problems left out."""
    noun = "problem" if count == 1 else "problems"
    return f"… and {count:,} more {noun}; fix these first, then check again"


def capped(problems: Sequence[Problem]) -> list[Problem]:
    """``problems``, cut to the first :data:`MAX_PROBLEMS` and one that counts the rest.

    The added problem has no field and says how many were left out (:func:`more_problems`).
    """
    if len(problems) <= MAX_PROBLEMS:
        return list(problems)
    rest = len(problems) - MAX_PROBLEMS
    return [*problems[:MAX_PROBLEMS], Problem(None, more_problems(rest))]
