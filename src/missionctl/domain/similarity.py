"""Whether two short texts say the same thing.

"Offline sync conflicts" and "Sync conflicts after offline use" are one risk.

A plan lists each risk and requirement once. Two titles are near-duplicates when their content
words (lower case, function words dropped, a plural or verb ending folded) overlap by at least
:data:`NEAR_DUPLICATE_OVERLAP` of their union (Jaccard), or when every content word of the
shorter one, two or more of them, occurs in the longer one.

For a requirement written "Subject: what it must do", only the part before the colon is
compared, so that two requirements about different subjects sharing a template's wording are
not taken for one, and "Drift monitoring: in place …" is found in "Input drift is monitored".
"""

import re

NEAR_DUPLICATE_OVERLAP = 0.6
"""The Jaccard overlap from which two texts count as one. "Offline sync conflicts" and "Sync
conflicts after offline use" overlap 3/4; "Broken authorisation" and "Broken input validation"
1/4."""

_WORD = re.compile(r"[a-z0-9]+")
_FUNCTION_WORDS = frozenset(
    (
        "a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "by", "for", "with",
        "from", "after", "before", "during", "into", "over", "under", "is", "are", "be", "been",
        "its", "their", "this", "that", "these", "those", "it", "as", "per", "via", "not", "no",
        "use", "used", "using", "every", "each", "all", "any",
    )
)  # fmt: skip
_ENDINGS = ("ies", "ing", "ed", "es", "s")


def content_words(text: str) -> frozenset[str]:
    """The content words of ``text``, each folded to a rough stem ("conflicts" → "conflict")."""
    return frozenset(_fold(w) for w in _WORD.findall(text.lower()) if w not in _FUNCTION_WORDS)


def near_duplicates(first: str, second: str) -> bool:
    """Whether ``first`` and ``second`` say the same thing (see the module docstring)."""
    first, second = first.split(":", 1)[0], second.split(":", 1)[0]
    a, b = content_words(first), content_words(second)
    if not a or not b:
        return a == b
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    if len(shorter) >= 2 and shorter <= longer:
        return True
    return len(a & b) >= NEAR_DUPLICATE_OVERLAP * len(a | b)


def _fold(word: str) -> str:
    for ending in _ENDINGS:
        if len(word) > len(ending) + 3 and word.endswith(ending):
            return word[: -len(ending)] + ("y" if ending == "ies" else "")
    return word
