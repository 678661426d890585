"""The local planner: a deterministic, goal-aware plan without any model.

Used when no LLM is configured, and as the reference the LLM planner's output is compared
with. It does no I/O: the same :class:`~missionctl.planning.base.PlanningInput` always gives
the same :class:`~missionctl.schemas.plans.PlanDraft`.

How a plan is made:

1. **Kind.** Keyword patterns of every :class:`~missionctl.planning.kinds.Kind` are scored
   over the goal and title (double weight) and the constraints and repository context; the
   best kind wins, or the generic kind when nothing scores enough.
2. **Goal analysis.** The goal's leading verb is dropped, its subject ("URL shortener") and
   any existing host system ("Django monolith") are taken out, and the rest is split on
   commas, colons, "with", "that", "and" … into features ("click analytics", "custom
   aliases"). Verb clauses become imperatives ("converts CSV files to Parquet" → "Convert
   CSV files to Parquet").
3. **Signals.** Named technologies ("PostgreSQL 16", "Redis", "React Native") fill the
   kind's technology slots and decisions; traits ("no downtime", "offline", "HIPAA", a
   deadline, a budget) add requirements, risks, decisions and sometimes tasks.
4. **Assembly.** One requirement and one task per feature (bundling the surplus so the plan
   keeps 6 to 14 tasks), the kind's own tasks, requirements, risks, decisions, phases and
   next steps, every template filled in, every requirement traced by at least one task.
   The result is checked with :func:`missionctl.domain.plans.validate_plan`.
"""

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from missionctl.domain.english import join_words, with_article, with_the
from missionctl.domain.plans import ensure_valid_plan
from missionctl.llm.protocol import LLMUsage
from missionctl.planning.base import LOCAL_SOURCE, PlannerResult, PlanningInput
from missionctl.planning.kinds import (
    FEATURES,
    GENERIC,
    KINDS,
    SLOT_DEFAULTS,
    DecisionTemplate,
    Kind,
    RiskTemplate,
    TaskTemplate,
)
from missionctl.planning.signals import (
    FEATURE_ROLE_HINTS,
    ROLE_FEATURE_TITLES,
    TECHNOLOGIES,
    THIRD_PERSON_VERBS,
    TRAITS,
    Technology,
    Trait,
)
from missionctl.planning.stack_choice import choose_stack
from missionctl.schemas.plans import (
    PlanDecision,
    PlanDraft,
    PlanNextStep,
    PlanPhase,
    PlanRequirement,
    PlanRisk,
    PlanTask,
    Priority,
    SpecialistRole,
)

T = TypeVar("T")

__all__ = [
    "LOCAL_PLANNER_VERSION",
    "MAX_PLAN_TASKS",
    "MIN_PLAN_TASKS",
    "Feature",
    "GoalAnalysis",
    "KindMatch",
    "LocalPlanner",
    "analyse_goal",
    "build_local_plan",
    "detect_kind",
    "detect_technologies",
]

LOCAL_PLANNER_VERSION = "local/1"
"""Version of the local planning rules, stored with each plan as its ``prompt_version``."""

MIN_PLAN_TASKS = 6
"""Fewest tasks a local plan has."""

MAX_PLAN_TASKS = 14
"""Most tasks a local plan has; surplus features are bundled into one task."""

MAX_FEATURES = 10
MAX_CONSTRAINT_REQUIREMENTS = 10
MIN_KIND_SCORE = 4
SUBJECT_MAX_CHARS = 80
FEATURE_MAX_CHARS = 120
SHORT_MAX_CHARS = 300
LONG_MAX_CHARS = 4000

_FLAGS = re.IGNORECASE


def _word_pattern(pattern: str) -> re.Pattern[str]:
    """Compile ``pattern`` to match whole words only (works for ``c++`` and ``$5k`` too)."""
    return re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", _FLAGS)


# Tables are static: compile once, in table order.
_KIND_PATTERNS: tuple[tuple[Kind, tuple[tuple[str, re.Pattern[str], int], ...]], ...] = tuple(
    (kind, tuple((raw, _word_pattern(f"(?:{raw})"), weight) for raw, weight in kind.keywords))
    for kind in KINDS
)
_TECH_PATTERNS: tuple[tuple[Technology, re.Pattern[str]], ...] = tuple(
    (
        tech,
        re.compile(
            rf"(?<![\w])(?:{tech.pattern})"
            + (r"(?:[ \t]*v?(?P<version>\d{1,3}(?:\.\d+)?))?" if tech.versioned else "")
            + r"(?![\w+#])",
            _FLAGS,
        ),
    )
    for tech in TECHNOLOGIES
)
_TECH_BY_NAME: dict[str, Technology] = {tech.name: tech for tech in TECHNOLOGIES}
_TRAIT_BY_KEY: dict[str, tuple[Trait, re.Pattern[str], re.Pattern[str] | None]] = {
    trait.key: (
        trait,
        _word_pattern(trait.pattern),
        _word_pattern(trait.value_pattern) if trait.value_pattern else None,
    )
    for trait in TRAITS
}
_ROLE_PATTERNS: tuple[tuple[SpecialistRole, re.Pattern[str]], ...] = tuple(
    (role, _word_pattern(f"(?:{pattern})")) for role, pattern in FEATURE_ROLE_HINTS
)

_LEADING_VERB = re.compile(
    r"^(?:please\s+)?(?:(?:i|we)\s+(?:need|want|would like)\s+to\s+)?"
    r"(?P<verb>train and deploy|build and deploy|design and build|build and ship|set up|"
    r"build|create|write|add|make|develop|implement|design|migrate|harden|train|deploy|ship|"
    r"port|upgrade|refactor|automate|integrate|launch|prototype|rewrite|moderni[sz]e|replace|"
    r"extend|improve|introduce|provide|produce|deliver)\b\s*",
    _FLAGS,
)
_ARTICLE = re.compile(r"^(?:an?|the|our|my|some|this)\s+", _FLAGS)
_MOVE_VERBS = frozenset({"migrate", "port", "upgrade", "move", "replatform"})
_HOST_VERBS = frozenset({"add", "integrate", "introduce", "extend", "improve", "harden"})
_HOST_EXISTING = re.compile(
    r"\s*\b(?:to|into|in|for|on|of)\s+(?:an?\s+|the\s+|our\s+|my\s+)?"
    r"(?P<host>(?:existing|current|legacy)\s+[^,;:.]+?)"
    r"(?=\s+(?:with|without|using|so that|that|which|by|and)\b|[,;:.]|$)",
    _FLAGS,
)
_HOST_TARGET = re.compile(
    r"\s*\b(?:to|into)\s+(?:an?\s+|the\s+|our\s+|my\s+)?(?P<host>[^,;:.]+?)"
    r"(?=\s+(?:with|without|using|so that|that|which|by)\b|[,;:.]|$)",
    _FLAGS,
)
_SUBJECT_END = re.compile(
    r"\s*(?::|;|,|\s-\s|\b(?:with|that|which|without|using|so that|including|featuring|"
    r"where|plus)\b)",
    _FLAGS,
)
_AS_DESCRIPTOR = re.compile(r"\s+as\s+(?:an?|the)\s+", _FLAGS)
_CLAUSE_SPLIT = re.compile(
    r"\s*(?:[:;,&]|\s-\s|\b(?:with|that|which|and|plus|including|featuring|as well as|"
    r"where)\b|(?=\b(?:without|using|via)\b))\s*",
    _FLAGS,
)
_LEADING_CONNECTOR = re.compile(
    r"^(?:and|or|with|that|which|also|plus|including|featuring|both|then|where|to|it|"
    r"should|must|can|will)\s+",
    _FLAGS,
)
_DROPPED_CLAUSE = re.compile(
    r"^(?:using|via|built with|as)\b|\bdowntime\b|^(?:etc|and so on|more)$", _FLAGS
)
_SLUG_STOPWORDS = frozenset(
    {"a", "an", "the", "of", "for", "to", "into", "in", "on", "with", "and", "or", "from", "by"}
)
_PARTICLES = frozenset({"up", "down", "out", "in", "off", "over", "back", "on", "away"})
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(?P<item>.+)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_CADENCE = re.compile(
    r"(?<![\w])(?:nightly|daily|hourly|weekly|monthly|every \d+ (?:minutes|hours|days)|"
    r"every (?:day|hour|week|night|month)|on a schedule)(?![\w])",
    _FLAGS,
)
_ZERO_DOWNTIME = re.compile(r"(?:without|no|zero|with no)[- ](?:any )?downtime", _FLAGS)
_DOWNTIME_BUDGET = re.compile(
    r"(?P<budget>(?:under|less than|within|below|at most)\s+[\w\s.-]{1,30}?)\s+(?:of\s+)?downtime",
    _FLAGS,
)
_FROM_TO = re.compile(
    r"\bfrom\s+(?P<source>.+?)\s+to\s+(?P<target>.+?)(?=\s+(?:with|without|in|on|by|under)\b|"
    r"[,;:.]|$)",
    _FLAGS,
)
_MOVE_TO = re.compile(
    r"\b(?:migrate|move|port|upgrade)\s+(?:an?\s+|the\s+|our\s+)?(?P<source>.+?)\s+to\s+"
    r"(?P<target>[^,;:.]+?)(?=\s+(?:with|without|in|on|by|under)\b|[,;:.]|$)",
    _FLAGS,
)
_BROWNFIELD = re.compile(
    r"(?<![\w])(?:existing|legacy|monolith|brownfield|current (?:code|system|app\w*|platform)|"
    r"in production)(?![\w])",
    _FLAGS,
)
_GREENFIELD = re.compile(r"(?<![\w])(?:greenfield|from scratch|new project)(?![\w])", _FLAGS)


@dataclass(frozen=True, slots=True)
class KindMatch:
    """The recognised kind of a mission.

    Attributes:
        kind: The winning kind (the generic kind when nothing scored enough).
        score: Its score (goal and title matches count twice).
        matched: The keyword patterns that matched, in table order.
    """

    kind: Kind
    score: int
    matched: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Feature:
    """One feature clause of a goal.

    Attributes:
        text: The clause as written, articles removed ("click analytics").
        title: How it reads as a heading: capitalised noun phrase ("Click analytics") or the
            imperative of a verb clause ("Convert CSV files to Parquet").
        action: Whether the clause starts with a verb.
    """

    text: str
    title: str
    action: bool

    @property
    def name(self) -> str:
        """The feature inside a sentence: "click analytics", "convert CSV files to Parquet"."""
        return self.title[:1].lower() + self.title[1:] if self.action else self.text


@dataclass(frozen=True, slots=True)
class GoalAnalysis:
    """What the planner read in a goal.

    Attributes:
        verb: The leading verb ("build", "migrate"), lower case, or ``None``.
        subject: What is being made or changed ("URL shortener").
        host: The existing system the work goes into ("Django monolith"), or ``None``.
        features: The goal's feature clauses, in order, without duplicates.
    """

    verb: str | None
    subject: str
    host: str | None
    features: tuple[Feature, ...]


@dataclass(frozen=True, slots=True)
class _DetectedTech:
    name: str  # with version when one was given
    base: str
    slot: str


@dataclass(frozen=True, slots=True)
class _FeatureTask:
    key: str
    role: SpecialistRole
    features: tuple[Feature, ...]
    requirement_keys: tuple[str, ...]


def detect_kind(mission: PlanningInput) -> KindMatch:
    """Score every kind's keywords over the mission and return the best match.

    Goal and title matches weigh double; constraints and repository context count once.
    Each keyword pattern counts at most once. Ties go to the kind listed first in
    :data:`~missionctl.planning.kinds.KINDS`; below a minimum score the generic kind is
    returned.
    """
    primary = _normalise(f"{mission.title}\n{mission.goal}")
    secondary = _normalise("\n".join((*mission.constraints, mission.repo_context)))
    best = KindMatch(GENERIC, 0, ())
    for kind, patterns in _KIND_PATTERNS:
        score = 0
        matched: list[str] = []
        for raw, pattern, weight in patterns:
            if pattern.search(primary):
                score += 2 * weight
                matched.append(raw)
            elif pattern.search(secondary):
                score += weight
                matched.append(raw)
        if score > best.score:
            best = KindMatch(kind, score, tuple(matched))
    if best.score < MIN_KIND_SCORE:
        return KindMatch(GENERIC, best.score, best.matched)
    return best


def detect_technologies(text: str) -> list[str]:
    """Return the technologies named in ``text`` with their versions, in order of appearance.

    >>> detect_technologies("Migrate PostgreSQL 11 to PostgreSQL 16 behind Redis")
    ['PostgreSQL 11', 'PostgreSQL 16', 'Redis']
    """
    return [tech.name for tech in _detect_technologies(text)]


def analyse_goal(goal: str, *, title: str = "") -> GoalAnalysis:
    """Split a goal into its verb, subject, host system and feature clauses.

    Only the first sentence (and any bullet lines) is read for features; the subject falls
    back to ``title`` and then to "software" when the goal has none.
    """
    lines = [line for line in goal.splitlines() if line.strip()]
    bullets = [m.group("item") for line in lines if (m := _BULLET.match(line))]
    prose = " ".join(line.strip() for line in lines if not _BULLET.match(line))
    first = _SENTENCE_END.split(_normalise(prose), maxsplit=1)[0].strip().rstrip(".!?")

    verb: str | None = None
    rest = first
    match = _LEADING_VERB.match(rest)
    if match:
        verb = match.group("verb").lower()
        rest = rest[match.end() :]
    rest = _strip_articles(rest)

    host: str | None = None
    host_match = _HOST_EXISTING.search(rest)
    if host_match is None and verb in _HOST_VERBS:
        host_match = _HOST_TARGET.search(rest)
    if host_match:
        host = _clip(_strip_articles(host_match.group("host").strip()), SUBJECT_MAX_CHARS)
        rest = (rest[: host_match.start()] + rest[host_match.end() :]).strip()

    end = _SUBJECT_END.search(rest)
    descriptor = _AS_DESCRIPTOR.search(rest[: end.start()] if end else rest)
    if descriptor:
        # "Mission Control as a production-ready dashboard": the name is the subject.
        end = descriptor
    subject_text = rest[: end.start()] if end else rest
    remainder = rest[end.start() :] if end else ""
    subject_text = subject_text.strip(" .,;:")
    if verb in _MOVE_VERBS and " to " in subject_text:
        # "Migrate X to Y": X is what is being moved; Y is the target (see _source_target).
        subject_text = subject_text.split(" to ", 1)[0]
    subject = _clip(_strip_articles(subject_text), SUBJECT_MAX_CHARS)
    if not subject:
        subject = _clip(_normalise(title), SUBJECT_MAX_CHARS) or "software"

    clauses = [*_split_clauses(remainder), *(_normalise(item) for item in bullets)]
    features = _features(clauses, subject)
    return GoalAnalysis(verb=verb, subject=subject, host=host, features=features)


def build_local_plan(mission: PlanningInput, *, kind: Kind | None = None) -> PlanDraft:
    """Plan ``mission`` with the local rules.

    Args:
        mission: What to plan.
        kind: Plan as this kind instead of the detected one (e.g. when the user corrects it).

    Returns:
        A plan with 6 to 14 tasks that passes ``validate_plan``; identical for identical
        inputs.
    """
    return _Builder(mission, kind=kind).build()


class LocalPlanner:
    """The :class:`~missionctl.planning.base.Planner` that needs no model."""

    def draft(self, mission: PlanningInput) -> PlanDraft:
        """Plan ``mission`` synchronously (see :func:`build_local_plan`)."""
        return build_local_plan(mission)

    async def plan(self, mission: PlanningInput) -> PlannerResult:
        """Plan ``mission``; never calls a model, never fails on a well-formed input.

        Returns:
            ``source="local"``, zero usage, one attempt, ``prompt_version="local/1"``.
        """
        return PlannerResult(
            draft=build_local_plan(mission),
            source=LOCAL_SOURCE,
            usage=LLMUsage(),
            attempts=1,
            prompt_version=LOCAL_PLANNER_VERSION,
        )


class _Builder:
    """Assembles one plan; holds the state of a single :func:`build_local_plan` call."""

    def __init__(self, mission: PlanningInput, *, kind: Kind | None = None) -> None:
        self.mission = mission
        self.kind = kind or detect_kind(mission).kind
        self.goal = analyse_goal(mission.goal, title=mission.title)
        everything = "\n".join(
            (mission.title, mission.goal, *mission.constraints, mission.repo_context)
        )
        self.text = _normalise(everything)
        self.techs = _detect_technologies(everything)
        own_tags = {requirement.tag for requirement in self.kind.requirements}
        matched_traits: list[tuple[Trait, str]] = []
        for trait, pattern, value_pattern in _TRAIT_BY_KEY.values():
            if m := pattern.search(self.text):
                value = value_pattern.search(self.text) if value_pattern else None
                matched_traits.append((trait, (value or m).group(0)))
        self.scale = next((m for trait, m in matched_traits if trait.key == "scale"), "")
        # A trait the kind already plans for (migration: downtime) adds nothing twice.
        self.traits = [(trait, m) for trait, m in matched_traits if trait.key not in own_tags]
        self.all_traits = matched_traits
        self.brownfield = self.goal.host is not None or (
            _BROWNFIELD.search(self.text) is not None and _GREENFIELD.search(self.text) is None
        )
        self.named_slots: dict[str, str] = {}
        for tech in self.techs:
            if tech.slot != "other":
                self.named_slots.setdefault(tech.slot, tech.name)
        # Slots settled by a named technology (Next.js → TypeScript), unless named too.
        self.implied_slots: dict[str, str] = {}
        for tech in self.techs:
            for slot, implied in _TECH_BY_NAME[tech.base].implies:
                if slot not in self.named_slots:
                    self.implied_slots.setdefault(slot, implied)
        self.values = self._values()

    # -- template values --

    def _values(self) -> dict[str, str]:
        slots: dict[str, str] = {
            **SLOT_DEFAULTS,
            **self.kind.defaults,
            **self.implied_slots,
            **self.named_slots,
        }
        # The mission's stack settles the slots it left open; kept for decisions and files.
        self.stack = choose_stack(
            self.kind,
            slots,
            named=self.named_slots,
            implied=self.implied_slots,
            technologies=[tech.base for tech in self.techs],
            text=self.text,
        )
        slots.update(self.stack.slots)
        source, target = self._source_target()
        downtime = "an agreed maintenance window"
        if _ZERO_DOWNTIME.search(self.text):
            downtime = "zero downtime"
        elif budget := _DOWNTIME_BUDGET.search(self.text):
            downtime = _normalise(budget.group("budget"))
        scale = self.scale
        cadence = _CADENCE.search(self.text)
        features = [feature.name for feature in self.goal.features]
        if self.techs:
            stack = ", ".join(tech.name for tech in self.techs)
        else:
            used = [slots[d.slot] for d in self.kind.decisions if d.slot]
            stack = "planner defaults: " + (", ".join(used) if used else "to be chosen")
        return {
            **slots,
            "subject": self.goal.subject,
            "a_subject": with_article(self.goal.subject),
            "A_subject": _capitalise(with_article(self.goal.subject)),
            "label": self.kind.label,
            "features": _join(features) if features else "the core flows",
            "stack": stack,
            "host": f"the {self.goal.host}" if self.goal.host else "the existing system",
            "cadence": cadence.group(0).lower() if cadence else self.kind.cadence,
            "source": source,
            "target": target,
            "downtime": downtime,
            "scale": scale or "the expected volume",
            **self.stack.values,
        }

    def _source_target(self) -> tuple[str, str]:
        by_base: dict[str, list[str]] = {}
        for tech in self.techs:
            by_base.setdefault(tech.base, []).append(tech.name)
        for names in by_base.values():
            if len(names) >= 2:
                return names[0], names[-1]
        if m := _FROM_TO.search(self.goal_text):
            return _clip(m.group("source"), 60), _clip(m.group("target"), 60)
        if m := _MOVE_TO.search(self.goal_text):
            return _clip(m.group("source"), 60), _clip(m.group("target"), 60)
        return "the current system", "the target system"

    @property
    def goal_text(self) -> str:
        return _normalise(self.mission.goal)

    def fill(self, template: str, **extra: str) -> str:
        """Fill a template with the plan's values (``KeyError`` on an unknown placeholder)."""
        values = {**self.values, **extra} if extra else self.values
        return template.format_map(values)

    # -- assembly --

    def build(self) -> PlanDraft:
        kind = self.kind
        features = list(self.goal.features)
        if not features and kind.needs_feature_task:
            core = f"the core of the {self.goal.subject}"
            features = [Feature(text=core, title=_capitalise(core), action=False)]
        reqs = self._requirements(features)

        # Tasks: the kind's own, a survey for brownfield work, trait tasks, feature tasks.
        extra = self._extra_tasks(reqs)
        taken = {task.key for task in kind.tasks} | {template.key for template, _ in extra}
        slots = MAX_PLAN_TASKS - len(kind.tasks) - len(extra)
        feature_tasks = self._feature_tasks(features, reqs.feature_keys, slots, taken)
        feature_task_keys = [ft.key for ft in feature_tasks]
        survey_key = _SURVEY.key if any(t is _SURVEY for t, _ in extra) else None
        trait_task_keys = [t.key for t, _ in extra if t is not _SURVEY]

        tasks: list[PlanTask] = []
        first_of_role: set[str] = set()
        for template in kind.tasks:
            deps: list[str] = []
            for dep in template.depends_on:
                deps.extend(feature_task_keys if dep == FEATURES else [dep])
            if not template.depends_on and survey_key:
                deps.append(survey_key)
            if template.key == kind.verify_key:
                deps.extend(trait_task_keys)
            traces = [key for tag in template.traces for key in reqs.tags.get(tag, [])]
            if template.role not in first_of_role:
                # Trait requirements whose task was skipped go to the role's first task.
                first_of_role.add(template.role)
                traces.extend(reqs.role_traces.get(template.role, []))
            tasks.append(self._task(template, deps, traces or reqs.feature_keys))
        for template, requirement_key in extra:
            deps = [] if template is _SURVEY else [kind.design_key]
            tasks.append(self._task(template, deps, [requirement_key]))
        tasks.extend(self._feature_task(ft) for ft in feature_tasks)

        tasks = self._order(tasks, extra, feature_task_keys)
        tasks = self._trace_leftovers(tasks, reqs)
        phases = self._phases(feature_task_keys, survey_key, trait_task_keys)
        draft = PlanDraft(
            summary=self._summary(reqs.requirements, tasks, phases),
            requirements=reqs.requirements,
            phases=phases,
            tasks=tasks,
            risks=self._risks(),
            decisions=self._decisions(),
            next_steps=self._next_steps(),
        )
        ensure_valid_plan(draft)
        return draft

    def _requirements(self, features: Sequence[Feature]) -> "_Requirements":
        """Feature requirements, then the kind's, the traits', the constraints', brownfield."""
        reqs = _Requirements()
        for index, feature in enumerate(features):
            text = self.fill(self.kind.feature_requirement, feature_title=feature.title)
            reqs.feature_keys.append(reqs.add(text, "must" if index < 3 else "should", "features"))
        for requirement in self.kind.requirements:
            reqs.add(self.fill(requirement.text), requirement.priority, requirement.tag)

        # A constraint that a trait recognises is quoted in that trait's requirement rather
        # than repeated as a requirement of its own.
        constraints = _unique(c.strip() for c in self.mission.constraints if c.strip())
        quoted: dict[str, list[str]] = {}
        standalone: list[str] = []
        for constraint in constraints:
            owner = next(
                (t.key for t, _ in self.traits if _TRAIT_BY_KEY[t.key][1].search(constraint)),
                None,
            )
            if owner:
                quoted.setdefault(owner, []).append(constraint)
            else:
                standalone.append(constraint)
        for trait, matched in self.traits:
            text = self.fill(trait.requirement, match=_clip(matched, 60))
            if trait.key in quoted:
                quotes = "; ".join(f"“{c.rstrip('.')}”" for c in quoted[trait.key])
                text += f" From the constraints: {quotes}."
            reqs.trait_keys[trait.key] = reqs.add(text, trait.priority, "constraints")
        for constraint in standalone[:MAX_CONSTRAINT_REQUIREMENTS]:
            reqs.add(f"Constraint: {constraint}", "must", "constraints")
        if len(standalone) > MAX_CONSTRAINT_REQUIREMENTS:
            rest = "; ".join(standalone[MAX_CONSTRAINT_REQUIREMENTS:])
            reqs.add(f"Further constraints: {rest}", "must", "constraints")
        if self.brownfield:
            reqs.brownfield_key = reqs.add(
                self.fill(
                    "Fits {host}: follows its conventions, and its existing behaviour keeps "
                    "working (its test suite stays green)."
                ),
                "must",
                "constraints",
            )
        return reqs

    def _extra_tasks(self, reqs: "_Requirements") -> list[tuple[TaskTemplate, str]]:
        """The survey (brownfield) and trait tasks, each with the requirement it serves."""
        kind = self.kind
        extra: list[tuple[TaskTemplate, str]] = []
        if reqs.brownfield_key and not kind.surveys_existing:
            extra.append((_SURVEY, reqs.brownfield_key))
        base_roles = {task.role for task in kind.tasks}
        known_keys = {task.key for task in kind.tasks}
        for trait, _ in self.traits:
            if trait.task is None:
                continue
            roles_in_plan = base_roles | {kind.feature_role}
            role = next((r for r in trait.task_roles if r in roles_in_plan), trait.task_roles[0])
            if trait.task.key in known_keys or (trait.skip_if_role and role in base_roles):
                reqs.role_traces.setdefault(role, []).append(reqs.trait_keys[trait.key])
                continue
            extra.append((_with_role(trait.task, role), reqs.trait_keys[trait.key]))
            known_keys.add(trait.task.key)
        return extra

    def _task(self, template: TaskTemplate, deps: Sequence[str], traces: Sequence[str]) -> PlanTask:
        return PlanTask(
            key=template.key,
            title=_clip(self.fill(template.title), SHORT_MAX_CHARS),
            description=_clip(self.fill(template.description), LONG_MAX_CHARS),
            role=template.role,
            depends_on=_unique(deps),
            expected_artifacts=[_clip(self.fill(a), SHORT_MAX_CHARS) for a in template.artifacts],
            acceptance=[_clip(self.fill(a), SHORT_MAX_CHARS) for a in template.acceptance]
            or [_clip(f"{self.fill(template.title)} is done and reviewed", SHORT_MAX_CHARS)],
            risk_tier=template.risk_tier,
            estimate_tokens=template.estimate_tokens,
            traces=_unique(traces),
        )

    def _feature_tasks(
        self,
        features: Sequence[Feature],
        requirement_keys: Sequence[str],
        slots: int,
        taken: set[str],
    ) -> list[_FeatureTask]:
        if not features:
            return []
        slots = max(slots, 1)
        groups: list[tuple[Feature, ...]] = [(f,) for f in features[: slots - 1]]
        groups.append(tuple(features[slots - 1 :]) if len(features) >= slots else ())
        groups = [g for g in groups if g]
        result: list[_FeatureTask] = []
        offset = 0
        used = set(taken)
        for group in groups:
            keys = tuple(requirement_keys[offset : offset + len(group)])
            offset += len(group)
            if len(group) == 1:
                key = _unique_key(_slug(group[0].title), used)
                role = self._feature_role(group[0])
            else:
                key = _unique_key("remaining-features", used)
                role = self.kind.feature_role
            used.add(key)
            result.append(_FeatureTask(key, role, group, keys))
        return result

    def _feature_role(self, feature: Feature) -> SpecialistRole:
        for role, pattern in _ROLE_PATTERNS:
            if pattern.search(feature.text):
                return role if role in self.kind.feature_roles else self.kind.feature_role
        return self.kind.feature_role

    def _feature_task(self, ft: _FeatureTask) -> PlanTask:
        kind = self.kind
        design_deps = list(kind.feature_deps or (kind.design_key,))
        if len(ft.features) == 1:
            feature = ft.features[0]
            if feature.action:
                title = feature.title
            elif ft.role == kind.feature_role:
                title = self.fill(
                    kind.feature_title, feature=feature.text, the_feature=with_the(feature.text)
                )
            else:
                title = ROLE_FEATURE_TITLES[ft.role].format(
                    feature=feature.text, the_feature=with_the(feature.text)
                )
            title = _capitalise(title)
            extra = {"feature": feature.name, **self._feature_names(ft.key)}
            description = self.fill(kind.feature_description, **extra)
            acceptance = [self.fill(a, **extra) for a in kind.feature_acceptance]
            artifacts = [self.fill(a, **extra) for a in kind.feature_artifacts]
            tokens = kind.feature_tokens
        else:
            names = _join([f.name for f in ft.features])
            title = f"Build the remaining features: {names}"
            extra = {"feature": names, **self._feature_names(ft.key)}
            description = (
                self.fill(kind.feature_description, **extra)
                + " Split this task once the first features have shipped."
            )
            acceptance = [
                self.fill(a, feature=f.name, **self._feature_names(ft.key))
                for f in ft.features
                for a in kind.feature_acceptance[:1]
            ]
            artifacts = [self.fill(a, **extra) for a in kind.feature_artifacts]
            tokens = min(kind.feature_tokens * len(ft.features), 400_000)
        return PlanTask(
            key=ft.key,
            title=_clip(title, SHORT_MAX_CHARS),
            description=_clip(description, LONG_MAX_CHARS),
            role=ft.role,
            depends_on=design_deps,
            expected_artifacts=[_clip(a, SHORT_MAX_CHARS) for a in artifacts],
            acceptance=[_clip(a, SHORT_MAX_CHARS) for a in acceptance],
            risk_tier="write",
            estimate_tokens=tokens,
            traces=list(ft.requirement_keys),
        )

    def _feature_names(self, key: str) -> dict[str, str]:
        """A feature task's key as ``{slug}`` and ``{slug_}``, and the files named after it."""
        return {"slug": key, "slug_": key.replace("-", "_"), **self.stack.feature_files(key)}

    def _order(
        self,
        tasks: list[PlanTask],
        extra: Sequence[tuple[TaskTemplate, str]],
        feature_keys: Sequence[str],
    ) -> list[PlanTask]:
        """Order tasks as a reader expects: phase by phase.

        The survey comes first; feature and trait tasks go where the kind's phases put
        :data:`FEATURES`.
        """
        by_key = {task.key: task for task in tasks}
        order: list[str] = []
        if any(t is _SURVEY for t, _ in extra):
            order.append(_SURVEY.key)
        trait_keys = [t.key for t, _ in extra if t is not _SURVEY]
        for phase in self.kind.phases:
            for key in phase.task_keys:
                if key == FEATURES:
                    order.extend(feature_keys)
                    order.extend(trait_keys)
                    trait_keys = []
                else:
                    order.append(key)
        order.extend(trait_keys)
        order.extend(task.key for task in tasks)
        return [by_key[key] for key in _unique(order) if key in by_key]

    def _trace_leftovers(self, tasks: list[PlanTask], reqs: "_Requirements") -> list[PlanTask]:
        """Make every requirement traced.

        Untraced constraint requirements go to the design task, anything else left to the
        verification task.
        """
        traced = {key for task in tasks for key in task.traces}
        design_extra = [key for key in reqs.tags.get("constraints", []) if key not in traced]
        leftovers = [r.key for r in reqs.requirements if r.key not in traced]
        result: list[PlanTask] = []
        for task in tasks:
            add: list[str] = []
            if task.key == self.kind.design_key:
                add = design_extra
            if task.key == self.kind.verify_key:
                add = [*add, *leftovers]
            if add:
                task = task.model_copy(update={"traces": _unique([*task.traces, *add])})
            result.append(task)
        return result

    def _phases(
        self, feature_keys: Sequence[str], survey_key: str | None, trait_task_keys: Sequence[str]
    ) -> list[PlanPhase]:
        phases: list[PlanPhase] = []
        for index, phase in enumerate(self.kind.phases):
            keys: list[str] = []
            if index == 0 and survey_key:
                keys.append(survey_key)
            for key in phase.task_keys:
                if key == FEATURES:
                    keys.extend(feature_keys)
                    keys.extend(trait_task_keys)
                else:
                    keys.append(key)
            if keys:
                phases.append(
                    PlanPhase(
                        key=phase.key,
                        name=_clip(self.fill(phase.name), SHORT_MAX_CHARS),
                        goal=_clip(self.fill(phase.goal), LONG_MAX_CHARS),
                        task_keys=keys,
                    )
                )
        return phases

    def _risks(self) -> list[PlanRisk]:
        templates: list[tuple[RiskTemplate, str]] = [(r, "") for r in self.kind.risks]
        templates.extend((t.risk, m) for t, m in self.traits if t.risk is not None)
        if self.brownfield:
            templates.append((_REGRESSION_RISK, ""))
        risks = [
            PlanRisk(
                title=_clip(self.fill(r.title, match=m), SHORT_MAX_CHARS),
                description=_clip(self.fill(r.description, match=_clip(m, 60)), LONG_MAX_CHARS),
                severity=r.severity,
                likelihood=r.likelihood,
                mitigation=_clip(self.fill(r.mitigation, match=m), LONG_MAX_CHARS),
            )
            for r, m in templates
        ]
        return _unique_by(risks, lambda r: r.title)[:30]

    def _decisions(self) -> list[PlanDecision]:
        decisions = [self._decision(d) for d in self.kind.decisions]
        decisions.append(
            PlanDecision(
                title="Architecture",
                choice=_clip(
                    "; ".join(self.fill(c) for c in self.kind.architecture) + ".", LONG_MAX_CHARS
                ),
                reasons=[_clip(self.fill(self.kind.approach), SHORT_MAX_CHARS)],
                trade_offs=["Revisited in the design task once the team has looked at the details"],
                alternatives=[],
            )
        )
        decisions.extend(self._decision(t.decision) for t, _ in self.traits if t.decision)
        return _unique_by(decisions, lambda d: d.title)[:30]

    def _decision(self, template: DecisionTemplate) -> PlanDecision:
        reasons = [self.fill(r) for r in template.reasons]
        alternatives = [self.fill(a) for a in template.alternatives]
        if template.slot:
            # A road not taken never names the technology chosen, named or by default.
            alternatives = _without_technology(alternatives, self.values[template.slot])
        if template.slot and template.slot in self.named_slots:
            named = self.named_slots[template.slot]
            reasons.insert(0, f"{named} is named in the mission, so it is a given, not a choice")
        elif template.slot and template.slot in self.stack.reasons:
            reasons.insert(0, self.stack.reasons[template.slot])
        elif template.slot:
            reasons.append(
                f"Planner default for {with_article(self.kind.label)}; the mission names no "
                "alternative"
            )
        return PlanDecision(
            title=_clip(self.fill(template.title), SHORT_MAX_CHARS),
            choice=_clip(self.fill(template.choice), LONG_MAX_CHARS),
            reasons=[_clip(r, SHORT_MAX_CHARS) for r in reasons] or ["Fits the mission"],
            trade_offs=[_clip(self.fill(t), SHORT_MAX_CHARS) for t in template.trade_offs],
            alternatives=[_clip(a, SHORT_MAX_CHARS) for a in alternatives],
        )

    def _next_steps(self) -> list[PlanNextStep]:
        steps = [PlanNextStep(text=self.fill(s), priority="high") for s in self.kind.next_steps]
        for trait, matched in self.traits:
            if trait.next_step:
                text = self.fill(trait.next_step, match=_clip(matched, 60))
                steps.append(PlanNextStep(text=text, priority="high"))
        steps.append(
            PlanNextStep(
                text=(
                    "Review and approve this plan. It comes from the local planner (rules, no "
                    "model); configure an LLM for a plan written from the full mission context."
                ),
                priority="medium",
            )
        )
        return _unique_by(steps, lambda s: s.text)[:30]

    def _summary(
        self,
        requirements: Sequence[PlanRequirement],
        tasks: Sequence[PlanTask],
        phases: Sequence[PlanPhase],
    ) -> str:
        kind = self.kind
        roles = _unique([task.role for task in tasks])
        features = [f.name for f in self.goal.features]
        parts = [
            f"Local planner (rule-based, no model): this mission reads as "
            f"{with_article(kind.label)} — "
            f"{self.goal.subject}" + (f" in the {self.goal.host}" if self.goal.host else "") + ".",
            self.fill(kind.approach),
            f"The plan has {len(requirements)} requirements and {len(tasks)} tasks for "
            f"{_join(roles)}, in {len(phases)} phases: {_join([p.name for p in phases])}.",
        ]
        if features:
            parts.append(
                f"Each feature of the goal — {_join(features)} — has its own requirement and task."
            )
        parts.append(f"Stack: {self.values['stack']}.")
        if self.all_traits:
            parts.append(
                "Constraints that shape the plan: "
                + _join([_clip(m, 60) for _, m in self.all_traits])
                + "."
            )
        parts.append("Architecture: " + "; ".join(self.fill(c) for c in kind.architecture) + ".")
        shape = ", ".join(self.fill(path) for path in kind.project_shape)
        parts.append(f"Suggested project shape: {shape}.")
        return _clip(" ".join(parts), LONG_MAX_CHARS)


class _Requirements:
    """The requirements of a plan being built, and the tags that name them in traces."""

    def __init__(self) -> None:
        self.requirements: list[PlanRequirement] = []
        self.tags: dict[str, list[str]] = {"features": [], "constraints": []}
        self.feature_keys: list[str] = []
        self.trait_keys: dict[str, str] = {}
        self.role_traces: dict[str, list[str]] = {}
        self.brownfield_key: str | None = None

    def add(self, text: str, priority: Priority, *tags: str) -> str:
        key = f"R{len(self.requirements) + 1}"
        self.requirements.append(
            PlanRequirement(key=key, text=_clip(text, LONG_MAX_CHARS), priority=priority)
        )
        for tag in tags:
            self.tags.setdefault(tag, []).append(key)
        return key


_SURVEY = TaskTemplate(
    key="codebase-survey",
    role="architect",
    title="Survey {host}",
    description=(
        "Map the parts of {host} the work touches: modules, data, tests, deployment and "
        "owners; note the conventions the {subject} must follow and the tests that guard "
        "existing behaviour."
    ),
    artifacts=("codebase-map.md",),
    acceptance=(
        "Every module of {host} the {subject} touches is listed with its tests and owner",
        "The conventions to follow are written down",
    ),
    risk_tier="read",
    estimate_tokens=18_000,
)

_REGRESSION_RISK = RiskTemplate(
    "Regressions in {host}",
    "Changes for the {subject} break existing behaviour of {host}.",
    "high",
    "medium",
    "Survey first, run the existing test suite on every change, and ship behind a flag.",
)


def _with_role(template: TaskTemplate, role: SpecialistRole) -> TaskTemplate:
    return TaskTemplate(
        key=template.key,
        role=role,
        title=template.title,
        description=template.description,
        depends_on=template.depends_on,
        artifacts=template.artifacts,
        acceptance=template.acceptance,
        risk_tier=template.risk_tier,
        estimate_tokens=template.estimate_tokens,
        traces=template.traces,
    )


def _detect_technologies(text: str) -> list[_DetectedTech]:
    found: list[tuple[int, _DetectedTech]] = []
    for tech, pattern in _TECH_PATTERNS:
        for m in pattern.finditer(text):
            version = m.groupdict().get("version")
            name = f"{tech.name} {version}" if version else tech.name
            found.append((m.start(), _DetectedTech(name=name, base=tech.name, slot=tech.slot)))
    found.sort(key=lambda item: item[0])
    seen: set[str] = set()
    result: list[_DetectedTech] = []
    for _, detected in found:
        if detected.name not in seen:
            seen.add(detected.name)
            result.append(detected)
    # A bare name repeated with a version elsewhere ("PostgreSQL" and "PostgreSQL 16") is
    # the same technology: keep the versioned spelling.
    versioned = {t.base for t in result if t.name != t.base}
    return [t for t in result if not (t.name == t.base and t.base in versioned)]


def _split_clauses(text: str) -> list[str]:
    clauses: list[str] = []
    for part in _CLAUSE_SPLIT.split(text):
        clause = part.strip(" .,;:!?\"'()[]")
        while True:
            stripped = _strip_articles(_LEADING_CONNECTOR.sub("", clause)).strip()
            if stripped == clause:
                break
            clause = stripped
        if clause:
            clauses.append(clause)
    return clauses


def _features(clauses: Iterable[str], subject: str) -> tuple[Feature, ...]:
    raw: list[str] = []
    for clause in clauses:
        text = _normalise(clause)
        if len(text) < 2 or _DROPPED_CLAUSE.search(text) or text.lower() == subject.lower():
            continue
        raw.append(text)

    # "backs up" + "restores a database" → one clause: a two-word verb phrase joins the next.
    merged: list[list[str]] = []
    for text in raw:
        if merged and _is_action(text) and _is_bare_verb(merged[-1][-1]):
            merged[-1].append(text)
        else:
            merged.append([text])

    features: list[Feature] = []
    seen: set[str] = set()
    techs_only: list[Feature] = []
    tech_names = {t.name.lower() for t in TECHNOLOGIES}
    for parts in merged:
        text = _clip(" and ".join(parts), FEATURE_MAX_CHARS)
        action = _is_action(parts[0])
        title = (
            _capitalise(_clip(" and ".join(_imperative(p) for p in parts), FEATURE_MAX_CHARS))
            if action
            else _capitalise(text)
        )
        if text.lower() in seen:
            continue
        seen.add(text.lower())
        feature = Feature(text=text, title=title, action=action)
        if text.lower() in tech_names:
            techs_only.append(feature)  # "WebSockets": a stack choice, not a feature
        else:
            features.append(feature)
    if not features:
        features = techs_only
    return tuple(features[:MAX_FEATURES])


def _is_action(text: str) -> bool:
    words = text.split()
    return len(words) >= 2 and words[0].lower() in THIRD_PERSON_VERBS


def _is_bare_verb(text: str) -> bool:
    """A verb with at most a particle and no object: "backs up", "syncs"."""
    words = text.lower().split()
    return (
        bool(words)
        and words[0] in THIRD_PERSON_VERBS
        and all(word in _PARTICLES for word in words[1:])
    )


def _imperative(text: str) -> str:
    first, _, rest = text.partition(" ")
    base = THIRD_PERSON_VERBS.get(first.lower())
    return f"{base} {rest}".strip() if base else text


def _normalise(text: str) -> str:
    return " ".join(text.split())


def _strip_articles(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = _ARTICLE.sub("", text)
    return text


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _clip(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis."""
    text = _normalise(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"


_join = join_words


def _without_technology(texts: Sequence[str], technology: str) -> list[str]:
    """``texts`` without those that name ``technology`` ("Kotlin (Jetpack Compose)").

    A text names it when it holds the technology's words whole, or a known technology that
    those words name too ("Rails" for "Ruby on Rails 7", "Postgres" for "PostgreSQL 16").
    """
    whole = re.compile(rf"(?<![\w+#.-]){re.escape(technology)}(?![\w+#-])", _FLAGS)
    known = [pattern for _, pattern in _TECH_PATTERNS if pattern.search(technology)]
    return [
        text
        for text in texts
        if not whole.search(text) and not any(pattern.search(text) for pattern in known)
    ]


def _slug(text: str) -> str:
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _SLUG_STOPWORDS][:5]
    slug = "-".join(words)[:40].rstrip("-") or "feature"
    if not slug[0].isalpha():
        slug = f"f-{slug}"
    return slug


def _unique_key(key: str, taken: set[str]) -> str:
    if key not in taken:
        return key
    n = 2
    while f"{key}-{n}" in taken:
        n += 1
    return f"{key}-{n}"


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _unique_by(items: Iterable[T], key: Callable[[T], str]) -> list[T]:
    seen: set[str] = set()
    result: list[T] = []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            result.append(item)
    return result
