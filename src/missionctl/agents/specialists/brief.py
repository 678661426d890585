"""The brief a specialist works from: mission, plan, its own task and its upstream results.

``build_brief`` is pure: it turns the JSON the step context's loaders return (``MissionRead``
and ``PlanRead`` dumps, either may be missing) and the step's inputs into a typed
:class:`Brief`. What the goal says (its subject, features, the people it serves, the records
its software keeps) is the mission's one reading (:func:`missionctl.reading.read_goal`), the
same the local planner plans from.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from missionctl.agents.specialists.entities import stored
from missionctl.agents.specialists.traits import detect_traits
from missionctl.reading import Entity, Feature, GoalReading, read_goal, third_person_verbs
from missionctl.schemas.plans import PlanDraft, PlanRequirement, PlanTask


@dataclass(frozen=True, slots=True)
class TaskView:
    """The specialist's own task (from the step inputs, completed from the plan)."""

    key: str
    title: str
    description: str
    role: str
    acceptance: tuple[str, ...]
    expected_artifacts: tuple[str, ...]
    risk_tier: str = "read"
    depends_on: tuple[str, ...] = ()
    traces: tuple[str, ...] = ()

    @property
    def writes(self) -> bool:
        """Whether the task changes things (code, infrastructure) rather than describing them."""
        return self.risk_tier != "read"


@dataclass(frozen=True, slots=True)
class Brief:
    """Everything a writer may use; built once per step by :func:`build_brief`.

    ``entities`` are the reading's entities as stored: each with an ``id`` and a
    ``created_at``.
    """

    role: str
    mission_title: str
    goal: str
    constraints: tuple[str, ...]
    repo_context: str
    reading: GoalReading
    traits: frozenset[str]
    entities: tuple[Entity, ...]
    task: TaskView
    plan: PlanDraft | None = None
    plan_source: str | None = None
    plan_version: int | None = None
    upstream: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    has_mission: bool = True

    @property
    def subject(self) -> str:
        """What the goal is about, as it says it ("inventory system for a small bakery")."""
        return self.reading.subject_phrase

    @property
    def features(self) -> tuple[Feature, ...]:
        """The goal's features, as the user named them."""
        return self.reading.features

    @property
    def users(self) -> tuple[str, ...]:
        """The people the software serves ("bakery staff", "suppliers")."""
        return self.reading.actors

    @property
    def serves_http(self) -> bool:
        """Whether the software has an HTTP surface (a CLI, library or firmware alone has none)."""
        alone = {"cli", "library", "firmware"}  # a device talks over its radio, not HTTP
        return not (self.traits & alone and not self.traits & {"api", "web", "mobile"})

    @property
    def requirements(self) -> list[PlanRequirement]:
        """The plan's requirements (none without a plan)."""
        return list(self.plan.requirements) if self.plan else []

    @property
    def tasks(self) -> list[PlanTask]:
        """The plan's tasks (none without a plan)."""
        return list(self.plan.tasks) if self.plan else []

    @property
    def provenance(self) -> str:
        """Where the content comes from, for the line under each document's title."""
        plan = (
            f"plan v{self.plan_version} ({self.plan_source})"
            if self.plan is not None
            else "the step inputs (no plan)"
        )
        source = "the mission goal" if self.has_mission else "the step inputs"
        upstream = f" and {len(self.upstream)} upstream result(s)" if self.upstream else ""
        return f"{source}, {plan}{upstream}"

    def requirements_for(self, text: str) -> list[str]:
        """Keys of the requirements that mention ``text`` (case-insensitive)."""
        needles = [" ".join(text.lower().split())]
        verb, _, rest = needles[0].partition(" ")
        if rest and verb in third_person_verbs():
            needles.append(rest)  # "shows x" → "x"
        for needle in needles:
            keys = [r.key for r in self.requirements if needle and needle in r.text.lower()]
            if keys:
                return keys
        return []

    def traced_by(self, key: str) -> list[str]:
        """Keys of the plan tasks that trace requirement ``key``."""
        return [t.key for t in self.tasks if key in t.traces]

    def entities_in(self, text: str) -> list[Entity]:
        """The entities whose name, table or origin words occur in ``text``."""
        found = []
        for entity in self.entities:
            words = {entity.name, entity.table.replace("_", " "), entity.origin} - {""}
            pattern = "|".join(re.escape(w) for w in sorted(words))
            if re.search(rf"(?<!\w)(?:{pattern})(?:e?s)?(?!\w)", text, re.I):
                found.append(entity)
        return found


def analyse_goal(goal: str, title: str = "") -> tuple[str, tuple[Feature, ...], tuple[str, ...]]:
    """Read a goal: ``(subject, features, people served)``, from its one reading."""
    reading = read_goal(goal=goal, title=title)
    return reading.subject_phrase, reading.features, reading.actors


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, Sequence):
        return tuple(str(v) for v in value if str(v).strip())
    return ()


def parse_plan(plan: Mapping[str, Any] | None) -> PlanDraft | None:
    """The plan part of a ``PlanRead`` dump, or ``None`` when there is none or it is malformed."""
    if not plan:
        return None
    try:
        return PlanDraft.model_validate({k: plan[k] for k in PlanDraft.model_fields if k in plan})
    except ValidationError:
        return None


def build_brief(
    *,
    role: str,
    step_id: str,
    inputs: Mapping[str, Any],
    mission: Mapping[str, Any] | None,
    plan: Mapping[str, Any] | None,
    upstream: Mapping[str, Mapping[str, Any]] | None = None,
) -> Brief:
    """Assemble the brief of one step.

    Args:
        role: The specialist role (``product``, ``architect``, …).
        step_id: The step id; for compiled plans it is the task key.
        inputs: The step inputs (title, description, acceptance, expected_artifacts, role).
        mission: ``MissionRead`` as JSON, or ``None`` for a run without a mission (the inputs'
            ``goal``/``title`` then stand in for it).
        plan: ``PlanRead`` as JSON, or ``None``.
        upstream: Outputs of the step's dependencies by step id.
    """
    draft = parse_plan(plan)
    planned = next((t for t in (draft.tasks if draft else []) if t.key == step_id), None)
    title = str(inputs.get("title") or (planned.title if planned else step_id))
    description = str(inputs.get("description") or (planned.description if planned else ""))
    task = TaskView(
        key=step_id,
        title=title,
        description=description,
        role=role,
        acceptance=_strings(inputs.get("acceptance"))
        or (tuple(planned.acceptance) if planned else ()),
        expected_artifacts=_strings(inputs.get("expected_artifacts"))
        or (tuple(planned.expected_artifacts) if planned else ()),
        risk_tier=planned.risk_tier if planned else str(inputs.get("risk_tier", "read")),
        depends_on=tuple(planned.depends_on) if planned else (),
        traces=tuple(planned.traces) if planned else (),
    )
    mission_title = str((mission or {}).get("title") or inputs.get("mission_title") or title)
    goal = str((mission or {}).get("goal") or inputs.get("goal") or description or title)
    constraints = _strings((mission or {}).get("constraints") or inputs.get("constraints"))
    repo_context = str((mission or {}).get("repo_context") or "")
    reading = read_goal(
        goal=goal, title=mission_title, constraints=constraints, repo_context=repo_context
    )
    return Brief(
        role=role,
        mission_title=mission_title,
        goal=goal,
        constraints=constraints,
        repo_context=repo_context,
        reading=reading,
        traits=detect_traits(
            " ".join((goal, mission_title, *constraints, repo_context)), reading.kind
        ),
        entities=tuple(stored(entity) for entity in reading.entities),
        task=task,
        plan=draft,
        plan_source=str(plan.get("source", "unknown")) if plan and draft else None,
        plan_version=int(plan.get("version", 1)) if plan and draft else None,
        upstream=dict(upstream or {}),
        has_mission=mission is not None,
    )
