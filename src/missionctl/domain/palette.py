"""The command palette's fuzzy match: which names a few typed letters mean, and how well.

A query is words separated by spaces; a name matches when every word matches it, case left
aside. Each word scores by the best way it matches, best first: the whole name, a prefix of
the name, a prefix of one of its words, a substring, the initials of its words ("nb" for
"nightly-build"), then, as a weak fallback, a scattered subsequence, which scores more the more
of its letters start words or follow one another. The fallback is for a one-word query, its
first letter must start a word and its letters must lie within :data:`SCATTERED_MAX_WORDS`
words of the name: letters scattered over a long name, or the words of a longer query, would
otherwise match names that have nothing to do with it ("heart rate" found Workers through
"their heartbeats", and the gallery of workflow templates). A name's score is the sum of
its words' scores, less a little per character so that, among equal matches, the shorter name
(the closer one) comes first.

The same words make the ``LIKE`` patterns that bound the database's candidates
(:func:`like_patterns`): a name the patterns reject cannot score, so the prefilter never hides
a match, and the database does the coarse work on a bounded number of rows.

Pure: no I/O, no framework (ADR 0062).
"""

import re
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Final

DEFAULT_LIMIT: Final = 20
"""How many items a search answers when it does not say."""

MAX_LIMIT: Final = 50
"""The most items one search answers."""

MAX_QUERY_CHARS: Final = 100
"""The longest query (a longer one is refused): a palette query is a few letters of a name."""

MAX_WORDS: Final = 6
"""The most words in one query; each adds one ``LIKE`` condition per searched column."""

EXACT: Final = 1000
PREFIX: Final = 800
WORD_PREFIX: Final = 600
SUBSTRING: Final = 400
INITIALS: Final = 350
SUBSEQUENCE: Final = 100
SCATTERED_MAX_WORDS: Final = 2
"""The most words of a name a scattered match's letters may lie in ("custdb": customer database)."""
# A scattered match earns this per letter that starts a word, or follows the previous match.
WORD_START_BONUS: Final = 12
ADJACENT_BONUS: Final = 6
# Among equal matches the shorter name wins; a name of 200 characters loses 20 points.
LENGTH_PENALTY_PER_10_CHARS: Final = 1

# Where a word starts: after a space or punctuation, or at a lower-to-upper case change.
_SEPARATORS: Final = frozenset(" \t-_./:·,;()[]{}'\"#@")
# Spaces separate words; so do control characters, which no stored name holds (PostgreSQL
# cannot even compare text with a NUL), so they cannot be part of a word.
_SPACES: Final = re.compile(r"[\s\x00-\x1f\x7f]+")
LIKE_ESCAPE: Final = "\\"


class QueryTooLong(ValueError):
    """The query is longer than :data:`MAX_QUERY_CHARS` or has more than :data:`MAX_WORDS`."""


def query_words(query: str) -> list[str]:
    """The lower-cased words of ``query`` (none for a blank one).

    Raises:
        QueryTooLong: over :data:`MAX_QUERY_CHARS` characters, or over :data:`MAX_WORDS` words;
            the message says how to fix it.
    """
    if len(query) > MAX_QUERY_CHARS:
        raise QueryTooLong(
            f"is {len(query)} characters long; type at most {MAX_QUERY_CHARS}: "
            "a few letters of a name are enough"
        )
    words = [w for w in _SPACES.split(query.strip().casefold()) if w]
    if len(words) > MAX_WORDS:
        raise QueryTooLong(f"has {len(words)} words; use at most {MAX_WORDS}")
    return words


def _escape(char: str) -> str:
    return LIKE_ESCAPE + char if char in "%_" + LIKE_ESCAPE else char


def like_patterns(words: Sequence[str]) -> list[str]:
    r"""One case-insensitive ``LIKE`` pattern (escape ``\``) per word: its letters, in order.

    ``"nb"`` becomes ``"%n%b%"``; wildcards typed by the user are escaped, so ``50%`` means
    that text. A name matching none of these cannot score (:func:`score`).
    """
    return ["%" + "%".join(_escape(c) for c in word) + "%" for word in words]


def _word_starts(text: str) -> list[bool]:
    """For each character of ``text``: whether a word starts there."""
    starts: list[bool] = []
    previous = " "
    for char in text:
        starts.append(
            char not in _SEPARATORS
            and (previous in _SEPARATORS or (previous.islower() and char.isupper()))
        )
        previous = char
    return starts


def _scattered(word: str, folded: str, starts: list[bool]) -> list[int] | None:
    """Where ``word``'s letters lie in ``folded``, in order; ``None``: not a subsequence.

    Greedy, leftmost, but a letter that can start a word later on before the next needed one
    is taken there instead: "ab" in "xab-ab" prefers the word start.
    """
    positions: list[int] = []
    position = 0
    for char in word:
        found = folded.find(char, position)
        if found < 0:
            return None
        if not starts[found]:
            for candidate in range(found + 1, len(folded)):
                if folded[candidate] == char and starts[candidate]:
                    found = candidate
                    break
        positions.append(found)
        position = found + 1
    return positions


def _subsequence(word: str, folded: str, starts: list[bool]) -> int | None:
    """The score of ``word`` as scattered letters of ``folded``.

    ``None`` when it is not a subsequence, when its first letter starts no word, or when its
    letters spread over more than :data:`SCATTERED_MAX_WORDS` words of ``folded``: then they
    are no longer a few letters of a name.
    """
    positions = _scattered(word, folded, starts)
    if positions is None or not starts[positions[0]]:
        return None
    words_touched = {sum(starts[: p + 1]) for p in positions}
    if len(words_touched) > SCATTERED_MAX_WORDS:
        return None
    bonus = sum(WORD_START_BONUS for p in positions if starts[p])
    bonus += sum(ADJACENT_BONUS for a, b in pairwise(positions) if b == a + 1)
    return SUBSEQUENCE + bonus


def _initials(word: str, folded: str, starts: list[bool]) -> bool:
    letters = "".join(c for c, start in zip(folded, starts, strict=True) if start)
    return len(word) > 1 and letters.startswith(word)


def word_score(word: str, text: str, *, scattered: bool = True) -> int | None:
    """How well one lower-cased ``word`` matches ``text``; ``None``: it does not.

    ``scattered=False`` leaves the weak fallback out: the word must then be found whole (as
    the name, a prefix, a substring) or as the initials of the name's words.
    """
    folded = text.casefold()
    if len(folded) != len(text):
        # Folding changed the length (ß → ss): word starts are read on the folded text.
        text = folded
    if word == folded:
        return EXACT
    if folded.startswith(word):
        return PREFIX
    starts = _word_starts(text)
    at = folded.find(word)
    if at >= 0:
        while at >= 0:
            if starts[at]:
                return WORD_PREFIX
            at = folded.find(word, at + 1)
        return SUBSTRING
    if _initials(word, folded, starts):
        return INITIALS
    return _subsequence(word, folded, starts) if scattered else None


def score(words: Sequence[str], text: str) -> int | None:
    """The score of ``text`` for the query's ``words``; ``None``: some word does not match.

    No words (a blank query) match everything with score 0. Only a one-word query may match
    scattered letters: in a longer one, each word must be found whole or as initials.
    """
    if not words:
        return 0
    scattered = len(words) == 1
    total = 0
    for word in words:
        found = word_score(word, text, scattered=scattered)
        if found is None:
            return None
        total += found
    return total - LENGTH_PENALTY_PER_10_CHARS * (len(text) // 10)


def best_score(words: Sequence[str], texts: Iterable[tuple[str, int]]) -> int | None:
    """The best score over ``(text, handicap)`` pairs: a name, and other texts it is found by.

    A secondary text (a run's workflow, when its title is the mission's) scores its match less
    its handicap, so that a match on the name itself ranks first.
    """
    best: int | None = None
    for text, handicap in texts:
        found = score(words, text)
        if found is not None and (best is None or found - handicap > best):
            best = found - handicap
    return best
