"""The kinds of software the local planner recognises: YAML files, read once at import.

Each :class:`Kind` says how to recognise a goal (weighted keyword patterns) and what a good
plan for it contains: the specialist tasks and their dependencies, the non-functional
requirements, risks, decisions, next steps, phases, architecture and project shape. The local
planner (:mod:`missionctl.planning.local`) fills the templates with what it reads in the
mission: the subject, the goal's own features, the named technologies and the constraints.

The content lives next to this module, one file per kind (``web_app.yaml``, …,
``generic.yaml``), each holding the fields of :class:`Kind` under their own names (``keywords``
as ``pattern: weight`` lines). ``index.yaml`` holds what is not one kind's: ``order``, the
kinds in the order they are tried (more specific first: a tie in score goes to the earlier
kind), ``fallback``, the kind of a goal no other kind matches well enough (:data:`GENERIC`),
and ``slot_defaults`` (:data:`SLOT_DEFAULTS`). :func:`load_kinds` reads them; a wrong value, an
unknown field, a key written twice, a reference to a task or tag the kind does not have, or a
file the index does not list is a :class:`~missionctl.schemas.datafiles.DataFileError` naming
the file and the field.

To add a kind, add a file ``<key>.yaml`` here, put its key in ``order`` in ``index.yaml``, and
run ``tests/planning``: they check every template renders and validates. No code changes.

Template placeholders (``str.format`` fields) available everywhere:

- ``{subject}``: what is being built ("URL shortener"); ``{features}``: the goal's features;
- ``{a_subject}`` / ``{A_subject}``: the subject after its indefinite article ("an internal
  tool", "An internal tool"); write these, never "a {subject}", so the article fits the word;
- ``{the_feature}`` (feature templates and titles only): the feature after "the", unless it
  has its own article ("the core of the …");
- ``{stack}``: the technologies named in the mission, or the kind's default stack;
- ``{host}``, ``{cadence}``, ``{source}``, ``{target}``, ``{downtime}``, ``{scale}``;
- one field per technology slot (see :data:`SLOT_DEFAULTS`), e.g. ``{database}``: the
  technology of that category named in the mission, or the kind's default, or the global one.

In a task's ``depends_on`` and in a phase's ``task_keys``, :data:`FEATURES` (written
``'@features'``, quoted, in a file) stands for the feature tasks (one per feature of the
goal). In ``traces``, ``"features"`` stands for every feature requirement and
``"constraints"`` for the requirements derived from the constraints; any other tag names one
of the kind's own requirements.
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass as plain_dataclass
from dataclasses import field
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Annotated

from pydantic import ConfigDict, Field, TypeAdapter, field_validator
from pydantic.dataclasses import dataclass

from missionctl.schemas.datafiles import data_file_error, read_data_file
from missionctl.schemas.plans import Likelihood, Priority, RiskTier, Severity, SpecialistRole

__all__ = [
    "FEATURES",
    "GENERIC",
    "KINDS",
    "SLOT_DEFAULTS",
    "DecisionTemplate",
    "Kind",
    "KindCatalog",
    "PhaseTemplate",
    "RequirementTemplate",
    "RiskTemplate",
    "TaskTemplate",
    "kind_by_key",
    "load_kinds",
]

FEATURES = "@features"
"""Placeholder for the feature tasks in ``depends_on`` and ``task_keys``."""

_STRICT = ConfigDict(extra="forbid")
# A file's token estimates and keyword weights are positive numbers of tokens and points.
_Positive = Annotated[int, Field(gt=0)]


@dataclass(frozen=True, slots=True, config=_STRICT)
class TaskTemplate:
    """A task every plan of a kind contains."""

    key: str
    role: SpecialistRole
    title: str
    description: str
    depends_on: tuple[str, ...] = ()
    artifacts: tuple[str, ...] = ()
    acceptance: tuple[str, ...] = ()
    risk_tier: RiskTier = "read"
    estimate_tokens: _Positive = 20_000
    traces: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, config=_STRICT)
class RequirementTemplate:
    """A non-functional requirement every plan of a kind carries; ``tag`` names it in traces."""

    tag: str
    text: str
    priority: Priority = "must"


@dataclass(frozen=True, slots=True, config=_STRICT)
class RiskTemplate:
    """A risk typical of a kind."""

    title: str
    description: str
    severity: Severity
    likelihood: Likelihood
    mitigation: str


@dataclass(frozen=True, slots=True, config=_STRICT)
class DecisionTemplate:
    """A decision typical of a kind.

    When ``slot`` names a technology slot and the mission names a technology of that slot, the
    planner records that the mission made the choice and drops it from the alternatives.
    """

    title: str
    choice: str
    reasons: tuple[str, ...]
    trade_offs: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    slot: str | None = None


@dataclass(frozen=True, slots=True, config=_STRICT)
class PhaseTemplate:
    """A phase: a named group of task keys (:data:`FEATURES` allowed)."""

    key: str
    name: str
    goal: str
    task_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True, config=_STRICT)
class Kind:
    """A kind of software and the shape of a good plan for it.

    Attributes:
        key: Stable identifier (``"web_app"``), also the name of its file.
        label: Human name used in summaries ("web application").
        keywords: ``(regex, weight)`` pairs matched case-insensitively on word boundaries
            (a file writes them as ``regex: weight`` lines).
        approach: One or two sentences on how this kind of work is best delivered.
        feature_role: Default role of a feature task.
        feature_roles: Roles a feature task may take when its words suggest one.
        feature_title: Title of a feature task whose feature is a noun phrase.
        feature_description: Description of a feature task.
        feature_requirement: Text of a feature requirement.
        feature_acceptance: Acceptance criteria of a feature task.
        feature_artifacts: Expected artifacts of a feature task.
        feature_tokens: Token estimate of a feature task.
        feature_deps: Tasks every feature task depends on.
        tasks: The kind's own tasks, in plan order.
        requirements: The kind's non-functional requirements.
        risks: Typical risks.
        decisions: Typical decisions.
        next_steps: Typical next steps.
        phases: Phases covering every task once.
        architecture: Components of the architecture, one line each.
        project_shape: Suggested files and folders.
        design_key: Task that traces the constraint requirements.
        verify_key: Task that traces every requirement no other task traces.
        surveys_existing: Whether the tasks already study an existing system (no extra
            survey task is added for brownfield missions).
        needs_feature_task: Whether a goal without features still gets one feature task
            (for the core of the subject); kinds whose own tasks cover the work say no.
        defaults: Technology slot defaults for this kind.
        cadence: Default cadence of scheduled work.
    """

    key: str
    label: str
    keywords: tuple[tuple[str, _Positive], ...]
    approach: str
    feature_role: SpecialistRole
    feature_roles: tuple[SpecialistRole, ...]
    feature_title: str
    feature_description: str
    feature_requirement: str
    feature_acceptance: tuple[str, ...]
    feature_artifacts: tuple[str, ...]
    tasks: tuple[TaskTemplate, ...]
    requirements: tuple[RequirementTemplate, ...]
    risks: tuple[RiskTemplate, ...]
    decisions: tuple[DecisionTemplate, ...]
    next_steps: tuple[str, ...]
    phases: tuple[PhaseTemplate, ...]
    architecture: tuple[str, ...]
    project_shape: tuple[str, ...]
    design_key: str
    verify_key: str
    feature_deps: tuple[str, ...] = ()
    feature_tokens: _Positive = 45_000
    surveys_existing: bool = False
    needs_feature_task: bool = True
    defaults: Mapping[str, str] = field(default_factory=dict)
    cadence: str = "daily"

    @field_validator("keywords", mode="before")
    @classmethod
    def _pairs_from_lines(cls, value: object) -> object:
        """Read a file's ``regex: weight`` lines as ``(regex, weight)`` pairs, in order."""
        return list(value.items()) if isinstance(value, Mapping) else value


@dataclass(frozen=True, config=_STRICT)
class _Index:
    """``index.yaml``: the order kinds are tried in, the fallback kind, the slot defaults."""

    order: tuple[str, ...]
    fallback: str
    slot_defaults: dict[str, str]


@plain_dataclass(frozen=True, slots=True)
class KindCatalog:
    """Every kind of a directory, as :func:`load_kinds` read it.

    Attributes:
        kinds: The kinds in the order they are tried, most specific first.
        generic: The kind of a goal no other kind matches well enough.
        slot_defaults: Technology slots and their global defaults.
    """

    kinds: tuple[Kind, ...]
    generic: Kind
    slot_defaults: Mapping[str, str]


_INDEX_FILE = "index.yaml"
_INDEX = TypeAdapter(_Index)
_KIND = TypeAdapter(Kind)


def load_kinds(directory: Traversable) -> KindCatalog:
    """Read ``index.yaml`` and one ``<key>.yaml`` per kind from ``directory``.

    Raises:
        DataFileError: a file cannot be read or validated, breaks a rule of
            :func:`_kind_problems`, is not listed in the index, or is listed but missing; the
            message names the file, the field and the fix.
    """
    index_file = directory / _INDEX_FILE
    index = read_data_file(index_file, _INDEX)
    kind_files = {
        entry.name.removesuffix(".yaml"): entry
        for entry in directory.iterdir()
        if entry.name.endswith(".yaml") and entry.name != _INDEX_FILE
    }
    listed = (*index.order, index.fallback)
    if problems := list(_index_problems(listed, kind_files)):
        raise data_file_error(index_file, problems)
    kinds = {key: _read_kind(kind_files[key], frozenset(index.slot_defaults)) for key in listed}
    return KindCatalog(
        kinds=tuple(kinds[key] for key in index.order),
        generic=kinds[index.fallback],
        slot_defaults=index.slot_defaults,
    )


def _index_problems(
    listed: tuple[str, ...], kind_files: Mapping[str, Traversable]
) -> Iterator[str]:
    """Keys listed twice or without a file, and files the index does not list."""
    for position, key in enumerate(listed):
        field_name = f"order.{position}" if position < len(listed) - 1 else "fallback"
        if key in listed[:position]:
            yield f"{field_name}: {key!r} is listed twice; keep one"
        elif key not in kind_files:
            yield f"{field_name}: there is no file {key}.yaml; add it or remove {key!r}"
    for key in sorted(kind_files.keys() - set(listed)):
        yield f"order: {key}.yaml is not listed; add {key!r} where it belongs (specific first)"


def _read_kind(file: Traversable, slots: frozenset[str]) -> Kind:
    kind = read_data_file(file, _KIND)
    problems = []
    if kind.key != file.name.removesuffix(".yaml"):
        problems.append(f"key: {kind.key!r} differs from the file name; make them the same")
    problems.extend(_kind_problems(kind, slots))
    if problems:
        raise data_file_error(file, problems)
    return kind


def _kind_problems(kind: Kind, slots: frozenset[str]) -> Iterator[str]:
    """References a kind's fields make to each other, and its patterns, that do not hold.

    Task keys are unique; ``depends_on``, ``feature_deps``, phases' ``task_keys``,
    ``design_key`` and ``verify_key`` name the kind's tasks (or :data:`FEATURES` where it
    stands for the feature tasks); ``traces`` name its requirement tags (or ``features``,
    ``constraints``); slots are known; keyword patterns compile.
    """
    keys = [task.key for task in kind.tasks]
    tasks_or_features = {*keys, FEATURES}
    tags = {r.tag for r in kind.requirements} | {"features", "constraints"}
    for i, task in enumerate(kind.tasks):
        if task.key in keys[:i]:
            yield f"tasks.{i}.key: {task.key!r} is the key of an earlier task; rename one"
        yield from _unknown(f"tasks.{i}.depends_on", task.depends_on, tasks_or_features, "task")
        yield from _unknown(f"tasks.{i}.traces", task.traces, tags, "requirement tag")
    yield from _unknown("feature_deps", kind.feature_deps, set(keys), "task")
    for name in ("design_key", "verify_key"):
        yield from _unknown(name, (getattr(kind, name),), set(keys), "task")
    for i, phase in enumerate(kind.phases):
        yield from _unknown(f"phases.{i}.task_keys", phase.task_keys, tasks_or_features, "task")
    for i, decision in enumerate(kind.decisions):
        if decision.slot is not None:
            yield from _unknown(f"decisions.{i}.slot", (decision.slot,), slots, "slot")
    yield from _unknown("defaults", tuple(kind.defaults), slots, "slot")
    for i, (pattern, _) in enumerate(kind.keywords):
        try:
            re.compile(pattern)
        except re.error as exc:
            yield f"keywords.{i}: {pattern!r} is not a regular expression ({exc})"


def _unknown(
    field_name: str, names: tuple[str, ...], known: set[str] | frozenset[str], what: str
) -> Iterator[str]:
    for name in names:
        if name not in known:
            yield f"{field_name}: unknown {what} {name!r}; use one of {', '.join(sorted(known))}"


_CATALOG = load_kinds(files(__name__))

SLOT_DEFAULTS: Mapping[str, str] = _CATALOG.slot_defaults
"""Technology slots and their global defaults, used when neither the mission nor the kind
names one."""

KINDS: tuple[Kind, ...] = _CATALOG.kinds
"""Recognised kinds, most specific first (a tie in score goes to the earlier kind)."""

GENERIC: Kind = _CATALOG.generic
"""The kind of a goal that no other kind matches well enough."""


def kind_by_key(key: str) -> Kind:
    """Return the kind with ``key`` (:data:`GENERIC` included).

    Raises:
        KeyError: No kind has that key.
    """
    for kind in (*KINDS, GENERIC):
        if kind.key == key:
            return kind
    raise KeyError(key)
