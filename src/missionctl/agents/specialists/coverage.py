"""Whether a document speaks to an acceptance criterion.

A builtin specialist reports a task's check as discussed when the document it wrote speaks to it.
Without a model, "speaks to" is read from the words: most of the criterion's content words (a word
stem of three letters or more that is not a function word) occur in the document. That says where
to look, not that the criterion is met: the check stays unticked for a person to confirm. A
criterion the document does not speak to is reported as open, for a person to check.
"""

import re

_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")
_STEM_CHARS = 5
COVERED_SHARE = 2 / 3
"""The share of a criterion's content words the document must contain."""

_FUNCTION_WORDS = frozenset(
    (
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "nor",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "into",
        "onto",
        "over",
        "under",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "can",
        "could",
        "may",
        "might",
        "must",
        "shall",
        "should",
        "will",
        "would",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "their",
        "they",
        "them",
        "then",
        "than",
        "so",
        "as",
        "not",
        "no",
        "yes",
        "all",
        "any",
        "each",
        "every",
        "some",
        "one",
        "two",
        "per",
        "via",
        "also",
        "only",
        "just",
        "more",
        "most",
        "less",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "whose",
        "what",
        "how",
        "why",
        "if",
        "else",
        "while",
        "within",
        "without",
    )
)


def content_stems(text: str) -> set[str]:
    """The stems of ``text``'s content words (lower case, first five letters)."""
    words = _WORD.findall(text.lower())
    return {w[:_STEM_CHARS] for w in words if len(w) >= 3 and w not in _FUNCTION_WORDS}


def addresses(document: str, criterion: str) -> bool:
    """Whether ``document`` speaks to ``criterion``.

    True when at least :data:`COVERED_SHARE` of the criterion's content stems occur among the
    document's; a criterion without content words is never taken as addressed.
    """
    wanted = content_stems(criterion)
    if not wanted:
        return False
    found = wanted & content_stems(document)
    return len(found) >= COVERED_SHARE * len(wanted)
