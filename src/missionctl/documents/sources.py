"""Everything a writer reads to write a mission's document, gathered once by the service.

A writer never touches the database: ``services.documents`` reads the mission, one plan
version, the decision log and risk register (ADR 0051) and what the runs of that plan version
did, and hands them over as a :class:`DocumentSources`. The same sources always give the local
writer's same text.
"""

import uuid
from dataclasses import dataclass

from missionctl.domain.diagrams import MissionDiagrams
from missionctl.schemas.missions import MissionRead
from missionctl.schemas.plans import PlanRead
from missionctl.schemas.register import DecisionRead, RiskRead


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What one task's step did in a run."""

    step_id: str
    status: str
    agent: str
    attempts: int
    cost_micros: int
    error: str | None = None


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
