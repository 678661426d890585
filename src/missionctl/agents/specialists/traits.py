"""Traits of kinds of software, found by keywords, and the threats typical for each.

A trait ("api", "mobile", "pii", …) is a property of the mission found in its goal, title,
constraints and repository context. Both tables are data, in ``traits.yaml`` next to this
module, read once at import by :func:`load_traits`: ``patterns`` maps each trait to a regular
expression, and ``threats`` lists the typical threats, each for one trait or for ``*`` (every
mission). A wrong severity or likelihood, an unknown field, a key written twice, a pattern that
does not compile or a threat for an unknown trait is a
:class:`~missionctl.schemas.datafiles.DataFileError` naming the file and the field.
"""

import re
from importlib.resources import files
from importlib.resources.abc import Traversable

from pydantic import ConfigDict, TypeAdapter
from pydantic.dataclasses import dataclass

from missionctl.schemas.datafiles import data_file_error, read_data_file
from missionctl.schemas.plans import Likelihood, Severity

EVERY_MISSION = "*"
"""The trait of threats typical for every mission."""

_STRICT = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True, config=_STRICT)
class Threat:
    """A threat typical for a kind of software, and its usual mitigation."""

    trait: str
    title: str
    severity: Severity
    likelihood: Likelihood
    mitigation: str


@dataclass(frozen=True, slots=True, config=_STRICT)
class TraitTable:
    """The contents of ``traits.yaml``.

    Attributes:
        patterns: Each trait's regular expression, matched case-insensitively on whole words.
        threats: Typical threats, in the order a threat model lists them.
    """

    patterns: dict[str, str]
    threats: tuple[Threat, ...]


def load_traits(file: Traversable) -> TraitTable:
    """Read and check a trait table (the product's is ``traits.yaml`` next to this module).

    Raises:
        DataFileError: the file cannot be read or validated, a pattern does not compile, or a
            threat names a trait without a pattern; the message names the file and the field.
    """
    table = read_data_file(file, TypeAdapter(TraitTable))
    problems = []
    for name, pattern in table.patterns.items():
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(f"patterns.{name}: {pattern!r} is not a regular expression ({exc})")
    for i, threat in enumerate(table.threats):
        if threat.trait != EVERY_MISSION and threat.trait not in table.patterns:
            problems.append(
                f"threats.{i}.trait: unknown trait {threat.trait!r}; use a name from patterns "
                f"or {EVERY_MISSION!r} for every mission"
            )
    if problems:
        raise data_file_error(file, problems)
    return table


_TABLE = load_traits(files(__name__.rpartition(".")[0]) / "traits.yaml")

TRAIT_PATTERNS: dict[str, str] = _TABLE.patterns
"""Each trait's regular expression (without the whole-word guards :func:`detect_traits` adds)."""

_TRAITS = {
    name: re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.I)
    for name, pattern in TRAIT_PATTERNS.items()
}


# Traits that say what the software is, not what it has: each holds exactly when the
# reading's kind (the one detector of kinds) is this one. "battery" in a watch app's goal makes
# no firmware, and "a habit tracker" no browser extension.
_KIND_TRAITS = {"firmware": "firmware", "extension": "browser_extension"}


def detect_traits(text: str, kind: str | None = None) -> frozenset[str]:
    """The traits whose keywords occur in ``text`` (whole words, case-insensitive).

    With the reading's ``kind``, the traits that name a kind of software follow it instead
    of the words.
    """
    found = {name for name, pattern in _TRAITS.items() if pattern.search(text)}
    if kind is not None:
        found -= _KIND_TRAITS.keys()
        found |= {trait for trait, of_kind in _KIND_TRAITS.items() if of_kind == kind}
    return frozenset(found)


THREATS: tuple[Threat, ...] = _TABLE.threats
"""Typical threats, each for one trait or for :data:`EVERY_MISSION`."""


def threats_for(traits: frozenset[str]) -> list[Threat]:
    """The threats typical for software with ``traits``, then those for every mission."""
    return [t for t in THREATS if t.trait in traits] + [
        t for t in THREATS if t.trait == EVERY_MISSION
    ]
