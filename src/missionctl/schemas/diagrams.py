"""Diagram contracts: what the API returns, and what a model must send when it draws them.

A model draws the two system diagrams only (``DiagramsDraft``); a technical design keeps them
as ``MissionDiagramsRead``. The API's answer, ``PlanDiagramsRead``, adds the product flow, which
the local rules always draw.

``DiagramsDraft`` is the model's output contract (its JSON Schema is the response format);
what JSON Schema cannot say (connections name components that exist, no key twice) is checked
by ``missionctl.domain.diagrams.diagram_problems`` and sent back to the model as a repair.
"""

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from missionctl.domain.diagrams import (
    MAX_COMPONENTS,
    MAX_CONNECTIONS,
    Component,
    Connection,
    Diagram,
    DiagramName,
    MissionDiagrams,
)
from missionctl.schemas.plans import TaskKey

Key = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Detail = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ComponentDraft(_Strict):
    """One box of a diagram."""

    key: Key = Field(description="Unique in the diagram, e.g. `api`; connections name it.")
    label: Label = Field(description="What it is: 'Web front end', 'Orders database'.")
    technology: Detail = Field(default="", description="What it is built or run with.")
    group: Label = Field(description="Its column: 'Clients', 'Services', 'Data', 'External'…")
    tasks: list[TaskKey] = Field(
        default_factory=list, max_length=20, description="Keys of the plan's tasks that build it."
    )


class ConnectionDraft(_Strict):
    """An arrow between two components of the same diagram."""

    source: Key
    target: Key
    label: Detail = Field(default="", description="What flows: 'SQL', 'JSON over HTTPS'.")


class DiagramDraft(_Strict):
    """One diagram as a model draws it."""

    components: list[ComponentDraft] = Field(min_length=1, max_length=MAX_COMPONENTS)
    connections: list[ConnectionDraft] = Field(default_factory=list, max_length=MAX_CONNECTIONS)


class DiagramsDraft(_Strict):
    """Both diagrams of the system a mission builds."""

    architecture: DiagramDraft = Field(description="Components of the system and how they talk.")
    deployment: DiagramDraft = Field(description="Where the components run and how they connect.")


def diagram_from_draft(name: DiagramName, title: str, draft: DiagramDraft) -> Diagram:
    """The domain diagram a model's draft describes (not yet checked: see diagram_problems)."""
    return Diagram(
        name=name,
        title=title,
        components=tuple(
            Component(c.key, c.label, c.technology, c.group, tuple(dict.fromkeys(c.tasks)))
            for c in draft.components
        ),
        connections=tuple(
            Connection(source=c.source, target=c.target, label=c.label) for c in draft.connections
        ),
    )


class ComponentRead(BaseModel):
    """One box of a diagram, and the plan's tasks that build it."""

    key: str
    label: str
    technology: str
    group: str
    tasks: list[str] = Field(description="Keys of the plan's tasks that build it.")


class ConnectionRead(BaseModel):
    """An arrow from ``source`` to ``target``."""

    source: str
    target: str
    label: str


class DiagramRead(BaseModel):
    """One diagram: its columns (``groups``, left to right), boxes and arrows."""

    name: DiagramName
    title: str
    groups: list[str]
    components: list[ComponentRead]
    connections: list[ConnectionRead]
    notes: list[str] = Field(
        default_factory=list,
        description="What a reader should know about this drawing (a product flow drawn from a "
        "mission that names few steps says so).",
    )


class MissionDiagramsRead(BaseModel):
    """The architecture and deployment diagrams of a mission's plan."""

    mission_id: uuid.UUID
    plan_version: int
    source: str = Field(description='"local" or the name of the model that drew them.')
    notes: list[str]
    architecture: DiagramRead
    deployment: DiagramRead


class PlanDiagramsRead(MissionDiagramsRead):
    """Every diagram of a mission's plan: architecture, deployment and product flow.

    ``source`` and ``notes`` are the system diagrams'; the product flow is always drawn by the
    local rules, and says so in its own ``notes`` when a model drew the others.
    """

    product_flow: DiagramRead = Field(
        description="The journey of the software's user, left to right: a box per step, its "
        "column the step's stage, with the plan tasks that build it."
    )


def _diagram_read(diagram: Diagram) -> DiagramRead:
    return DiagramRead(
        name=diagram.name,
        title=diagram.title,
        groups=list(diagram.groups),
        components=[
            ComponentRead(
                key=c.key, label=c.label, technology=c.technology, group=c.group, tasks=[*c.tasks]
            )
            for c in diagram.components
        ],
        connections=[
            ConnectionRead(source=c.source, target=c.target, label=c.label)
            for c in diagram.connections
        ],
        notes=list(diagram.notes),
    )


def diagrams_read(mission_id: uuid.UUID, diagrams: MissionDiagrams) -> MissionDiagramsRead:
    """The API's view of a mission's diagrams."""
    return MissionDiagramsRead(
        mission_id=mission_id,
        plan_version=diagrams.plan_version,
        source=diagrams.source,
        notes=list(diagrams.notes),
        architecture=_diagram_read(diagrams.architecture),
        deployment=_diagram_read(diagrams.deployment),
    )


def plan_diagrams_read(
    mission_id: uuid.UUID, diagrams: MissionDiagrams, product_flow: Diagram
) -> PlanDiagramsRead:
    """The API's view of every diagram of a mission's plan."""
    system = diagrams_read(mission_id, diagrams)
    return PlanDiagramsRead(**dict(system), product_flow=_diagram_read(product_flow))


def diagram_from_read(diagram: DiagramRead) -> Diagram:
    """The domain diagram an API answer describes (to draw it where the answer arrives)."""
    return Diagram(
        name=diagram.name,
        title=diagram.title,
        components=tuple(
            Component(c.key, c.label, c.technology, c.group, tuple(c.tasks))
            for c in diagram.components
        ),
        connections=tuple(Connection(c.source, c.target, c.label) for c in diagram.connections),
        groups=tuple(diagram.groups),
        notes=tuple(diagram.notes),
    )


def mission_diagrams_from_read(found: MissionDiagramsRead) -> MissionDiagrams:
    """The domain diagrams an API answer (or a stored technical design) describes."""
    return MissionDiagrams(
        architecture=diagram_from_read(found.architecture),
        deployment=diagram_from_read(found.deployment),
        source=found.source,
        plan_version=found.plan_version,
        notes=tuple(found.notes),
    )
