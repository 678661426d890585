"""The product flow of a planned mission: the journey its software's user takes, left to right.

:func:`draw_product_flow` reads the mission once (the local planner's
:class:`~missionctl.planning.local_context.MissionContext`) and turns its words into steps with
the rules of ``product_flow.yaml`` beside this module:

1. the way in, when the kind of software has one and the mission or its plan speaks of it
   ("Open the URL shortener" when the plan builds its UI);
2. the subject's own step, when the subject names an action ("URL shortener" → "Shorten a
   URL"), with the goal's noun clauses that qualify it ("with custom aliases");
3. a step per clause of the goal, in the goal's order, read as written when it starts with
   its verb or its people, else given the verb of the first rule its words match ("click
   analytics" → "See click analytics");
4. the moments the mission or its plan speaks of anywhere (signing in, sharing a short link).

Each step sits in a stage (its column), the stages left to right; within a stage, steps keep
the order their words come in the mission, then its plan. A step lists the plan tasks whose
titles name its words. Nothing else is added: a mission that says little gets a short flow and
a note saying so, never filler. The same mission and plan always give the same drawing, and a
model never draws it.
"""

import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass as plain_dataclass
from dataclasses import replace
from importlib.resources import files
from itertools import pairwise

from pydantic import TypeAdapter
from pydantic.dataclasses import dataclass

from missionctl.domain.diagrams import (
    MAX_COMPONENTS,
    MAX_GROUPS,
    Component,
    Connection,
    Diagram,
    DiagramName,
)
from missionctl.domain.english import with_article
from missionctl.planning.base import PlanningInput
from missionctl.planning.kinds.templates import STRICT, Positive
from missionctl.planning.local_context import MissionContext, word_pattern
from missionctl.reading import (
    GENERIC_KIND,
    Feature,
    GoalReading,
    capitalise,
    clip,
    kind_keys,
    plural,
)
from missionctl.schemas.datafiles import data_file_error, read_data_file
from missionctl.schemas.plans import PlanDraft

__all__ = [
    "NAME",
    "RULES",
    "TITLE",
    "FlowRules",
    "FlowSteps",
    "Step",
    "draw_product_flow",
    "flow_steps",
]

NAME: DiagramName = "product_flow"
TITLE = "Product flow"
_LABEL_CHARS = 60
_PLACEHOLDERS = frozenset(
    {"subject", "text", "Text", "match", "Match", "object", "objects", "a_object", "a_head"}
    | {"details"}
)
_NEEDS_OBJECT = frozenset({"object", "objects", "a_object"})


@dataclass(frozen=True, slots=True, config=STRICT)
class Stage:
    """A column of the flow: a part of the journey ("Sign in", "Review")."""

    key: str
    title: str


@dataclass(frozen=True, slots=True, config=STRICT)
class StepRule:
    """Words that make a step: its stage, how it reads, and which kinds of software it fits."""

    stage: str
    words: str
    label: str
    detail: str = ""
    key: str = ""
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, config=STRICT)
class RecordRule:
    """How a noun clause naming records the software keeps reads ("Manage appointments")."""

    stage: str
    label: str


@dataclass(frozen=True, slots=True, config=STRICT)
class Otherwise:
    """Where a clause no rule names goes, and how qualifying clauses are listed."""

    stage: str
    detail: str


@dataclass(frozen=True, slots=True, config=STRICT)
class FlowRules:
    """``product_flow.yaml`` (its header says what each part means)."""

    stages: tuple[Stage, ...]
    max_steps: Positive
    steps_per_stage: Positive
    few_steps: Positive
    entries: tuple[StepRule, ...]
    clauses: tuple[StepRule, ...]
    actions: tuple[StepRule, ...]
    verbs: frozenset[str]
    people: frozenset[str]
    records: RecordRule
    otherwise: Otherwise
    moments: tuple[StepRule, ...]

    def all_step_rules(self) -> Iterable[tuple[str, StepRule]]:
        """Every step rule with where it is written (``clauses.2``)."""
        for part in ("entries", "clauses", "actions", "moments"):
            for index, rule in enumerate(getattr(self, part)):
                yield f"{part}.{index}", rule


def _template_problems(where: str, template: str) -> list[str]:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    except ValueError as exc:
        return [f"{where}: not a template ({exc})"]
    return [f"{where}: no placeholder {{{name}}}" for name in sorted(names - _PLACEHOLDERS)]


def _rule_problems(rules: FlowRules) -> list[str]:
    """What the types cannot check: stages, kinds, patterns and placeholders that exist."""
    stages = [stage.key for stage in rules.stages]
    problems = [
        f"stages: {key!r} is written twice" for key in sorted(set(stages)) if stages.count(key) > 1
    ]
    if len(stages) > MAX_GROUPS:
        problems.append(f"stages: draw at most {MAX_GROUPS} (columns)")
    if rules.max_steps > MAX_COMPONENTS:
        problems.append(f"max_steps: at most {MAX_COMPONENTS} boxes fit one diagram")
    kinds = {*kind_keys(), GENERIC_KIND}
    named = [("records", rules.records.stage), ("otherwise", rules.otherwise.stage)]
    named += [(where, rule.stage) for where, rule in rules.all_step_rules()]
    problems += [
        f"{where}.stage: no stage {stage!r}" for where, stage in named if stage not in stages
    ]
    for where, rule in rules.all_step_rules():
        try:
            word_pattern(rule.words)
        except re.error as exc:
            problems.append(f"{where}.words: not a regular expression ({exc})")
        problems += [f"{where}.kinds: no kind {kind!r}" for kind in rule.kinds if kind not in kinds]
        problems += _template_problems(f"{where}.label", rule.label)
        problems += _template_problems(f"{where}.detail", rule.detail)
    problems += [
        f"{part}: {word!r} is not lower case"
        for part in ("verbs", "people")
        for word in sorted(getattr(rules, part))
        if word != word.lower()
    ]
    problems += _template_problems("records.label", rules.records.label)
    problems += _template_problems("otherwise.detail", rules.otherwise.detail)
    return problems


def _load_rules() -> FlowRules:
    file = files(__package__ or __name__).joinpath("product_flow.yaml")
    rules = read_data_file(file, TypeAdapter(FlowRules))
    if problems := _rule_problems(rules):
        raise data_file_error(file, problems)
    return rules


RULES = _load_rules()
_STAGE_ORDER = {stage.key: index for index, stage in enumerate(RULES.stages)}
_STAGE_TITLES = {stage.key: stage.title for stage in RULES.stages}
_PATTERNS = {rule.words: word_pattern(rule.words) for _, rule in RULES.all_step_rules()}


@plain_dataclass(frozen=True, slots=True)
class Step:
    """One step of the flow, and the words of the mission or its plan it rests on.

    Attributes:
        stage: The key of its stage (its column).
        label: What the user does ("See click analytics").
        said: The words of the mission or its plan that call for it, as written there.
        rank: Where those words come: the subject first, the goal's clauses in order, then the
            title, goal, constraints, requirements and task titles (see :func:`_sources`).
        detail: What qualifies it, drawn under its label ("with custom aliases").
        names: Patterns of a plan task's title naming the step's own clause: such a task
            builds it.
        hints: Patterns of a plan task's title speaking of the step (its rule's words): such
            a task builds it when it names no step's clause.
        key: Steps with one key are one step (the first found); empty for none.
    """

    stage: str
    label: str
    said: str
    rank: int
    detail: str = ""
    names: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    key: str = ""


@plain_dataclass(frozen=True, slots=True)
class FlowSteps:
    """The steps drawn, in the flow's order, and what the drawing should say about them.

    Attributes:
        steps: Sorted by stage, then by where their words come.
        left_out: Steps found but not drawn (beyond ``max_steps`` or ``steps_per_stage``).
        found: Whether any rule found a step; otherwise ``steps`` is the one box naming what
            the mission builds.
        subject: What the mission builds, as its reading names it.
    """

    steps: tuple[Step, ...]
    left_out: int = 0
    found: bool = True
    subject: str = ""


def _fill(template: str, **values: str) -> str:
    """``template`` with ``values``; a placeholder without a value is left empty."""
    known = {name: values.get(name, "") for name in _PLACEHOLDERS}
    return clip(template.format_map(known), _LABEL_CHARS)


def _applies(rule: StepRule, kind: str) -> bool:
    return not rule.kinds or kind in rule.kinds


def _sources(mission: PlanningInput, plan: PlanDraft) -> list[str]:
    """The texts moments and entries are looked for in, in the order they rank."""
    return [
        mission.title,
        mission.goal,
        *mission.constraints,
        *(requirement.text for requirement in plan.requirements),
        *(task.title for task in plan.tasks),
    ]


def _first_match(pattern: re.Pattern[str], texts: Sequence[str]) -> tuple[int, str] | None:
    """The index of the first text ``pattern`` matches, and the words it matched there."""
    for index, text in enumerate(texts):
        if found := pattern.search(text):
            return index, found.group(0)
    return None


def _action_step(phrase: str, rank: int) -> Step | None:
    """The step a noun phrase naming an action reads as ("URL shortener" → "Shorten a URL")."""
    for rule in RULES.actions:
        found = _PATTERNS[rule.words].search(phrase)
        if found is None:
            continue
        before = phrase[: found.start()].strip(" -")
        needs = {name for _, name, _, _ in string.Formatter().parse(rule.label) if name}
        if needs & _NEEDS_OBJECT and not before:
            continue
        label = _fill(
            rule.label,
            object=before,
            objects=plural(before) if before else "",
            a_object=with_article(before) if before else "",
            a_head=with_article(phrase[: found.end()]),
        )
        return Step(rule.stage, capitalise(label), phrase, rank, key=rule.key)
    return None


def _clause_names(feature: Feature) -> tuple[str, ...]:
    """What a task's title says when it builds the clause's step: its words or its title."""
    names = [feature.text, feature.title]
    if feature.technology:  # "Redis backing": a task says "backing with Redis"
        names.append(feature.phrase)
    return tuple(re.escape(name) for name in dict.fromkeys(names) if name.strip())


def _from_verb(feature: Feature) -> str | None:
    """The clause from its verb on, or ``None`` for a noun clause ("click analytics").

    A clause starts with its verb or its people when the reading says so or by the rules'
    ``verbs`` and ``people``: "report repairs" is what "tenants report repairs" does.
    """
    if feature.action:
        return feature.title
    if feature.doers and feature.text.lower().startswith(feature.doers.lower()):
        return feature.text[len(feature.doers) :].strip()
    words = feature.text.split()
    first, second = [*(word.lower() for word in words), "", ""][:2]
    if first in RULES.verbs:
        return feature.text
    if first in RULES.people or second in RULES.verbs:
        return " ".join(words[1:])
    return None


def _clause_step(feature: Feature, rank: int, reading: GoalReading, kind: str) -> Step | None:
    """The step a clause of the goal reads as, or ``None`` for a noun clause no rule names."""
    verb_on = _from_verb(feature)
    as_written = verb_on is not None
    names = _clause_names(feature)
    for rule in RULES.clauses:
        if _applies(rule, kind) and _PATTERNS[rule.words].search(verb_on or feature.title):
            if as_written:
                return Step(
                    rule.stage, feature.title, feature.text, rank, names=names, key=rule.key
                )
            label = _fill(rule.label, text=feature.text, Text=capitalise(feature.text))
            detail = _fill(rule.detail, text=feature.text)
            return Step(rule.stage, label, feature.text, rank, detail, names, key=rule.key)
    if as_written:
        return Step(RULES.otherwise.stage, feature.title, feature.text, rank, names=names)
    if (action := _action_step(feature.text, rank)) is not None:
        return replace(action, names=names)
    records = {plural(entity.name).lower() for entity in reading.entities}
    if feature.text.lower() in records:
        label = _fill(RULES.records.label, text=feature.text)
        return Step(RULES.records.stage, label, feature.text, rank, names=names)
    return None


def _with_details(own: Step | None, plain: Sequence[tuple[int, Feature]]) -> list[Step]:
    """The subject's own step qualified by the noun clauses no rule names, or those clauses."""
    if own is None:
        return [
            Step(RULES.otherwise.stage, capitalise(f.text), f.text, rank, names=_clause_names(f))
            for rank, f in plain
        ]
    if not plain:
        return [own]
    detail = _fill(RULES.otherwise.detail, details=", ".join(f.text for _, f in plain))
    names = own.names + tuple(name for _, feature in plain for name in _clause_names(feature))
    return [replace(own, detail=detail, names=names)]


def _clause_steps(reading: GoalReading, kind: str) -> list[Step]:
    """The subject's own step and one step per clause of the goal (see the module doc)."""
    own = _action_step(reading.subject, -1)
    steps: list[Step] = []
    plain: list[tuple[int, Feature]] = []
    for rank, feature in enumerate(reading.features):
        step = _clause_step(feature, rank, reading, kind)
        if step is None:
            plain.append((rank, feature))
        else:
            steps.append(step)
    return _with_details(own, plain) + steps


def _entry_step(subject: str, kind: str, sources: Sequence[str]) -> Step | None:
    """The way in that the kind of software has, when the mission or its plan speaks of it."""
    for rule in RULES.entries:
        if not _applies(rule, kind):
            continue
        if (found := _first_match(_PATTERNS[rule.words], sources)) is not None:
            _, said = found
            label = _fill(rule.label, subject=subject, match=said, Match=capitalise(said))
            return Step(rule.stage, capitalise(label), said, -2, hints=(rule.words,))
    return None


def _moment_steps(kind: str, sources: Sequence[str], taken: set[str], after: int) -> list[Step]:
    """The moments the mission or its plan speaks of, one per key not ``taken`` already."""
    steps: list[Step] = []
    for rule in RULES.moments:
        if rule.key in taken or not _applies(rule, kind):
            continue
        if (found := _first_match(_PATTERNS[rule.words], sources)) is not None:
            index, said = found
            label = _fill(rule.label, match=said, Match=capitalise(said))
            steps.append(
                Step(rule.stage, label, said, after + index, hints=(rule.words,), key=rule.key)
            )
            if rule.key:
                taken.add(rule.key)
    return steps


def _one_per_key(steps: Iterable[Step]) -> list[Step]:
    """``steps`` without those whose key an earlier step has."""
    seen: set[str] = set()
    kept: list[Step] = []
    for step in steps:
        if step.key and step.key in seen:
            continue
        seen.add(step.key)
        kept.append(step)
    return kept


def _bounded(steps: Sequence[Step]) -> tuple[list[Step], int]:
    """``steps`` in the flow's order, at most ``steps_per_stage`` a stage and ``max_steps``."""
    ordered = sorted(steps, key=lambda step: (_STAGE_ORDER[step.stage], step.rank))
    per_stage: dict[str, int] = {}
    kept: list[Step] = []
    for step in ordered:
        per_stage[step.stage] = per_stage.get(step.stage, 0) + 1
        if per_stage[step.stage] <= RULES.steps_per_stage and len(kept) < RULES.max_steps:
            kept.append(step)
    return kept, len(ordered) - len(kept)


def flow_steps(mission: PlanningInput, plan: PlanDraft) -> FlowSteps:
    """The steps of ``mission``'s product flow, each with the words it rests on (pure).

    Returns:
        The steps in the flow's order (see the module doc). When no rule finds one, a single
        step naming what the mission builds, with ``found`` false.
    """
    context = MissionContext(mission)
    reading, kind = context.reading, context.kind.key
    sources = _sources(mission, plan)
    steps = _clause_steps(reading, kind)
    entry = _entry_step(reading.subject, kind, sources)
    taken = {step.key for step in steps if step.key}
    steps += _moment_steps(kind, sources, taken, after=len(reading.features))
    found = _one_per_key([entry, *steps] if entry else steps)
    if not found:
        subject = clip(capitalise(reading.subject), _LABEL_CHARS)
        only = Step(RULES.otherwise.stage, subject, reading.subject, 0)
        return FlowSteps((only,), found=False, subject=reading.subject)
    kept, left_out = _bounded(found)
    return FlowSteps(tuple(kept), left_out, subject=reading.subject)


def _builders(flow: FlowSteps, plan: PlanDraft) -> dict[int, list[str]]:
    """The keys of the tasks building each step, by the step's index.

    A task builds the first step whose own clause its title names; failing that, the first
    step its title speaks of, the subject left out (nearly every title names what is built:
    "Define the URL shortener scope" is no step of sharing a short link).
    """
    names = [[word_pattern(name) for name in step.names] for step in flow.steps]
    hints = [[word_pattern(hint) for hint in step.hints] for step in flow.steps]
    subject = re.compile(re.escape(flow.subject), re.IGNORECASE) if flow.subject else None
    built: dict[int, list[str]] = {}
    for task in plan.tasks:
        rest = subject.sub(" ", task.title) if subject else task.title
        found = _first_named(names, task.title)
        found = _first_named(hints, rest) if found is None else found
        if found is not None:
            built.setdefault(found, []).append(task.key)
    return built


def _first_named(patterns: Sequence[Sequence[re.Pattern[str]]], title: str) -> int | None:
    return next((i for i, step in enumerate(patterns) if any(p.search(title) for p in step)), None)


def _notes(flow: FlowSteps) -> tuple[str, ...]:
    if not flow.found:
        return (
            "The mission names no step of its users' journey, so the flow shows only what it "
            "builds: say in the goal what its users do, in order, to draw one.",
        )
    notes: list[str] = []
    count = len(flow.steps)
    if count < RULES.few_steps:
        steps = "step" if count == 1 else "steps"
        notes.append(
            f"The mission names only {count} {steps} of its users' journey, and nothing else "
            "is drawn: say in the goal what its users do, in order, for a fuller flow."
        )
    if flow.left_out:
        notes.append(
            f"{flow.left_out} more step(s) the mission names are not drawn: a flow shows at "
            f"most {RULES.steps_per_stage} steps a stage and {RULES.max_steps} in all."
        )
    return tuple(notes)


def draw_product_flow(mission: PlanningInput, plan: PlanDraft) -> Diagram:
    """The product flow of ``mission``'s ``plan`` (see the module doc): pure and deterministic.

    Each step is a box in its stage's column, with the plan tasks that build it; arrows lead
    from each stage's steps to the next stage's (see :func:`_arrows`). The diagram's notes say
    when the mission names few steps (or none) and when steps were left out.
    """
    flow = flow_steps(mission, plan)
    built = _builders(flow, plan)
    components = tuple(
        Component(
            key=f"step-{index + 1}",
            label=clip(step.label, _LABEL_CHARS),
            technology=clip(step.detail, _LABEL_CHARS),
            group=_STAGE_TITLES[step.stage],
            tasks=tuple(built.get(index, ())),
        )
        for index, step in enumerate(flow.steps)
    )
    return Diagram(NAME, TITLE, components, _arrows(components), notes=_notes(flow))


def _arrows(components: Sequence[Component]) -> tuple[Connection, ...]:
    """Arrows from each stage's steps to the next stage's.

    The steps of one stage are ways through it, stacked in their words' order: arrows fan out
    to each of them from a single step before and fan in from each to a single step after.
    Between two stages of several steps each, row joins row (the extra rows of the longer
    stage join the other's last step), so that no stage is crossed by more arrows than it has
    steps.
    """
    columns: dict[str, list[str]] = {}
    for component in components:
        columns.setdefault(component.group, []).append(component.key)
    arrows: list[Connection] = []
    for sources, targets in pairwise(columns.values()):
        if len(sources) == 1 or len(targets) == 1:
            arrows += [Connection(source, target) for source in sources for target in targets]
            continue
        rows = max(len(sources), len(targets))
        arrows += [
            Connection(sources[min(row, len(sources) - 1)], targets[min(row, len(targets) - 1)])
            for row in range(rows)
        ]
    return tuple(arrows)
