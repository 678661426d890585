"""Count the words of a text."""

import re
from collections import Counter

_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    """The words of ``text``, lower-cased, in order."""
    return _WORD.findall(text.lower())


def count_words(text: str) -> Counter[str]:
    """How many times each word of ``text`` occurs."""
    return Counter(words(text))


def top_words(text: str, n: int) -> list[tuple[str, int]]:
    """The ``n`` most frequent words of ``text`` with their counts, most frequent first.

    Words that occur equally often come in alphabetical order; ``n`` larger than the number of
    distinct words returns them all; ``n`` below 1 raises ``ValueError``.
    """
    raise NotImplementedError("top_words is not written yet")
