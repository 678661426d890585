"""The reading's vocabularies: YAML files in ``data/``, validated by Pydantic, loaded once.

Each file says in its header what its entries mean. A malformed file (an unknown field, a
regular expression that does not compile, an entity referring to one that does not exist)
fails at the first reading with a :class:`pydantic.ValidationError` naming the entry, so a
typo never reaches a plan.
"""

import re
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from missionctl.schemas.datafiles import read_data_text

__all__ = [
    "AttributeSpec",
    "ContextSpec",
    "DerivedSpec",
    "EntitySpec",
    "KindSpec",
    "LanguageSpec",
    "Languages",
    "QuantitySpec",
    "RecordSpec",
    "Scale",
    "SignalSpec",
    "TechnologySpec",
    "TimeSpec",
    "ValueSpec",
    "Vocabulary",
    "load_data",
    "vocabulary",
]

Scale = Literal["single_user", "small", "medium", "large", "unstated"]
"""How much use the software expects: one person, a small organisation, thousands, millions."""


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _compiles(pattern: str) -> str:
    """A regular expression in lower case (it is matched against lower-cased text)."""
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"not a regular expression ({error}): {pattern!r}") from error
    if pattern != pattern.lower():
        raise ValueError(f"write patterns in lower case, they meet lower-cased text: {pattern!r}")
    return pattern


class TechnologySpec(_Spec):
    """A technology the reading recognises by name (``data/technologies.yaml``)."""

    name: str
    category: str
    pattern: str
    versioned: bool = False
    implies: dict[str, str] = Field(default_factory=dict)

    _pattern = field_validator("pattern")(_compiles)


class SignalSpec(_Spec):
    """A plan-changing constraint and how it is found (``data/signals.yaml``)."""

    key: str
    pattern: str
    value_pattern: str | None = None

    _patterns = field_validator("pattern", "value_pattern")(
        lambda value: value if value is None else _compiles(value)
    )


class ScaleLevel(_Spec):
    """Words that put a mission at one level of scale."""

    level: Scale
    words: str

    _words = field_validator("words")(_compiles)


class ScaleRules(_Spec):
    """How the scale of a mission is read."""

    counted: str
    at_most: dict[Scale, int]
    levels: tuple[ScaleLevel, ...]

    _counted = field_validator("counted")(_compiles)


class AttributeSpec(_Spec):
    """An attribute of a known entity."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: str
    note: str = ""
    ref: str | None = None
    measured: bool = False
    """The measured value of a reading: replaced by the quantities the goal names."""
    only_with: str | None = None
    """Words of the title or goal without which the attribute is left out."""
    unless: str | None = None
    """Words of the title or goal with which the attribute is left out."""

    _conditions = field_validator("only_with", "unless")(
        lambda value: value if value is None else _compiles(value)
    )


class QuantitySpec(_Spec):
    """A quantity a device measures, by the words that name it ("soil moisture")."""

    words: str
    attribute: AttributeSpec

    _words = field_validator("words")(_compiles)


class ValueSpec(_Spec):
    """A value a record keeps, by the words that name it ("repairs with mileage and cost")."""

    words: str
    attribute: AttributeSpec
    prefixed: bool = False
    """The word before it names it too: "germination rates" → ``germination_rate``."""

    _words = field_validator("words")(_compiles)


class EntitySpec(_Spec):
    """A record software usually keeps, and the words that bring it in."""

    name: str
    words: str | None = None
    append_only: bool = False
    personal: bool = False
    actor: str | None = None
    brings: tuple[str, ...] = ()
    attributes: tuple[AttributeSpec, ...]

    _words = field_validator("words")(lambda value: value if value is None else _compiles(value))


class RecordSpec(_Spec):
    """What a sentence "<people> <verb> <things>" keeps: "members reserve beds" → Reservation."""

    verbs: tuple[str, ...] = Field(min_length=1)
    nouns: str | None = None
    """The words that name it with its thing ("bed reservations"); none for an event whose
    noun the ``events`` table already reads ("boarding scans")."""
    name: str
    when: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    status: str = ""
    append_only: bool = False

    _nouns = field_validator("nouns")(lambda value: value if value is None else _compiles(value))


class TimeSpec(_Spec):
    """Words of a clause that say when ("by date", "arrival and departure dates")."""

    words: str
    attributes: tuple[AttributeSpec, ...] = Field(min_length=1)

    _words = field_validator("words")(_compiles)


class DerivedSpec(_Spec):
    """Words naming something computed from an entity's attribute."""

    words: str
    entity: str
    attribute: str

    _words = field_validator("words")(_compiles)


class ContextSpec(_Spec):
    """Words that imply entities the goal does not name."""

    words: str
    with_: str | None = Field(default=None, alias="with")
    entities: tuple[str, ...]

    _words = field_validator("words", "with_")(
        lambda value: value if value is None else _compiles(value)
    )


class KindSpec(_Spec):
    """A kind of software and the weighted words that say so (``pattern: weight`` lines)."""

    key: str
    words: tuple[tuple[str, int], ...]

    @field_validator("words", mode="before")
    @classmethod
    def _pairs(cls, value: object) -> object:
        """A file's ``pattern: weight`` lines as ``(pattern, weight)`` pairs, in order."""
        return list(value.items()) if isinstance(value, dict) else value

    @field_validator("words")
    @classmethod
    def _patterns(cls, words: tuple[tuple[str, int], ...]) -> tuple[tuple[str, int], ...]:
        for pattern, weight in words:
            _compiles(pattern)
            if weight <= 0:
                raise ValueError(f"weights are positive: {pattern!r} has {weight}")
        return words


Word = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[^\W\d_]+$")]
"""One word, letters only (``data/languages.yaml``, ``generic_words``)."""


def _lower_case(words: frozenset[str]) -> frozenset[str]:
    """Words in lower case (they meet lower-cased text)."""
    upper = sorted(word for word in words if word != word.lower())
    if upper:
        raise ValueError(f"write words in lower case: {', '.join(upper)}")
    return words


class LanguageSpec(_Spec):
    """A language a goal may be written in, and the words that give it away."""

    name: str = Field(min_length=1)
    words: frozenset[Word] = Field(min_length=1)

    _words = field_validator("words")(_lower_case)


class Languages(_Spec):
    """The languages a goal is told apart in (``data/languages.yaml``).

    Attributes:
        min_foreign_words: Fewest words of another language that make a text lean to it.
        languages: ISO 639-1 code → the language; English (``en``) is one of them and shares
            no word with another, so a word counts for one side only.
    """

    min_foreign_words: int = Field(ge=1)
    languages: dict[Annotated[str, Field(pattern=r"^[a-z]{2}$")], LanguageSpec]

    @model_validator(mode="after")
    def _english_apart(self) -> Self:
        english = self.languages.get("en")
        if english is None:
            raise ValueError("languages: English (en) is the language the others are told from")
        for code, language in self.languages.items():
            shared = sorted(language.words & english.words) if code != "en" else []
            if shared:
                raise ValueError(f"languages.{code} shares words with en: {', '.join(shared)}")
        return self


class Vocabulary(_Spec):
    """Every vocabulary of the reading, from the files in ``data/``."""

    technologies: tuple[TechnologySpec, ...]
    signals: tuple[SignalSpec, ...]
    cadence: str
    scale: ScaleRules
    leading_verbs: tuple[str, ...]
    host_verbs: frozenset[str]
    moving_verbs: frozenset[str]
    deploying_verbs: frozenset[str]
    feature_verbs: tuple[str, ...]
    irregular_verbs: dict[str, str]
    particles: frozenset[str]
    people_verbs: frozenset[str]
    articles: tuple[str, ...]
    irregular_plurals: dict[str, str]
    mass_nouns: frozenset[str]
    software_selves: frozenset[str]
    ly_nouns: frozenset[str]
    adjectives: frozenset[str]
    not_entities: frozenset[str]
    generic_words: frozenset[Word]
    fillers: frozenset[str]
    containers: frozenset[str]
    people: tuple[str, ...]
    organisations: dict[str, tuple[str, ...]]
    entities: tuple[EntitySpec, ...]
    accounts_for: frozenset[str]
    derived: tuple[DerivedSpec, ...]
    contexts: tuple[ContextSpec, ...]
    quantities: tuple[QuantitySpec, ...]
    values: tuple[ValueSpec, ...]
    events: dict[str, str]
    records: tuple[RecordSpec, ...]
    times: tuple[TimeSpec, ...]
    person: tuple[AttributeSpec, ...]
    kinds: tuple[KindSpec, ...]
    min_kind_score: int
    languages: Languages
    brownfield: str
    greenfield: str
    records_today: str

    _cadence = field_validator("cadence", "brownfield", "greenfield", "records_today")(_compiles)
    _generic_words = field_validator("generic_words")(_lower_case)

    @model_validator(mode="after")
    def _entities_exist(self) -> Self:
        """Every entity named by another entry is defined."""
        names = {entity.name for entity in self.entities}
        named = [
            *(ref for e in self.entities for ref in e.brings),
            *(a.ref for e in self.entities for a in e.attributes if a.ref),
            *(d.entity for d in self.derived),
            *(name for c in self.contexts for name in c.entities),
        ]
        missing = sorted({name for name in named if name not in names})
        if missing:
            raise ValueError(f"entities referred to but not defined: {', '.join(missing)}")
        for derived in self.derived:
            entity = next(e for e in self.entities if e.name == derived.entity)
            if all(a.name != derived.attribute for a in entity.attributes):
                raise ValueError(f"{derived.entity} has no attribute {derived.attribute!r}")
        return self


# libyaml's loader when PyYAML was built with it: ten times faster on the first reading.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_data(name: str) -> dict[str, Any]:
    """The mapping in ``data/<name>`` (YAML), not yet validated.

    Raises:
        ValueError: the file does not hold a mapping.
    """
    text = read_data_text(resources.files("missionctl.reading").joinpath("data", name))
    loaded = yaml.load(text, Loader=_LOADER)  # a safe loader, in C or in Python
    if not isinstance(loaded, dict):
        raise ValueError(f"data/{name} must hold a mapping")
    return loaded


@cache
def vocabulary() -> Vocabulary:
    """The vocabularies, read and validated on first use and shared afterwards."""
    signals, verbs, words, entities = (
        load_data(name) for name in ("signals.yaml", "verbs.yaml", "words.yaml", "entities.yaml")
    )
    context, kinds = load_data("context.yaml"), load_data("kinds.yaml")
    return Vocabulary.model_validate(
        {
            "technologies": load_data("technologies.yaml")["technologies"],
            **signals,
            "leading_verbs": verbs["leading"],
            "host_verbs": verbs["into_host"],
            "moving_verbs": verbs["moving"],
            "deploying_verbs": verbs["deploying"],
            "feature_verbs": verbs["features"],
            "irregular_verbs": verbs["irregular"],
            "particles": verbs["particles"],
            "people_verbs": verbs["done_to_people"],
            **words,
            **entities,
            "kinds": kinds["kinds"],
            "min_kind_score": kinds["min_score"],
            "languages": load_data("languages.yaml"),
            "brownfield": context["brownfield"],
            "greenfield": context["greenfield"],
            "records_today": context["records_today"],
        }
    )
