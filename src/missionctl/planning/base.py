"""What every planner takes and returns, and the port services depend on.

Planning does not read the database: a service turns a stored mission into a
:class:`PlanningInput`, hands it to a :class:`Planner`, and stores the :class:`PlannerResult`
(draft, source, usage) itself. A planner that cannot plan the mission as written raises
:class:`ClarificationNeeded` with its questions; the service stores them and waits for the
answers, which the next :class:`PlanningInput` carries (:attr:`PlanningInput.answers`).
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from missionctl.llm.protocol import LLMUsage, Sampling
from missionctl.schemas.missions import MAX_QUESTIONS, QUESTION_MAX_CHARS
from missionctl.schemas.plans import PlanDraft

__all__ = [
    "LOCAL_SOURCE",
    "MAX_QUESTIONS",
    "QUESTION_MAX_CHARS",
    "Answer",
    "ClarificationNeeded",
    "Planner",
    "PlannerResult",
    "PlanningInput",
    "RecalledDecision",
    "RecalledMission",
    "RecalledRisk",
]

LOCAL_SOURCE = "local"
"""``PlannerResult.source`` of plans made without a model."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One question a planner asked about a mission, and the user's answer.

    Attributes:
        question: The question as the planner asked it.
        answer: What the user answered (never empty).
    """

    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class RecalledDecision:
    """A decision a finished mission took, as mission memory recalls it."""

    title: str
    choice: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RecalledRisk:
    """A risk a finished mission had, as mission memory recalls it."""

    title: str
    description: str
    severity: str
    likelihood: str
    mitigation: str


@dataclass(frozen=True, slots=True)
class RecalledMission:
    """A finished mission similar to the one being planned (mission memory, ADR 0055).

    Attributes:
        mission_id: The id a plan item cites (``from_mission``) when it reuses what it took.
        title: The mission's title.
        outcome: How it ended: ``completed``, ``failed`` or ``canceled``.
        cost_usd: What it cost in all.
        lessons: What its runs taught, one sentence each.
        decisions: Its decisions; ``risks``: its risks.
    """

    mission_id: uuid.UUID
    title: str
    outcome: str
    cost_usd: float
    lessons: tuple[str, ...] = ()
    decisions: tuple[RecalledDecision, ...] = ()
    risks: tuple[RecalledRisk, ...] = ()


@dataclass(frozen=True, slots=True)
class PlanningInput:
    """The part of a mission a planner reads.

    Attributes:
        title: Short name of the mission.
        goal: The software goal in plain words.
        constraints: One constraint per item, in the user's order.
        repo_context: What exists already (repository, stack, conventions); may be empty.
        answers: The user's answers to the questions planners asked about this mission, oldest
            first; part of the goal as much as its text is (ADR 0035).
        recollections: Finished missions similar to this one, most similar first, which a
            plan may reuse a decision or carry a risk over from, citing the mission
            (``from_mission``); only these missions may be cited (ADR 0055).
    """

    title: str
    goal: str
    constraints: tuple[str, ...] = field(default=())
    repo_context: str = ""
    answers: tuple[Answer, ...] = field(default=())
    recollections: tuple[RecalledMission, ...] = field(default=())

    def __post_init__(self) -> None:
        # A tuple keeps the input hashable and safe from the caller's list.
        object.__setattr__(self, "constraints", tuple(self.constraints))
        object.__setattr__(self, "answers", tuple(self.answers))
        object.__setattr__(self, "recollections", tuple(self.recollections))

    @classmethod
    def from_mission(
        cls, mission: "MissionLike", *, answers: Iterable[Answer] = ()
    ) -> "PlanningInput":
        """The planning input of a mission (a ``MissionRead``, an ORM row, …) and its answers."""
        return cls(
            title=mission.title,
            goal=mission.goal,
            constraints=tuple(mission.constraints),
            repo_context=mission.repo_context or "",
            answers=tuple(answers),
        )


class MissionLike(Protocol):
    """What :meth:`PlanningInput.from_mission` reads from a mission."""

    @property
    def title(self) -> str:
        """Short name of the mission."""
        ...

    @property
    def goal(self) -> str:
        """The software goal."""
        ...

    @property
    def constraints(self) -> Sequence[str]:
        """Constraints, one per item."""
        ...

    @property
    def repo_context(self) -> str | None:
        """What exists already."""
        ...


@dataclass(frozen=True, slots=True)
class PlannerResult:
    """A validated plan and how it was made.

    Attributes:
        draft: The plan; ``missionctl.domain.plans.validate_plan`` finds no problem in it.
        source: ``"local"`` or the name of the model that wrote it.
        usage: Tokens spent on every model call made for it (zero for the local planner).
        attempts: Model calls made, repairs included (1 for the local planner).
        prompt_version: Version of the prompt or local rules that produced it
            (``"planner/2"``, ``"local/1"``), stored with the plan for audits.
        notes: What a person should know about how the plan was made, one sentence each:
            what was repaired in the model's answer, what was sent back, coverage gaps.
        sampling: The temperature and seed the accepted plan was asked with (``None``: not
            sent; both ``None`` for the local planner).
    """

    draft: PlanDraft
    source: str
    usage: LLMUsage
    attempts: int
    prompt_version: str
    notes: tuple[str, ...] = ()
    sampling: Sampling = field(default_factory=Sampling)


class ClarificationNeeded(Exception):
    """A planner's way to ask instead of plan: the mission as written cannot be planned.

    Raised by :meth:`Planner.plan` when planning would be guesswork (the goal says nothing a
    plan could be made of, or is in a language the planner does not read). The service moves
    the mission to ``needs_clarification`` and stores the questions; once the user answers,
    planning runs again with the answers in :attr:`PlanningInput.answers`.

    A model planner asks through the same contract, and says what asking cost: the service
    charges ``usage`` to the mission as it charges a plan's.

    Args:
        questions: What to ask, in order: 1 to :data:`MAX_QUESTIONS` questions of at most
            :data:`QUESTION_MAX_CHARS` characters each, none blank.
        reason: One sentence saying why the planner asks, for the person who answers.
        model: The model that asked; None for the local planner.
        usage: Tokens the model spent on the calls that ended in the questions.
        attempts: Model calls made, repairs included (0 for the local planner).

    Raises:
        ValueError: ``questions`` or ``reason`` break the rules above (a planner's bug).
    """

    def __init__(
        self,
        questions: Sequence[str],
        *,
        reason: str,
        model: str | None = None,
        usage: LLMUsage | None = None,
        attempts: int = 0,
    ) -> None:
        asked = tuple(q.strip() for q in questions)
        if not 1 <= len(asked) <= MAX_QUESTIONS:
            raise ValueError(f"a planner asks 1 to {MAX_QUESTIONS} questions, not {len(asked)}")
        if not all(0 < len(q) <= QUESTION_MAX_CHARS for q in asked):
            raise ValueError(f"each question has 1 to {QUESTION_MAX_CHARS} characters")
        if not reason.strip():
            raise ValueError("a planner says why it asks")
        super().__init__(reason.strip())
        self.questions: tuple[str, ...] = asked
        self.reason = reason.strip()
        self.model = model
        self.usage = usage or LLMUsage()
        self.attempts = attempts


class Planner(Protocol):
    """Turns a mission into a validated plan, or into questions for the user.

    A planner that cannot plan the mission as written raises :class:`ClarificationNeeded`
    instead of guessing; it reads the user's answers in :attr:`PlanningInput.answers`.
    """

    async def plan(self, mission: PlanningInput) -> PlannerResult:
        """Plan ``mission``.

        Returns:
            A result whose draft passes ``validate_plan``; nothing invalid is ever returned.

        Raises:
            ClarificationNeeded: The mission cannot be planned as written; its questions say
                what the planner needs to know.
            missionctl.errors.ValidationFailed: The planner could not produce a valid plan.
            missionctl.errors.LLMOutputInvalid: An LLM planner's output broke the schema after
                the bounded repairs.
            missionctl.errors.LLMUnavailable: An LLM planner's endpoint kept failing.
        """
        ...
