"""English articles for generated text: "a user", "an API", "an 8-hour window", "a URL".

The indefinite article goes by the sound that starts the next word, not its letter:
- an initialism is read letter by letter, so its first letter's name decides: "an API",
  "an SDK", "an HTTP call", "an XGBoost model", "a URL", "a UI", "a BLE device", "an npm
  package" (a few are written in lower case); acronyms read
  as words ("a REST API", "a SQL query", "a SQLite file", "a NASA feed") are listed;
- a word starting with a vowel letter takes "an" unless it starts with a "you"/"w" sound
  ("a user", "a unique key", "a European", "a one-click", "a once-a-day job"), and a word
  starting with a silent "h" takes "an" ("an hour", "an honest");
- a number goes by how it is said: "an 8", "an 11", "an 18-month", "an 80 %", "a 1".

The rules cover the vocabulary of the planner, its kinds of software and the specialists'
documents (``tests/planning/test_wording.py`` checks every label and technology, and every
article in the plans of the fixture goals).
"""

import re
from collections.abc import Sequence

# Initialisms read as a word, not letter by letter (the first sound is then the word's).
# A word starting with one of them is read as a word too ("SQLite", "RESTful").
_SPOKEN_ACRONYMS = (
    "ACID", "AJAX", "CRUD", "FAQ", "GIF", "JPEG", "JSON", "JWT", "LAN", "NASA", "NATO",
    "OWASP", "RAM", "REST", "ROM", "SAML", "SCIM", "SOAP", "SQL", "SWIFT", "UNIX", "WAN",
    "WASM", "YAML",
)  # fmt: skip
# Letters whose names start with a vowel sound: "an F", "an H", "an M", "an S3 bucket".
_VOWEL_LETTERS = frozenset("AEFHILMNORSX")
# Vowel-letter beginnings said with a consonant ("you", "w"): "a unique", "a one-off".
_CONSONANT_SOUNDS = re.compile(
    r"^(?:uni(?!n|m)|use|usu|usa|uti|url|ufo|ubiq|eu|ewe|one\b|once\b)",
    re.IGNORECASE,
)
# Consonant-letter beginnings said with a vowel (a silent "h"): "an hour", "an honest".
_VOWEL_SOUNDS = re.compile(r"^(?:hour|honest|honor|honour|heir)", re.IGNORECASE)
_FIRST_WORD = re.compile(r"[A-Za-z0-9]+")
# Initialisms written in lower case, still read letter by letter: "an npm package".
_LOWER_CASE_INITIALISMS = frozenset({"npm", "npx", "pnpm"})


def indefinite_article(phrase: str) -> str:
    """``"a"`` or ``"an"``: the article that goes before ``phrase`` (by its first word)."""
    match = _FIRST_WORD.search(phrase)
    if match is None:
        return "a"
    word = match.group(0)
    if word[0].isdigit():
        return "an" if _number_starts_with_vowel(word) else "a"
    if _read_as_letters(word) and not word.upper().startswith(_SPOKEN_ACRONYMS):
        return "an" if word[0].upper() in _VOWEL_LETTERS else "a"
    if _VOWEL_SOUNDS.match(word):
        return "an"
    if word[0].lower() in "aeiou" and not _CONSONANT_SOUNDS.match(word):
        return "an"
    return "a"


def with_article(phrase: str) -> str:
    """``phrase`` after its indefinite article: ``"an internal tool"``, ``"a URL shortener"``."""
    return f"{indefinite_article(phrase)} {phrase}"


def with_the(phrase: str) -> str:
    """``phrase`` after "the", unless it starts with an article already ("the core of …")."""
    if re.match(r"(?:the|a|an)\s", phrase, re.IGNORECASE):
        return phrase
    return f"the {phrase}"


def join_words(items: Sequence[str]) -> str:
    """``["a", "b", "c"]`` → ``"a, b and c"``; empty items are left out."""
    items = [item for item in items if item]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _read_as_letters(word: str) -> bool:
    """Whether ``word`` starts with a letter said by its name.

    A single letter ("A/B", "x"); a word starting with two capitals or a capital and a digit
    ("API", "XGBoost", "OAuth", "S3", "IDs"); an "n" before a capital ("nRF52"); an initialism
    written in lower case ("npm").
    """
    if word.lower() in _LOWER_CASE_INITIALISMS:
        return True
    if len(word) == 1:
        return word.isalpha()
    first, second = word[0], word[1]
    if first.isupper():
        return second.isupper() or second.isdigit()
    return first == "n" and second.isupper()


def _number_starts_with_vowel(digits: str) -> bool:
    """Whether a number is said starting with a vowel: eight…, eleven…, eighteen…."""
    text = re.sub(r"\D.*", "", digits).lstrip("0") or "0"
    if text[0] == "8":
        return True
    # 11 and 18 are said "eleven", "eighteen" when they lead a group of thousands.
    return len(text) % 3 == 2 and text[:2] in ("11", "18")


__all__ = ["indefinite_article", "join_words", "with_article", "with_the"]
