"""The architecture and deployment diagrams of a planned mission, drawn locally or by a model.

:func:`draw_local` draws them from the mission and its plan with the rules of
``diagrams.yaml`` beside this module: the kind of software (the local planner's
:func:`~missionctl.planning.local_context.detect_kind`) picks a shape, the shape's boxes are
labelled with the plan's stack (the technologies the mission named, else the kind's defaults),
add-ons join when the mission names a technology of their slot or speaks of them ("uploads",
"Stripe", "single sign-on"), and each box lists the plan's tasks whose role builds it. The result is
the same for the same mission and plan.

:func:`draw_with_model` asks a model for both diagrams instead, with the local drawing as its
starting point, and falls back to the local drawing (saying why in ``notes``) when the model
does not answer in time, keeps failing, or sends diagrams that cannot be mended.
"""

import asyncio
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass as plain_dataclass
from dataclasses import field
from importlib.resources import files
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from missionctl.domain.diagrams import (
    SYSTEM_DIAGRAM_NAMES,
    Component,
    Connection,
    Diagram,
    MissionDiagrams,
    SystemDiagramName,
    diagram_problems,
)
from missionctl.errors import LLMOutputInvalid, LLMUnavailable
from missionctl.llm.protocol import LLMClient, LLMUsage, TokenLimitReached
from missionctl.llm.redaction import redact
from missionctl.llm.structured import ReplyError
from missionctl.planning.base import PlanningInput
from missionctl.planning.kinds.templates import STRICT
from missionctl.planning.local_context import template_values
from missionctl.reading import clip
from missionctl.schemas.datafiles import data_file_error, read_data_file
from missionctl.schemas.diagrams import DiagramsDraft, diagram_from_draft
from missionctl.schemas.plans import PlanDraft, SpecialistRole

__all__ = ["DIAGRAMS_PROMPT_VERSION", "DrawnDiagrams", "draw_local", "draw_with_model"]

DIAGRAMS_PROMPT_VERSION = "diagrams/1"
TITLES: Mapping[SystemDiagramName, str] = {
    "architecture": "Architecture",
    "deployment": "Deployment",
}
_LABEL_CHARS = 60


@dataclass(frozen=True, slots=True, config=STRICT)
class ComponentRule:
    """A box of a shape; ``roles`` are the specialist roles whose tasks build it."""

    key: str
    label: str
    technology: str
    group: str
    roles: tuple[SpecialistRole, ...] = ()


@dataclass(frozen=True, slots=True, config=STRICT)
class ConnectionRule:
    """An arrow of a shape."""

    source: str
    target: str
    label: str = ""


@dataclass(frozen=True, slots=True, config=STRICT)
class DiagramRule:
    """One diagram of a shape; add-ons connect to ``anchor``."""

    anchor: str
    components: tuple[ComponentRule, ...]
    connections: tuple[ConnectionRule, ...]


@dataclass(frozen=True, slots=True, config=STRICT)
class Shape:
    """The two diagrams of one shape of system."""

    architecture: DiagramRule
    deployment: DiagramRule


@dataclass(frozen=True, slots=True, config=STRICT)
class AddonLink:
    """An add-on's arrow: from ``source`` (``anchor`` or a component key) to the add-on."""

    source: str
    label: str = ""


@dataclass(frozen=True, slots=True, config=STRICT)
class AddonBox:
    """An add-on's box in one diagram."""

    label: str
    technology: str
    group: str
    connect: tuple[AddonLink, ...]


@dataclass(frozen=True, slots=True, config=STRICT)
class Addon:
    """A box a mission adds when it names ``slot``'s technology or its text matches ``words``."""

    key: str
    words: str
    slot: str | None = None
    shapes: tuple[str, ...] = ()
    architecture: AddonBox | None = None
    deployment: AddonBox | None = None


@dataclass(frozen=True, slots=True, config=STRICT)
class DiagramRules:
    """``diagrams.yaml``: which shape each kind takes, the shapes and the add-ons."""

    kinds: dict[str, str]
    shapes: dict[str, Shape]
    last_groups: tuple[str, ...]
    addon_shapes: tuple[str, ...]
    addons: tuple[Addon, ...]


def _rule_problems(rules: DiagramRules) -> list[str]:
    """What the types cannot check: references between fields, and patterns."""
    problems = [
        f"kinds.{kind}: no shape {shape!r}"
        for kind, shape in rules.kinds.items()
        if shape not in rules.shapes
    ]
    for name, shape in rules.shapes.items():
        for diagram_name in SYSTEM_DIAGRAM_NAMES:
            rule: DiagramRule = getattr(shape, diagram_name)
            keys = [c.key for c in rule.components]
            where = f"shapes.{name}.{diagram_name}"
            if rule.anchor not in keys:
                problems.append(f"{where}.anchor: {rule.anchor!r} is not one of its components")
            roles = [role for c in rule.components for role in c.roles]
            problems.extend(
                f"{where}: role {role!r} builds two components; give it to one"
                for role in sorted({r for r in roles if roles.count(r) > 1})
            )
            for i, link in enumerate(rule.connections):
                if {link.source, link.target} - set(keys):
                    problems.append(f"{where}.connections.{i}: names a component it lacks")
    for i, addon in enumerate(rules.addons):
        try:
            re.compile(addon.words)
        except re.error as exc:
            problems.append(f"addons.{i}.words: not a regular expression ({exc})")
        problems.extend(
            f"addons.{i}.shapes: no shape {shape!r}"
            for shape in addon.shapes
            if shape not in rules.shapes
        )
    return problems


def _load_rules() -> DiagramRules:
    file = files(__package__ or __name__).joinpath("diagrams.yaml")
    rules = read_data_file(file, TypeAdapter(DiagramRules))
    if problems := _rule_problems(rules):
        raise data_file_error(file, problems)
    return rules


RULES = _load_rules()


@plain_dataclass(frozen=True, slots=True)
class DrawnDiagrams:
    """Diagrams and what drawing them cost (nothing for the local rules).

    Attributes:
        diagrams: Both diagrams, their source and notes.
        usage: Tokens the model spent, every attempt counted.
    """

    diagrams: MissionDiagrams
    usage: LLMUsage = field(default_factory=LLMUsage)


def draw_local(mission: PlanningInput, plan: PlanDraft, *, plan_version: int) -> MissionDiagrams:
    """Draw the mission's diagrams from its plan with the local rules (see the module doc)."""
    known = template_values(mission)
    shape_name = RULES.kinds.get(known.kind, RULES.kinds["generic"])
    shape = RULES.shapes[shape_name]
    fill = _filler(known.values)
    text = _mission_text(mission, plan)
    addons = [a for a in RULES.addons if _applies(a, shape_name, text, known.named)]
    return MissionDiagrams(
        architecture=_diagram("architecture", shape.architecture, addons, fill, plan),
        deployment=_diagram("deployment", shape.deployment, addons, fill, plan),
        source="local",
        plan_version=plan_version,
    )


def _mission_text(mission: PlanningInput, plan: PlanDraft) -> str:
    parts = [mission.title, mission.goal, *mission.constraints]
    parts += [r.text for r in plan.requirements] + [t.title for t in plan.tasks]
    return "\n".join(parts).lower()


def _applies(addon: Addon, shape: str, text: str, named: frozenset[str]) -> bool:
    """Whether ``addon`` joins a diagram of ``shape`` (``named``: the slots the mission names)."""
    if shape not in (addon.shapes or RULES.addon_shapes):
        return False
    return addon.slot in named or re.search(addon.words, text) is not None


def _filler(values: Mapping[str, str]) -> Any:
    """A function filling a rule's text with the plan's values; unknown fields stay as written."""

    class _Values(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    known = _Values(values)

    def fill(template: str) -> str:
        return clip(template.format_map(known), _LABEL_CHARS)

    return fill


def _diagram(
    name: SystemDiagramName, rule: DiagramRule, addons: Sequence[Addon], fill: Any, plan: PlanDraft
) -> Diagram:
    owner: dict[str, str] = {}
    for component in rule.components:
        for role in component.roles:
            owner.setdefault(role, component.key)
    tasks: dict[str, list[str]] = {}
    for task in plan.tasks:
        if task.role in owner:
            tasks.setdefault(owner[task.role], []).append(task.key)
    components = [
        Component(
            key=c.key,
            label=fill(c.label),
            technology=fill(c.technology),
            group=fill(c.group),
            tasks=tuple(tasks.get(c.key, ())),
        )
        for c in rule.components
    ]
    connections = [Connection(c.source, c.target, fill(c.label)) for c in rule.connections]
    for addon in addons:
        box: AddonBox | None = getattr(addon, name)
        if box is None:
            continue
        components.append(Component(addon.key, fill(box.label), fill(box.technology), box.group))
        for link in box.connect:
            source = rule.anchor if link.source == "anchor" else link.source
            connections.append(Connection(source, addon.key, fill(link.label)))
    groups = list(dict.fromkeys(c.group for c in components))
    last = [g for g in RULES.last_groups if g in groups]
    ordered = tuple([g for g in groups if g not in last] + last)
    return Diagram(name, TITLES[name], tuple(components), tuple(connections), ordered)


_SYSTEM = """You draw two diagrams of the software a plan builds, as JSON:
- architecture: its components (front ends, services, workers, data stores, external
  services) and how they talk (protocols, what flows);
- deployment: where those components run (devices, edge, runtime, managed services, third
  parties, build and release) and how they connect.
Each component has a unique lower-case key, a short label, its technology (from the mission's
stack when it names one), a group (the column it is drawn in: at most 7 groups per diagram,
ordered from the people using it to the data and third parties), and the keys of the plan's
tasks that build it. Every connection names two components of the same diagram.
You are given the mission, its plan and a first drawing made by rules: keep what is right,
correct what is wrong, add what the plan needs. Answer with JSON only."""


def _user_prompt(mission: PlanningInput, plan: PlanDraft, local: MissionDiagrams) -> str:
    first = {
        name: {
            "components": [
                {"key": c.key, "label": c.label, "technology": c.technology, "group": c.group}
                for c in local.by_name(name).components
            ],
            "connections": [
                {"source": c.source, "target": c.target, "label": c.label}
                for c in local.by_name(name).connections
            ],
        }
        for name in SYSTEM_DIAGRAM_NAMES
    }
    lines = [
        f"Mission: {mission.title}",
        f"Goal: {mission.goal}",
        *(f"Constraint: {c}" for c in mission.constraints),
        f"Plan summary: {plan.summary}",
        *(f"Requirement {r.key}: {r.text}" for r in plan.requirements),
        *(f"Task {t.key} ({t.role}): {t.title}" for t in plan.tasks),
        "First drawing:",
        json.dumps(first, ensure_ascii=False),
    ]
    return redact("\n".join(lines))


def _preparer(task_keys: frozenset[str]) -> Any:
    """Mends a reply's connections and task lists; sends back what it cannot mend."""

    def prepare(data: Any) -> tuple[Any, Sequence[str]]:
        try:
            DiagramsDraft.model_validate(data)
        except ValidationError:
            return data, ()  # validation reports it to the model
        notes: list[str] = []
        for name in SYSTEM_DIAGRAM_NAMES:
            part = data[name]
            keys = {c["key"].strip() for c in part["components"]}
            links = part.get("connections", [])
            kept = [c for c in links if {c["source"].strip(), c["target"].strip()} <= keys]
            if dropped := len(links) - len(kept):
                notes.append(f"Dropped {dropped} {name} connection(s) naming no component.")
            part["connections"] = kept
            for component in part["components"]:
                listed = component.get("tasks", [])
                component["tasks"] = [key for key in listed if key in task_keys]
                if dropped := len(listed) - len(component["tasks"]):
                    notes.append(f"Dropped {dropped} task key(s) the plan lacks from {name}.")
        draft = DiagramsDraft.model_validate(data)
        problems = [
            (f"{name}.{where}", why)
            for name in SYSTEM_DIAGRAM_NAMES
            for where, why in diagram_problems(
                diagram_from_draft(name, TITLES[name], getattr(draft, name))
            )
        ]
        if problems:
            raise ReplyError(problems, mended=notes)
        return data, notes

    return prepare


async def draw_with_model(
    client: LLMClient,
    mission: PlanningInput,
    plan: PlanDraft,
    *,
    plan_version: int,
    timeout_seconds: float,
    max_tokens: int | None = None,
) -> DrawnDiagrams:
    """Ask ``client``'s model to draw the diagrams; fall back to :func:`draw_local`.

    The model gets the mission, the plan and the local drawing. It has ``timeout_seconds``
    for the whole call, repairs included, and at most ``max_tokens`` (a budget's share). What
    it sends is mended where that is safe (a connection to a component that does not exist is
    dropped, a task key the plan lacks is dropped) and sent back otherwise (see
    ``LLMClient.generate_structured``).

    Returns:
        The model's diagrams (``source`` is the model's name), or the local ones with a note
        saying why the model's were not used; with what the model spent either way (as far as
        the client reported it). Never raises for the model's failures.
    """
    local = draw_local(mission, plan, plan_version=plan_version)
    spent = [LLMUsage()]

    def seen(usage: LLMUsage, *, estimated: bool) -> None:
        spent[0] = usage  # what a failed call spent is charged too

    try:
        async with asyncio.timeout(timeout_seconds):
            result = await client.generate_structured(
                system=_SYSTEM,
                user=_user_prompt(mission, plan, local),
                output_model=DiagramsDraft,
                schema_name="diagrams",
                prepare=_preparer(frozenset(t.key for t in plan.tasks)),
                max_tokens=max_tokens,
                on_usage=seen,
            )
    except TimeoutError:
        why = f"the model did not answer within {timeout_seconds:g} s"
        return DrawnDiagrams(_fallback(local, why), spent[0])
    except TokenLimitReached as exc:
        why = "the mission's budget cannot pay for the model's drawing"
        return DrawnDiagrams(_fallback(local, why), exc.usage)
    except (LLMUnavailable, LLMOutputInvalid) as exc:
        why = f"the model failed: {clip(str(exc), 200)}"
        return DrawnDiagrams(_fallback(local, why), spent[0])
    diagrams = _from_model(result.value, result.model, local.plan_version, result.notes)
    return DrawnDiagrams(diagrams, result.usage)


def _fallback(local: MissionDiagrams, why: str) -> MissionDiagrams:
    note = f"Drawn by the local rules: {why}."
    return MissionDiagrams(
        local.architecture, local.deployment, "local", local.plan_version, (note,)
    )


def _from_model(
    draft: DiagramsDraft, model: str, plan_version: int, notes: Sequence[str]
) -> MissionDiagrams:
    drawn = {name: diagram_from_draft(name, TITLES[name], getattr(draft, name)) for name in TITLES}
    return MissionDiagrams(
        architecture=drawn["architecture"],
        deployment=drawn["deployment"],
        source=model,
        plan_version=plan_version,
        notes=tuple(notes),
    )
