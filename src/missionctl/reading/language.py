"""The language a goal is written in, and whether it says enough to plan.

Both are judged cheaply and deterministically, from word lists that are data
(``data/languages.yaml``, and ``generic_words`` in ``data/words.yaml``):

- **Language.** Words are counted against short lists of common function words: English's,
  and those of the languages goals most often come in besides. A text leans to another
  language when that language's words (with accented words, once it has one) number at least
  ``min_foreign_words`` and more than the English ones. A text mostly in another script
  (Cyrillic, Chinese, …), one that leans away from English to no single language, and one with
  no letter at all read as undetermined; any other text, even one with no function word ("URL
  shortener"), reads as English.
- **Vagueness.** What is left of a text once English function words and generic words
  ("build", "app", "system", "thing", …) are dropped, and repeated sentences are read once, must
  hold at least one word: a name, a domain, a kind of software ("wiki", "API", "invoices").
  "Build a URL shortener" does; "Build an app" does not.
"""

import re
import unicodedata
from collections.abc import Sequence
from functools import cache

from missionctl.reading.vocabulary import Languages, vocabulary

__all__ = [
    "ENGLISH",
    "UNDETERMINED",
    "distinct_sentences",
    "find_language",
    "is_vague",
    "language_name",
]

ENGLISH = "en"
"""The language the reading parses, and the one the others are told from."""

UNDETERMINED = "und"
"""The language of a text the word lists cannot name (ISO 639-2 "und")."""

# A word: letters and digits, hyphenated parts kept together ("role-based", "e-mail");
# apostrophes split, so French elisions ("l'application") give their article.
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def find_language(text: str, languages: Languages | None = None) -> str:
    """The language ``text`` is written in: ``en``, another code of ``languages``, or ``und``.

    Args:
        text: Any text.
        languages: The languages to tell apart; those of ``data/languages.yaml`` by default.
    """
    languages = languages or vocabulary().languages
    text = distinct_sentences(text)
    letters = [c for c in text if c.isalpha()]
    if not letters or 2 * sum(not _latin(c) for c in letters) > len(letters):
        return UNDETERMINED
    words = _words(text)
    english = sum(w in languages.languages[ENGLISH].words for w in words)
    code, best = _best_language(words, languages)
    accented = sum(not w.isascii() for w in words) if best else 0
    foreign = best + accented
    if foreign < languages.min_foreign_words or foreign <= english:
        return ENGLISH
    return code or UNDETERMINED


def language_name(code: str, languages: Languages | None = None) -> str | None:
    """The name of the language ``code`` ("fr" → "French"), or ``None`` for one not listed."""
    spec = (languages or vocabulary().languages).languages.get(code)
    return spec.name if spec else None


def is_vague(text: str) -> bool:
    """Whether ``text`` names nothing to plan: no word left once function and generic words go."""
    empty = _empty_words()
    return not any(len(w) > 1 and not w.isdigit() and w not in empty for w in _words(text))


def distinct_sentences(text: str) -> str:
    """``text`` with every sentence after its first occurrence dropped (case and spaces aside)."""
    seen: dict[str, str] = {}
    for match in _SENTENCE.finditer(text):
        sentence = " ".join(match.group(0).split())
        if sentence:
            seen.setdefault(sentence.lower(), sentence)
    return "\n".join(seen.values())


def _words(text: str) -> list[str]:
    return _WORD.findall(distinct_sentences(text).lower())


@cache
def _empty_words() -> frozenset[str]:
    words = vocabulary()
    return words.languages.languages[ENGLISH].words | words.generic_words


def _best_language(words: Sequence[str], languages: Languages) -> tuple[str, int]:
    """The language other than English with the most words in ``words``, and their count.

    On a tie the code is empty: the words do not single out one language.
    """
    code, best = "", 0
    for candidate, spec in languages.languages.items():
        if candidate == ENGLISH:
            continue
        score = sum(w in spec.words for w in words)
        if score > best:
            code, best = candidate, score
        elif score == best:
            code = ""
    return code, best


def _latin(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN")
