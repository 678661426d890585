"""The language a goal is written in, and whether it says enough to plan."""

import re
from functools import cache

from missionctl.reading.vocabulary import vocabulary

__all__ = ["UNDETERMINED", "find_language", "is_vague"]

UNDETERMINED = "und"
"""The language of a text with no word that gives its language away (ISO 639-2 "und")."""

_TOKEN = re.compile(r"[^\W\d_]+")


def _tokens(text: str) -> list[str]:
    return [token.lower() for token in _TOKEN.findall(text)]


def find_language(text: str) -> str:
    """The language whose telling words ``text`` uses most (English on a tie), or ``und``."""
    tokens = _tokens(text)
    counts = {
        language: sum(token in words for token in tokens)
        for language, words in vocabulary().languages.items()
    }
    best = max(counts, key=lambda language: counts[language])
    return best if counts[best] else UNDETERMINED


@cache
def _empty_words() -> frozenset[str]:
    words = vocabulary()
    verbs = {part for verb in words.leading_verbs for part in verb.split()}
    return words.fillers | words.software_nouns | verbs


def is_vague(goal: str, *, language: str, named_anything: bool) -> bool:
    """Whether ``goal`` says too little to plan.

    It does when, in English (or an undetermined language), it names no feature, technology or
    record and every word is a verb, a filler or a name for software in general ("Build a
    thing.", "Make an app"). Goals in other languages are not judged here.

    Args:
        goal: The goal as written.
        language: Its language (see :func:`find_language`).
        named_anything: Whether a feature, technology or entity was read in it.
    """
    if language not in ("en", UNDETERMINED) or named_anything:
        return False
    empty = _empty_words()
    return not [token for token in _tokens(goal) if len(token) > 1 and token not in empty]
