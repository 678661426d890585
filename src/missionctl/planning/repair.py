"""Deterministic repair of a model's plan answer, before it is validated as a ``PlanDraft``.

Many OpenAI-compatible servers do not enforce a JSON Schema's ``pattern``, so a model's plan
may be valid JSON whose keys break the plan's formats (``REQ-1`` for ``R1``, ``Task One`` for
``task-one``), that repeats a key, or points at a task or requirement that is not there. None
of that needs the model: :func:`repair_plan_answer` mends it and says what it did, in notes a
person can read, and the plan is then validated as usual. In this order:

1. lossless type slips: a single string where a list of strings is expected (a string of keys
   separated by commas is split), a single object where a list of them is expected, ``null``
   for a list that may be empty, a whole number written as text (``"12,000"``), a choice in
   the wrong case (``"Backend"``);
2. a requirement or task identical to an earlier one is dropped (a repeat, not a new item);
3. requirement keys: a key that is not ``R<number>``, or repeats an earlier one, gets one: the
   number it carries when that is free (``REQ-7`` becomes ``R7``), else the lowest free;
4. task keys: slugified to ``^[a-z][a-z0-9_-]{0,62}$`` (``Task One`` becomes ``task-one``); a
   repeated key gets ``-2``, ``-3``, … (and a task without a key one made from its title);
5. references (a task's ``traces`` and ``depends_on``, a phase's ``task_keys``, a risk's
   ``mitigation_tasks``) follow the new keys. A reference to a repeated key means its first
   holder, as in the plan rules. One that names nothing in the plan, and a task's dependency
   on itself, are dropped;
6. phases: keys slugified and made unique; a task listed again (in the same or a later phase)
   stays where it first appears; a phase left without tasks is dropped.

Flagged, not changed: a requirement that no task traces (a coverage gap).

Left for validation to send back to the model, because mending them would invent or lose
meaning: too few or too many tasks, a dependency cycle, a missing field, a value of the wrong
type that does not convert without loss.

The repair is pure and total: it reads any JSON value, never raises, never changes its
argument, and gives the same result for the same answer.
"""

import copy
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel

from missionctl.schemas.plans import REQUIREMENT_KEY_PATTERN, TASK_KEY_PATTERN, PlanDraft

__all__ = ["repair_plan_answer"]

Item = dict[str, Any]

# Matched with ``fullmatch``: a key with a trailing newline is not a key.
_REQUIREMENT_KEY = re.compile(REQUIREMENT_KEY_PATTERN)
_TASK_KEY = re.compile(TASK_KEY_PATTERN)
_MAX_KEY_CHARS = 63  # what the task key pattern allows
_MAX_REQUIREMENT_NUMBER = 999  # R999, three digits
# A whole number as a person writes it: 12000, 12,000, 12 000 or 12_000.
_WHOLE_NUMBER = re.compile(r"[0-9]{1,3}(?:([,_ ])[0-9]{3})?(?:\1[0-9]{3})*|[0-9]+")
# Fields whose items are keys: a string of them separated by commas is a list (no key has one).
_KEY_LISTS = frozenset({"depends_on", "traces", "task_keys"})
# Quoted values in notes are cut to this length: a note names, it does not echo.
_SHOWN_CHARS = 60
# Items a note lists by name before it counts the rest.
_LISTED_ITEMS = 3


def repair_plan_answer(answer: object) -> tuple[object, list[str]]:
    """Mend what a deterministic rule can mend in a plan answer (parsed JSON).

    Args:
        answer: The model's reply, parsed from JSON (any value).

    Returns:
        The answer to validate (a repaired copy, or ``answer`` itself when it is not a JSON
        object) and one note per repair or coverage gap, in the order of the module's list.
    """
    if not isinstance(answer, dict):
        return answer, []
    plan: Item = copy.deepcopy(answer)
    notes = _coerce_slips(plan)
    notes += _drop_repeats(plan, "requirements", "Requirement")
    notes += _drop_repeats(plan, "tasks", "Task")
    requirements = _rekey(_items(plan, "requirements"), _REQUIREMENT_RULE)
    tasks = _rekey(_items(plan, "tasks"), _TASK_RULE)
    phases = _rekey(_items(plan, "phases"), _PHASE_RULE)
    reference_notes = _follow_traces(_items(plan, "tasks"), requirements)
    reference_notes += _follow_dependencies(_items(plan, "tasks"), tasks)
    reference_notes += _follow_phase_members(_items(plan, "phases"), tasks)
    reference_notes += _follow_mitigations(_items(plan, "risks"), tasks)
    notes += requirements.notes("Requirement") + tasks.notes("Task") + phases.notes("Phase")
    notes += reference_notes
    notes += _place_each_task_once(_items(plan, "phases"))
    notes += _drop_empty_phases(plan)
    notes += _coverage_gaps(plan)
    return plan, notes


# ---- 1. Lossless type slips ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Shape:
    """What the repair needs to know of one kind of plan item, read from its Pydantic model."""

    string_lists: tuple[str, ...]
    optional_lists: frozenset[str]
    whole_numbers: tuple[str, ...]
    choices: dict[str, tuple[str, ...]]


def _shape(model: type[BaseModel]) -> _Shape:
    """Its lists of text, which of its lists may be empty, its whole numbers and choices."""
    string_lists: list[str] = []
    optional: set[str] = set()
    numbers: list[str] = []
    choices: dict[str, tuple[str, ...]] = {}
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if get_origin(annotation) is list:
            if _is_text(get_args(annotation)[0]):
                string_lists.append(name)
            if not info.is_required():
                optional.add(name)
        elif get_origin(annotation) is Literal:
            choices[name] = tuple(str(choice) for choice in get_args(annotation))
        elif annotation is int:
            numbers.append(name)
    return _Shape(tuple(string_lists), frozenset(optional), tuple(numbers), choices)


def _is_text(annotation: object) -> bool:
    """Whether a field of this type holds text (``str``, constrained or not)."""
    if get_origin(annotation) is Annotated:
        return get_args(annotation)[0] is str
    return annotation is str


def _sections() -> dict[str, type[BaseModel]]:
    """The plan's lists of items (``tasks``, ``risks``, …) and each item's model."""
    sections: dict[str, type[BaseModel]] = {}
    for name, info in PlanDraft.model_fields.items():
        if get_origin(info.annotation) is list:
            (item,) = get_args(info.annotation)
            if isinstance(item, type) and issubclass(item, BaseModel):
                sections[name] = item
    return sections


_SECTIONS = _sections()
_SHAPES = {name: _shape(model) for name, model in _SECTIONS.items()}
_PLAN_SHAPE = _shape(PlanDraft)


@dataclass
class _Slips:
    """Slips of one kind in one field, collected so that one note covers every item."""

    where: dict[tuple[str, str, str], list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, section: str, name: str, kind: str, label: str) -> None:
        self.where[(section, name, kind)].append(label)

    def notes(self) -> list[str]:
        notes: list[str] = []
        for (section, name, kind), labels in self.where.items():
            was, read = _SLIP_WORDS[kind]
            where = "" if section == _WHOLE_PLAN else f" in {_count(labels, section)}"
            notes.append(f"{name} was {was}{where}; {read}")
        return notes


# The "section" of a slip in one of the plan's own fields (``tasks``, ``risks``, …).
_WHOLE_PLAN = ""


# What each kind of slip was, and how it was read.
_SLIP_WORDS = {
    "string": ("a single string", "read as a list of one"),
    "keys": ("one string of comma-separated keys", "read as a list"),
    "object": ("a single object", "read as a list of one"),
    "null": ("null", "read as an empty list"),
    "number": ("a number written as text", "read as the number"),
    "case": ("written with capitals or spaces", "read in lower case"),
}


def _coerce_slips(plan: Item) -> list[str]:
    """Fix lossless type slips in place; one note per field and kind of slip."""
    slips = _Slips()
    for section in _SECTIONS:
        _coerce_list(plan, section, _PLAN_SHAPE, slips, (_WHOLE_PLAN, ""))
    for section, shape in _SHAPES.items():
        for index, item in enumerate(_items(plan, section)):
            label = (section, _label(item, index))
            for name in shape.string_lists:
                _coerce_list(item, name, shape, slips, label)
            for name in shape.whole_numbers:
                _coerce_number(item, name, slips, label)
            for name, choices in shape.choices.items():
                _coerce_choice(item, name, choices, slips, label)
    return slips.notes()


def _coerce_list(
    owner: Item, name: str, shape: _Shape, slips: _Slips, label: tuple[str, str]
) -> None:
    value = owner.get(name)
    if isinstance(value, str) and name in _KEY_LISTS and "," in value:
        owner[name] = [part.strip() for part in value.split(",") if part.strip()]
        slips.add(label[0], name, "keys", label[1])
    elif isinstance(value, str) and name not in _SECTIONS:
        owner[name] = [value]
        slips.add(label[0], name, "string", label[1])
    elif isinstance(value, dict) and name in _SECTIONS:
        owner[name] = [value]
        slips.add(label[0], name, "object", label[1])
    elif value is None and name in owner and name in shape.optional_lists:
        owner[name] = []
        slips.add(label[0], name, "null", label[1])


def _coerce_number(item: Item, name: str, slips: _Slips, label: tuple[str, str]) -> None:
    value = item.get(name)
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        item[name] = int(re.sub(r"[,_ ]", "", value))
        slips.add(label[0], name, "number", label[1])


def _coerce_choice(
    item: Item, name: str, choices: tuple[str, ...], slips: _Slips, label: tuple[str, str]
) -> None:
    value = item.get(name)
    if isinstance(value, str) and value not in choices and value.strip().lower() in choices:
        item[name] = value.strip().lower()
        slips.add(label[0], name, "case", label[1])


# ---- 2. Repeated items -----------------------------------------------------------------------


def _drop_repeats(plan: Item, section: str, noun: str) -> list[str]:
    """Drop each item identical to an earlier one (a repeat adds nothing to the plan)."""
    items = plan.get(section)
    if not isinstance(items, list):
        return []
    kept: list[Any] = []
    notes: list[str] = []
    for index, item in enumerate(items):
        if isinstance(item, dict) and item in kept:
            notes.append(f"{noun} {_label(item, index)} appeared twice, identical; kept once")
            continue
        kept.append(item)
    plan[section] = kept
    return notes


# ---- 3, 4. Keys ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _KeyRule:
    """How one kind of key is checked, derived from a given key, and made unique."""

    valid: Callable[[str], bool]
    derive: Callable[[str], str | None]
    unique: Callable[[str | None, set[str]], str]
    from_item: Callable[[Item], str | None]


@dataclass
class _KeyTable:
    """The new key of each item of a section, and what a reference to an old key means."""

    rule: _KeyRule
    old: list[str | None]
    new: list[str]
    rewritten: Counter[int] = field(default_factory=Counter)

    def resolve(self, reference: str) -> str | None:
        """The new key ``reference`` names, or None when it names no item of the section.

        In order: an item's old key (its first holder), an item's new key, an old key written
        differently (case, spaces, punctuation), a key the rule derives from the reference.
        """
        for candidates, match in (
            (self.old, reference),
            (self.new, reference),
            ([_canonical(key) for key in self.old], _canonical(reference)),
            (self.new, self.rule.derive(reference)),
        ):
            if match is not None and match in candidates:
                index = candidates.index(match)
                if self.new[index] != reference:
                    self.rewritten[index] += 1
                return self.new[index]
        return None

    def notes(self, noun: str) -> list[str]:
        """One note per item whose key changed."""
        notes: list[str] = []
        for index, (old, new) in enumerate(zip(self.old, self.new, strict=True)):
            if old == new:
                continue
            if old is None:
                notes.append(f"{noun} #{index + 1} had no key; it is now {new}")
            elif old in self.old[:index]:
                notes.append(
                    f"{noun} key {_show(old)} was used twice; the second is now {new} "
                    f"(references to {_show(old)} mean the first)"
                )
            else:
                notes.append(f"{noun} key {_show(old)} renamed {new}{self._references(index)}")
        return notes

    def _references(self, index: int) -> str:
        count = self.rewritten[index]
        if not count:
            return ""
        return f" (and its {count} reference{'s' if count > 1 else ''})"


def _rekey(items: list[Item], rule: _KeyRule) -> _KeyTable:
    """Give every item a valid key, unique in its section, keeping those that already are.

    Valid keys are kept first, so that a mended key never takes one the model gave another
    item; the others are mended in order.
    """
    old = [_key_text(item.get("key")) for item in items]
    new: list[str | None] = [None] * len(items)
    taken: set[str] = set()
    for index, key in enumerate(old):
        if key is not None and rule.valid(key) and key not in taken:
            new[index] = key
            taken.add(key)
    for index, key in enumerate(old):
        if new[index] is None:
            # A key with nothing to keep ("!!!") is made like a missing one, from the title.
            derived = (rule.derive(key) if key is not None else None) or rule.from_item(
                items[index]
            )
            mended = rule.unique(derived, taken)
            new[index] = mended
            taken.add(mended)
            items[index]["key"] = mended
    return _KeyTable(rule, old, [key for key in new if key is not None])


def _key_text(value: object) -> str | None:
    """A key as text; a number is a key written without quotes, anything else is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) and value.strip() else None


def _requirement_number(key: str) -> str | None:
    numbers = re.findall(r"[0-9]+", key)
    if numbers and int(numbers[-1]) <= _MAX_REQUIREMENT_NUMBER:
        return f"R{int(numbers[-1])}"
    return None


def _lowest_free_requirement(wanted: str | None, taken: set[str]) -> str:
    if wanted is not None and wanted not in taken:
        return wanted
    number = 1
    while f"R{number}" in taken:
        number += 1
    return f"R{number}"


def _slug(text: str, prefix: str) -> str | None:
    """``text`` as a key: ASCII, lower case, words joined by ``-``, starting with a letter."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9_-]+", "-", ascii_text.lower())
    slug = re.sub(r"-{2,}", "-", slug).strip("-_")
    if not slug:
        return None
    if not slug[0].isalpha():
        slug = f"{prefix}-{slug}"
    return slug[:_MAX_KEY_CHARS].rstrip("-_")


def _unique_slug(wanted: str | None, taken: set[str], prefix: str) -> str:
    base = wanted or prefix
    if base not in taken:
        return base
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = base[: _MAX_KEY_CHARS - len(suffix)].rstrip("-_") + suffix
        if candidate not in taken:
            return candidate
        number += 1


def _slug_rule(prefix: str, title_field: str) -> _KeyRule:
    return _KeyRule(
        valid=lambda key: _TASK_KEY.fullmatch(key) is not None,
        derive=lambda key: _slug(key, prefix),
        unique=lambda wanted, taken: _unique_slug(wanted, taken, prefix),
        from_item=lambda item: _slug(_text(item.get(title_field)), prefix),
    )


_REQUIREMENT_RULE = _KeyRule(
    valid=lambda key: _REQUIREMENT_KEY.fullmatch(key) is not None,
    derive=_requirement_number,
    unique=_lowest_free_requirement,
    from_item=lambda item: None,
)
_TASK_RULE = _slug_rule("task", "title")
_PHASE_RULE = _slug_rule("phase", "name")


# ---- 5. References ---------------------------------------------------------------------------


def _follow_traces(tasks: list[Item], requirements: _KeyTable) -> list[str]:
    """Point each task's traces at the new requirement keys; drop those naming none."""
    notes: list[str] = []
    for task in tasks:
        for reference in _follow(task, "traces", requirements):
            notes.append(
                f"Task {_show(task.get('key'))} traced {_show(reference)}, which is not a "
                "requirement of the plan; the trace was dropped"
            )
    return notes


def _follow_dependencies(tasks: list[Item], table: _KeyTable) -> list[str]:
    """Point each task's dependencies at the new task keys; drop dangling and self ones."""
    notes: list[str] = []
    for task in tasks:
        key = task.get("key")
        for reference in _follow(task, "depends_on", table):
            notes.append(
                f"Task {_show(key)} depended on {_show(reference)}, which is not a task of the "
                "plan; the dependency was dropped"
            )
        dependencies = task.get("depends_on")
        if isinstance(dependencies, list) and key in dependencies:
            task["depends_on"] = [d for d in dependencies if d != key]
            notes.append(f"Task {_show(key)} depended on itself; that dependency was dropped")
    return notes


def _follow_mitigations(risks: list[Item], tasks: _KeyTable) -> list[str]:
    """Point each risk's mitigation tasks at the new task keys; drop those naming no task."""
    return [
        f"Risk {_show(risk.get('title'))} was mitigated by {_show(reference)}, which is not a "
        "task of the plan; the link was dropped"
        for risk in risks
        for reference in _follow(risk, "mitigation_tasks", tasks)
    ]


def _follow_phase_members(phases: list[Item], tasks: _KeyTable) -> list[str]:
    """Point each phase's task keys at the new task keys; drop those naming no task."""
    notes: list[str] = []
    for phase in phases:
        for reference in _follow(phase, "task_keys", tasks):
            notes.append(
                f"Phase {_show(phase.get('key'))} listed {_show(reference)}, which is not a "
                "task of the plan; it was taken out of the phase"
            )
    return notes


def _follow(owner: Item, name: str, table: _KeyTable) -> list[str]:
    """Rewrite the references in ``owner[name]`` through ``table``; return those it dropped.

    A reference that is not text (or a number) is left for validation to report, and a
    reference repeated after rewriting is kept once.
    """
    references = owner.get(name)
    if not isinstance(references, list):
        return []
    kept: list[Any] = []
    dropped: list[str] = []
    for reference in references:
        text = _key_text(reference)
        key = None if text is None else table.resolve(text)
        if text is None:
            kept.append(reference)
        elif key is None:
            dropped.append(text)
        elif key not in kept:
            kept.append(key)
    owner[name] = kept
    return dropped


# ---- 6. Phases -------------------------------------------------------------------------------


def _place_each_task_once(phases: list[Item]) -> list[str]:
    """Keep each task in the first phase that lists it; drop it from the others.

    A task listed twice in one phase was already listed once when its references were
    followed.
    """
    placed: dict[str, str] = {}
    notes: list[str] = []
    for phase in phases:
        members = phase.get("task_keys")
        if not isinstance(members, list):
            continue
        kept: list[Any] = []
        for member in members:
            if isinstance(member, str) and member in placed:
                notes.append(
                    f"Task {_show(member)} was in phase {_show(placed[member])} and phase "
                    f"{_show(phase.get('key'))}; it stays in the first"
                )
                continue
            if isinstance(member, str):
                placed[member] = str(phase.get("key"))
            kept.append(member)
        phase["task_keys"] = kept
    return notes


def _drop_empty_phases(plan: Item) -> list[str]:
    """Drop phases whose task list is empty (a phase delivers at least one task)."""
    phases = plan.get("phases")
    if not isinstance(phases, list):
        return []
    kept: list[Any] = []
    notes: list[str] = []
    for phase in phases:
        if isinstance(phase, dict) and phase.get("task_keys") == []:
            notes.append(f"Phase {_show(phase.get('key'))} has no task; it was dropped")
            continue
        kept.append(phase)
    plan["phases"] = kept
    return notes


# ---- Coverage --------------------------------------------------------------------------------


def _coverage_gaps(plan: Item) -> list[str]:
    """A note per requirement no task traces (the plan may still be stored)."""
    traced = {
        trace
        for task in _items(plan, "tasks")
        if isinstance(task.get("traces"), list)
        for trace in task["traces"]
    }
    return [
        f"Requirement {requirement['key']} is traced by no task (a coverage gap)"
        for requirement in _items(plan, "requirements")
        if isinstance(requirement.get("key"), str) and requirement["key"] not in traced
    ]


# ---- Helpers ---------------------------------------------------------------------------------


def _items(plan: Item, section: str) -> list[Item]:
    """The JSON objects of a section (items of another type are left for validation)."""
    items = plan.get(section)
    if not isinstance(items, list):
        return []
    return [item for item in items if isinstance(item, dict)]


def _label(item: Item, index: int) -> str:
    """How a note names an item: its key, else its title or name, else its position."""
    for name in ("key", "title", "name"):
        text = _key_text(item.get(name))
        if text is not None:
            return _show(text)
    return f"#{index + 1}"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _canonical(key: str | None) -> str | None:
    """A key without case, spaces or punctuation, to match a reference written differently."""
    if key is None:
        return None
    return re.sub(r"[^0-9a-z]", "", key.casefold()) or None


def _show(value: object) -> str:
    """A value quoted for a note, cut when long."""
    text = str(value)
    if len(text) > _SHOWN_CHARS:
        text = text[: _SHOWN_CHARS - 1] + "…"
    return f"'{text}'"


def _count(labels: list[str], section: str) -> str:
    """``2 tasks ('a', 'b')``: how many items of ``section``, the first few by name."""
    noun = section if len(labels) > 1 else section.removesuffix("s")
    shown = ", ".join(labels[:_LISTED_ITEMS])
    more = len(labels) - _LISTED_ITEMS
    if more > 0:
        shown += f" and {more} more"
    return f"{len(labels)} {noun.replace('_', ' ')} ({shown})"
