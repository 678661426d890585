"""The kinds of software the local planner plans: YAML files, read once at import.

Each :class:`Kind` says what a good plan for one kind of software contains: the specialist
tasks and their dependencies, the non-functional requirements, risks, decisions, next steps,
phases, architecture and project shape. The local
planner (:mod:`missionctl.planning.local`) fills the templates with what it reads in the
mission: the subject, the goal's own features, the named technologies and the constraints.

Which kind a mission is about is the reading's to say (:mod:`missionctl.reading.kinds`, with
the words of each kind in ``missionctl/reading/data/kinds.yaml``, in the order kinds are
tried); the planner plans the kind it found.

The content lives next to this module, one file per kind (``web_app.yaml``, …,
``generic.yaml``), each holding the fields of :class:`Kind` under their own names.
``index.yaml`` holds what is not one kind's: ``fallback``, the kind of a goal no other kind
matches well enough (:data:`GENERIC`), and ``slot_defaults`` (:data:`SLOT_DEFAULTS`).
:func:`load_kinds` reads them; a wrong value, an unknown field, a key written twice, a
reference to a task or tag the kind does not have, a file for a kind the reading does not know
or a kind of the reading without a file is a
:class:`~missionctl.schemas.datafiles.DataFileError` naming the file and the field.

To add a kind, add a file ``<key>.yaml`` here and its words under ``kinds`` in the reading's
``kinds.yaml`` (where it belongs: specific kinds first), and run ``tests/planning`` and
``tests/reading``: they check every template renders and validates. No code changes.

Template placeholders (``str.format`` fields) available everywhere:

- ``{subject}``: what is being built ("URL shortener"); ``{features}``: the goal's features;
- ``{a_subject}`` / ``{A_subject}``: the subject after its indefinite article ("an internal
  tool", "An internal tool"); write these, never "a {subject}", so the article fits the word;
- ``{the_feature}`` (feature templates and titles only): the feature after "the", unless it
  has its own article ("the core of the …");
- ``{stack}``: the technologies named in the mission, or the kind's default stack;
- ``{host}``, ``{cadence}``, ``{source}``, ``{target}``, ``{downtime}``, ``{scale}``;
- ``{old_records}``: where the work is kept today as the goal names it ("the spreadsheet"),
  or "the records kept today" when it names nothing;
- ``{sign_in}`` / ``{Sign_in}``: how people sign in at the mission's scale ("company SSO", or
  "simple staff accounts" for a small business);
- one field per technology slot (see :data:`SLOT_DEFAULTS`), e.g. ``{database}``: the
  technology of that category named in the mission, or the kind's default, or the global one.

Stack placeholders speak the language of the plan (the one the mission names or a named
technology implies, else the kind's ``language`` default, else the global one), from its
profile in ``stacks/stacks.yaml`` (see :mod:`missionctl.planning.stack_choice`). Write them
instead of any tool, path or package word of one ecosystem:

- tools: ``{build_tool}`` ("cargo"), ``{package_manager}``, ``{test_tool}`` ("cargo test"),
  ``{property_tool}``, ``{bench_tool}``, ``{e2e_tool}``, ``{lint_tools}`` ("rustfmt and
  clippy"), ``{ci_checks}`` (the lint tools and the test tool);
- packaging: ``{registry}`` ("crates.io"), ``{package_artifact}`` ("crate"),
  ``{a_package_artifact}`` ("a crate", "an npm package"), ``{manifest}`` ("Cargo.toml"),
  ``{install}``, ``{binaries}``, ``{cli_channel}``, ``{optional_dep}``, ``{optional_deps}``,
  ``{name_step}`` (a next step: "Reserve the crate name on crates.io");
- layout, each directory ending with ``/``: ``{source_dir}``, ``{library_dir}``,
  ``{cli_entry}`` ("src/main.rs"), ``{library_entry}``, ``{test_dir}``, ``{test_layout}``
  (a project-shape line), ``{fixtures_dir}``;
- advice lines: ``{portable_paths}``, ``{dependency_advice}``, ``{typed_api}``,
  ``{runtime_version}``, ``{language_strength}``, ``{language_trade_off}``,
  ``{operator_framework}``, ``{embedded_runtime}``, ``{desktop_toolkit}`` (what a desktop
  app in the language is built with), and ``{orm}`` and ``{migrations}`` of the
  ``{web_framework}``;
- the mobile toolkit (``{mobile}``) and the platforms it builds for: ``{mobile_platforms}``
  ("iOS and Android", "Android"), ``{app_stores}``, ``{beta_channels}``, ``{push_services}``,
  ``{developer_programs}``, ``{os_support}``, ``{privacy_forms}``, ``{mobile_build_tool}``,
  ``{ui_test_tool}``, ``{mobile_reason}``, ``{mobile_trade_off}``;
- in feature templates only, the files named after the feature: ``{test_file}``,
  ``{e2e_test_file}``, ``{contract_test_file}`` and ``{source_file}``.

A kind whose templates use a profile placeholder and that decides nothing about the language
gets the stack decision of ``stacks.yaml``, so its plans say which stack they chose and why.

A task marked ``greenfield_only: true`` creates what an existing system already has (the
project scaffold, a first API contract, the app shell): a plan for a mission whose reading is
brownfield leaves it out (:func:`for_existing_system`), and the tasks that depended on it
depend on what it depended on. The design and verification tasks cannot be marked. A task's
``brownfield_title`` is its title in such a plan ("Deploy the changes to {host} to
production").

In a task's ``depends_on`` and in a phase's ``task_keys``, :data:`FEATURES` (written
``'@features'``, quoted, in a file) stands for the feature tasks (one per feature of the
goal). In ``traces``, ``"features"`` stands for every feature requirement and
``"constraints"`` for the requirements derived from the constraints; any other tag names one
of the kind's own requirements.
"""

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass as plain_dataclass
from dataclasses import field, replace
from importlib.resources import files
from importlib.resources.abc import Traversable
from string import Formatter

from pydantic import TypeAdapter
from pydantic.dataclasses import dataclass

from missionctl.planning.kinds.stacks import FEATURE_PLACEHOLDERS, PROFILE_PLACEHOLDERS, STACKS
from missionctl.planning.kinds.templates import (
    STRICT,
    DecisionTemplate,
    PhaseTemplate,
    Positive,
    RequirementTemplate,
    RiskTemplate,
    TaskTemplate,
)
from missionctl.reading import kind_keys
from missionctl.schemas.datafiles import data_file_error, read_data_file
from missionctl.schemas.plans import SpecialistRole

__all__ = [
    "FEATURES",
    "GENERIC",
    "KINDS",
    "SLOT_DEFAULTS",
    "STACKS",
    "DecisionTemplate",
    "Kind",
    "KindCatalog",
    "PhaseTemplate",
    "RequirementTemplate",
    "RiskTemplate",
    "TaskTemplate",
    "for_existing_system",
    "kind_by_key",
    "load_kinds",
]

FEATURES = "@features"
"""Placeholder for the feature tasks in ``depends_on`` and ``task_keys``."""


@dataclass(frozen=True, slots=True, config=STRICT)
class Kind:
    """A kind of software and the shape of a good plan for it.

    Attributes:
        key: Stable identifier (``"web_app"``), also the name of its file.
        label: Human name used in summaries ("web application").
        approach: One or two sentences on how this kind of work is best delivered.
        feature_role: Default role of a feature task.
        feature_roles: Roles a feature task may take when its words suggest one.
        feature_title: Title of a feature task whose feature is a noun phrase.
        feature_description: Description of a feature task.
        feature_requirement: Text of a feature requirement; ``{feature_users}`` in it is the
            people the feature's clause names ("attendees check themselves in"), else
            :attr:`feature_users`.
        feature_users: Who uses a feature whose clause names no people ("staff").
        feature_requirement_alone: Text of the feature requirement when the subject itself is
            the one feature and goes into no existing system (so there is no other thing to
            deliver it in); empty: :attr:`feature_requirement`.
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
        language_alternatives: The languages the stack decision offers as roads not taken for
            this kind (firmware: C++, Rust…); empty: the stack file's general list.
        target_roles: For a kind that moves software somewhere, who does the ``feature_role``'s
            tasks by the category of the technology moved to (a port to FastAPI is backend
            work, one to SwiftUI mobile work); empty: the roles as written.
    """

    key: str
    label: str
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
    feature_tokens: Positive = 45_000
    surveys_existing: bool = False
    needs_feature_task: bool = True
    defaults: Mapping[str, str] = field(default_factory=dict)
    cadence: str = "daily"
    language_alternatives: tuple[str, ...] = ()
    target_roles: Mapping[str, SpecialistRole] = field(default_factory=dict)
    feature_users: str = "its users"
    feature_requirement_alone: str = ""


@dataclass(frozen=True, config=STRICT)
class _Index:
    """``index.yaml``: the fallback kind and the slot defaults."""

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


def load_kinds(directory: Traversable, order: Sequence[str] | None = None) -> KindCatalog:
    """Read ``index.yaml`` and one ``<key>.yaml`` per kind from ``directory``.

    ``order`` is the kinds in the order they are tried, the reading's
    (:func:`missionctl.reading.kind_keys`) unless given; a file must exist for each.

    A kind whose templates use a placeholder of the language's profile and that makes no
    decision about the language gets the stack decision
    (:data:`~missionctl.planning.kinds.stacks.STACKS`) first among its decisions: a plan that
    advises a toolchain says which one it chose, and why. (A mobile toolkit's words do not
    count: the toolkit has a decision of its own.)

    Raises:
        DataFileError: a file cannot be read or validated, breaks a rule of
            :func:`_kind_problems`, is no kind of ``order`` nor the fallback, or is missing;
            the message names the file, the field and the fix.
    """
    index_file = directory / _INDEX_FILE
    index = read_data_file(index_file, _INDEX)
    kind_files = {
        entry.name.removesuffix(".yaml"): entry
        for entry in directory.iterdir()
        if entry.name.endswith(".yaml") and entry.name != _INDEX_FILE
    }
    listed = (*(kind_keys() if order is None else order), index.fallback)
    if problems := list(_index_problems(listed, kind_files)):
        raise data_file_error(index_file, problems)
    kinds = {
        key: _with_stack_decision(
            _read_kind(kind_files[key], frozenset(index.slot_defaults)), STACKS.decision
        )
        for key in listed
    }
    return KindCatalog(
        kinds=tuple(kinds[key] for key in listed[:-1]),
        generic=kinds[index.fallback],
        slot_defaults=index.slot_defaults,
    )


def _with_stack_decision(kind: Kind, decision: DecisionTemplate) -> Kind:
    """``kind``, with ``decision`` first if its templates use a profile and it has none."""
    if any(d.slot == decision.slot for d in kind.decisions):
        return kind
    if not any(_placeholders(text) & _STACK_FIELDS for _, text in _template_texts(kind)):
        return kind
    if kind.language_alternatives:
        decision = replace(decision, alternatives=kind.language_alternatives)
    return replace(kind, decisions=(decision, *kind.decisions))


_STACK_FIELDS = PROFILE_PLACEHOLDERS | FEATURE_PLACEHOLDERS
# Templates filled with a feature's slug, so the only ones where its files can be named.
_FEATURE_FIELDS = ("feature_description", "feature_acceptance", "feature_artifacts")


def _template_texts(kind: Kind) -> Iterator[tuple[str, str]]:
    """Every template text of ``kind`` with the field it sits in (``tasks.2.description``)."""
    for name in ("approach", "feature_title", "feature_description", "feature_requirement"):
        yield name, getattr(kind, name)
    for name in ("feature_acceptance", "feature_artifacts", "next_steps", "architecture"):
        for i, text in enumerate(getattr(kind, name)):
            yield f"{name}.{i}", text
    yield from ((f"project_shape.{i}", text) for i, text in enumerate(kind.project_shape))
    for i, task in enumerate(kind.tasks):
        yield from _texts(f"tasks.{i}", task, ("title", "description"))
        if task.brownfield_title:
            yield f"tasks.{i}.brownfield_title", task.brownfield_title
        yield from _texts(f"tasks.{i}", task, (), ("artifacts", "acceptance"))
    for i, req in enumerate(kind.requirements):
        yield f"requirements.{i}.text", req.text
    for i, risk in enumerate(kind.risks):
        yield from _texts(f"risks.{i}", risk, ("title", "description", "mitigation"))
    for i, decision in enumerate(kind.decisions):
        fields = ("reasons", "trade_offs", "alternatives")
        yield from _texts(f"decisions.{i}", decision, ("title", "choice"), fields)
    for i, phase in enumerate(kind.phases):
        yield from _texts(f"phases.{i}", phase, ("name", "goal"))


def _texts(
    where: str, item: object, single: tuple[str, ...], many: tuple[str, ...] = ()
) -> Iterator[tuple[str, str]]:
    for name in single:
        yield f"{where}.{name}", getattr(item, name)
    for name in many:
        for i, text in enumerate(getattr(item, name)):
            yield f"{where}.{name}.{i}", text


def _placeholders(template: str) -> set[str]:
    """The fields a ``str.format`` template names (``{tests[auth]}`` names ``tests``)."""
    try:
        parsed = list(Formatter().parse(template))
    except ValueError:
        return set()
    return {re.split(r"[.\[]", name, maxsplit=1)[0] for _, name, _, _ in parsed if name}


def _index_problems(
    listed: tuple[str, ...], kind_files: Mapping[str, Traversable]
) -> Iterator[str]:
    """Kinds listed twice or without a file, and files of no kind the reading knows."""
    for position, key in enumerate(listed):
        field_name = "fallback" if position == len(listed) - 1 else "kinds"
        if key in listed[:position]:
            yield f"{field_name}: {key!r} is listed twice; keep one"
        elif key not in kind_files:
            yield (
                f"{field_name}: there is no file {key}.yaml; add it, or remove {key!r} from "
                "the reading's kinds.yaml"
            )
    for key in sorted(kind_files.keys() - set(listed)):
        yield (
            f"kinds: {key}.yaml is no kind the reading knows; add {key!r} and its words to "
            "the reading's kinds.yaml, where it belongs (specific first)"
        )


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
    ``design_key``, ``verify_key`` and risks' ``mitigated_by`` name the kind's tasks (or
    :data:`FEATURES` where it stands for the feature tasks); ``traces`` name its requirement
    tags (or ``features``, ``constraints``); slots are known; a feature's files are named in
    feature templates only; keyword patterns compile.
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
        if any(t.key == getattr(kind, name) and t.greenfield_only for t in kind.tasks):
            yield f"{name}: a plan for an existing system needs it; it cannot be greenfield_only"
    for i, phase in enumerate(kind.phases):
        yield from _unknown(f"phases.{i}.task_keys", phase.task_keys, tasks_or_features, "task")
    for i, risk in enumerate(kind.risks):
        yield from _unknown(f"risks.{i}.mitigated_by", risk.mitigated_by, set(keys), "task")
    for i, decision in enumerate(kind.decisions):
        if decision.slot is not None:
            yield from _unknown(f"decisions.{i}.slot", (decision.slot,), slots, "slot")
    yield from _unknown("defaults", tuple(kind.defaults), slots, "slot")
    for where, text in _template_texts(kind):
        if not where.startswith(_FEATURE_FIELDS) and _placeholders(text) & FEATURE_PLACEHOLDERS:
            names = ", ".join(sorted(_placeholders(text) & FEATURE_PLACEHOLDERS))
            yield f"{where}: {names} names a feature's file; use it in feature templates only"


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


def for_existing_system(kind: Kind) -> Kind:
    """``kind`` without the tasks that create what an existing system has already.

    A plan that changes an existing system leaves out the ``greenfield_only`` tasks. A task
    that depended on one depends on what that one depended on, and phases and
    ``feature_deps`` lose it the same way, so the plan stays connected. A task with a
    ``brownfield_title`` takes it as its title. The result is computed once per kind.
    """
    dropped = {task.key: task.depends_on for task in kind.tasks if task.greenfield_only}
    if not dropped and not any(task.brownfield_title for task in kind.tasks):
        return kind
    if (known := _EXISTING_SYSTEM.get(kind.key)) is not None and known[0] is kind:
        return known[1]

    def rewire(keys: tuple[str, ...]) -> tuple[str, ...]:
        result: list[str] = []
        for key in keys:
            result.extend(rewire(dropped[key]) if key in dropped else (key,))
        return tuple(dict.fromkeys(result))

    tasks = tuple(
        replace(task, title=task.brownfield_title or task.title, depends_on=rewire(task.depends_on))
        for task in kind.tasks
        if not task.greenfield_only
    )
    phases = tuple(
        replace(phase, task_keys=kept)
        for phase in kind.phases
        if (kept := tuple(key for key in phase.task_keys if key not in dropped))
    )
    changed = replace(kind, tasks=tasks, phases=phases, feature_deps=rewire(kind.feature_deps))
    _EXISTING_SYSTEM[kind.key] = (kind, changed)
    return changed


_EXISTING_SYSTEM: dict[str, tuple[Kind, Kind]] = {}


def kind_by_key(key: str) -> Kind:
    """Return the kind with ``key`` (:data:`GENERIC` included).

    Raises:
        KeyError: No kind has that key.
    """
    for kind in (*KINDS, GENERIC):
        if kind.key == key:
            return kind
    raise KeyError(key)
