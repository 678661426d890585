"""The search box's language, and the highlighted snippet of a match (ADR 0041).

A query is plain words (every one must match), ``"quoted phrases"`` (the words in that order)
and prefixes (``conn*``). Only letters and digits make words, as the databases' tokenizers
read the text: every other character separates words, so no input can reach a database's
query syntax (``AND``, ``NEAR(``, ``:``, ``-`` are words or separators here). A query that
cannot be searched is refused with a message that says how to fix it.
"""

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

MAX_QUERY_CHARS = 500
"""The longest query (a longer one is refused; every word of a log line fits)."""

MAX_TERMS = 16
"""The most words, phrases and prefixes in one query."""

MIN_PREFIX_CHARS = 2
"""The fewest letters or digits before ``*``: one would match most of the index."""

SNIPPET_CHARS = 240
"""The most characters of an entry a result shows, around its first match."""

# Letters and digits, as SQLite's unicode61 tokenizer reads them (underscore is punctuation).
_WORD = re.compile(r"[^\W_]+")
# A quoted phrase (the closing quote may be missing), or a run of other characters.
_CHUNK = re.compile(r'"([^"]*)"?(\*?)|([^\s"]+)')


class SearchKind(StrEnum):
    """What an entry of the index is: a step's log line, an error, or an event's reason."""

    log = "log"
    error = "error"
    event = "event"


class QueryRejected(ValueError):
    """The query cannot be searched; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class Term:
    """One word, or a phrase's words in order; ``prefix``: the last word is a prefix."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Terms that must all match one entry."""

    terms: tuple[Term, ...]


def _words(text: str) -> tuple[str, ...]:
    return tuple(word for word in _WORD.findall(text) if not _only_marks(word))


def _only_marks(word: str) -> bool:
    return all(unicodedata.category(char).startswith("M") for char in word)


def parse_query(text: str) -> SearchQuery:
    """Read a search box's text.

    A run of characters between spaces is one term: ``db.example.com`` is the phrase
    "db example com", as the text it should find is split. A trailing ``*`` makes the last word
    a prefix, inside or after a quoted phrase too. An unclosed quote runs to the end.

    Raises:
        QueryRejected: the text is too long, has no letter or digit, too many terms, or a
            prefix shorter than ``MIN_PREFIX_CHARS``.
    """
    if len(text) > MAX_QUERY_CHARS:
        raise QueryRejected(
            f"is {len(text)} characters long; search for at most {MAX_QUERY_CHARS}: "
            "a few distinctive words find a line"
        )
    terms: list[Term] = []
    for match in _CHUNK.finditer(text):
        phrase, star_after, bare = match.groups()
        raw = phrase if bare is None else bare
        words = _words(raw)
        if not words:
            continue
        prefix = raw.rstrip().endswith("*") or bool(star_after)
        if prefix and len(words[-1]) < MIN_PREFIX_CHARS:
            raise QueryRejected(
                f"the prefix {words[-1]}* is too short: give at least {MIN_PREFIX_CHARS} "
                "letters or digits before *, e.g. conn*"
            )
        terms.append(Term(words, prefix))
    if not terms:
        raise QueryRejected(
            "has no word to search for: type letters or digits, e.g. timeout; "
            '"quotes" make a phrase and a trailing * a prefix'
        )
    if len(terms) > MAX_TERMS:
        raise QueryRejected(
            f"has {len(terms)} words, phrases and prefixes; use at most {MAX_TERMS} "
            '(quote words that belong together: "connection refused")'
        )
    return SearchQuery(tuple(terms))


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a snippet; ``match``: the piece is what the query found."""

    text: str
    match: bool = False


def marked_spans(marked: str, *, start: str, stop: str) -> tuple[str, list[tuple[int, int]]]:
    """The text without the ``start``/``stop`` markers a database put around matches.

    Returns:
        The plain text, and the ``(begin, end)`` offsets of each marked match in it.
    """
    plain: list[str] = []
    spans: list[tuple[int, int]] = []
    length = 0
    rest = marked
    while (begin := rest.find(start)) >= 0:
        end = rest.find(stop, begin + len(start))
        if end < 0:
            break
        plain.append(rest[:begin])
        length += begin
        inner = rest[begin + len(start) : end]
        plain.append(inner)
        spans.append((length, length + len(inner)))
        length += len(inner)
        rest = rest[end + len(stop) :]
    plain.append(rest)
    return "".join(plain), spans


def snippet(
    text: str, spans: list[tuple[int, int]], *, width: int = SNIPPET_CHARS
) -> list[Segment]:
    """At most ``width`` characters of ``text`` around its first match, matches marked.

    A cut is shown as "…" at the start or the end. ``spans`` are sorted offsets into ``text``.
    """
    begin, end = 0, len(text)
    if len(text) > width:
        first = spans[0][0] if spans else 0
        begin = max(0, min(first - width // 4, len(text) - width))
        end = begin + width
    segments: list[Segment] = [Segment("…")] if begin > 0 else []
    at = begin
    for span_begin, span_end in spans:
        span_begin, span_end = max(span_begin, at), min(span_end, end)
        if span_begin >= span_end:
            continue
        if span_begin > at:
            segments.append(Segment(text[at:span_begin]))
        segments.append(Segment(text[span_begin:span_end], match=True))
        at = span_end
    if at < end:
        segments.append(Segment(text[at:end]))
    if end < len(text):
        segments.append(Segment("…"))
    return segments
