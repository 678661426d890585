"""What the local planner does with what the reading finds, besides the kind's templates.

The content is data, ``traits.yaml`` beside this module, read once at import and checked by
the Pydantic types below (ADR 0032): a wrong value, an unknown field, a key written twice, a
trait for a signal the reading does not know, a task without roles or a hint that is not a
regular expression is a :class:`~missionctl.schemas.datafiles.DataFileError` naming the file
and the field.

- :data:`TRAITS`: what each plan-changing signal of the reading ("no downtime", "offline",
  "HIPAA/PII", a deadline, a budget, …) adds to any plan: a requirement, and maybe a risk, a
  decision, a next step or a task. How a signal is found is the reading's
  (``missionctl/reading/data/signals.yaml``).
- :data:`FEATURE_ROLE_HINTS`: which specialist a feature task goes to, from its words.
- :data:`ROLE_FEATURE_TITLES`: the title of a feature task per role.
- :data:`TECHNOLOGIES`: the technologies the reading recognises, whose categories name the
  kinds' technology slots.
"""

import re
from collections.abc import Iterator, Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable

from pydantic import TypeAdapter
from pydantic.dataclasses import dataclass

from missionctl.planning.kinds import DecisionTemplate, RiskTemplate, TaskTemplate
from missionctl.planning.kinds.templates import STRICT
from missionctl.reading import SignalSpec, TechnologySpec, vocabulary
from missionctl.schemas.datafiles import data_file_error, read_data_file
from missionctl.schemas.plans import Priority, SpecialistRole

__all__ = [
    "FEATURE_ROLE_HINTS",
    "ROLE_FEATURE_TITLES",
    "TECHNOLOGIES",
    "TRAITS",
    "RoleHint",
    "Trait",
    "TraitTable",
    "load_traits",
]

TECHNOLOGIES: tuple[TechnologySpec, ...] = vocabulary().technologies
"""The technologies the reading recognises, in the order it looks for them."""


@dataclass(frozen=True, slots=True, config=STRICT)
class Trait:
    """A constraint that changes any plan.

    Templates may use ``{match}`` (the signal's value: the text that matched, or the amount
    of a budget, the date of a deadline) plus every placeholder of the kind templates.

    Attributes:
        key: The reading's signal this trait answers (``data/signals.yaml`` of the reading).
        requirement: Requirement text added to the plan.
        priority: Priority of that requirement.
        risk: A risk added to the plan, if any.
        decision: A decision added to the plan, if any.
        next_step: A next step added to the plan, if any.
        task: A task added to the plan, unless the kind already has a task with the same
            role and ``skip_if_role`` is set. Its role is the first of ``task_roles`` the plan
            already uses; it depends on the kind's design task, and the kind's verification
            task depends on it.
        task_roles: Role preferences for ``task``.
        skip_if_role: Skip ``task`` when the kind already has a task with its role.
    """

    key: str
    requirement: str
    priority: Priority = "must"
    risk: RiskTemplate | None = None
    decision: DecisionTemplate | None = None
    next_step: str | None = None
    task: TaskTemplate | None = None
    task_roles: tuple[SpecialistRole, ...] = ()
    skip_if_role: bool = False

    @property
    def signal(self) -> SignalSpec:
        """The reading's signal this trait answers (``KeyError`` when the reading has none)."""
        found = next((spec for spec in vocabulary().signals if spec.key == self.key), None)
        if found is None:
            raise KeyError(f"the reading has no signal {self.key!r}")
        return found

    @property
    def pattern(self) -> str:
        """How the reading finds the signal (a regular expression over lower-cased text)."""
        return self.signal.pattern


@dataclass(frozen=True, slots=True, config=STRICT)
class RoleHint:
    """Words of a feature (a regular expression) that send its task to ``role``."""

    role: SpecialistRole
    words: str


@dataclass(frozen=True, slots=True, config=STRICT)
class TraitTable:
    """``traits.yaml``: the traits, the feature role hints and the feature titles per role."""

    traits: tuple[Trait, ...]
    feature_role_hints: tuple[RoleHint, ...]
    role_feature_titles: dict[SpecialistRole, str]


_TRAITS_FILE = "traits.yaml"
_TABLE = TypeAdapter(TraitTable)


def load_traits(file: Traversable) -> TraitTable:
    """Read and check a traits file (see the module docstring for what is refused)."""
    table = read_data_file(file, _TABLE)
    if problems := list(_table_problems(table)):
        raise data_file_error(file, problems)
    return table


def _table_problems(table: TraitTable) -> Iterator[str]:
    """What the types cannot check: references to the reading and to other fields."""
    signals = {spec.key for spec in vocabulary().signals}
    keys = [trait.key for trait in table.traits]
    for i, trait in enumerate(table.traits):
        if trait.key not in signals:
            yield f"traits.{i}.key: the reading has no signal {trait.key!r}; see its signals.yaml"
        if trait.key in keys[:i]:
            yield f"traits.{i}.key: {trait.key!r} is the key of an earlier trait; merge them"
        if trait.task is not None and not trait.task_roles:
            yield f"traits.{i}.task_roles: a trait with a task needs at least one role"
    for i, hint in enumerate(table.feature_role_hints):
        try:
            re.compile(hint.words)
        except re.error as exc:
            yield f"feature_role_hints.{i}.words: not a regular expression ({exc})"


_TABLE_DATA = load_traits(files(__package__ or __name__).joinpath(_TRAITS_FILE))

TRAITS: tuple[Trait, ...] = _TABLE_DATA.traits
"""Traits, in the order their requirements appear in a plan."""

FEATURE_ROLE_HINTS: tuple[tuple[SpecialistRole, str], ...] = tuple(
    (hint.role, hint.words) for hint in _TABLE_DATA.feature_role_hints
)
"""Which role a feature task takes, from the feature's words (first match wins)."""

ROLE_FEATURE_TITLES: Mapping[SpecialistRole, str] = _TABLE_DATA.role_feature_titles
"""Title of a feature task whose role is not the kind's default role."""
