"""Whether a plan kept every clause of its goal: the one check every planner's plan gets.

The goal's clauses are what the reading (:func:`missionctl.reading.read_goal`) found the user
asking for: each feature as written ("syncs two S3 buckets incrementally") and each constraint
(the mission's own, then the goal's constraint clauses, "HIPAA applies"). Who the users are
and which stack the user named are context, judged elsewhere (the plan's stack).

A clause is **covered** by a requirement whose text holds every content word of the clause,
or by a task with an acceptance criterion that holds them all. Content words are the clause's
words without function words and number words, compared in a folded form (singular, no
-ing/-ed/-e) so that "schedules" covers "scheduled". A figure ("2000", "18") is a content
word: a constraint whose figure was rounded away is not covered.

The LLM planner sends a plan with uncovered clauses back once, naming them; the plan stores
what is still uncovered, and the plan page, the API and the traceability map show it: a
clause no requirement covers is one the planner did not understand, and the plan page asks
about it.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from missionctl.planning.base import PlanningInput
from missionctl.planning.naming import WORDS
from missionctl.reading import read_goal, singular
from missionctl.schemas.plans import ClauseKind, PlanClause, PlanDraft

__all__ = [
    "ClauseTrace",
    "GoalClause",
    "as_plan_clauses",
    "clause_traces",
    "content_words",
    "goal_clauses",
    "uncovered",
]

_TOKEN = re.compile(r"[^\W_]+(?:[-'\u2019.][^\W_]+)*(?:\+\+|#)?")
_SUFFIX = re.compile(r"(?:ing|ed|e)$")


@dataclass(frozen=True, slots=True)
class GoalClause:
    """One thing the user asked for, as written, and whether it is a feature or a constraint."""

    text: str
    kind: ClauseKind


@dataclass(frozen=True, slots=True)
class ClauseTrace:
    """A goal clause and what in the plan covers it (requirement and task keys, plan order)."""

    clause: GoalClause
    requirements: tuple[str, ...]
    tasks: tuple[str, ...]

    @property
    def covered(self) -> bool:
        """Whether a requirement or a task's acceptance keeps the clause."""
        return bool(self.requirements or self.tasks)


def goal_clauses(mission: PlanningInput) -> tuple[GoalClause, ...]:
    """The clauses of ``mission`` that a plan must keep: features, then constraints.

    A clause with no content word ("the app") and a repeat of an earlier one are left out.
    """
    reading = read_goal(
        goal=mission.goal,
        title=mission.title,
        constraints=mission.constraints,
        repo_context=mission.repo_context,
    )
    found: dict[frozenset[str], GoalClause] = {}
    named = [GoalClause(f.text, "feature") for f in reading.features]
    named += [GoalClause(c, "constraint") for c in reading.constraints]
    for clause in named:
        words = content_words(clause.text)
        if words and words not in found:
            found[words] = clause
    return tuple(found.values())


def clause_traces(plan: PlanDraft, mission: PlanningInput) -> tuple[ClauseTrace, ...]:
    """Each goal clause of ``mission`` with the requirements and tasks of ``plan`` covering it."""
    requirements = [(r.key, _folded_words(r.text)) for r in plan.requirements]
    acceptance = [
        (task.key, [_folded_words(criterion) for criterion in task.acceptance])
        for task in plan.tasks
    ]
    traces = []
    for clause in goal_clauses(mission):
        needed = content_words(clause.text)
        traces.append(
            ClauseTrace(
                clause=clause,
                requirements=tuple(key for key, words in requirements if needed <= words),
                tasks=tuple(key for key, criteria in acceptance if _any_holds(criteria, needed)),
            )
        )
    return tuple(traces)


def as_plan_clauses(traces: Sequence[ClauseTrace]) -> list[PlanClause]:
    """The traces as the plan contract stores and shows them."""
    return [
        PlanClause(
            text=t.clause.text,
            kind=t.clause.kind,
            requirements=list(t.requirements),
            tasks=list(t.tasks),
        )
        for t in traces
    ]


def uncovered(traces: Sequence[ClauseTrace]) -> list[str]:
    """The text of each clause nothing in the plan covers, in the goal's order."""
    return [trace.clause.text for trace in traces if not trace.covered]


def content_words(text: str) -> frozenset[str]:
    """The folded content words of ``text`` (see the module docstring)."""
    stop = WORDS.function_words | WORDS.number_words
    return frozenset(
        _fold(token) for token in _TOKEN.findall(text) if token.lower() not in stop
    ) - {""}


def _folded_words(text: str) -> frozenset[str]:
    return frozenset(_fold(token) for token in _TOKEN.findall(text))


def _fold(word: str) -> str:
    """A comparison key: lower case, singular, then without -ing, -ed or a final e."""
    base = singular(word.lower())
    if not base.isalpha() or len(base) <= 4:
        return base
    return _SUFFIX.sub("", base)


def _any_holds(criteria: Sequence[frozenset[str]], needed: frozenset[str]) -> bool:
    return any(needed <= words for words in criteria)
