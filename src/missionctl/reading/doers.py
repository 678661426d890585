"""The people of a goal: who does what a clause says, and what its "them" and "it" stand for.

How the people are read:

1. A clause starts with people ("hostel guests book rooms") when a word naming them is
   followed by their verb, in the form that agrees with them: plural people (a ``people``
   word, or one ending in "-ists" or "-ians") and a verb in its base form, or a singular one
   ("family scans barcodes") and a verb in the third person. A place may come between them
   ("volunteers at the food bank log donations"). Those people are the clause's doers, and
   its feature is titled for them ("Let members reserve beds", "Let the family scan
   barcodes").
2. A "them" of people's clause is what the clause before acted on ("volunteers log
   donations, and volunteers swap them"), or the people named before when the verb is one
   done to people ("check them in") or nothing was acted on. What the software does is read
   alike: "measures moisture every hour and sends it over LoRaWAN" sends the moisture, when
   the pronoun's number agrees with the thing.
3. A clause whose doer is the software itself ("the app charts them weekly") is the
   software's action ("charts them weekly").
"""

import re
from functools import cache

from missionctl.reading.model import Feature
from missionctl.reading.vocabulary import vocabulary
from missionctl.reading.words import normalise, plural, strip_articles, third_person_verbs

__all__ = [
    "agrees",
    "base_verbs",
    "doers_of",
    "let_title",
    "place_lengths",
    "resolve_pronouns",
    "self_as_doer",
]

_FLAGS = re.IGNORECASE
_PRONOUN = re.compile(r"\b(?:them|they)\b", _FLAGS)
_IT = re.compile(r"\bit\b", _FLAGS)

# Words that end the object of a clause's verb: "record vital signs every hour".
_OBJECT_END = frozenset(
    (
        *("every", "each", "at", "on", "in", "when", "from", "to", "between", "for", "with"),
        *("by", "into", "before", "after", "during", "while", "if", "so", "via", "using"),
        *("per", "through", "across", "over", "under", "daily", "weekly", "monthly", "hourly"),
    )
)
# Plural nouns of people by their ending ("journalists", "physicians"); "-ers" and "-ors" are
# not among them: sensors, routers and printers do things too.
_PEOPLE_ENDING = re.compile(r"^[a-z]{3,}(?:ists|ians)$")
# Words that open a place between people and their verb ("volunteers at the food bank log").
_PLACE_WORDS = frozenset({"at", "in", "from", "on", "of"})


@cache
def base_verbs() -> frozenset[str]:
    """Verbs in their base form: the feature verbs and the single-word leading verbs.

    The form a verb takes after plural people ("guests book") and after "to" ("to track");
    a frozen set of lower-case words, read once from the vocabulary.
    """
    words = vocabulary()
    return frozenset(words.feature_verbs) | {v for v in words.leading_verbs if " " not in v}


def doers_of(text: str) -> str | None:
    """The people a clause starts with when their verb follows, as written, or ``None``.

    "hostel guests book rooms" → "hostel guests": plural people and a verb in its base form;
    "family scans barcodes" → "family": a singular one (whose plural is among the people) and
    a verb in the third person. The people are the first one or two words of ``text`` as
    given, so a caller drops its articles first.
    """
    words = text.split()
    for count in (1, 2):
        if len(words) <= count + 1 or not _is_people(words[count - 1]):
            continue
        plural_people = _is_plural_people(words[count - 1])
        verbs = base_verbs() if plural_people else frozenset(third_person_verbs())
        for skip in place_lengths(words[count:]):
            rest = words[count + skip :]
            if len(rest) >= 2 and rest[0].lower() in verbs:
                return " ".join(words[:count])
    return None


def place_lengths(words: list[str]) -> range:
    """How many words may name a place between people and their verb.

    "volunteers at the food bank log donations": 0 to 5 when ``words`` open with "at", "in",
    "from" …, else 0.
    """
    if not words or words[0].lower() not in _PLACE_WORDS:
        return range(1)
    return range(0, min(len(words), 6))


def agrees(text: str, doers: str) -> bool:
    """Whether ``text`` starts with a verb and an object whose form agrees with ``doers``.

    ``doers`` are people as :func:`doers_of` finds them: after plural people ("members") the
    verb is in its base form ("pay deposits"), after a singular one ("family") in the third
    person ("gets a list"). A verb alone, with no object, agrees with no one.
    """
    words = text.lower().split()
    if len(words) < 2:
        return False
    if _is_plural_people(doers.split()[-1]):
        return words[0] in base_verbs()
    return words[0] in third_person_verbs()


def _is_plural_people(word: str) -> bool:
    lower = word.lower()
    return lower in vocabulary().people or _PEOPLE_ENDING.match(lower) is not None


def _is_people(word: str) -> bool:
    """Whether ``word`` names people, in the plural ("members") or singular ("family")."""
    return _is_plural_people(word) or plural(word).lower() in vocabulary().people


def let_title(feature: Feature) -> str:
    """The title of a feature its doers do: ``"Let the family scan barcodes"``.

    Plural people read as written ("Let members reserve beds by date"); a singular one takes
    "the" and the verb its base form. A feature without ``doers`` gets its own title.
    """
    if not feature.doers or not feature.text.startswith(feature.doers):
        return feature.title
    people = feature.doers
    words = feature.text[len(people) :].split()
    if not _is_plural_people(people.split()[-1]) and words:
        people = f"the {people}"
        # The verb may follow a place ("cooperative of farmers records harvests").
        at = next((i for i in place_lengths(words) if words[i].lower() in third_person_verbs()), 0)
        words[at] = third_person_verbs().get(words[at].lower(), words[at])
    return " ".join(["Let", people, *words])


def resolve_pronouns(
    clauses: list[tuple[str, bool, str]], opening: str
) -> list[tuple[str, bool, str]]:
    """``clauses`` with the "them" and "it" they act on replaced by what it stands for.

    "volunteers log donations, and volunteers swap them": the things the clause before acted
    on (donations); "attendees buy tickets. Let staff check them in": the people named
    before, when the verb is one done to people (``people_verbs``) or nothing was acted on.
    What the software does is read alike: "measures moisture every hour and sends it over
    LoRaWAN" sends the moisture. ``opening`` is what the goal said before the first clause.
    Each clause is ``(text, infinitive, joiner)`` as the clause split gives it; only the text
    changes, and a pronoun with no referent is left as written.
    """
    resolved: list[tuple[str, bool, str]] = []
    said, acted_on, thing = opening, None, None
    for text, infinitive, joiner in clauses:
        bare = strip_articles(normalise(text))
        if doers := doers_of(bare):
            head, body = bare[: len(doers)], bare[len(doers) :]
            if _PRONOUN.search(body):
                people = _nearest_people(said, exclude=doers)
                referent = people if _done_to_people(body) or not acted_on else acted_on
                if referent:
                    text = head + _PRONOUN.sub(referent, body, count=1)
            acted_on = _plural_object(body) or acted_on
        elif _PRONOUN.match(text.partition(" ")[2]) and _done_to_people(text):
            # "the app reminds them the day before": the people named before.
            people = _nearest_people(said, exclude="")
            text = _PRONOUN.sub(people, text, count=1) if people else text
        elif thing:
            text = _software_pronoun(text, thing)
        thing = _object(bare[len(doers or "") :]) or thing
        resolved.append((text, infinitive, joiner))
        said = f"{said} {text}"
    return resolved


def self_as_doer(clauses: list[tuple[str, bool, str]]) -> list[tuple[str, bool, str]]:
    """``clauses`` without the software named as their doer (``software_selves``).

    "the app charts them weekly" is what the software does: "charts them weekly". Each clause
    is ``(text, infinitive, joiner)``; only a text whose second word is a verb in the third
    person changes.
    """
    kept: list[tuple[str, bool, str]] = []
    for text, infinitive, joiner in clauses:
        words = text.split(" ", 2)
        if (
            len(words) == 3
            and words[0].lower() in vocabulary().software_selves
            and words[1].lower() in third_person_verbs()
        ):
            text = f"{words[1]} {words[2]}"
        kept.append((text, infinitive, joiner))
    return kept


def _software_pronoun(text: str, thing: str) -> str:
    """``text`` with the pronoun its leading verb takes replaced by ``thing``.

    "sends it over LoRaWAN" after "measures moisture" sends the moisture; only where their
    numbers agree ("it" is one thing, "them" several).
    """
    words = text.split(" ", 2)
    if len(words) < 2 or words[0].lower() not in base_verbs() | set(third_person_verbs()):
        return text
    pronoun = words[1].lower()
    if pronoun not in ("it", "them") or (pronoun == "them") != _is_plural(thing):
        return text
    return " ".join([words[0], thing, *words[2:]])


def _done_to_people(body: str) -> bool:
    """Whether the verb of ``body`` (" check them in at the door") is one done to people."""
    words = body.lower().split()
    if not words:
        return False
    verb = third_person_verbs().get(words[0], words[0])
    after = words[2:3] if len(words) > 1 and _PRONOUN.fullmatch(words[1]) else words[1:2]
    phrasal = f"{verb} {after[0]}" if after and after[0] in vocabulary().particles else verb
    return phrasal in vocabulary().people_verbs or verb in vocabulary().people_verbs


def _plural_object(body: str) -> str | None:
    """The plural things the verb of ``body`` acts on (" log donations daily" → donations)."""
    thing = _object(body)
    return thing if thing and _is_plural(thing) else None


def _object(body: str) -> str | None:
    """The things the verb of ``body`` acts on; ``None`` for a pronoun or people.

    " log donations daily" → donations, " measure moisture every hour" → moisture.
    """
    verbs, particles = base_verbs() | set(third_person_verbs()), vocabulary().particles
    words = body.split()
    # A place may come before the verb ("at the food bank log donations").
    start = next((i for i, word in enumerate(words[:6]) if word.lower() in verbs), 0)
    while start < len(words) and (words[start].lower() in verbs or words[start] in particles):
        start += 1
    each = start < len(words) and words[start].lower() in ("each", "every")
    start += each  # "log each run": the runs
    end = start
    while end < len(words) and words[end].lower() not in _OBJECT_END:
        end += 1
    thing = strip_articles(" ".join(words[start:end]))
    if each and thing:
        head, _, last = thing.rpartition(" ")
        thing = f"{head} {plural(last)}".strip()
    if not thing or _PRONOUN.search(thing) or _IT.search(thing):
        return None
    return None if _is_people(thing.rsplit(" ", 1)[-1].lower()) else thing


def _is_plural(thing: str) -> bool:
    """Whether the last word of ``thing`` is a plural noun ("donations", "mice")."""
    last = thing.rsplit(" ", 1)[-1].lower()
    return last in vocabulary().irregular_plurals.values() or (
        last.endswith("s") and not last.endswith("ss")
    )


def _nearest_people(text: str, *, exclude: str) -> str | None:
    """The last plural people noun of ``text`` other than ``exclude`` ("attendees")."""
    people = [
        word
        for word in re.findall(r"[a-z]+", text.lower())
        if _is_plural_people(word) and word not in exclude.lower().split()[-1:]
    ]
    return people[-1] if people else None
