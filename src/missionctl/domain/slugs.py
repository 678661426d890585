"""File names made from text a person typed: lower-case ASCII words joined by ``-``, bounded.

A mission's title names its report directory and its execution pack; a task's key names its
file in the pack. Whatever the text (``../../etc``, slashes, dots, control characters, emoji),
the name is built from ``[a-z0-9-]`` only, so it can never leave the directory it is put in.
"""

import re
import unicodedata

SLUG_MAX_CHARS = 48
"""Long enough to recognise a title, short enough to keep a path readable in a terminal."""
FALLBACK_SLUG = "mission"
"""The name of a text with no letter or digit that survives the folding."""


def slug(text: str, *, max_chars: int = SLUG_MAX_CHARS, fallback: str = FALLBACK_SLUG) -> str:
    """A file name for ``text``: lower-case ASCII words joined by ``-``, at most ``max_chars``.

    Accents are folded (``Café`` → ``cafe``); everything but letters and digits separates
    words; whole words are kept up to ``max_chars`` (a longer first word is cut). Never empty
    (``fallback`` instead), never ``.`` or ``..``, never containing a path separator.
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    result = ""
    for word in re.findall(r"[a-z0-9]+", folded.lower()):
        candidate = f"{result}-{word}" if result else word
        if len(candidate) > max_chars:
            result = result or word[:max_chars]
            break
        result = candidate
    return result or fallback
