"""Technologies a mission names, with their versions ("PostgreSQL 16", "Node.js 20")."""

from functools import cache

from missionctl.reading.model import NamedTechnology
from missionctl.reading.vocabulary import TechnologySpec, vocabulary
from missionctl.reading.words import WordPattern, fold

__all__ = ["find_technologies", "technology", "technology_names"]


@cache
def _patterns() -> tuple[tuple[TechnologySpec, WordPattern], ...]:
    # A version counts only right after the name; "c++" and "c#" must not be cut at "+"/"#".
    version = r"(?:[ \t]*v?(?P<version>\d{1,3}(?:\.\d+)?))?"
    return tuple(
        (tech, WordPattern(tech.pattern, after="+#", suffix=version if tech.versioned else ""))
        for tech in vocabulary().technologies
    )


@cache
def _by_name() -> dict[str, TechnologySpec]:
    return {tech.name: tech for tech in vocabulary().technologies}


def technology(name: str) -> TechnologySpec:
    """The vocabulary entry of the technology called ``name`` (its canonical spelling)."""
    return _by_name()[name]


@cache
def technology_names() -> frozenset[str]:
    """Canonical names of every known technology, lower case."""
    return frozenset(name.lower() for name in _by_name())


def find_technologies(text: str) -> tuple[NamedTechnology, ...]:
    """The technologies named in ``text`` with their versions, in order of appearance.

    A name given both bare and with a version ("PostgreSQL" and "PostgreSQL 16") is one
    technology, in its versioned spelling; two versions of one ("PostgreSQL 11" and
    "PostgreSQL 16") are both kept.
    """
    folded = fold(text)
    found: list[tuple[int, NamedTechnology]] = []
    for tech, pattern in _patterns():
        for match in pattern.finditer(folded):
            version = match.groupdict().get("version")
            name = f"{tech.name} {version}" if version else tech.name
            named = NamedTechnology(
                name=name, base=tech.name, category=tech.category, version=version
            )
            found.append((match.start(), named))
    found.sort(key=lambda item: item[0])
    seen: set[str] = set()
    result: list[NamedTechnology] = []
    for _, named in found:
        if named.name not in seen:
            seen.add(named.name)
            result.append(named)
    versioned = {t.base for t in result if t.version}
    return tuple(t for t in result if t.version or t.base not in versioned)
