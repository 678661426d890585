"""Everything a writer reads to write a mission's document, gathered once by the service.

A writer never touches the database: ``services.usecases.documents`` reads the mission, one plan
version, the decision log and risk register (ADR 0051) and what the runs of that plan version
did, and hands them over as a :class:`DocumentSources`. The same sources always give the local
writer's same text.
"""

import uuid
from dataclasses import dataclass

from missionctl.domain.diagrams import MissionDiagrams
from missionctl.domain.outcomes import Outcome, task_outcomes
from missionctl.schemas.missions import MissionRead
from missionctl.schemas.plans import PlanRead
from missionctl.schemas.register import DecisionRead, RiskRead


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What one task's step did in a run: its engine status and its outcome.

    ``outcome`` is what the step produced (``domain.outcomes``: ``documented``, ``built``…),
    ``None`` while it has not ended.
    """

    step_id: str
    status: str
    agent: str
    attempts: int
    cost_micros: int
    error: str | None = None
    outcome: Outcome | None = None


@dataclass(frozen=True, slots=True)
class ArtifactOutcome:
    """An artifact a run produced: its name, kind, size and the step that produced it."""

    name: str
    kind: str
    size: int
    step_id: str | None


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """One run of the plan version, its steps and artifacts."""

    id: uuid.UUID
    status: str
    cost_micros: int
    input_tokens: int
    output_tokens: int
    error: str | None
    steps: tuple[StepOutcome, ...]
    artifacts: tuple[ArtifactOutcome, ...]

    @property
    def task_outcomes(self) -> dict[str, Outcome | None]:
        """Each task's outcome by task key (``None``: not ended), in the order of its steps.

        A run of a plan is counted by task: a task's merge step is part of it
        (``domain.outcomes.task_outcomes``).
        """
        return task_outcomes((s.step_id, s.agent, s.outcome) for s in self.steps)


@dataclass(frozen=True, slots=True)
class DocumentSources:
    """A mission, one version of its plan, its register, and its runs of that version.

    ``runs`` are newest first. ``decisions`` and ``risks`` are the log's and register's
    current items (the newest plan's and those people added).
    """

    mission: MissionRead
    plan: PlanRead
    decisions: tuple[DecisionRead, ...]
    risks: tuple[RiskRead, ...]
    runs: tuple[RunOutcome, ...]
    diagrams: MissionDiagrams | None = None
    """The plan's architecture and deployment diagrams, for the technical design."""

    @property
    def latest_run(self) -> RunOutcome | None:
        """The newest run of the plan version, or ``None`` before it ran."""
        return self.runs[0] if self.runs else None
