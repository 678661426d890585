"""The diagrams of what a mission builds: its architecture, its deployment and its product flow.

A :class:`Diagram` is boxes (:class:`Component`) in named columns (``group``: "Clients",
"Services", "Data", …; or "Users' devices", "Cloud", … for a deployment; the stages of a
user's journey for a product flow) and arrows between them (:class:`Connection`). The two
system diagrams of a mission travel together as :class:`MissionDiagrams`. The local planner's
rules draw them from the plan (``missionctl.planning.diagrams``); a model may draw them instead,
and what it sends is checked by :func:`diagram_problems` before anything is shown or stored. The
product flow is always drawn by the local rules (``missionctl.planning.product_flow``).

The model is plain data: it is rendered to SVG by :mod:`missionctl.domain.diagram_svg`,
returned by the API as JSON and stored with a technical design.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

SystemDiagramName = Literal["architecture", "deployment"]
"""The diagrams of the system's parts: drawn from a shape by the local rules, or by a model."""
SYSTEM_DIAGRAM_NAMES: tuple[SystemDiagramName, ...] = ("architecture", "deployment")
DiagramName = Literal["architecture", "deployment", "product_flow"]
"""Every diagram of a plan; the name is also its file's and its URL's (``product_flow.svg``)."""
DIAGRAM_NAMES: tuple[DiagramName, ...] = (*SYSTEM_DIAGRAM_NAMES, "product_flow")

MAX_COMPONENTS = 24
"""Boxes one diagram may hold: more is no longer readable as one picture."""
MAX_CONNECTIONS = 48
MAX_GROUPS = 7
"""Columns one diagram may hold (the page is about 1,400 px wide)."""


@dataclass(frozen=True, slots=True)
class Component:
    """One box: a part of the system (architecture) or a place it runs (deployment).

    Attributes:
        key: Unique within its diagram; connections name it.
        label: What it is ("Web front end").
        technology: What it is built or run with ("React", "PostgreSQL"); may be empty.
        group: The column it is drawn in ("Services").
        tasks: Keys of the plan's tasks that build it, in plan order.
    """

    key: str
    label: str
    technology: str
    group: str
    tasks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Connection:
    """An arrow from one component to another, with what flows along it ("SQL")."""

    source: str
    target: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class Diagram:
    """One diagram; ``groups`` are its columns, left to right, each holding one box or more.

    ``notes`` say what a reader should know about this drawing (a product flow drawn from a
    mission that names few steps says so).
    """

    name: DiagramName
    title: str
    components: tuple[Component, ...]
    connections: tuple[Connection, ...]
    groups: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        # The columns are the groups in the order their first component appears, unless given.
        if not self.groups:
            order = dict.fromkeys(c.group for c in self.components)
            object.__setattr__(self, "groups", tuple(order))

    def component(self, key: str) -> Component | None:
        """The component named ``key``, or None."""
        return next((c for c in self.components if c.key == key), None)


@dataclass(frozen=True, slots=True)
class MissionDiagrams:
    """A mission's two system diagrams and who drew them.

    Attributes:
        architecture: Components of the system and how they talk.
        deployment: Where those components run.
        source: ``"local"`` or the name of the model that drew them.
        plan_version: The plan version they were drawn from.
        notes: What a reader should know about how they were drawn (a model's fallback).
    """

    architecture: Diagram
    deployment: Diagram
    source: str
    plan_version: int
    notes: tuple[str, ...] = ()

    def by_name(self, name: SystemDiagramName) -> Diagram:
        """The diagram called ``name``."""
        return self.architecture if name == "architecture" else self.deployment


def diagram_problems(diagram: Diagram) -> list[tuple[str, str]]:
    """What is wrong with ``diagram``, as (location, reason) pairs; empty when it is sound.

    Sound means: 1 to :data:`MAX_COMPONENTS` components with unique, non-blank keys and
    labels, at most :data:`MAX_GROUPS` groups, at most :data:`MAX_CONNECTIONS` connections,
    each between two different components that exist, and no connection twice.
    """
    problems: list[tuple[str, str]] = []
    components = diagram.components
    if not 1 <= len(components) <= MAX_COMPONENTS:
        problems.append(("components", f"draw 1 to {MAX_COMPONENTS} components"))
    problems.extend(_component_problems(components))
    if len(diagram.groups) > MAX_GROUPS:
        problems.append(("components", f"use at most {MAX_GROUPS} groups (columns)"))
    if len(diagram.connections) > MAX_CONNECTIONS:
        problems.append(("connections", f"draw at most {MAX_CONNECTIONS} connections"))
    problems.extend(_connection_problems(diagram.connections, {c.key for c in components}))
    return problems


def _component_problems(components: Sequence[Component]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, component in enumerate(components):
        where = f"components.{index}"
        if not component.key.strip():
            problems.append((f"{where}.key", "give every component a key"))
        elif component.key in seen:
            problems.append((f"{where}.key", f"key {component.key!r} is used twice"))
        seen.add(component.key)
        if not component.label.strip():
            problems.append((f"{where}.label", "give every component a label"))
        if not component.group.strip():
            problems.append((f"{where}.group", "give every component a group"))
    return problems


def _connection_problems(
    connections: Sequence[Connection], keys: set[str]
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for index, connection in enumerate(connections):
        where = f"connections.{index}"
        for end in ("source", "target"):
            if getattr(connection, end) not in keys:
                problems.append((f"{where}.{end}", "name a component of the diagram"))
        if connection.source == connection.target:
            problems.append((where, "connect two different components"))
        pair = (connection.source, connection.target)
        if pair in seen:
            problems.append((where, f"{pair[0]} → {pair[1]} is drawn twice"))
        seen.add(pair)
    return problems
