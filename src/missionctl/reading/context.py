"""What a mission says exists already: components, and whether the work changes a system."""

import re
from functools import cache

from missionctl.reading.vocabulary import vocabulary
from missionctl.reading.words import WordPattern, clip, fold, normalise

__all__ = ["find_existing", "find_records_today", "host_component", "is_brownfield"]

MAX_EXISTING = 8
_SENTENCE = re.compile(r"[^.;:!?\n]+")
# Anchored at the start of a sentence, so that a long text is read in linear time.
_ALREADY = re.compile(
    r"\s*(?P<things>.+?)\s+(?:already\s+(?:exists?|is in place|are in place|runs?|"
    r"is live|are live|is built|are built|is deployed|are deployed)|(?:exists?|is|are)\s+"
    r"already(?:\s+(?:in place|live|built|there|deployed|in production))?)\b",
    re.IGNORECASE,
)
_WE_HAVE = re.compile(
    r"\b(?:we|i)\s+(?:already\s+)?(?:have|run|maintain)\s+(?P<things>[^.;:!?]+)", re.IGNORECASE
)
_EXISTING = re.compile(
    r"\b(?:existing|current|legacy)\s+(?P<things>[\w.+#/-]+(?:\s+[\w.+#/-]+){0,3}?)"
    r"(?=\s*(?:[,;:.!?]|$|\b(?:with|without|and|that|which|to|in|on|for|by|using|deployed|"
    r"written|built|running|of)\b))",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"\s*(?:,|\band\b|\bplus\b)\s*", re.IGNORECASE)
_DETERMINER = re.compile(
    r"^(?:the|a|an|our|its|their|my|your|this|these|both|also|already)\s+", re.IGNORECASE
)
_NOT_A_COMPONENT = re.compile(r"^(?:it|they|that|this|there|we|i|\d[\w\s]*lines?)$", re.IGNORECASE)


def find_existing(text: str) -> tuple[str, ...]:
    """The components ``text`` says exist ("React Native app", "REST API"), in order.

    Read from "X and Y already exist", "we have X", and "existing/current/legacy X".
    """
    found: list[tuple[int, int, str]] = []
    for match in _matches(text):
        parts = _SPLIT.split(match.group("things"))
        found.extend((match.start("things"), i, part) for i, part in enumerate(parts))
    seen: set[str] = set()
    result: list[str] = []
    for _, _, part in sorted(found):
        component = _component(part)
        if component and component.lower() not in seen:
            seen.add(component.lower())
            result.append(component)
    return tuple(result[:MAX_EXISTING])


def _matches(text: str) -> list[re.Match[str]]:
    """Matches of the three phrasings, each pattern tried only where its words occur."""
    folded = text.lower()
    matches: list[re.Match[str]] = []
    if "already" in folded:
        for sentence in _SENTENCE.finditer(text):
            if match := _ALREADY.match(text, sentence.start(), sentence.end()):
                matches.append(match)
    if "we " in folded or "i " in folded:
        matches.extend(_WE_HAVE.finditer(text))
    if any(word in folded for word in ("existing", "current", "legacy")):
        matches.extend(_EXISTING.finditer(text))
    return matches


def _component(part: str) -> str:
    part = normalise(part).strip(" .,;:")
    previous = None
    while previous != part:
        previous = part
        part = _DETERMINER.sub("", part)
    if not part or _NOT_A_COMPONENT.match(part):
        return ""
    return clip(part, 60)


@cache
def _brownfield() -> tuple[WordPattern, WordPattern]:
    words = vocabulary()
    return WordPattern(words.brownfield), WordPattern(words.greenfield)


def is_brownfield(text: str, *, host: str | None, existing: tuple[str, ...]) -> bool:
    """Whether the work changes an existing system.

    It does when the goal names a host system, or when something exists already or the
    words say so ("legacy", "in production"), unless the words say it starts from nothing
    ("greenfield", "from scratch").
    """
    if host is not None:
        return True
    brownfield, greenfield = _brownfield()
    folded = fold(text)
    return bool(existing or brownfield.search(folded)) and greenfield.search(folded) is None


@cache
def _records_today() -> WordPattern:
    return WordPattern(vocabulary().records_today)


def find_records_today(text: str) -> str | None:
    """Where ``text`` says the work is kept today ("spreadsheet", "paper charts"), as written.

    The first such name, with the user's capitals ("Excel sheets"); ``None`` when it names
    none, so that a plan does not invent a spreadsheet nobody mentioned.
    """
    match = _records_today().search(fold(text))
    return text[match.start() : match.end()] if match else None


def host_component(host: str | None, existing: tuple[str, ...]) -> str | None:
    """The component among ``existing`` that the host system is, or ``None``.

    The host ("our gym booking app") and a component the context names ("React Native app")
    are one thing when they end in the same noun: the component says what kind of software
    the work changes.
    """
    if not host:
        return None
    head = host.split()[-1].lower()
    return next((part for part in existing if part.split()[-1].lower() == head), None)
