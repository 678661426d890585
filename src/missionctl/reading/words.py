"""Words: plurals, word classes and the small text helpers every part of the reading uses."""

import re
from collections.abc import Iterator
from functools import cache
from typing import NewType

from missionctl.reading.vocabulary import vocabulary

__all__ = [
    "Folded",
    "WordPattern",
    "capitalise",
    "clip",
    "fold",
    "is_adverb",
    "normalise",
    "plural",
    "singular",
    "strip_articles",
    "third_person",
    "third_person_verbs",
]

_FLAGS = re.IGNORECASE

Folded = NewType("Folded", str)
"""Text lower-cased character by character, so that its positions are the original's."""


def fold(text: str) -> Folded:
    """``text`` in lower case, keeping its length (a character whose lower case is longer stays).

    Vocabulary patterns are written in lower case and matched against folded text: matching
    without ``re.IGNORECASE`` lets the regular expression engine skip ahead to a pattern's
    first letters, several times faster over a hundred patterns.
    """
    lower = text.lower()
    if len(lower) == len(text):
        return Folded(lower)
    return Folded("".join(c.lower() if len(c.lower()) == 1 else c for c in text))


class WordPattern:
    r"""A vocabulary pattern matched on whole words of folded text, in linear time.

    A match must not start right after a word character (or one of ``before``), nor end right
    before one (or one of ``after``): ``-`` on both sides keeps "production-ready" from being
    "production"; ``+`` and ``#`` after keep "c" from being "c++".

    That is ``(?<!\w)…(?!\w)`` around the pattern; but a look-behind first stops the engine
    from searching for the pattern's first letters, so when every alternative of the pattern
    starts with a letter, the start is checked here instead, skipping the rest of a word
    once a match inside it is refused. A pattern that may start otherwise ("\d+ users") keeps
    the look-behind, without which the engine would retry it at every digit of a long number.
    """

    def __init__(
        self, pattern: str, *, before: str = "", after: str = "", suffix: str = ""
    ) -> None:
        """Compile ``pattern`` (lower case), followed by the optional ``suffix`` expression."""
        joined = rf"\w{re.escape(before)}"
        ending = rf"(?![\w{re.escape(after)}])"
        self._checks_start = all(_starts_with_letter(a) for a in _alternatives(pattern))
        head = "" if self._checks_start else rf"(?<![{joined}])"
        self._regex = re.compile(rf"{head}(?:{pattern}){suffix}{ending}")
        self._joined = re.compile(rf"[{joined}]")
        self._free = re.compile(rf"[^{joined}]")

    def search(self, text: Folded) -> re.Match[str] | None:
        """The leftmost whole-word match in ``text``, or ``None``."""
        return next(self.finditer(text), None)

    def finditer(self, text: Folded) -> Iterator[re.Match[str]]:
        """Every non-overlapping whole-word match in ``text``, left to right."""
        position = 0
        while (match := self._regex.search(text, position)) is not None:
            start = match.start()
            if start == 0 or not self._checks_start or not self._joined.match(text, start - 1):
                yield match
                position = max(match.end(), start + 1)
                continue
            # No match starts inside this word: go on after the character that ends it.
            free = self._free.search(text, start)
            position = free.end() if free else len(text)


def _alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a regular expression (``a|b(c|d)`` → ``a``, ``b(c|d)``)."""
    parts: list[str] = []
    current: list[str] = []
    depth, in_class, escaped = 0, False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _starts_with_letter(alternative: str) -> bool:
    """Whether every match of ``alternative`` starts with the same letter or digit."""
    return (
        len(alternative) > 0
        and alternative[0].isalnum()
        and alternative[1:2] not in ("*", "?", "{")
    )


def normalise(text: str) -> str:
    """``text`` with every run of whitespace made one space, and no outer whitespace."""
    return " ".join(text.split())


def capitalise(text: str) -> str:
    """``text`` with its first letter upper case, the rest as written ("URL shortener")."""
    return text[:1].upper() + text[1:] if text else text


def clip(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis."""
    text = normalise(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"


@cache
def _article() -> re.Pattern[str]:
    return re.compile(rf"^(?:{'|'.join(vocabulary().articles)})\s+", _FLAGS)


def strip_articles(text: str) -> str:
    """``text`` without its leading articles and possessives ("the our app" → "app")."""
    article = _article()
    previous = None
    while previous != text:
        previous = text
        text = article.sub("", text)
    return text


def as_said(text: str, said: str) -> str:
    """``text`` led by the articles and possessives that lead it in ``said``, if any.

    A clause loses its leading article when it is read ("a scale every morning" → "scale
    every morning"); where its words are quoted back to the user, they come as written ("weigh
    their harvest with a scale every morning"). ``text`` as it is when ``said`` lacks it.
    """
    articles = "|".join(vocabulary().articles)
    pattern = rf"(?<![\w-])((?:(?:{articles})\s+)+){re.escape(text)}(?![\w-])"
    found = re.search(pattern, said, _FLAGS)
    return f"{' '.join(found.group(1).split())} {text}" if found else text


def singular(word: str) -> str:
    """A noun's singular form, good enough for entity names (``aliases`` → ``alias``)."""
    lower = word.lower()
    irregular = vocabulary().irregular_plurals
    if lower in irregular:
        found = irregular[lower]
        return capitalise(found) if word[:1].isupper() else found
    if lower.endswith("ies") and len(lower) > 4:
        return word[:-3] + "y"
    if lower.endswith(("sses", "xes", "ches", "shes", "zzes")):
        return word[:-2]
    if lower.endswith("s") and not lower.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def plural(name: str) -> str:
    """A name's plural, by its last word (``Stock movement`` → ``Stock movements``).

    Mass nouns stay as they are ("Daily revenue").
    """
    words = name.split()
    last = words[-1]
    lower = last.lower()
    if lower in vocabulary().mass_nouns:
        return name
    if lower.endswith(("s", "x", "ch", "sh", "z")):
        last += "es"
    elif lower.endswith("y") and lower[-2:-1] not in "aeiou":
        last = last[:-1] + "ies"
    else:
        last += "s"
    return " ".join([*words[:-1], last])


def is_adverb(word: str) -> bool:
    """Whether ``word`` reads as an adverb or adjective in -ly ("incrementally", "daily")."""
    lower = word.lower()
    return lower.endswith("ly") and len(lower) > 3 and lower not in vocabulary().ly_nouns


def third_person(verb: str) -> str:
    """``"sync"`` → ``"syncs"``, ``"search"`` → ``"searches"``, ``"notify"`` → ``"notifies"``."""
    if verb.endswith(("s", "sh", "ch", "x", "z")):
        return verb + "es"
    if verb.endswith("y") and verb[-2:-1] not in ("a", "e", "i", "o", "u"):
        return verb[:-1] + "ies"
    return verb + "s"


@cache
def third_person_verbs() -> dict[str, str]:
    """Third-person forms of the feature verbs ("converts") mapped to their base ("convert")."""
    words = vocabulary()
    return {
        **{third_person(verb): verb for verb in words.feature_verbs},
        **words.irregular_verbs,
    }
