"""What changed between two versions of a mission's plan: pure, no I/O.

A plan's sections are lists of items; each item has an identity that survives a re-plan (a
task's and a requirement's ``key``, a risk's and a decision's ``title``). Comparing two versions
section by section gives the items added, removed, and changed (with the names of the fields
that differ). The plans are plain mappings (a ``PlanRead`` dumped to JSON-ready data), so this
module depends on nothing.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

SectionName = Literal["tasks", "requirements", "risks", "decisions"]
"""The sections of a plan that are compared."""

SECTIONS: Mapping[SectionName, tuple[str, str]] = MappingProxyType(
    {
        "tasks": ("key", "title"),
        "requirements": ("key", "text"),
        "risks": ("title", "title"),
        "decisions": ("title", "choice"),
    }
)
"""Compared section → (the field that identifies an item, the field that names it for people)."""


@dataclass(frozen=True, slots=True)
class DiffItem:
    """One item of a section: its identity and its readable name."""

    key: str
    label: str


@dataclass(frozen=True, slots=True)
class ChangedItem:
    """An item in both versions whose content differs, and the fields that differ."""

    key: str
    label: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SectionDiff:
    """The items of one section added, removed and changed from one version to the other."""

    name: SectionName
    added: tuple[DiffItem, ...]
    removed: tuple[DiffItem, ...]
    changed: tuple[ChangedItem, ...]

    @property
    def same(self) -> bool:
        """Whether the section is the same in both versions."""
        return not (self.added or self.removed or self.changed)


@dataclass(frozen=True, slots=True)
class PlanDiff:
    """The differences between plan version ``base`` and plan version ``target``."""

    base: int
    target: int
    summary_changed: bool
    sections: tuple[SectionDiff, ...]

    @property
    def same(self) -> bool:
        """Whether the two versions plan the same thing (only their metadata may differ)."""
        return not self.summary_changed and all(s.same for s in self.sections)


def _items(plan: Mapping[str, Any], section: SectionName) -> dict[str, Mapping[str, Any]]:
    key_field = SECTIONS[section][0]
    items: Sequence[Mapping[str, Any]] = plan.get(section) or ()
    return {str(item[key_field]): item for item in items}


def _label(item: Mapping[str, Any], section: SectionName) -> str:
    return str(item.get(SECTIONS[section][1]) or item[SECTIONS[section][0]])


def diff_section(
    base: Mapping[str, Any], target: Mapping[str, Any], section: SectionName
) -> SectionDiff:
    """Compare one section of two plans.

    Args:
        base: the older (or left) plan as a mapping.
        target: the newer (or right) plan as a mapping.
        section: one of :data:`SECTIONS`.

    Returns:
        Added and changed items in ``target``'s order, removed ones in ``base``'s; a changed
        item names its differing fields in sorted order.

    Raises:
        KeyError: ``section`` is not one of :data:`SECTIONS` (a programming error).
    """
    old, new = _items(base, section), _items(target, section)
    added = tuple(DiffItem(k, _label(v, section)) for k, v in new.items() if k not in old)
    removed = tuple(DiffItem(k, _label(v, section)) for k, v in old.items() if k not in new)
    changed = []
    for key, item in new.items():
        before = old.get(key)
        if before is None:
            continue
        fields = tuple(sorted(f for f in set(before) | set(item) if before.get(f) != item.get(f)))
        if fields:
            changed.append(ChangedItem(key, _label(item, section), fields))
    return SectionDiff(section, added, removed, tuple(changed))


def diff_plans(
    base: Mapping[str, Any], target: Mapping[str, Any], *, base_version: int, target_version: int
) -> PlanDiff:
    """Compare two versions of a plan: its summary and every section of :data:`SECTIONS`."""
    return PlanDiff(
        base=base_version,
        target=target_version,
        summary_changed=base.get("summary") != target.get("summary"),
        sections=tuple(diff_section(base, target, name) for name in SECTIONS),
    )
