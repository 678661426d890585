"""What every planner takes and returns, and the port services depend on.

Planning does not read the database: a service turns a stored mission into a
:class:`PlanningInput`, hands it to a :class:`Planner`, and stores the :class:`PlannerResult`
(draft, source, usage) itself.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from missionctl.llm.protocol import LLMUsage
from missionctl.schemas.plans import PlanDraft

__all__ = ["LOCAL_SOURCE", "Planner", "PlannerResult", "PlanningInput"]

LOCAL_SOURCE = "local"
"""``PlannerResult.source`` of plans made without a model."""


@dataclass(frozen=True, slots=True)
class PlanningInput:
    """The part of a mission a planner reads.

    Attributes:
        title: Short name of the mission.
        goal: The software goal in plain words.
        constraints: One constraint per item, in the user's order.
        repo_context: What exists already (repository, stack, conventions); may be empty.
    """

    title: str
    goal: str
    constraints: tuple[str, ...] = field(default=())
    repo_context: str = ""

    def __post_init__(self) -> None:
        # A tuple keeps the input hashable and safe from the caller's list.
        object.__setattr__(self, "constraints", tuple(self.constraints))

    @classmethod
    def from_mission(cls, mission: "MissionLike") -> "PlanningInput":
        """The planning input of a mission (a ``MissionRead``, an ORM row, …)."""
        return cls(
            title=mission.title,
            goal=mission.goal,
            constraints=tuple(mission.constraints),
            repo_context=mission.repo_context or "",
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
            (``"planner/1"``, ``"local/1"``), stored with the plan for audits.
        notes: What a person should know about how the plan was made, one sentence each:
            what was repaired in the model's answer, what was sent back, coverage gaps.
    """

    draft: PlanDraft
    source: str
    usage: LLMUsage
    attempts: int
    prompt_version: str
    notes: tuple[str, ...] = ()


class Planner(Protocol):
    """Turns a mission into a validated plan."""

    async def plan(self, mission: PlanningInput) -> PlannerResult:
        """Plan ``mission``.

        Returns:
            A result whose draft passes ``validate_plan``; nothing invalid is ever returned.

        Raises:
            missionctl.errors.ValidationFailed: The planner could not produce a valid plan.
            missionctl.errors.LLMOutputInvalid: An LLM planner's output broke the schema after
                the bounded repairs.
            missionctl.errors.LLMUnavailable: An LLM planner's endpoint kept failing.
        """
        ...
