"""The traceability map drawn as SVG on the server, in four columns.

Goal and its clauses | Requirements | Tasks | Artifacts (docs/traceability.md, ADR 0052).
The goal's box heads the first column; each clause of the goal sits under it at the mean row
of the requirements (or tasks) that keep it, a dropped clause is a gap box. Rows follow the
tasks: tasks are ordered by the first requirement they trace (plan order within), each task's
artifacts sit on its row as one box (the name, or "N artifacts" linking to the table's row that
lists them), and each requirement sits at the mean row of its tasks, pushed down so boxes never
overlap. Risks and decisions are attached to tasks as a count on the task's box (the box's
``<title>`` names them); a high or critical risk without a mitigation task is a gap box under
the clauses. ``depends_on`` edges are the plan graph's subject and are not drawn here.

Every text is escaped (``markupsafe.escape``), long labels are shortened with the full text in
the box's ``<title>``, colours come from ``.trace__*`` classes in ``app.css`` (the CSP allows no
inline style), and a gap is marked by a dashed border, a "!" badge and the word "Gap" — never by
colour alone.
"""

from collections import defaultdict
from dataclasses import dataclass

from markupsafe import Markup, escape

from missionctl.domain.tracemap import TraceGap, TraceMap, TraceNode
from missionctl.web.graph import short, wrap

PAD = 16
COL_GAP = 44
NODE_H = 46
ROW_PITCH = NODE_H + 10
COLUMNS = (("Goal and clauses", 170), ("Requirements", 210), ("Tasks", 230), ("Artifacts", 170))
HEADER_H = 28
TITLE_CHARS = {
    "goal": 22,
    "clause": 22,
    "requirement": 27,
    "task": 30,
    "artifact": 22,
    "risk": 22,
}
"""Characters of a box's first line (12 px semibold) that fit each column."""
LABEL_CHARS = {
    "goal": 26,
    "clause": 26,
    "requirement": 32,
    "task": 36,
    "artifact": 26,
    "risk": 26,
}
"""Characters of a box's second line (11 px)."""
MAX_LISTED = 20
"""Names a grouped box's tooltip lists before "and N more"."""


@dataclass(frozen=True, slots=True)
class Box:
    """One drawn box: where, what it says, what its tooltip says, and how it looks."""

    x: int
    y: int
    width: int
    title: str
    label: str
    tooltip: str
    css: str
    node_id: str
    gap: bool = False
    href: str | None = None


def _column_x(column: int) -> int:
    return PAD + sum(width + COL_GAP for _, width in COLUMNS[:column])


def _width(column: int) -> int:
    return COLUMNS[column][1]


def _task_order(trace: TraceMap) -> list[TraceNode]:
    """Tasks by the position of the first requirement they trace; untraced tasks last."""
    rank = {n.id: i for i, n in enumerate(x for x in trace.nodes if x.kind == "requirement")}
    first: dict[str, int] = {}
    for edge in trace.edges:
        if edge.kind == "traces" and edge.source in rank:
            first[edge.target] = min(first.get(edge.target, len(rank)), rank[edge.source])
    tasks = [n for n in trace.nodes if n.kind == "task"]
    return sorted(tasks, key=lambda t: first.get(t.id, len(rank)))  # stable: plan order within


def _requirement_rows(trace: TraceMap, task_row: dict[str, int]) -> dict[str, float]:
    """Each requirement's row: the mean of its tasks' rows, kept one row below the previous."""
    return _mean_rows(trace, "requirement", "traces", dict(task_row), top=-1.0)


def _clause_rows(trace: TraceMap, rows: dict[str, float]) -> dict[str, float]:
    """Each clause's row: the mean of the rows it leads to, below the goal and the previous."""
    return _mean_rows(trace, "clause", "covers", rows, top=0.0)  # row 0 is the goal's


def _mean_rows(
    trace: TraceMap, kind: str, edge_kind: str, rows: dict[str, float], *, top: float
) -> dict[str, float]:
    """The row of each node of ``kind``, by the ``rows`` its ``edge_kind`` edges lead to.

    Their mean, kept at least one row below the node before it (the first below ``top``).
    """
    targets: dict[str, list[float]] = defaultdict(list)
    for edge in trace.edges:
        if edge.kind == edge_kind and edge.target in rows:
            targets[edge.source].append(rows[edge.target])
    placed: dict[str, float] = {}
    previous = top
    for node in (n for n in trace.nodes if n.kind == kind):
        mine = targets.get(node.id)
        ideal = sum(mine) / len(mine) if mine else previous + 1
        previous = max(ideal, previous + 1)
        placed[node.id] = previous
    return placed


def _y(row: float) -> int:
    return int(HEADER_H + PAD + row * ROW_PITCH)


def _gap_text(gaps: dict[str, TraceGap], node_id: str) -> str:
    gap = gaps.get(node_id)
    return f" — Gap: {gap.message}" if gap else ""


def _box(node: TraceNode, column: int, row: float, label: str, gaps: dict[str, TraceGap]) -> Box:
    """The box of ``node`` in ``column`` at ``row``; a gap shows "Gap" in its second line."""
    gap = node.id in gaps
    shown = f"Gap · {label}" if gap else label
    return Box(
        x=_column_x(column),
        y=_y(row),
        width=_width(column),
        # A gap box keeps room for its "!" badge at the top right.
        title=wrap(node.label, TITLE_CHARS[node.kind] - (3 if gap else 0), 1)[0],
        label=short(shown, LABEL_CHARS[node.kind]),
        tooltip=f"{node.key}: {node.label} ({label}){_gap_text(gaps, node.id)}",
        css=f"trace__node--{node.kind} trace__node--{node.status}",
        node_id=node.id,
        gap=gap,
        href=f"?requirement={node.key}" if node.kind == "requirement" else None,
    )


def _attached(trace: TraceMap) -> dict[str, list[TraceNode]]:
    """The risks and decisions attached to each task (by ``mitigates`` or ``concerns``)."""
    by_id = {n.id: n for n in trace.nodes}
    attached: dict[str, list[TraceNode]] = defaultdict(list)
    for edge in trace.edges:
        if edge.kind in ("mitigates", "concerns") and edge.source in by_id:
            attached[edge.target].append(by_id[edge.source])
    return attached


def _task_label(task: TraceNode, attached: list[TraceNode]) -> tuple[str, str]:
    """The task's second line (status, risk and decision counts) and the tooltip's list."""
    risks = [n.label for n in attached if n.kind == "risk"]
    decisions = [n.label for n in attached if n.kind == "decision"]
    parts = [task.status.replace("_", " ")]
    if risks:
        parts.append(f"{len(risks)} risk{'s' if len(risks) > 1 else ''}")
    if decisions:
        parts.append(f"{len(decisions)} decision{'s' if len(decisions) > 1 else ''}")
    listed = "; ".join(
        f"{name}: {', '.join(items)}"
        for name, items in (("risks", risks), ("decisions", decisions))
        if items
    )
    return " · ".join(parts), listed


def _artifact_box(
    task: TraceNode, row: float, artifacts: list[TraceNode], gap: TraceGap | None
) -> Box | None:
    """The artifacts of ``task`` as one box, or its ``no_artifact`` gap when it produced none."""
    if not artifacts and gap is None:
        return None
    names = [a.label for a in artifacts]
    listed = ", ".join(names[:MAX_LISTED]) + (
        f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
    )
    if not artifacts:
        title, label, tooltip = (
            "No artifact",
            "Gap · nothing produced",
            f"{task.key}: {gap.message if gap else ''}",
        )
    elif len(artifacts) == 1:
        title, label, tooltip = names[0], artifacts[0].status, f"{task.key}: {names[0]}"
    else:
        title, label = f"{len(artifacts)} artifacts", "listed in the table"
        tooltip = f"{task.key}: {listed}"
    return Box(
        x=_column_x(3),
        y=_y(row),
        width=_width(3),
        title=short(title, TITLE_CHARS["artifact"]),
        label=short(label, LABEL_CHARS["artifact"]),
        tooltip=tooltip,
        css="trace__node--artifact",
        node_id=f"artifacts:{task.key}",
        gap=not artifacts,
        href=f"#trace-task-{task.key}" if len(artifacts) > 1 else None,
    )


@dataclass(frozen=True, slots=True)
class TraceLayout:
    """The boxes, the edges (SVG paths with their kind) and the drawing's size."""

    width: int
    height: int
    boxes: list[Box]
    edges: list[tuple[str, str]]


def layout_trace(trace: TraceMap) -> TraceLayout:
    """Place every box of ``trace`` (see the module docstring) and draw its edges."""
    # A task's missing artifact is shown in the artifacts column, its other gaps on its box.
    gaps = {g.item: g for g in trace.gaps if g.kind != "no_artifact"}
    unproduced = {g.item: g for g in trace.gaps if g.kind == "no_artifact"}
    tasks = _task_order(trace)
    task_row = {t.id: i for i, t in enumerate(tasks)}
    req_rows = _requirement_rows(trace, task_row)
    by_id = {n.id: n for n in trace.nodes}
    boxes: list[Box] = []
    goal = next(n for n in trace.nodes if n.kind == "goal")
    boxes.append(_box(goal, 0, 0, "the mission's goal", gaps))
    clause_rows = _clause_rows(trace, {**req_rows, **task_row})
    for node in (n for n in trace.nodes if n.kind == "clause"):
        boxes.append(_box(node, 0, clause_rows[node.id], f"{node.detail} · {node.status}", gaps))
    risk_gaps = [
        by_id[g.item] for g in trace.gaps if g.kind == "unmitigated_risk" and g.item in by_id
    ]
    below = max(clause_rows.values(), default=0.0) + 1.5
    boxes += [
        _box(r, 0, below + i, f"{r.status} risk, no mitigation", gaps)
        for i, r in enumerate(risk_gaps)
    ]
    for node in (n for n in trace.nodes if n.kind == "requirement"):
        boxes.append(_box(node, 1, req_rows[node.id], f"{node.key} · {node.detail}", gaps))
    attached = _attached(trace)
    produced: dict[str, list[TraceNode]] = defaultdict(list)
    for edge in trace.edges:
        if edge.kind == "produced" and edge.target in by_id:
            produced[edge.source].append(by_id[edge.target])
    for task in tasks:
        label, listed = _task_label(task, attached[task.id])
        box = _box(task, 2, task_row[task.id], label, gaps)
        tooltip = box.tooltip + (f" — {listed}" if listed else "")
        boxes.append(_replace_tooltip(box, tooltip))
        artifact = _artifact_box(
            task, task_row[task.id], produced[task.id], unproduced.get(task.id)
        )
        if artifact is not None:
            boxes.append(artifact)
    return TraceLayout(_drawing_width(), _drawing_height(boxes), boxes, _edges(trace, boxes))


def _replace_tooltip(box: Box, tooltip: str) -> Box:
    return Box(
        box.x,
        box.y,
        box.width,
        box.title,
        box.label,
        tooltip,
        box.css,
        box.node_id,
        box.gap,
        box.href,
    )


def _drawing_width() -> int:
    return _column_x(len(COLUMNS)) - COL_GAP + PAD


def _drawing_height(boxes: list[Box]) -> int:
    return max(b.y for b in boxes) + NODE_H + PAD


def _edges(trace: TraceMap, boxes: list[Box]) -> list[tuple[str, str]]:
    """Curves from the right of each edge's source to its target's left.

    ``covers``, ``traces`` and ``produced`` are drawn; a clause's ``states`` edge is its place
    under the goal, and the risks and decisions are counts on their tasks.
    """
    at = {b.node_id: b for b in boxes}
    for box in boxes:
        if box.node_id.startswith("artifacts:"):
            at[box.node_id] = box
    drawn: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for edge in trace.edges:
        if edge.kind in ("covers", "traces"):
            target = edge.target
        elif edge.kind == "produced":
            target = f"artifacts:{edge.source.removeprefix('task:')}"
        else:
            continue
        if (edge.source, target) in seen or edge.source not in at or target not in at:
            continue
        seen.add((edge.source, target))
        a, b = at[edge.source], at[target]
        x1, y1, x2, y2 = a.x + a.width, a.y + NODE_H // 2, b.x, b.y + NODE_H // 2
        bend = (x2 - x1) // 2
        drawn.append((edge.kind, f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"))
    return drawn


def _box_svg(box: Box) -> str:
    gap_class = " trace__node--gap" if box.gap else ""
    parts = [
        f'<g class="trace__node {escape(box.css)}{gap_class}" data-node="{escape(box.node_id)}"'
        f' transform="translate({box.x},{box.y})"><title>{escape(box.tooltip)}</title>',
        f'<rect class="trace__box" width="{box.width}" height="{NODE_H}" rx="8"/>',
        f'<text class="trace__title" x="10" y="19">{escape(box.title)}</text>',
        f'<text class="trace__label" x="10" y="36">{escape(box.label)}</text>',
    ]
    if box.gap:
        cx = box.width - 14
        parts.append(
            f'<circle class="trace__gap-badge" cx="{cx}" cy="14" r="8"/>'
            f'<text class="trace__gap-mark" x="{cx}" y="18" text-anchor="middle">!</text>'
        )
    parts.append("</g>")
    body = "".join(parts)
    if box.href:
        return f'<a class="trace__link" href="{escape(box.href)}">{body}</a>'
    return body


def trace_svg(trace: TraceMap, *, label: str = "Traceability map") -> Markup:
    """The map of ``trace`` as an ``<svg>`` element (safe to place in a page as it is)."""
    layout = layout_trace(trace)
    heads = "".join(
        f'<text class="trace__column" x="{_column_x(i)}" y="{PAD + 4}">{escape(name)}</text>'
        for i, (name, _) in enumerate(COLUMNS)
    )
    edges = "".join(
        f'<path class="trace__edge trace__edge--{kind}" d="{path}"/>' for kind, path in layout.edges
    )
    boxes = "".join(_box_svg(box) for box in layout.boxes)
    gaps = len(trace.gaps)
    described = f"{label}: {len(trace.nodes)} items, {gaps} gap{'s' if gaps != 1 else ''}"
    svg = (
        f'<svg class="graph trace" xmlns="http://www.w3.org/2000/svg" width="{layout.width}" '
        f'height="{layout.height}" viewBox="0 0 {layout.width} {layout.height}" role="img" '
        f'aria-label="{escape(described)}" data-testid="trace-graph"><title>{escape(described)}'
        f'</title>{heads}<g class="trace__edges">{edges}</g>{boxes}</svg>'
    )
    # Safe to mark: every text placed above went through ``escape``; paths are numbers.
    return Markup(svg)
