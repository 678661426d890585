"""The records a mission's software keeps, from the goal's nouns and its domain.

How entities are found (the data is ``data/entities.yaml``):

1. **Nouns.** The goal is read without its verbs ("files a postmortem draft": "files" is a
   verb, not a file). Derivations ("expiry alerts" → Batch.expiry_date) and then known
   entities are matched in the file's order; words one entry matched are not read again, so
   "supplier orders" is a purchase order, never also an order.
2. **Domain.** Words anywhere in the title and goal imply entities the goal does not name (a
   bakery's inventory keeps products, ingredients, batches and stock movements).
3. **Companions.** An entity brings those it cannot do without (a purchase order its
   supplier).
4. **Other nouns.** Each feature's noun phrase that no known entity covers becomes a generic
   entity named after its head noun ("retention cohorts" → Retention cohort), unless the
   head is a verb, adverb, adjective, technology or a word that is never a record
   ("analytics", "support").
5. **Parts and values.** What a "with", a "where" or a "has" of the goal relates (the
   parse's links, and its "has" clauses): "cookbooks with recipes" gives each recipe its
   cookbook (one-to-many: a cookbook has many), "a ferry route logbook where skippers record
   entries" each entry its logbook, "each member has a training plan" the plan its member,
   and "repairs with mileage and cost" the repair's values (the ``values`` table; a value word is
   never an entity). The subject is a whole only when it names a thing that holds records
   (a logbook, a catalogue: the ``containers`` words); any other subject ("a fleet maintenance
   tracker where …") is the software that keeps them. A clause whose people act on a thing
   with no record of its own ("skippers record entries") gives the thing a reference to
   them, in place of a "recorded by" text.
6. **Accounts.** Software people sign in to gets a User when an entity points at users or
   holds personal data, or the mission states personal data.

Attributes pointing at an entity the reading does not have are dropped, so every relation
is between entities of the reading.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from missionctl.reading.clauses import has_parts
from missionctl.reading.model import Attribute, Derivation, Entity
from missionctl.reading.records import ClauseRecord, read_records, value_words
from missionctl.reading.technologies import technology_names
from missionctl.reading.vocabulary import (
    ContextSpec,
    DerivedSpec,
    EntitySpec,
    QuantitySpec,
    vocabulary,
)
from missionctl.reading.words import (
    Folded,
    WordPattern,
    capitalise,
    fold,
    is_adverb,
    singular,
    third_person,
    third_person_verbs,
)

__all__ = ["MAX_ENTITIES", "find_entities"]

MAX_ENTITIES = 10
_LATER = 1_000_000  # position of entities the goal implies rather than names
# A phrase's noun ends before a preposition or a cadence ("humidity every 10 minutes").
_CUT = re.compile(
    r"\s+(?:into|to|from|over|on|in|for|of|by|with|across|per|before|after|during|between|"
    r"every|each|once|twice)\s+.*$",
    re.IGNORECASE,
)
_STARTS_WITH_PREPOSITION = re.compile(
    r"^(?:into|to|from|over|on|in|for|of|by|with|under|before|after)\s", re.IGNORECASE
)
# A cadence or a quantity ("every 15 minutes", "each hour", "20 µA") names no record.
_MEASURE = re.compile(r"^(?:every|each|per|once|twice)\b|^[$€£]?\d", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_MAX_LINKS = 40
# The text attribute a reference to the people who did it replaces ("skippers record entries").
_RECORDED_BY = "recorded_by"
_GENERIC_ATTRIBUTES = (
    Attribute(name="name", type="text", note="what people call it"),
    Attribute(name="status", type="text", note="its lifecycle state"),
    Attribute(name="updated_at", type="timestamptz"),
)


@dataclass(frozen=True, slots=True)
class _Patterns:
    derived: tuple[tuple[DerivedSpec, WordPattern], ...]
    entities: tuple[tuple[EntitySpec, WordPattern], ...]
    contexts: tuple[tuple[ContextSpec, WordPattern, WordPattern | None], ...]
    by_name: dict[str, EntitySpec]


def _noun_pattern(pattern: str) -> WordPattern:
    """Whole words, where a hyphen joins words ("production-ready" is not "production")."""
    return WordPattern(pattern, before="-", after="-")


@cache
def _patterns() -> _Patterns:
    words = vocabulary()
    return _Patterns(
        derived=tuple((spec, _noun_pattern(spec.words)) for spec in words.derived),
        entities=tuple((spec, _noun_pattern(spec.words)) for spec in words.entities if spec.words),
        contexts=tuple(
            (spec, WordPattern(spec.words), WordPattern(spec.with_) if spec.with_ else None)
            for spec in words.contexts
        ),
        by_name={spec.name: spec for spec in words.entities},
    )


@dataclass(slots=True)
class _Found:
    """Entities found so far: where each was first seen and the words that brought it in."""

    claimed: bytearray  # one byte per character of the nouns: 1 once an entry took it
    positions: dict[str, tuple[float, str]] = field(default_factory=dict)
    matched: list[WordPattern] = field(default_factory=list)
    # Entities whose attributes a clause gave ("members reserve beds": Reservation, Member).
    built: dict[str, Entity] = field(default_factory=dict)
    read_clauses: list[str] = field(default_factory=list)
    # The entity each read clause names, by the clause in lower case ("skippers record
    # entries": Entry), and what the goal's links and actors add to entities, by name.
    named_by: dict[str, str] = field(default_factory=dict)
    extra: dict[str, list[Attribute]] = field(default_factory=dict)
    acted_on: set[str] = field(default_factory=set)

    def add(self, name: str, position: float, origin: str) -> None:
        self.positions.setdefault(name, (position, origin))

    def claim(self, match: re.Match[str]) -> bool:
        """Claim the words of ``match``; ``False`` when an earlier entry has them."""
        start, end = match.span()
        if any(self.claimed[start:end]):
            return False
        self.claimed[start:end] = b"\x01" * (end - start)
        return True


def find_entities(
    *,
    nouns: str,
    domain: str,
    phrases: Sequence[str],
    kind: str,
    personal_data: bool,
    clauses: Sequence[str] = (),
    links: Sequence[tuple[str, str]] = (),
    subject: str = "",
) -> tuple[tuple[Entity, ...], tuple[Derivation, ...]]:
    """The entities a mission implies, and what it names that is derived from them.

    Args:
        nouns: The goal without its verbs (verbs blanked with spaces).
        domain: The title and goal, for the words that imply a domain.
        phrases: The noun phrases of the goal's features (none for a bare verb like "backs
            up").
        kind: The kind of software (decides whether people sign in).
        personal_data: Whether the mission states that it handles personal data.
        clauses: The goal's feature clauses as written, for the records they name with their
            participants ("members reserve beds by date").
        links: ``(whole, part)`` pairs of feature texts, or of the subject and a feature
            text, that the goal relates with "with", "where" or "and" after a "has" clause
            (``("cookbooks", "recipes")``).
        subject: What is being made, without its purpose ("ferry route logbook"): a whole
            its parts may belong to when it names a thing that holds records (the
            ``containers`` words), never when it names software ("tracker").
    """
    found = _Found(claimed=bytearray(len(nouns)))
    folded = fold(nouns)
    derived = _match_derived(nouns, folded, found)
    _match_records(clauses, folded, found)
    _match_named(nouns, folded, found)
    _drop_unsaid_records(clauses, found)
    _match_domain(domain, found)
    _add_companions(found)
    _add_generic(folded, phrases, found)
    _match_links([*links, *_has_links(clauses, folded, found)][:_MAX_LINKS], subject, folded, found)
    _add_accounts(kind, personal_data, found)
    names = sorted(found.positions, key=lambda name: found.positions[name][0])[:MAX_ENTITIES]
    present = set(names)
    measured = _measured(domain)
    entities = tuple(
        _with_extra(
            found.built[name]
            if name in found.built
            else _entity(name, found.positions[name][1], present, measured, fold(domain)),
            found,
            present,
        )
        for name in names
    )
    kept = tuple(d for d in derived if d.entity in present)
    return entities, kept


def _match_derived(nouns: str, folded: Folded, found: _Found) -> list[Derivation]:
    derived: list[Derivation] = []
    for spec, pattern in _patterns().derived:
        for match in pattern.finditer(folded):
            if found.claim(match):
                words = nouns[match.start() : match.end()]
                found.matched.append(pattern)
                found.add(spec.entity, match.start(), words)
                derived.append(
                    Derivation(phrase=words, entity=spec.entity, attribute=spec.attribute)
                )
    return list({d.phrase.lower(): d for d in derived}.values())


def _match_records(clauses: Sequence[str], folded: Folded, found: _Found) -> None:
    """Add the records the clauses name, each with its people, its thing and its times."""
    for record in read_records(clauses):
        at = folded.find(fold(record.people or record.thing or record.clause))
        position = float(at if at >= 0 else _LATER - 1)
        people = _person(record.people, position, found) if record.people else None
        thing = _thing(record.thing, position + 0.02, found) if record.thing else None
        if people or thing:
            found.read_clauses.append(record.clause)
            found.named_by[record.clause.lower()] = thing or people or ""
        if record.spec is None or not (people or thing):
            if people and thing and record.verb:
                _acted_on(thing, people, record.verb, found)
            continue
        if thing is not None and thing in _patterns().by_name:
            continue  # "customers order products": the known entities say what an order is
        found.add(record.spec.name, position - 0.01, record.clause)
        found.built.setdefault(record.spec.name, _clause_record(record, people, thing))
        found.named_by[record.clause.lower()] = record.spec.name


def _acted_on(thing: str, people: str, verb: str, found: _Found) -> None:
    """Give ``thing`` a reference to the ``people`` who ``verb`` it ("skippers record entries").

    Nothing for a thing that is people itself ("staff check guests in") or a known entity,
    whose own attributes say who deals with it.
    """
    if thing == people or thing in _patterns().by_name or _is_person(thing, found):
        return
    note = f"who {third_person(verb)} it"
    found.extra.setdefault(thing, []).append(
        Attribute(name=f"{_snake(people)}_id", type="uuid", ref=people, note=note)
    )
    found.acted_on.add(thing)


def _match_links(
    links: Sequence[tuple[str, str]], subject: str, folded: Folded, found: _Found
) -> None:
    """Add what each ``(whole, part)`` link of the goal says the whole has.

    A part that names a value or a time ("mileage", "due dates") is an attribute of the whole;
    a part that names people is someone the whole points at; any other part is a record of
    its own that points at its whole (one-to-many). A whole is a clause's entity, or the
    subject when it names a thing rather than software.
    """
    for whole_words, part_words in links:
        values = value_words(part_words)
        part = None if values else _named(part_words, found)
        if not values and part is None:
            continue
        if whole_words == subject:
            whole = _subject_entity(subject, folded, found)
        else:
            whole = _named(whole_words, found)
        if whole is None or whole == part:
            continue
        if values:
            found.extra.setdefault(whole, []).extend(values)
        elif part is not None and _is_person(part, found):
            found.extra.setdefault(whole, []).append(
                Attribute(name=f"{_snake(part)}_id", type="uuid", ref=part)
            )
        elif part is not None:
            note = "that has it"
            found.extra.setdefault(part, []).append(
                Attribute(
                    name=f"{_snake(whole)}_id", type="uuid", ref=whole, note=note, part_of=True
                )
            )


def _has_links(clauses: Sequence[str], folded: Folded, found: _Found) -> list[tuple[str, str]]:
    """The ``(whole, part)`` pairs of the clauses that say what a thing has, each side an entity.

    "each member has a training plan" relates a Member and a Training plan; the sides are
    added as entities when no earlier step did (people as people, anything else by its head
    noun), unless a side is a word that names no record ("the app has offline mode").
    """
    links: list[tuple[str, str]] = []
    for clause in clauses:
        owned = has_parts(clause)
        if owned is None or not _add_side(owned[0], folded, found):
            continue
        for part in owned[1]:
            values = value_words(part)
            named = None if values else _add_side(part, folded, found)
            if values or named:
                links.append((owned[0], part))
            if named:
                # What a "with" adds to the clause is the part's: "… has a training plan
                # with exercises".
                found.named_by[clause.strip().lower()] = named
    return links


def _add_side(words: str, folded: Folded, found: _Found) -> str | None:
    """The entity ``words`` name, added if need be (see :func:`_has_links`), or ``None``."""
    last = words.split()[-1].lower()
    if last in vocabulary().generic_words or value_words(words):
        return None  # "the app has offline mode": the software, not a record
    if (name := _named(words, found)) is not None:
        return name
    position = folded.find(fold(words))
    at = float(position if position >= 0 else _LATER - 1)
    if _is_people(last):
        return _person(words, at, found)
    generic = _generic_name(words)
    if generic is None or any(p.search(fold(generic[2])) for p in found.matched):
        return None
    found.add(generic[0], at, generic[1])
    return generic[0]


def _is_people(word: str) -> bool:
    """Whether ``word`` names people, singular or plural ("member", "guests")."""
    people = vocabulary().people
    return word in people or f"{word}s" in people or f"{singular(word)}s" in people


def _named(words: str, found: _Found) -> str | None:
    """The entity of the reading that ``words`` (a feature's text) name, or ``None``."""
    if (name := found.named_by.get(words.lower())) is not None:
        return name or None
    name = _known(words)
    if name is None and (generic := _generic_name(words)) is not None:
        name = generic[0]
    if _is_people(words.split()[-1].lower()):
        name = _known(words) or capitalise(singular(words.split()[-1]))
    return name if name in found.positions else None


def _subject_entity(subject: str, folded: Folded, found: _Found) -> str | None:
    """The entity the subject is when it names a thing that holds records, else ``None``.

    A "ferry route logbook" holds its entries (the ``containers`` words); any other subject
    ("fleet maintenance tracker", "trivia game") is the software that keeps the records, not
    one of them.
    """
    tokens = subject.lower().split()
    if not tokens or tokens[-1] not in vocabulary().containers:
        return None
    generic = _generic_name(subject)
    if generic is None:
        return None
    name, origin, _ = generic
    position = folded.find(fold(origin))
    found.add(name, position if position >= 0 else _LATER - 1, origin)
    return name


def _is_person(name: str, found: _Found) -> bool:
    built = found.built.get(name)
    spec = _patterns().by_name.get(name)
    return (built is not None and built.personal and not built.append_only) or (
        spec is not None and spec.actor is not None
    )


def _with_extra(entity: Entity, found: _Found, present: set[str]) -> Entity:
    """``entity`` with what links and actors added (see :func:`_match_links`).

    References come first, the entity's own attributes next (without "recorded by" once a
    reference says who did it), values last; an attribute it has already is not added twice,
    and a reference only to an entity ``present``.
    """
    extra = found.extra.get(entity.name, [])
    own = [
        a
        for a in entity.attributes
        if (a.ref is None or a.ref in present)
        and not (a.name == _RECORDED_BY and entity.name in found.acted_on)
    ]
    taken = {a.name for a in own} | {a.ref for a in own if a.ref}
    added: list[Attribute] = []
    for attribute in extra:
        if attribute.name in taken or (attribute.ref and attribute.ref not in present):
            continue
        taken |= {attribute.name, attribute.ref or attribute.name}
        added.append(attribute)
    attributes = (*(a for a in added if a.ref), *own, *(a for a in added if not a.ref))
    if attributes == entity.attributes:
        return entity
    return entity.model_copy(update={"attributes": attributes})


def _drop_unsaid_records(clauses: Sequence[str], found: _Found) -> None:
    """Drop the records only the software's name brings in once a clause has said what it keeps.

    "A booking app for a hostel: members reserve beds by date" keeps reservations; the
    "booking" of its name is no record of its own.
    """
    records = {spec.name for spec in vocabulary().records}
    if not any(name in records for name in found.built):
        return
    lowered = [clause.lower() for clause in clauses]
    for name, (_, origin) in list(found.positions.items()):
        said = any(origin.lower() in clause for clause in lowered)
        if name in records and name not in found.built and not said:
            del found.positions[name]


def _person(words: str, position: float, found: _Found) -> str:
    """The entity the people of a clause are: a known one ("staff": User), or a person."""
    name = _known(words) or capitalise(singular(words.split()[-1]))
    found.add(name, position + 0.01, words)
    if name not in _patterns().by_name:
        person = tuple(
            Attribute(name=a.name, type=a.type, note=a.note) for a in vocabulary().person
        )
        found.built.setdefault(
            name, Entity(name=name, attributes=person, personal=True, origin=words)
        )
    return name


def _thing(words: str, position: float, found: _Found) -> str | None:
    """The entity a clause's thing is ("beds": Bed), or ``None`` if the words name none."""
    if words.split()[-1].lower() in vocabulary().people:
        return _person(words, position, found)  # "staff check guests in": guests are people
    name = _known(words)
    if name is None:
        generic = _generic_name(words)
        if generic is None:
            return None
        name = generic[0]
    found.add(name, position, words)
    return name


def _known(words: str) -> str | None:
    """The known entity whose words ``words`` are ("customers": Customer), if any."""
    folded = fold(words)
    return next(
        (spec.name for spec, pattern in _patterns().entities if pattern.search(folded)), None
    )


def _clause_record(record: ClauseRecord, people: str | None, thing: str | None) -> Entity:
    """The record a clause names, with what the clause says it has."""
    assert record.spec is not None
    spec = record.spec
    attributes = [
        Attribute(name=f"{_snake(name)}_id", type="uuid", ref=name)
        for name in (people, thing)
        if name is not None
    ]
    attributes.append(Attribute(name=spec.when, type="timestamptz", note="when it was made"))
    attributes += record.times
    if spec.status:
        attributes.append(Attribute(name="status", type="text", note=spec.status))
    return Entity(
        name=spec.name,
        attributes=tuple(attributes),
        append_only=spec.append_only,
        origin=record.clause,
    )


def _snake(name: str) -> str:
    return "_".join(name.lower().replace("-", " ").split())


def _match_named(nouns: str, folded: Folded, found: _Found) -> None:
    for spec, pattern in _patterns().entities:
        for match in pattern.finditer(folded):
            if found.claim(match):
                found.matched.append(pattern)
                found.add(spec.name, match.start(), nouns[match.start() : match.end()])


def _match_domain(domain: str, found: _Found) -> None:
    folded = fold(domain)
    for index, (spec, pattern, also) in enumerate(_patterns().contexts):
        match = pattern.search(folded)
        if match and (also is None or also.search(folded)):
            found.matched.append(pattern)
            for offset, name in enumerate(spec.entities):
                found.add(name, _LATER + index * 10 + offset, domain[match.start() : match.end()])


def _add_companions(found: _Found) -> None:
    """Add what each entity brings, right after it, until nothing new comes in."""
    by_name = _patterns().by_name
    pending = list(found.positions)
    while pending:
        name = pending.pop(0)
        position, origin = found.positions[name]
        spec = by_name.get(name)  # none for an entity a clause made ("Member")
        for offset, companion in enumerate(spec.brings if spec else (), start=1):
            if companion not in found.positions:
                found.add(companion, position + offset / 100, origin)
                pending.append(companion)


def _add_generic(folded: Folded, phrases: Sequence[str], found: _Found) -> None:
    for phrase in phrases:
        if any(phrase in clause for clause in found.read_clauses):
            continue  # "members reserve beds": its entities are read already
        generic = _generic_name(phrase)
        if generic is None:
            continue
        name, origin, head = generic
        if any(pattern.search(fold(head)) for pattern in found.matched):
            continue  # "two S3 buckets": a known entity already
        if any(pattern.search(fold(head)) for _, pattern in _quantity_patterns()):
            continue  # "temperature and humidity": what a reading measures, not a record
        if value_words(origin):
            continue  # "mileage", "cost": a value of a record, not a record
        position = folded.find(fold(origin))
        at = position if position >= 0 else _LATER - 1
        if _is_people(head.split()[-1].lower()):
            _person(origin, at - 0.01, found)  # "singers": people, with what people have
        else:
            found.add(name, at, origin)


def _add_accounts(kind: str, personal_data: bool, found: _Found) -> None:
    words = vocabulary()
    if "User" in found.positions or kind not in words.accounts_for:
        return
    specs = [_patterns().by_name.get(name) for name in found.positions]
    wants = personal_data or any(
        spec is not None and (spec.personal or any(a.ref == "User" for a in spec.attributes))
        for spec in specs
    )
    if wants:
        found.add("User", _LATER * 2, "sign-in")


def _generic_entity(name: str, origin: str) -> Entity:
    """An entity no spec defines, by its head noun.

    A record of an event when the head names one ("Boarding scan": when it was scanned and
    by whom, never changed); otherwise a thing with a name and a lifecycle.
    """
    head = name.split()[-1].lower()
    happened = vocabulary().events.get(head)
    if happened is None:
        return Entity(name=name, attributes=_GENERIC_ATTRIBUTES, origin=origin)
    attributes = (
        Attribute(name=happened, type="timestamptz", note="when it happened"),
        Attribute(name="recorded_by", type="text", note="the person or device that recorded it"),
        Attribute(name="notes", type="text", note="nullable"),
    )
    return Entity(name=name, attributes=attributes, append_only=True, origin=origin)


def _measured(domain: str) -> tuple[Attribute, ...]:
    """The quantities ``domain`` (title and goal) names, as attributes, in the goal's order."""
    folded = fold(domain)
    found = [
        (match.start(), spec.attribute)
        for spec, pattern in _quantity_patterns()
        if (match := pattern.search(folded))
    ]
    return tuple(
        Attribute(name=a.name, type=a.type, note=a.note) for _, a in sorted(found, key=_first)
    )


def _first(item: tuple[int, object]) -> int:
    return item[0]


@cache
def _words(pattern: str) -> WordPattern:
    return WordPattern(pattern)


@cache
def _quantity_patterns() -> tuple[tuple[QuantitySpec, WordPattern], ...]:
    return tuple((spec, WordPattern(spec.words)) for spec in vocabulary().quantities)


def _generic_name(phrase: str) -> tuple[str, str, str] | None:
    """``(name, origin, head)`` of the entity a noun phrase names, or ``None`` if it names none.

    ``head`` is the phrase's last two words as written. ``"retention cohorts"`` →
    ``("Retention cohort", "retention cohorts", "retention cohorts")``; ``"stateful database
    on a schedule"`` → ``("Database", "stateful database", "stateful database")``; ``"staff
    scan parcels"`` → ``("Parcel", …)``: a verb between two nouns is no modifier.
    """
    words = vocabulary()
    origin = _CUT.sub("", phrase.strip())
    if _STARTS_WITH_PREPOSITION.match(origin) or _MEASURE.match(origin):
        return None
    tokens = _WORD.findall(origin)
    leading = _leading_words()
    while tokens and tokens[0].lower() in leading:
        tokens.pop(0)
    while tokens and is_adverb(tokens[-1]):
        tokens.pop()
    if not tokens or not _is_entity_noun(tokens[-1]):
        return None
    head = singular(tokens[-1])
    modifiers = [
        t
        for t in tokens[-2:-1]
        if t.lower() not in words.adjectives
        and not is_adverb(t)
        and not (len(tokens) > 2 and t.lower() in _verbs())
    ]
    name = " ".join(w if w.isupper() else w.lower() for w in [*modifiers, head])
    return capitalise(name), origin, " ".join(tokens[-2:])


@cache
def _verbs() -> frozenset[str]:
    """Verbs in their base and third-person forms ("scan", "scans")."""
    return frozenset(third_person_verbs()) | frozenset(third_person_verbs().values())


@cache
def _leading_words() -> frozenset[str]:
    """Words a generic entity's name never starts with: articles, fillers, adjectives."""
    words = vocabulary()
    return words.adjectives | words.fillers | frozenset(words.articles)


def _is_entity_noun(word: str) -> bool:
    """Whether ``word`` may head an entity's name: a noun that is not a property or a tool."""
    words, lower = vocabulary(), word.lower()
    base = singular(lower)
    if len(lower) < 3 or is_adverb(lower) or lower in words.particles:
        return False
    if lower in words.not_entities or base in words.not_entities:
        return False
    if lower in words.adjectives or base in words.adjectives:
        return False
    return lower not in technology_names() and base not in technology_names()


def _entity(
    name: str, origin: str, present: set[str], measured: tuple[Attribute, ...], domain: Folded
) -> Entity:
    """The entity ``name`` with its spec's attributes.

    A reference is kept only to an entity ``present``, an attribute with conditions only when
    the title and goal (``domain``) meet them; the measured attribute is replaced by the
    quantities the goal names (``measured``), when it names any.
    """
    spec = _patterns().by_name.get(name)
    if spec is None:
        return _generic_entity(name, origin)
    attributes: list[Attribute] = []
    for a in spec.attributes:
        if a.ref is not None and a.ref not in present:
            continue
        if a.only_with and not _words(a.only_with).search(domain):
            continue
        if a.unless and _words(a.unless).search(domain):
            continue
        if a.measured and measured:
            attributes.extend(measured)
        else:
            attributes.append(Attribute(name=a.name, type=a.type, note=a.note, ref=a.ref))
    return Entity(
        name=name,
        attributes=tuple(attributes),
        append_only=spec.append_only,
        personal=spec.personal,
        origin=origin,
    )
