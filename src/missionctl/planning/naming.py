"""Short names for the local planner's feature tasks, and so for the files named after them.

A feature task's key is a short name of its feature, and the feature's files are that name in
the stack's convention (``src/s3_bucket_sync.rs``, ``S3BucketSyncTest.kt``: the ``source_name``
and ``test_name`` patterns of the stack profile, see
:meth:`~missionctl.planning.stack_choice.StackChoice.feature_files`). :func:`short_name` makes
it from the feature's clause as the user wrote it:

1. A leading verb is dropped, with its particle, the verbs "and" joins to it ("backs up and
   restores") and the people who do it ("members reserve beds"); the noun of its work, when
   ``naming.yaml`` has one ("sync", "reservation"), ends the name.
2. The rest is cut into noun phrases at function words and constraint words ("to", "for",
   "every", "written"). In each, figures ("2000", "50 ms"), number words, adverbs
   ("incrementally", "nightly") and vague modifiers ("existing") are dropped; a possessive
   reads as a modifier ("a clinic's appointments": "clinic appointments").
3. The first phrase that names more than the software itself and its technologies (not "Java
   Spring Boot service", not "Go tracker") gives the name: its head noun and the words
   nearest it, three words at most, two when the verb's noun follows (the head is then
   singular: ``s3-bucket-sync``).

A name thus never holds more than three of the user's words in a row, however long the clause.
The word lists are data (``naming.yaml``, read once at import); the verbs, their particles and
the rule for adverbs in -ly are the reading's.
"""

import re
import unicodedata
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from missionctl.reading import (
    find_technologies,
    is_adverb,
    place_lengths,
    plural,
    singular,
    third_person,
    third_person_verbs,
    vocabulary,
)
from missionctl.schemas.datafiles import read_data_file

__all__ = [
    "FALLBACK_NAME",
    "MAX_NAME_CHARS",
    "MAX_NAME_WORDS",
    "WORDS",
    "NamingWords",
    "load_words",
    "short_name",
]

MAX_NAME_WORDS = 3
"""Most words in a name: a head noun and two more (the fidelity checkers allow no run of four)."""

MAX_NAME_CHARS = 40
FALLBACK_NAME = "feature"
"""The name of a clause with no word to name it by."""

_TOKEN = re.compile(r"[^\W_]+(?:[-'\u2019.][^\W_]+)*(?:\+\+|#)?")
"""A word as written: hyphenated ("per-site"), possessive ("clinic's"), dotted ("Node.js")."""
_POSSESSIVE = re.compile(r"['\u2019]s$", re.IGNORECASE)
_FIGURE = re.compile(r"^[$€£]?\d")
_PART = re.compile(r"[a-z0-9]+")

Word = Annotated[str, Field(pattern=r"^[a-z][a-z' -]*$")]
NameWord = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]


class NamingWords(BaseModel):
    """The lists of ``naming.yaml`` (see the comments there); every word in lower case."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    more_verbs: frozenset[Word]
    pronouns: frozenset[Word]
    verb_nouns: dict[Word, NameWord]
    function_words: frozenset[Word]
    constraint_words: frozenset[Word]
    adverbs: frozenset[Word]
    number_words: frozenset[Word]
    units: frozenset[Word]
    vague_modifiers: frozenset[Word]
    software_words: frozenset[Word]


def load_words(file: Traversable) -> NamingWords:
    """Read and check a naming word file such as the shipped ``naming.yaml``.

    Raises:
        DataFileError: not YAML, a key written twice, a list missing, or a word not in lower
            case; the message names the file and the field.
    """
    return read_data_file(file, TypeAdapter(NamingWords))


WORDS = load_words(files(__name__.rpartition(".")[0]) / "naming.yaml")
"""The word lists :func:`short_name` uses."""


def short_name(clause: str, *, action: bool = False) -> str:
    """The short name of a feature clause, in kebab case (see the module docstring).

    ``"syncs two S3 buckets incrementally"`` → ``"s3-bucket-sync"``; ``"builds daily revenue
    tables"`` → ``"revenue-tables"``; ``"click analytics"`` → ``"click-analytics"``.

    Args:
        clause: The feature as the user wrote it.
        action: The clause may start with a verb in its base form (an infinitive: "track water
            intake"); one in the third person ("tracks") is recognised either way.

    Returns:
        One to three words of lower-case letters and digits joined by ``-``, starting with a
        letter, at most :data:`MAX_NAME_CHARS` long; :data:`FALLBACK_NAME` when the clause has
        no word to name it by.
    """
    tokens = _TOKEN.findall(clause)
    doers = _people_doing(tokens)
    verb, rest = _leading_verb(tokens[doers:], base_form=action or doers > 0)
    noun = _verb_noun(verb)
    words = _head(_named_phrase(rest), MAX_NAME_WORDS - (1 if noun else 0))
    if noun:
        if words and words[-1] == words[-1].lower():
            # The head is now a modifier: "S3 buckets" synced make an "s3-bucket-sync".
            words[-1] = singular(words[-1])
        if not words or _parts(words[-1]) != [noun]:
            words.append(noun)
        while len(words) > 1 and _size(words) > MAX_NAME_WORDS:
            words.pop(0)  # "sign-in sync" spans "in" too: "syncs sign-in" loses "syncs"
    elif not words and verb:
        words = [verb.split()[0]]
    return _kebab(words)


def _people_doing(tokens: list[str]) -> int:
    """How many words name the people a clause starts with, before their verb, else 0.

    "members reserve beds by date", "hostel guests book rooms": the people are who does it,
    not what the feature is named after.
    """
    people = vocabulary().people
    for count in (1, 2):
        word = tokens[count - 1].lower() if len(tokens) > count + 1 else ""
        # "a family scans barcodes": one of the people, by the plural the list holds.
        if not word or not (word in people or plural(word) in people):
            continue
        for place in place_lengths(tokens[count:]):
            if len(tokens) > count + place and _as_verb(tokens[count + place], base_form=True):
                return count + place  # the place names no more than the people do
    return 0


@cache
def _verb_forms() -> tuple[frozenset[str], dict[str, str]]:
    """The base forms of the verbs a clause may start with, and their third persons → base."""
    vocab = vocabulary()
    base = {
        *vocab.feature_verbs,
        *(verb for verb in vocab.leading_verbs if " " not in verb),
        *WORDS.more_verbs,
    }
    return frozenset(base), {**{third_person(v): v for v in base}, **third_person_verbs()}


def _as_verb(word: str, *, base_form: bool) -> str | None:
    """The base form of ``word`` when it is a verb a clause may start with, else ``None``."""
    base, third = _verb_forms()
    lower = word.lower()
    return third.get(lower) or (lower if base_form and lower in base else None)


def _leading_verb(tokens: list[str], *, base_form: bool) -> tuple[str | None, list[str]]:
    """The clause's first verb and the words after its verbs.

    The verb is in its base form, with its particle ("back up"). There is none when the clause
    does not start with a verb, or when nothing follows its verbs: a lone "reports" is a noun.
    """
    first = _as_verb(tokens[0], base_form=base_form) if tokens else None
    if first is None:
        return None, tokens
    particles = vocabulary().particles
    verb = first
    if len(tokens) > 1 and tokens[1].lower() in particles:
        verb = f"{first} {tokens[1].lower()}"
    elif _pronoun_between(tokens):
        # "check them in": the pronoun names nothing; the phrasal verb names the work.
        return f"{first} {tokens[2].lower()}", tokens[3:]
    elif split := _object_between(first, tokens):
        return split  # "check drills out": the drills, checked out
    end = 1
    while end < len(tokens):
        if tokens[end].lower() in particles:
            end += 1
        elif (
            tokens[end].lower() == "and"
            and end + 1 < len(tokens)
            and _as_verb(tokens[end + 1], base_form=base_form)
        ):
            end += 2
        else:
            break
    if end == len(tokens):
        return None, tokens
    return verb, tokens[end:]


def _pronoun_between(tokens: list[str]) -> bool:
    """Whether a pronoun sits between the verb and its particle ("check them in")."""
    return (
        len(tokens) > 2
        and tokens[1].lower() in WORDS.pronouns
        and tokens[2].lower() in vocabulary().particles
    )


def _object_between(first: str, tokens: list[str]) -> tuple[str, list[str]] | None:
    """A named phrasal verb split by a short object ("check drills out"), and the object."""
    particles = vocabulary().particles
    for at in (2, 3):
        both = [t.lower() for t in tokens[at + 1 : at + 3]][:1] == ["and"]  # "in and out"
        if len(tokens) > at and tokens[at].lower() in particles and not both:
            phrasal = f"{first} {tokens[at].lower()}"
            if phrasal in WORDS.verb_nouns:
                return phrasal, [*tokens[1:at], *tokens[at + 1 :]]
    return None


def _verb_noun(verb: str | None) -> str | None:
    """The noun of a verb's work ("back up" → "backup", "syncs over" → "sync"), if listed."""
    if verb is None:
        return None
    return WORDS.verb_nouns.get(verb) or WORDS.verb_nouns.get(verb.split()[0])


def _phrases(tokens: list[str]) -> list[list[str]]:
    """The noun phrases of ``tokens``, none empty.

    They are cut at function and constraint words, and hold no figure (nor the unit after
    one), number word, adverb or vague modifier.
    """
    breaks = WORDS.function_words | WORDS.constraint_words
    dropped = WORDS.number_words | WORDS.vague_modifiers | WORDS.adverbs
    phrases: list[list[str]] = [[]]
    after_figure = False
    for token in tokens:
        word = _POSSESSIVE.sub("", token)
        lower = word.lower()
        unit = after_figure and lower in WORDS.units
        after_figure = bool(_FIGURE.match(word))
        if lower in breaks:
            phrases.append([])
        elif not (after_figure or unit or lower in dropped or is_adverb(lower)):
            phrases[-1].append(word)
    return [phrase for phrase in phrases if phrase]


def _named_phrase(tokens: list[str]) -> list[str]:
    """The first phrase naming more than the software and its technologies, else the first."""
    phrases = _phrases(tokens)
    # Technologies are found in the whole text: "Go" is a language in "written in Go" only.
    technologies = find_technologies(" ".join(tokens))
    known = {word for tech in technologies for word in _TOKEN.findall(tech.base.lower())}
    known |= WORDS.software_words
    named = (phrase for phrase in phrases if any(w.lower() not in known for w in phrase))
    return next(named, phrases[0] if phrases else [])


def _parts(word: str) -> list[str]:
    """The parts of a word as a name spells them: "Per-site" → ["per", "site"], "C#" → ["c"].

    Accents are dropped ("Café" → "cafe"): a task key is written in ASCII.
    """
    ascii_word = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    return _PART.findall(ascii_word.lower())


def _size(words: list[str]) -> int:
    """How many words ``words`` span as a name.

    The span runs from the first part that is not a function word to the last; a hyphenated
    word counts each of its parts ("two-factor sign-in" spans 3, as the fidelity checkers count).
    """
    parts = [part for word in words for part in _parts(word)]
    content = [i for i, part in enumerate(parts) if part not in WORDS.function_words]
    return content[-1] - content[0] + 1 if content else 0


def _head(phrase: list[str], room: int) -> list[str]:
    """The head noun of ``phrase`` and the modifiers nearest it, spanning ``room`` words at most.

    A hyphenated head longer than ``room`` keeps its last parts.
    """
    kept: list[str] = []
    for word in reversed(phrase):
        if _size([word, *kept]) > room:
            break
        kept.insert(0, word)
    if not kept and phrase and room > 0:
        kept = ["-".join(_parts(phrase[-1])[-room:])]
    return kept


def _kebab(words: list[str]) -> str:
    """``words`` as a name: their parts in lower case joined by ``-``.

    Leading parts are dropped until the name starts with a letter and is at most
    :data:`MAX_NAME_CHARS` long; with no part left, the name is :data:`FALLBACK_NAME`.
    """
    parts = [part for word in words for part in _parts(word)]
    while parts and not parts[0][0].isalpha():
        parts.pop(0)
    while len(parts) > 1 and len("-".join(parts)) > MAX_NAME_CHARS:
        parts.pop(0)
    name = "-".join(parts)[:MAX_NAME_CHARS].rstrip("-")
    return name or FALLBACK_NAME
