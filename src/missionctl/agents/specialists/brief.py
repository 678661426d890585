"""The brief a specialist works from: mission, plan, its own task and its upstream results.

``build_brief`` is pure: it turns the JSON the step context's loaders return (``MissionRead``
and ``PlanRead`` dumps, either may be missing) and the step's inputs into a typed
:class:`Brief`, and reads the goal — its subject ("URL shortener"), its feature clauses
("click analytics", "custom aliases"), the people it serves — with small deterministic rules.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from missionctl.agents.specialists.entities import Entity, infer_entities
from missionctl.agents.specialists.traits import detect_traits
from missionctl.schemas.plans import PlanDraft, PlanRequirement, PlanTask

SUBJECT_MAX_CHARS = 80
FEATURE_MAX_CHARS = 120
MAX_FEATURES = 12

_VERBS = (
    "build|create|write|add|design|implement|develop|make|migrate|harden|train|deploy|set up|"
    "ship|launch|refactor|port|integrate|automate|replace|rewrite|extend|upgrade|deliver|provide"
)
_LEADING_VERB = re.compile(rf"^(?:please\s+)?(?:{_VERBS})(?:\s+and\s+(?:{_VERBS}))?\s+", re.I)
_ARTICLE = re.compile(r"^(?:a|an|the|our|my|some|also|then)\s+", re.I)
_SUBJECT_END = re.compile(
    r"\s*(?:[:;,(]|\s(?:with|that|which|where|including|as|using|without|so|to)\s)", re.I
)
_CLAUSE_SPLIT = re.compile(
    r"\s*(?:[,;:]|\band\b|\bwith\b|\bthat\b|\bwhich\b|\bincluding\b|\bplus\b)\s*", re.I
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_ACTION = re.compile(
    r"^(?:accepts|generates|runs|returns|shows|converts|ingests|builds|summari[sz]es|files|"
    r"tracks|warns|blocks|federates|backs|restores|syncs|sends|supports|lets|allows|provides|"
    r"creates|manages|stores|exports|imports|computes|detects|monitors|notifies|books|"
    r"schedules|publishes|renders|streams|answers|checks|validates|records|reports)\s",
    re.I,
)
_PEOPLE = re.compile(
    r"\bfor\s+((?:[\w-]+\s+){0,3}?(?:leaders|managers|teams|users|customers|developers|"
    r"engineers|admins|administrators|analysts|operators|members|owners|staff|students|players|"
    r"clinicians|vets|doctors|founders|marketers|sellers|merchants|agents))\b",
    re.I,
)
_DROP = re.compile(
    r"^(?:as|so|to|in|on|for|etc|more|other|production-ready|under|without|within|less|fewer)\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Feature:
    """One feature clause of the goal ("click analytics", "accepts a software goal")."""

    text: str
    action: bool

    @property
    def title(self) -> str:
        """Capitalised, for headings and table cells."""
        return self.text[:1].upper() + self.text[1:]

    @property
    def phrase(self) -> str:
        """The noun phrase: the clause itself, or an action's object."""
        return self.text.split(" ", 1)[1] if self.action and " " in self.text else self.text


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
    """Everything a writer may use; built once per step by :func:`build_brief`."""

    role: str
    mission_title: str
    goal: str
    constraints: tuple[str, ...]
    repo_context: str
    subject: str
    features: tuple[Feature, ...]
    users: tuple[str, ...]
    traits: frozenset[str]
    entities: tuple[Entity, ...]
    task: TaskView
    plan: PlanDraft | None = None
    plan_source: str | None = None
    plan_version: int | None = None
    upstream: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    has_mission: bool = True

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
        if _ACTION.match(needles[0] + " "):
            needles.append(needles[0].split(" ", 1)[1])  # "shows x" → "x"
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
    """Read a goal: ``(subject, features, users)``.

    Only the goal's first sentence gives the subject and the features; the subject falls back
    to ``title`` and then to "the software".
    """
    text = " ".join(goal.split())
    first = _SENTENCE_END.split(text, maxsplit=1)[0].rstrip(".!? ")
    rest = _LEADING_VERB.sub("", first, count=1)
    rest = _strip_articles(rest)
    end = _SUBJECT_END.search(rest)
    subject = _strip_articles(rest[: end.start()] if end else rest).strip(" .,;:")
    remainder = rest[end.start() :] if end else ""
    if len(subject) > SUBJECT_MAX_CHARS:
        subject = subject[:SUBJECT_MAX_CHARS].rsplit(" ", 1)[0]
    subject = subject or " ".join(title.split())[:SUBJECT_MAX_CHARS] or "the software"
    features: list[Feature] = []
    seen: set[str] = {subject.lower()}
    for part in _CLAUSE_SPLIT.split(remainder):
        clause = _strip_articles(part.strip(" .,;:!?\"'()[]"))
        if len(clause) < 3 or _DROP.match(clause) or clause.lower() in seen:
            continue
        seen.add(clause.lower())
        features.append(Feature(clause[:FEATURE_MAX_CHARS], bool(_ACTION.match(clause + " "))))
    users = tuple(dict.fromkeys(m.group(1).strip() for m in _PEOPLE.finditer(text)))
    return subject, tuple(features[:MAX_FEATURES]), users


def _strip_articles(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = _ARTICLE.sub("", text.strip())
    return text


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
    subject, features, users = analyse_goal(goal, mission_title)
    traits = detect_traits(" ".join((goal, mission_title, *constraints, repo_context)))
    phrases = tuple(f.phrase for f in features)
    return Brief(
        role=role,
        mission_title=mission_title,
        goal=goal,
        constraints=constraints,
        repo_context=repo_context,
        subject=subject,
        features=features,
        users=users,
        traits=traits,
        entities=infer_entities(goal, phrases, traits),
        task=task,
        plan=draft,
        plan_source=str(plan.get("source", "unknown")) if plan and draft else None,
        plan_version=int(plan.get("version", 1)) if plan and draft else None,
        upstream=dict(upstream or {}),
        has_mission=mission is not None,
    )
