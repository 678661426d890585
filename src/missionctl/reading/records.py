"""Who does what to which thing, and when: the records a feature clause implies.

Two shapes of clause name a record with its participants (the data is the ``records`` and
``times`` of ``data/entities.yaml``):

- **People, a verb, things**: "members reserve beds by date" is a reservation, made by a
  member, of a bed, for a date; "volunteers log shifts" is a log entry of a shift by a
  volunteer.
- **A thing's records for people**: "pitch reservations for members with arrival and
  departure dates" is a reservation of a pitch, for a member, from one date to another.

The people are a word of the ``people`` vocabulary ("members", "guests"); the thing is the
head noun of what the verb acts on. Time words in the clause ("by date", "for a night",
"time slots") become the record's attributes; without any, the record keeps when it was made.
Only the words are found here: which entity each word is, is decided by the caller.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from missionctl.reading.model import Attribute
from missionctl.reading.vocabulary import RecordSpec, TimeSpec, ValueSpec, vocabulary
from missionctl.reading.words import fold, singular, strip_articles

__all__ = ["ClauseRecord", "read_records", "time_words", "value_words"]

_NOUN = r"[a-z][a-z0-9-]*"
# What a verb acts on ends at a preposition, a particle or a time word.
_OBJECT_END = re.compile(
    r"\s+(?:into|to|from|over|on|in|for|of|by|with|at|per|before|after|during|between|every|"
    r"each|out|up|back|off|and|or)\b.*$"
)


_AFTER_RECORD = "for|by|from|with|on|at|in|of|to|into|and|or|per|every|each"
_WORD_BEFORE = re.compile(r"[a-z][a-z0-9]*")


@dataclass(frozen=True, slots=True)
class ClauseRecord:
    """A record one clause names, by its words.

    Attributes:
        clause: The clause as given.
        spec: What kind of record it is (its name, lifecycle and when-attribute); ``None``
            when the verb keeps no record ("staff check guests in"), and only the people and
            the thing are read.
        people: The people word as written ("members"), or ``None``.
        thing: What the record is of, as written ("beds", "overdue notices", "pitch"), or
            ``None``.
        times: The attributes the clause's time words give ("date", "arrives_on").
        verb: The verb of a clause of the first shape, in its base form ("record"), or
            ``None``.
    """

    clause: str
    spec: RecordSpec | None
    people: str | None
    thing: str | None
    times: tuple[Attribute, ...]
    verb: str | None = None


def read_records(clauses: Iterable[str]) -> list[ClauseRecord]:
    """The records ``clauses`` name with their participants, in clause order.

    A clause of neither shape (see the module docstring) names none and is left out.
    """
    found: list[ClauseRecord] = []
    for clause in clauses:
        folded = fold(clause)
        record = _people_verb_thing(clause, folded) or _thing_records_for(clause, folded)
        if record is not None:
            found.append(record)
    return found


def time_words(text: str) -> tuple[Attribute, ...]:
    """The attributes the time words of ``text`` give, each word read once, in table order."""
    folded = fold(text)
    claimed = bytearray(len(folded))
    attributes: list[Attribute] = []
    for pattern, spec in _time_patterns():
        for match in pattern.finditer(folded):
            start, end = match.span()
            if any(claimed[start:end]):
                continue
            claimed[start:end] = b"\x01" * (end - start)
            attributes.extend(
                Attribute(name=a.name, type=a.type, note=a.note)
                for a in spec.attributes
                if all(a.name != b.name for b in attributes)
            )
    return tuple(attributes)


def value_words(phrase: str) -> tuple[Attribute, ...]:
    """The attributes a noun phrase names as a value or a time of its record, or ``()``.

    The phrase's last words decide ("mileage", "cooking times", "due dates"): a value of the
    ``values`` table, else the times the ``times`` table reads in it.
    """
    folded = fold(strip_articles(phrase.strip()))
    for pattern, spec in _value_patterns():
        if (match := pattern.search(folded)) is not None:
            a = spec.attribute
            before = _WORD_BEFORE.findall(folded[: match.start()])
            name = f"{before[-1]}_{a.name}" if spec.prefixed and before else a.name
            return (Attribute(name=name, type=a.type, note=a.note),)
    return time_words(folded) if _ends_with_time(folded) else ()


def _people_verb_thing(clause: str, folded: str) -> ClauseRecord | None:
    match = _people_first().match(folded)
    if match is None:
        return None
    spec = _by_verb().get(match.group("verb"))
    if spec is None and match.group("verb") not in _known_verbs():
        return None
    thing = _OBJECT_END.sub("", match.group("object")).strip()
    return ClauseRecord(
        clause=clause,
        spec=spec,
        people=clause[match.start("people") : match.end("people")],
        thing=thing or None,
        times=time_words(folded[match.end("verb") :]),
        verb=match.group("verb"),
    )


def _thing_records_for(clause: str, folded: str) -> ClauseRecord | None:
    for spec, pattern in _noun_patterns():
        match = pattern.search(folded)
        if match is None or not (match.group("thing") or match.group("people")):
            continue
        people = clause[match.start("people") : match.end("people")] if match["people"] else None
        thing = match.group("thing")
        if thing and people is None and _is_people(thing):
            people, thing = thing, None  # "member bookings": bookings by members
        return ClauseRecord(
            clause=clause,
            spec=spec,
            people=people,
            thing=thing,
            times=time_words(folded[match.end("record") :]),
        )
    return None


def _is_people(word: str) -> bool:
    """Whether ``word`` names people, in the singular or plural ("member", "guests")."""
    people = vocabulary().people
    return word in people or f"{singular(word)}s" in people


@cache
def _people() -> str:
    return "|".join(sorted(vocabulary().people, key=len, reverse=True))


@cache
def _people_first() -> re.Pattern[str]:
    # "members reserve beds", "hostel guests book rooms": the people, then a verb in its base
    # form (they do it), then what it is done to.
    return re.compile(
        rf"^(?:{_NOUN}\s+)?(?P<people>{_people()})\s+(?P<verb>{_NOUN})\s+(?P<object>.+)$"
    )


@cache
def _noun_patterns() -> tuple[tuple[RecordSpec, re.Pattern[str]], ...]:
    # "pitch reservations for members": a thing's records, and whom they are for.
    return tuple(
        (
            spec,
            re.compile(
                rf"(?:^|\s)(?:(?P<thing>{_NOUN})\s+)?(?P<record>{spec.nouns})\b"
                rf"(?:\s+(?:for|by|from)\s+(?:{_NOUN}\s+)?(?P<people>{_people()})\b)?"
                # The record ends its noun phrase: a "booking site" is no booking.
                rf"(?=\s+(?:{_AFTER_RECORD})\b|\s*$)"
            ),
        )
        for spec in vocabulary().records
        if spec.nouns
    )


@cache
def _by_verb() -> dict[str, RecordSpec]:
    return {verb: spec for spec in vocabulary().records for verb in spec.verbs}


@cache
def _known_verbs() -> frozenset[str]:
    return frozenset(vocabulary().feature_verbs) | frozenset(vocabulary().leading_verbs)


@cache
def _time_patterns() -> tuple[tuple[re.Pattern[str], TimeSpec], ...]:
    return tuple((re.compile(rf"\b(?:{spec.words})\b"), spec) for spec in vocabulary().times)


@cache
def _value_patterns() -> tuple[tuple[re.Pattern[str], ValueSpec], ...]:
    return tuple((re.compile(rf"(?:^|\s)(?:{spec.words})$"), spec) for spec in vocabulary().values)


def _ends_with_time(folded: str) -> bool:
    return any(pattern.search(folded) for pattern in _time_endings())


@cache
def _time_endings() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(rf"\b(?:{spec.words})$") for spec in vocabulary().times)
