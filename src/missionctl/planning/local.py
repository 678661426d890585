"""The local planner: a deterministic, goal-aware plan without any model.

Used when no LLM is configured, and as the reference the LLM planner's output is compared
with. It does no I/O: the same :class:`~missionctl.planning.base.PlanningInput` always gives
the same :class:`~missionctl.schemas.plans.PlanDraft`.

How a plan is made (kind and template values: :mod:`~missionctl.planning.local_context`;
the assembly is here):

1. **Kind.** Keyword patterns of every :class:`~missionctl.planning.kinds.Kind` are scored
   over the goal and title (double weight, with the existing component the goal's host
   system is) and the constraints and repository context; the best kind wins, or the
   generic kind when nothing scores enough.
2. **Reading.** The mission is read once by :func:`missionctl.reading.read_goal`: its subject
   ("URL shortener") and what the goal says it is ("as a live dashboard"), any existing host
   system ("Django monolith"), its features ("click analytics", "custom aliases"; verb
   clauses titled as imperatives, "Convert CSV files to Parquet"), the technologies it names
   and the plan-changing signals it states. Work on an existing system (a brownfield
   reading) plans the kind without its ``greenfield_only`` tasks: no scaffold, first
   contract or project built again; its tasks take their ``brownfield_title``, a named
   feature is added to the host ("Add the audit log export to the invoicing portal"), and
   the summary follows the host's layout instead of suggesting a project shape.
3. **Signals.** Named technologies ("PostgreSQL 16", "Redis", "React Native") fill the
   kind's technology slots and decisions; traits (what the planner does with a signal: "no
   downtime", "offline", "HIPAA", a deadline, a budget) add requirements, risks, decisions
   and sometimes tasks.
4. **Assembly.** One requirement and one task per feature (bundling the surplus so the plan
   keeps 6 to 14 tasks), the kind's own tasks, requirements, risks, decisions, phases and
   next steps, every template filled in, every requirement traced by at least one task.
   The result is checked with :func:`missionctl.domain.plans.validate_plan`.
5. **Names.** A feature task is named after its feature's head noun, never the user's whole
   phrase (:func:`missionctl.planning.naming.short_name`: "syncs two S3 buckets
   incrementally" → ``s3-bucket-sync``), and its files are that name in the stack's
   convention (``src/s3_bucket_sync.rs``, ``S3BucketSyncTest.kt``); keys stay unique.
"""

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from missionctl.domain.english import join_words, with_article, with_the
from missionctl.domain.plans import ensure_valid_plan
from missionctl.domain.similarity import near_duplicates
from missionctl.llm.protocol import LLMUsage
from missionctl.planning import clarity
from missionctl.planning.base import LOCAL_SOURCE, PlannerResult, PlanningInput
from missionctl.planning.kinds import (
    FEATURES,
    DecisionTemplate,
    Kind,
    RiskTemplate,
    TaskTemplate,
)
from missionctl.planning.local_context import (
    KindMatch,
    MissionContext,
    detect_kind,
    word_pattern,
)
from missionctl.planning.naming import short_name
from missionctl.planning.recall import recall
from missionctl.planning.signals import FEATURE_ROLE_HINTS, ROLE_FEATURE_TITLES
from missionctl.reading import (
    Feature,
    GoalReading,
    capitalise,
    clip,
    find_technologies,
    let_title,
    read_goal,
)
from missionctl.schemas.plans import (
    PlanDecision,
    PlanDraft,
    PlanNextStep,
    PlanPhase,
    PlanRequirement,
    PlanRisk,
    PlanTask,
    Priority,
    RequirementKind,
    SpecialistRole,
)

T = TypeVar("T")

__all__ = [
    "LOCAL_PLANNER_VERSION",
    "MAX_PLAN_TASKS",
    "MIN_PLAN_TASKS",
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

BOUNDS = "bounds"
"""The tag of the requirements that quote a constraint of the mission no trait plans for:
every task that builds or checks the product traces them."""

MAX_CONSTRAINT_REQUIREMENTS = 10
MAX_QUALIFIED_FEATURES = 2
"""Features that each get the kind's requirement sentence; with more, it is said once of all."""
SHORT_MAX_CHARS = 300
LONG_MAX_CHARS = 4000

_ROLE_PATTERNS: tuple[tuple[SpecialistRole, re.Pattern[str]], ...] = tuple(
    (role, word_pattern(f"(?:{pattern})")) for role, pattern in FEATURE_ROLE_HINTS
)


@dataclass(frozen=True, slots=True)
class _FeatureTask:
    key: str
    role: SpecialistRole
    features: tuple[Feature, ...]
    requirement_keys: tuple[str, ...]


def detect_technologies(text: str) -> list[str]:
    """Return the technologies named in ``text`` with their versions, in order of appearance.

    >>> detect_technologies("Migrate PostgreSQL 11 to PostgreSQL 16 behind Redis")
    ['PostgreSQL 11', 'PostgreSQL 16', 'Redis']
    """
    return [tech.name for tech in find_technologies(text)]


def analyse_goal(goal: str, *, title: str = "") -> GoalReading:
    """The reading of a goal alone (see :func:`missionctl.reading.read_goal`)."""
    return read_goal(goal=goal, title=title)


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
        """Plan ``mission`` synchronously (see :func:`build_local_plan`), answers included."""
        return build_local_plan(clarity.readable(mission))

    async def plan(self, mission: PlanningInput) -> PlannerResult:
        """Plan ``mission``; never calls a model.

        Returns:
            ``source="local"``, zero usage, one attempt, ``prompt_version="local/1"``.

        Raises:
            ClarificationNeeded: the goal is not in English or names nothing to plan, and the
                answers do not make up for it (:mod:`missionctl.planning.clarity`).
        """
        clarity.check(mission)
        # What similar finished missions decided and risked (mission memory, ADR 0055).
        draft, notes = recall(self.draft(mission), mission)
        return PlannerResult(
            draft=draft,
            source=LOCAL_SOURCE,
            usage=LLMUsage(),
            attempts=1,
            prompt_version=LOCAL_PLANNER_VERSION,
            notes=notes,
        )


class _Builder(MissionContext):
    """Assembles one plan; holds the state of a single :func:`build_local_plan` call."""

    # -- assembly --

    def build(self) -> PlanDraft:
        kind = self.kind
        features = self._features()
        reqs = self._requirements(features)

        # Tasks: the kind's own, a survey for brownfield work, trait tasks, feature tasks.
        extra = self._extra_tasks(reqs)
        taken = {task.key for task in kind.tasks} | {template.key for template, _ in extra}
        slots = MAX_PLAN_TASKS - len(kind.tasks) - len(extra)
        feature_tasks = self._feature_tasks(features, reqs.feature_keys, slots, taken)
        if reqs.shared_feature_key:
            shared = (reqs.shared_feature_key,)
            feature_tasks = [
                replace(ft, requirement_keys=ft.requirement_keys + shared) for ft in feature_tasks
            ]
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
        if (role := self._target_role()) and role != kind.feature_role:
            tasks = [
                t.model_copy(update={"role": role}) if t.role == kind.feature_role else t
                for t in tasks
            ]
        tasks = self._trace_leftovers(tasks, reqs, feature_task_keys)
        phases = self._phases(feature_task_keys, survey_key, trait_task_keys)
        draft = PlanDraft(
            summary=self._summary(reqs.requirements, tasks, phases),
            requirements=reqs.requirements,
            phases=phases,
            tasks=tasks,
            risks=self._risks(tasks, reqs),
            decisions=self._decisions(),
            next_steps=self._next_steps(),
        )
        ensure_valid_plan(draft)
        return draft

    def _features(self) -> list[Feature]:
        """The features to plan, in order.

        What the goal describes the subject as ("Mission Control as a live orchestration
        dashboard") comes first, then the goal's features; when the goal names neither, the
        subject itself is the one feature to build (if the kind needs one).
        """
        features = list(self.reading.features)
        descriptor = self.reading.descriptor
        if descriptor and all(f.text.lower() != descriptor.lower() for f in features):
            features.insert(0, Feature.noun(with_the(descriptor)))
        if not features and (activity := self._activity()):
            features = [Feature.noun(activity)]
        if not features and self.kind.needs_feature_task:
            features = [Feature.noun(with_the(self.reading.subject_phrase))]
        return features

    def _activity(self) -> str | None:
        """The work the subject is for, when the goal names no feature, or ``None``.

        "A Flask app for a clinic's appointment booking" does one thing, the booking: the
        purpose is the feature when it names an activity (two words or more ending in
        "-ing"), and the app is where it is delivered.
        """
        purpose = self.reading.purpose
        if self.reading.features or self.reading.descriptor or not purpose:
            return None
        words = purpose.split()
        return purpose if len(words) > 1 and words[-1].lower().endswith("ing") else None

    def _feature_home(self) -> dict[str, str]:
        """Where the features are delivered, when that is not the subject.

        With no feature named (nor a descriptor), the subject is the one feature: it is
        delivered in the system it goes into ("Add a CSV export to the billing screen"), not in
        itself.
        """
        if self.reading.features or self.reading.descriptor or self._activity():
            return {}
        return {"subject": self.reading.host or "product"}

    def _requirements(self, features: Sequence[Feature]) -> "_Requirements":
        """Feature requirements, then the kind's, the traits', the constraints', brownfield."""
        reqs = _Requirements()
        self._feature_requirements(features, reqs)
        for requirement in self.kind.requirements:
            reqs.add(self.fill(requirement.text), requirement.priority, requirement.tag)

        # A constraint that a trait recognises is quoted in that trait's requirement rather
        # than repeated as a requirement of its own.
        quoted: dict[str, list[tuple[str, bool]]] = {}
        standalone: list[str] = []
        # The reading lists the mission's own constraints first, then the goal's clauses.
        own = len({c.strip() for c in self.mission.constraints if c.strip()})
        for index, constraint in enumerate(self.reading.constraints):
            owner = next((t.key for t, found in self.traits if index in found.constraints), None)
            if self._said_by_kind(index, constraint):
                continue
            if owner:
                quoted.setdefault(owner, []).append((constraint, index < own))
            else:
                standalone.append(constraint)
        for trait, found in self.traits:
            text = self.fill(trait.requirement, match=clip(found.value, 60))
            for where, given in (("the constraints", True), ("the goal", False)):
                quotes = "; ".join(
                    f"“{c.rstrip('.')}”"
                    for c, stated in quoted.get(trait.key, ())
                    if stated is given
                )
                text += f" From {where}: {quotes}." if quotes else ""
            reqs.trait_keys[trait.key] = reqs.add(text, trait.priority, "constraints")
        for constraint in standalone[:MAX_CONSTRAINT_REQUIREMENTS]:
            reqs.add(self._constraint_text(constraint), "must", "constraints", BOUNDS)
        if len(standalone) > MAX_CONSTRAINT_REQUIREMENTS:
            rest = "; ".join(standalone[MAX_CONSTRAINT_REQUIREMENTS:])
            reqs.add(f"Further constraints: {rest}", "must", "constraints", BOUNDS)
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

    def _constraint_text(self, constraint: str) -> str:
        """The requirement of a constraint no trait quotes.

        A constraint of the mission is labelled ("Constraint: Must be written in Go"); a clause
        of the goal that bounds the product ("Uses Okta", "deployed with Helm on Kubernetes")
        is already a sentence about it, and reads as one ("Uses Okta.").
        """
        if constraint in self.mission.constraints:
            return f"Constraint: {constraint}"
        return f"{capitalise(constraint.rstrip('.'))}."

    def _said_by_kind(self, index: int, constraint: str) -> bool:
        """Whether a constraint clause of the goal is what a requirement of the kind says.

        "with under five minutes of downtime" in a migration's goal is its kind's downtime
        requirement ("Downtime within the budget: under five minutes"), not one more.
        """
        if constraint in self.mission.constraints:
            return False
        own = {t.key for t, _ in self.all_traits} - {t.key for t, _ in self.traits}
        return any(t.key in own and index in found.constraints for t, found in self.all_traits)

    def _feature_requirements(self, features: Sequence[Feature], reqs: "_Requirements") -> None:
        """One requirement per feature, and the kind's qualities said once for all of them.

        Up to :data:`MAX_QUALIFIED_FEATURES` features each read as the kind's sentence ("Click
        analytics: shown in the cockpit with a written definition, …"). With more, that
        sentence would repeat word for word down the list: each feature is then stated as the
        user named it, and the sentence is said once of them all ("Every feature: exposed by
        the REST API for a veterinary clinic … covered by contract tests"), traced by every
        feature task. The features are not listed in it again: a long list would be clipped,
        and the subject, which carries the user's names and figures, comes last.
        """
        within = self._feature_home()
        alone = bool(within) and not self.reading.host and self.kind.feature_requirement_alone
        template = self.kind.feature_requirement_alone if alone else self.kind.feature_requirement
        shared = len(features) > MAX_QUALIFIED_FEATURES
        for index, feature in enumerate(features):
            if shared:
                text = f"{feature.title.rstrip('.')}."
            else:
                users = (feature.doers or self.kind.feature_users).lower()
                text = self.fill(
                    template, feature_title=feature.title, feature_users=users, **within
                )
            reqs.feature_keys.append(reqs.add(text, "must" if index < 3 else "should", "features"))
        if shared:
            users = self.kind.feature_users
            text = self.fill(template, feature_title="Every feature", feature_users=users, **within)
            reqs.shared_feature_key = reqs.add(text, "must", "features", kind="quality")

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
            title=clip(self.fill(template.title), SHORT_MAX_CHARS),
            description=clip(self.fill(template.description), LONG_MAX_CHARS),
            role=template.role,
            depends_on=_unique(deps),
            expected_artifacts=[clip(self.fill(a), SHORT_MAX_CHARS) for a in template.artifacts],
            acceptance=[clip(self.fill(a), SHORT_MAX_CHARS) for a in template.acceptance]
            or [clip(f"{self.fill(template.title)} is done and reviewed", SHORT_MAX_CHARS)],
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
                # "Stripe payments" is named after the payments; Stripe is a stack choice.
                words = group[0].phrase if group[0].technology else group[0].text
                name = short_name(words, action=group[0].action)
                key = _unique_key(name, used)
                role = self._feature_role(group[0])
            else:
                key = _unique_key("remaining-features", used)
                role = self.kind.feature_role
            used.add(key)
            result.append(_FeatureTask(key, role, group, keys))
        return result

    def _target_role(self) -> SpecialistRole | None:
        """Who does the kind's feature-role work where it moves to (``Kind.target_roles``)."""
        if not self.kind.target_roles:
            return None
        target = self.values.get("target", "").lower()
        moved_to = [t for t in self.techs if t.name.lower() in target]
        return next(
            (
                self.kind.target_roles[t.category]
                for t in moved_to
                if t.category in self.kind.target_roles
            ),
            None,
        )

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
            named = _provided_name(feature)
            if feature.action:
                title = feature.title
            elif feature.doers:
                title = let_title(feature)  # "Let members reserve beds by date"
            elif self.brownfield and self.reading.host and self.reading.features:
                # A feature named for a change is added to the system it goes into.
                title = self.fill(_BROWNFIELD_FEATURE_TITLE, the_feature=with_the(feature.text))
            elif ft.role == kind.feature_role:
                title = self.fill(kind.feature_title, feature=named, the_feature=with_the(named))
            else:
                title = ROLE_FEATURE_TITLES[ft.role].format(
                    feature=named, the_feature=with_the(named)
                )
            title = capitalise(title)
            extra = {"feature": feature.name, **self._feature_names(ft.key), **self._feature_home()}
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
            title=clip(title, SHORT_MAX_CHARS),
            description=clip(description, LONG_MAX_CHARS),
            role=ft.role,
            depends_on=design_deps,
            expected_artifacts=[clip(a, SHORT_MAX_CHARS) for a in artifacts],
            acceptance=[clip(a, SHORT_MAX_CHARS) for a in acceptance],
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

    def _trace_leftovers(
        self, tasks: list[PlanTask], reqs: "_Requirements", feature_task_keys: Sequence[str]
    ) -> list[PlanTask]:
        """Make every requirement traced.

        A constraint of the mission that no trait plans for (:data:`BOUNDS`) binds all the
        work: the design task, every feature task and the verification task trace it, so each
        task's pack lists it and the verification checks it. Anything else left goes to the
        verification task.
        """
        traced = {key for task in tasks for key in task.traces}
        bounds = reqs.tags.get(BOUNDS, [])
        leftovers = [r.key for r in reqs.requirements if r.key not in traced]
        honour = {self.kind.design_key, *feature_task_keys, self.kind.verify_key}
        result: list[PlanTask] = []
        for task in tasks:
            add: list[str] = []
            if task.key in honour:
                add = bounds
            if task.key == self.kind.verify_key:
                add = [*add, *leftovers]
            add = [key for key in add if key not in task.traces]
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
                        name=clip(self.fill(phase.name), SHORT_MAX_CHARS),
                        goal=clip(self.fill(phase.goal), LONG_MAX_CHARS),
                        task_keys=keys,
                    )
                )
        return phases

    def _risks(self, tasks: Sequence[PlanTask], reqs: "_Requirements") -> list[PlanRisk]:
        """The kind's risks, the traits' and, for an existing system, regressions.

        Each is linked to the plan's tasks that carry out its mitigation, and owned by the
        first one's role. A kind's risk names its tasks (``mitigated_by``; a task the plan
        lacks is left out); a trait's is mitigated by the tasks tracing the trait's
        requirement; regressions by the survey and the verification.
        """
        kind = self.kind
        templates: list[tuple[RiskTemplate, str, tuple[str, ...]]] = [
            (r, "", r.mitigated_by) for r in kind.risks
        ]
        for trait, found in self.traits:
            if trait.risk is not None:
                requirement = reqs.trait_keys[trait.key]
                tracing = [t for t in tasks if requirement in t.traces]
                # The trait's own roles first (a privacy review before the architecture).
                rank = {role: n for n, role in enumerate(trait.task_roles)}
                tracing.sort(key=lambda t: rank.get(t.role, len(rank)))
                templates.append((trait.risk, found.value, tuple(t.key for t in tracing[:2])))
        if self.brownfield:
            templates.append((_REGRESSION_RISK, "", (_SURVEY.key, kind.verify_key)))
        roles = {task.key: task.role for task in tasks}
        risks = []
        for r, m, mitigated_by in templates:
            carriers = [key for key in _unique(mitigated_by) if key in roles]
            risks.append(
                PlanRisk(
                    title=clip(self.fill(r.title, match=m), SHORT_MAX_CHARS),
                    description=clip(self.fill(r.description, match=clip(m, 60)), LONG_MAX_CHARS),
                    severity=r.severity,
                    likelihood=r.likelihood,
                    mitigation=clip(self.fill(r.mitigation, match=m), LONG_MAX_CHARS),
                    mitigation_tasks=carriers,
                    owner=roles[carriers[0]] if carriers else "",
                )
            )
        return _distinct(risks, lambda r: r.title)[:30]

    def _decisions(self) -> list[PlanDecision]:
        decisions = [self._decision(d) for d in self.kind.decisions]
        decisions.append(
            PlanDecision(
                title="Architecture",
                choice=clip(
                    "; ".join(self.fill(c) for c in self.kind.architecture) + ".", LONG_MAX_CHARS
                ),
                reasons=[clip(self.fill(self.kind.approach), SHORT_MAX_CHARS)],
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
            title=clip(self.fill(template.title), SHORT_MAX_CHARS),
            choice=clip(self.fill(template.choice), LONG_MAX_CHARS),
            reasons=[clip(r, SHORT_MAX_CHARS) for r in reasons] or ["Fits the mission"],
            trade_offs=[clip(self.fill(t), SHORT_MAX_CHARS) for t in template.trade_offs],
            alternatives=[clip(a, SHORT_MAX_CHARS) for a in alternatives],
        )

    def _next_steps(self) -> list[PlanNextStep]:
        steps = [PlanNextStep(text=self.fill(s), priority="high") for s in self.kind.next_steps]
        for trait, found in self.traits:
            if trait.next_step:
                text = self.fill(trait.next_step, match=clip(found.value, 60))
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
        features = [f.name for f in self.reading.features]
        # A goal that names no software is about the kind's, which the label already says.
        subject = (
            " — "
            + (
                f"{self.reading.subject_phrase} in the {host}"
                if (host := self._summary_host())
                else self._summary_subject()
            )
            if self.subject_named
            else ""
        )
        parts = [
            "Local planner (rule-based, no model): this mission reads as "
            f"{with_article(kind.label)}{subject}.",
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
                + _join([clip(found.value, 60) for _, found in self.all_traits])
                + "."
            )
        parts.append("Architecture: " + "; ".join(self.fill(c) for c in kind.architecture) + ".")
        parts.append(self._project_shape())
        return clip(" ".join(parts), LONG_MAX_CHARS)

    def _summary_subject(self) -> str:
        """The subject; a change whose subject is its host reads as changes to it."""
        phrase = self.reading.subject_phrase
        if self.reading.host and phrase.lower() == self.reading.host.lower():
            return f"changes to the {phrase}"
        return phrase

    def _summary_host(self) -> str | None:
        """The host the summary names after the subject, unless the subject is the host."""
        host = self.reading.host
        return host if host and host.lower() != self.reading.subject_phrase.lower() else None

    def _project_shape(self) -> str:
        """The layout a new project gets; a change follows the layout its system has."""
        if self.brownfield:
            return self.fill("Project shape: follows the layout of {host}'s repository.")
        shape = ", ".join(self.fill(path) for path in self.kind.project_shape)
        return f"Suggested project shape: {shape}."


def _provided_name(feature: Feature) -> str:
    """A noun feature as a task names it: "payments with Stripe" for "Stripe payments".

    The technology that provides it is said after the feature, as the stack choice it is.
    """
    if feature.technology:
        return f"{feature.phrase} with {feature.technology}"
    return feature.text


def _kind_of(tags: Sequence[str]) -> RequirementKind:
    if "features" in tags:
        return "feature"
    return "constraint" if "constraints" in tags else "quality"


class _Requirements:
    """The requirements of a plan being built, and the tags that name them in traces."""

    def __init__(self) -> None:
        self.requirements: list[PlanRequirement] = []
        self.tags: dict[str, list[str]] = {"features": [], "constraints": []}
        self.feature_keys: list[str] = []
        self.trait_keys: dict[str, str] = {}
        self.role_traces: dict[str, list[str]] = {}
        self.brownfield_key: str | None = None
        self.shared_feature_key: str | None = None

    def add(
        self, text: str, priority: Priority, *tags: str, kind: RequirementKind | None = None
    ) -> str:
        """Add a requirement and return its key.

        Its ``kind`` is, unless given, ``feature`` for a feature's, ``constraint`` for what the
        goal's constraints bound, and ``quality`` for the standards of the product's kind. One
        that says what an earlier one says is not added again: its tags name the earlier. A
        constraint of the mission (:data:`BOUNDS`) is the user's own sentence, kept whole: only
        the same sentence is the same requirement ("Constraint: …" shares its label with every
        other).
        """
        whole = BOUNDS in tags
        earlier = (
            r.key
            for r in self.requirements
            if (r.text == text if whole else near_duplicates(r.text, text))
        )
        key = next(earlier, None)
        if key is None:
            key = f"R{len(self.requirements) + 1}"
            self.requirements.append(
                PlanRequirement(
                    key=key,
                    text=clip(text, LONG_MAX_CHARS),
                    priority=priority,
                    kind=kind or _kind_of(tags),
                )
            )
        for tag in tags:
            self.tags.setdefault(tag, []).append(key)
        return key


_BROWNFIELD_FEATURE_TITLE = "Add {the_feature} to {host}"
"""The title of a feature task in a plan that changes an existing system."""

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


_join = join_words


def _without_technology(texts: Sequence[str], technology: str) -> list[str]:
    """``texts`` without those that name ``technology`` ("Kotlin (Jetpack Compose)").

    A text names it when it holds the technology's words whole, or a known technology that
    those words name too ("Rails" for "Ruby on Rails 7", "Postgres" for "PostgreSQL 16").
    """
    whole = re.compile(rf"(?<![\w+#.-]){re.escape(technology)}(?![\w+#-])", re.IGNORECASE)
    known = {tech.base for tech in find_technologies(technology)}
    return [
        text
        for text in texts
        if not whole.search(text) and not known & {tech.base for tech in find_technologies(text)}
    ]


def _unique_key(key: str, taken: set[str]) -> str:
    """``key``, or when ``taken`` has it, ``key-N`` with the lowest free N from 2."""
    if key not in taken:
        return key
    n = 2
    while f"{key}-{n}" in taken:
        n += 1
    return f"{key}-{n}"


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _distinct(items: Iterable[T], text: Callable[[T], str]) -> list[T]:
    """``items`` without those whose ``text`` says what an earlier one's says."""
    kept: list[T] = []
    for item in items:
        if not any(near_duplicates(text(k), text(item)) for k in kept):
            kept.append(item)
    return kept


def _unique_by(items: Iterable[T], key: Callable[[T], str]) -> list[T]:
    seen: set[str] = set()
    result: list[T] = []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            result.append(item)
    return result
