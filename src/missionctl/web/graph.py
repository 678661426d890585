"""The plan graph: a layered, left-to-right layout of a task DAG, drawn as SVG by a template.

Columns are the DAG's topological layers (``domain.dag.topological_layers``); within a column
tasks are ordered by the mean row of their dependencies (one barycentre sweep), which keeps
most edges short and uncrossed. Boxes have a fixed size; the page fits the drawing to its card's
width and lets the reader zoom and pan (``static/js/app.js``). A title wraps onto two lines and
is shortened past them; the node's SVG ``<title>`` keeps it whole, for the tooltip.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from missionctl.domain.dag import Node, topological_layers
from missionctl.errors import ValidationFailed
from missionctl.schemas.dashboard import TaskView
from missionctl.web.states import outcome_label

NODE_W = 208
NODE_H = 62
COL_GAP = 64
ROW_GAP = 14
PAD = 16
TITLE_CHARS = 25
"""Characters of a title line that fit a box (12.5 px semibold, with room for wide letters)."""
TITLE_LINES = 2
LABEL_CHARS = 31
"""Characters of the small label line (11 px) that fit a box."""


@dataclass(frozen=True, slots=True)
class GraphNode:
    """A task's box: position, label and status (``pending`` when not started)."""

    key: str
    x: int
    y: int
    title_lines: tuple[str, ...]
    label: str
    full_title: str
    full_label: str
    status: str
    number: int
    outcome: str | None = None

    @property
    def cx(self) -> int:
        """Centre x, for text anchors."""
        return self.x + NODE_W // 2


@dataclass(frozen=True, slots=True)
class GraphEdge:
    """A dependency: a cubic curve from the dependency's right side to the task's left side."""

    path: str
    status: str


@dataclass(frozen=True, slots=True)
class GraphLayout:
    """Everything the SVG template needs."""

    width: int
    height: int
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    node_w: int = NODE_W
    node_h: int = NODE_H


def short(text: str, limit: int = TITLE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def wrap(text: str, width: int = TITLE_CHARS, lines: int = TITLE_LINES) -> tuple[str, ...]:
    """``text`` in at most ``lines`` lines of ``width`` characters, broken between words.

    A word longer than a line is cut; text left over after the last line is shortened into it.
    """
    words = text.split()
    result: list[str] = []
    while words and len(result) < lines:
        line = words.pop(0)
        while words and len(line) + 1 + len(words[0]) <= width:
            line += " " + words.pop(0)
        if len(result) == lines - 1 and words:
            line = short(" ".join([line, *words]), width)
            words = []
        result.append(short(line, width))
    return tuple(result) or ("",)


def _layers(tasks: Sequence[TaskView]) -> list[list[str]]:
    keys = {t.key for t in tasks}
    nodes = [Node(t.key, [d for d in t.depends_on if d in keys]) for t in tasks]
    try:
        return topological_layers(nodes)
    except ValidationFailed:  # never for stored plans and workflows; draw a single column
        return [[t.key for t in tasks]]


def _barycentre(deps: Sequence[str], row: dict[str, float], default: int) -> float:
    rows = [row[d] for d in deps if d in row]
    return sum(rows) / len(rows) if rows else float(default)


def layout_graph(tasks: Sequence[TaskView]) -> GraphLayout:
    """Lay out ``tasks`` (with their ``depends_on``) as columns of boxes joined by curves."""
    if not tasks:
        return GraphLayout(width=0, height=0, nodes=[], edges=[])
    by_key = {t.key: t for t in tasks}
    number = {t.key: n for n, t in enumerate(tasks, 1)}
    layers = _layers(tasks)
    row: dict[str, float] = {}
    for layer in layers:
        weights = {key: _barycentre(by_key[key].depends_on, row, number[key]) for key in layer}
        layer.sort(key=lambda key: (weights[key], number[key]))
        for index, key in enumerate(layer):
            row[key] = float(index)
    tallest = max(len(layer) for layer in layers)
    height = PAD * 2 + tallest * NODE_H + (tallest - 1) * ROW_GAP
    width = PAD * 2 + len(layers) * NODE_W + (len(layers) - 1) * COL_GAP
    position: dict[str, tuple[int, int]] = {}
    for column, layer in enumerate(layers):
        # Centre each column vertically so short columns sit in the middle.
        column_h = len(layer) * NODE_H + (len(layer) - 1) * ROW_GAP
        top = PAD + (height - 2 * PAD - column_h) // 2
        for index, key in enumerate(layer):
            position[key] = (PAD + column * (NODE_W + COL_GAP), top + index * (NODE_H + ROW_GAP))
    nodes = []
    edges = []
    for task in tasks:
        x, y = position[task.key]
        status = task.status.value if task.status else "pending"
        # The state first (what the task produced, once it ended): a long role is what gets
        # shortened, never the state.
        state = outcome_label(task.outcome) if task.outcome else status.replace("_", " ")
        parts = (str(number[task.key]), state, task.role or task.agent)
        label = " · ".join(part for part in parts if part)
        nodes.append(
            GraphNode(
                key=task.key,
                x=x,
                y=y,
                title_lines=wrap(task.title),
                label=short(label, LABEL_CHARS),
                full_title=task.title,
                full_label=label,
                status=status,
                number=number[task.key],
                outcome=task.outcome,
            )
        )
        for dep in task.depends_on:
            if dep not in position:
                continue
            sx, sy = position[dep]
            x1, y1 = sx + NODE_W, sy + NODE_H // 2
            x2, y2 = x, y + NODE_H // 2
            bend = (x2 - x1) // 2
            dep_status = by_key[dep].status
            # An edge takes its dependency's outcome once it ended: green only after a build.
            shown = by_key[dep].outcome or (dep_status.value if dep_status else "pending")
            edges.append(
                GraphEdge(
                    path=f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}",
                    status=shown,
                )
            )
    return GraphLayout(width=width, height=height, nodes=nodes, edges=edges)
