"""Grammar slips of the plan-quality oracle: what a template-filling planner gets wrong.

The rules are this module's, their exceptions data (``quality_words.yaml``): no grammar library
is installed, and these few rules need none. :func:`grammar_slips` lists them.
"""

import re
from functools import cache
from re import Pattern

from missionctl.schemas.plans import PlanDraft
from tests.planning.quality_text import plan_texts, singular, words

_VOWELS = "aeiouàâäéèêëîïôöûüœæ"
_LETTERS_SOUNDING_VOWEL = "AEFHILMNORSX"  # "an F", "an S3 bucket", "an HTTP call"


@cache
def _template_patterns() -> tuple[tuple[Pattern[str], str], ...]:
    return tuple(
        (re.compile(t.pattern, re.IGNORECASE), t.why) for t in words().empty_template_phrases
    )


_ARTICLE = re.compile(
    r"(?<![\w/.'\u2019-])(a|an|A|An)\s+[\"“\u2018'`(]*([^\W_][^\s\"”\u2019'`),;:!?]*)", re.UNICODE
)
_DOUBLED = re.compile(r"\b(\w+)\s+(\1)\b", re.IGNORECASE)  # "the the", "The the", not "user USER"
_PLURAL_AFTER_ARTICLE = re.compile(
    r"(?<![\w/.'\u2019-])(?:a|an)\s+([a-z]+s)"
    r"(?=\s*(?:[.,;:!?)]|$)|\s+(?:of|for|with|in|on|to|that|which|is|are|from|by)\b)"
)
_DOUBLE_ARTICLE = re.compile(r"(?i:\b(a|an|the))\s+(a|an|the)\b")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=\S)")
_OPENERS = {"(": ")", "[": "]", "{": "}", "“": "”"}
_CODE_SPAN = re.compile(r"`[^`]*`")


def grammar_slips(text: str, *, sentence: bool = True) -> list[str]:
    """The slips a template-filling planner makes in ``text``, one description each.

    Rules:

    - "a"/"an" before the wrong sound. The spelling decides, except listed beginnings
      ("a user", "a one-time", "an hour"); an all-capitals word is read letter by letter
      ("an S3 bucket", "an HTTP call", "a URL") unless it is read as a word ("a JSON file");
      "SQL", "SPA" and a few others take either article ("a SQL" as "sequel", "an SQL").
      A capital "A" is only read as an article at the start of a sentence ("plan A").
    - a doubled word ("the the"), except "that that" and "had had";
    - "a"/"an" before a plural that ends a phrase ("a tests.", "a reports for"); a plural
      followed by a noun is a compound ("a users table") and passes;
    - a sentence that starts in lower case, unless its first word is code-like (a path, a
      name with a dot, digit or inner capital, a quoted or back-ticked word) or a tool written
      in lower case (npm, pytest); not checked when ``sentence`` is false (a name);
    - unbalanced brackets, curly quotes, straight double quotes or backticks;
    - an article before another article ("the a plan");
    - an empty template phrase ("Build the core of the …", "{feature}", "for the."); a
      placeholder inside a path ("/missions/{id}", "src/<package>/") is notation and passes.

    Code in backticks is not English: only its backticks are counted.
    """
    prose = _CODE_SPAN.sub("⟨code⟩", text)
    return [
        *_article_sound_slips(prose),
        *_doubled_word_slips(prose),
        *_plural_article_slips(prose),
        *(_lower_case_start_slips(prose) if sentence else []),
        *_unbalanced_slips(prose),
        *_odd_mark_slips(text),
        *_double_article_slips(prose),
        *_template_slips(prose),
    ]


def _article_sound_slips(text: str) -> list[str]:
    slips = []
    for match in _ARTICLE.finditer(text):
        article, following = match.group(1), match.group(2)
        if article[0] == "A" and not _starts_sentence(text, match.start()):
            continue
        vowel = vowel_sound(following)
        if vowel is None or vowel == (article.lower() == "an"):
            continue
        wanted = "an" if vowel else "a"
        slips.append(f"“{match.group()}”: “{wanted}” before this sound")
    return slips


def _starts_sentence(text: str, index: int) -> bool:
    before = text[:index].rstrip()
    return not before or before[-1] in ".!?:;\u2014\u2013(\n"


def vowel_sound(word: str) -> bool | None:
    """Whether ``word`` starts with a vowel sound; ``None`` when either article fits."""
    head_match = re.match(r"[^\W_]+", word)
    if head_match is None:
        return None
    head = head_match.group()
    lower = head.lower()
    lists = words()
    if head[0].isdigit():
        return _number_starts_with_vowel(head)
    if lower in lists.either_article or (len(head) == 1 and head.islower()):
        return None
    if head.isupper() and lower not in lists.word_acronyms:
        return head[0] in _LETTERS_SOUNDING_VOWEL
    if len(head) > 1 and head[0].islower() and head[1].isupper():
        return head[0].upper() in _LETTERS_SOUNDING_VOWEL  # "an iOS app", "an nRF52 board"
    starts = [s for s in (*lists.consonant_sound_starts, *lists.vowel_sound_starts) if s]
    best = max((s for s in starts if lower.startswith(s)), key=len, default=None)
    if best is not None:
        return best in lists.vowel_sound_starts
    return lower[0] in _VOWELS


def _number_starts_with_vowel(number: str) -> bool:
    # "an 8-hour window", "an 11-node cluster", "an 18 %", but "a 1,100-row table".
    digits = number.split(".")[0]
    return digits.startswith("8") or re.match(r"1[18](?:\D|$)", digits) is not None


def _doubled_word_slips(text: str) -> list[str]:
    allowed = words().allowed_doubles
    return [
        f"“{m.group()}”: doubled word"
        for m in _DOUBLED.finditer(text)
        if m.group(2) in (m.group(1), m.group(1).lower())
        and m.group(1).lower() not in allowed
        and not m.group(1).isdigit()
    ]


def _plural_article_slips(text: str) -> list[str]:
    slips = []
    for match in _PLURAL_AFTER_ARTICLE.finditer(text):
        noun = match.group(1)
        if len(noun) > 3 and singular(noun) != noun.lower():
            slips.append(f"“{match.group()}”: “a” before a plural")
    return slips


def sentences(text: str) -> list[str]:
    """``text`` cut into sentences; "e.g." and the other listed abbreviations do not end one."""
    parts = _SENTENCE_BREAK.split(text.strip())
    merged: list[str] = []
    for part in parts:
        if merged and _ends_with_abbreviation(merged[-1]):
            merged[-1] = f"{merged[-1]} {part}"
        else:
            merged.append(part)
    return merged


def _ends_with_abbreviation(sentence: str) -> bool:
    last = sentence.rsplit(maxsplit=1)[-1].lstrip("(").rstrip(".").lower()
    return last in words().abbreviations


def _lower_case_start_slips(text: str) -> list[str]:
    slips = []
    for sentence in sentences(text):
        first = sentence.split(maxsplit=1)[0] if sentence.split() else ""
        if first and first[0].islower() and not _code_like(first):
            slips.append(f"“{_clip(sentence)}”: sentence starts in lower case")
    return slips


def _code_like(word: str) -> bool:
    bare = word.rstrip(".,;:!?")
    if bare.lower() in words().lower_case_names:
        return True
    return any(c.isdigit() or c in "./_`@<>=#$" or c.isupper() for c in bare)


def _unbalanced_slips(text: str) -> list[str]:
    slips = []
    stack: list[str] = []
    closers = {close: open_ for open_, close in _OPENERS.items()}
    for char in text:
        if char in _OPENERS:
            stack.append(char)
        elif char in closers:
            if stack and stack[-1] == closers[char]:
                stack.pop()
            else:
                slips.append(f"“{char}” closes nothing in “{_clip(text)}”")
    slips.extend(f"“{char}” never closed in “{_clip(text)}”" for char in stack)
    return slips


def _odd_mark_slips(text: str) -> list[str]:
    return [
        f"odd number of {mark} in “{_clip(text)}”" for mark in ("`", '"') if text.count(mark) % 2
    ]


def _double_article_slips(text: str) -> list[str]:
    # "the the" is a doubled word, reported as such.
    return [
        f"“{m.group()}”: article before an article"
        for m in _DOUBLE_ARTICLE.finditer(text)
        if m.group(1).lower() != m.group(2)
    ]


def _template_slips(text: str) -> list[str]:
    return [
        f"“{m.group()}”: {why}"
        for pattern, why in _template_patterns()
        for m in pattern.finditer(text)
    ]


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plan_grammar_slips(plan: PlanDraft) -> list[str]:
    """Every grammar slip of the plan's prose (not its artifact names), each with its place."""
    return [
        f"{item.where}: {slip}"
        for item in plan_texts(plan)
        if item.prose
        for slip in grammar_slips(item.text, sentence=item.sentence)
    ]
