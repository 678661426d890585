"""What a reading of a mission holds: typed, immutable values with no behaviour beyond naming.

:class:`GoalReading` is the one reading of a mission that the local planner and the builtin
specialists share (ADR 0033); :func:`missionctl.reading.read_goal` makes it.
"""

from pydantic import BaseModel, ConfigDict

from missionctl.reading.context import host_component
from missionctl.reading.vocabulary import Scale
from missionctl.reading.words import plural

__all__ = [
    "Attribute",
    "Derivation",
    "Entity",
    "Feature",
    "GoalReading",
    "NamedTechnology",
    "Scale",
    "Signal",
]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Feature(_Value):
    """One feature of a goal, as the user named it.

    Attributes:
        text: The clause as written, leading articles removed ("click analytics",
            "converts CSV files to Parquet").
        title: How it reads as a heading: the capitalised noun phrase ("Click analytics") or
            the imperative of a verb clause ("Convert CSV files to Parquet").
        action: Whether the clause starts with a verb (the software does something).
        phrase: The noun phrase: the clause itself, or the object of its verbs ("CSV files to
            Parquet" for "converts CSV files to Parquet").
        doers: The people the clause says do it, when it starts with them and their verb
            ("members" in "members reserve beds by date", "family" in "family scans
            barcodes"); such a clause is no action of the software's, and its phrase is the
            clause itself.
        technology: The technology a noun clause starts with, as written ("Stripe" in
            "Stripe payments"): a stack choice that provides the feature, not part of its
            name; the phrase is then the rest ("payments").
    """

    text: str
    title: str
    action: bool
    phrase: str
    doers: str | None = None
    technology: str | None = None

    @classmethod
    def noun(cls, text: str) -> "Feature":
        """A feature that is a noun phrase ("the core of the CRM")."""
        return cls(text=text, title=text[:1].upper() + text[1:], action=False, phrase=text)

    @property
    def name(self) -> str:
        """The feature inside a sentence: "click analytics", "convert CSV files to Parquet"."""
        return self.title[:1].lower() + self.title[1:] if self.action else self.text


class Attribute(_Value):
    """One attribute of an entity.

    Attributes:
        name: snake_case name ("expiry_date").
        type: Storage type ("date", "uuid", "char(3)").
        note: The rule it follows ("unique", "indexed: drives expiry alerts"), or "".
        ref: The entity it points at ("Supplier"); only entities of the same reading.
        part_of: Whether ``ref`` is the whole this record is one of, as the goal says ("a
            logbook where skippers record entries": each entry is part of the logbook, which
            has many): a one-to-many seen from the whole.
    """

    name: str
    type: str
    note: str = ""
    ref: str | None = None
    part_of: bool = False


class Entity(_Value):
    """A record the software keeps.

    Attributes:
        name: Human name, capitalised ("Purchase order").
        attributes: Its attributes, in a sensible order; storage columns (ids, timestamps of
            creation) are not part of the domain and are left to whoever stores it.
        append_only: Rows are recorded, never changed (clicks, readings, audit entries).
        personal: It holds personal data.
        origin: The words of the mission that brought it in ("supplier orders").
    """

    name: str
    attributes: tuple[Attribute, ...]
    append_only: bool = False
    personal: bool = False
    origin: str = ""

    @property
    def class_name(self) -> str:
        """The name as a type in code (``Purchase order`` → ``PurchaseOrder``)."""
        return "".join(word[:1].upper() + word[1:] for word in self.name.split())

    @property
    def table(self) -> str:
        """The plural snake-case table name (``Stock movement`` → ``stock_movements``).

        A hyphen is no identifier character: ``Session check-in`` → ``session_check_ins``.
        """
        return "_".join(plural(self.name).lower().replace("-", " ").split())

    @property
    def path(self) -> str:
        """The plural kebab-case path segment (``Stock movement`` → ``stock-movements``)."""
        return self.table.replace("_", "-")

    def refs(self) -> list[str]:
        """Entities this one points at, in attribute order."""
        return [a.ref for a in self.attributes if a.ref]

    def attribute(self, name: str) -> Attribute | None:
        """The attribute called ``name``, if it has one."""
        return next((a for a in self.attributes if a.name == name), None)


class Derivation(_Value):
    """Something a goal names that is computed from an attribute rather than stored.

    Attributes:
        phrase: The goal's words ("expiry alerts").
        entity: The entity holding the attribute ("Batch").
        attribute: The attribute it is computed from ("expiry_date").
    """

    phrase: str
    entity: str
    attribute: str


class NamedTechnology(_Value):
    """A technology the mission names.

    Attributes:
        name: Canonical spelling with the version when one was given ("PostgreSQL 16").
        base: Canonical spelling without version ("PostgreSQL").
        category: What it is: ``language``, ``database``, ``cloud``, … (see
            ``data/technologies.yaml``).
        version: The version given, if any ("16").
    """

    name: str
    base: str
    category: str
    version: str | None = None


class Signal(_Value):
    """A constraint the mission states that changes any plan ("no downtime", "offline").

    Attributes:
        key: Which signal (see ``data/signals.yaml``).
        value: The words worth quoting: the amount of a budget, the date of a deadline, or
            the text that matched.
        constraints: Indexes of the mission's constraints that state it.
    """

    key: str
    value: str
    constraints: tuple[int, ...] = ()


class GoalReading(_Value):
    """The one reading of a mission: what it is about, in typed values.

    Attributes:
        verb: The goal's leading verb ("build", "migrate"), lower case, or ``None``.
        subject: What is being made or changed, without what it is for ("inventory
            management system").
        purpose: What or whom it is for ("small bakery", "rate limiting"), or ``None``.
        subject_phrase: The subject as the goal says it, purpose included ("inventory
            management system for a small bakery"); the name plans and documents use.
        host: The existing system the work goes into ("existing Django monolith"), or
            ``None``.
        descriptor: What a named subject is, from "<name> as a <descriptor>" ("live
            orchestration dashboard for AI agents" for "Mission Control as a live
            orchestration dashboard for AI agents"), or ``None``.
        features: The goal's features as the user named them, in order, without duplicates.
        actors: The people the software serves ("bakery staff", "suppliers").
        entities: The records the software keeps, with attributes and relations.
        derived: What the goal names that is computed from an entity's attribute.
        kind: The kind of software, a key of ``data/kinds.yaml`` (``web_app``, ``cli_tool``,
            ``data_pipeline``, ``mobile_app``, ``firmware``, …, or ``generic``).
        kind_score: How strongly the words say so (see
            :func:`missionctl.reading.kinds.find_kind`).
        kind_words: The kind's patterns that matched, in its table's order.
        technologies: The technologies named, in order of appearance.
        signals: The plan-changing constraints stated anywhere in the mission.
        scale: How much use the software expects.
        scale_phrase: The words that say so ("small bakery", "5 million users"), or ``None``.
        cadence: How often scheduled work runs ("nightly"), when the mission says so.
        constraints: The mission's constraints, stripped, empty ones dropped, then the goal's
            own constraint clauses ("HIPAA applies", "must comply with GDPR", "works offline").
        existing: What the repository context or goal says exists already ("React Native
            app", "REST API").
        brownfield: Whether the work changes an existing system.
        records_today: Where the goal says the work is kept today ("spreadsheet", "paper
            charts"), as written, or ``None``.
        language: The language the goal is written in: ``en``, ``fr``, ``de``, … (the codes
            of ``data/languages.yaml``, named by :func:`~missionctl.reading.language_name`),
            or ``und`` when it has no letter, is mostly in another script, or leans away from
            English to no single listed language (see :mod:`missionctl.reading.language`).
        vague: Whether the goal says too little to plan: no word is left once English
            function words and generic words ("build", "app", "thing") are dropped.
        deployment: The goal's clauses saying where the software is deployed ("deployed
            with Helm on Kubernetes"), among ``constraints``: they say nothing of its kind.
    """

    verb: str | None
    subject: str
    purpose: str | None
    subject_phrase: str
    host: str | None
    features: tuple[Feature, ...]
    actors: tuple[str, ...]
    entities: tuple[Entity, ...]
    derived: tuple[Derivation, ...]
    kind: str
    kind_score: int
    kind_words: tuple[str, ...]
    technologies: tuple[NamedTechnology, ...]
    signals: tuple[Signal, ...]
    scale: Scale
    scale_phrase: str | None
    cadence: str | None
    constraints: tuple[str, ...]
    existing: tuple[str, ...]
    brownfield: bool
    records_today: str | None
    language: str
    vague: bool
    descriptor: str | None = None
    deployment: tuple[str, ...] = ()

    @property
    def host_component(self) -> str | None:
        """The component among ``existing`` that the host is, or ``None``.

        "React Native app" for "our gym booking app" when the context says a React Native
        app exists (see :func:`missionctl.reading.context.host_component`).
        """
        return host_component(self.host, self.existing)

    @property
    def english(self) -> bool:
        """Whether the goal is written in English (the only language the reading parses)."""
        return self.language == "en"

    @property
    def programming_language(self) -> str | None:
        """The first programming language named ("Rust"), or ``None``."""
        return next((t.base for t in self.technologies if t.category == "language"), None)

    def technologies_in(self, category: str) -> list[NamedTechnology]:
        """The named technologies of one category (``"database"``), in order."""
        return [t for t in self.technologies if t.category == category]

    def entity(self, name: str) -> Entity | None:
        """The entity called ``name`` ("Batch"), if the reading has it."""
        return next((e for e in self.entities if e.name == name), None)

    def signal(self, key: str) -> Signal | None:
        """The signal ``key`` ("offline"), if the mission states it."""
        return next((s for s in self.signals if s.key == key), None)
