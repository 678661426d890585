"""A :class:`~missionctl.domain.diagrams.Diagram` drawn as a standalone SVG document.

Columns are the diagram's groups, left to right, each titled; a column's boxes are stacked and
centred on the tallest column. A box shows its label, its technology and, when plan tasks build
it, how many (its ``<title>`` tooltip names them); a box without a technology gives its label
two lines (a product flow's step: "Ingest Shopify orders / into a warehouse"). Arrows are curves
from the right side of the source to the left side of the target, or the reverse when the
target's column is to the left, or down the column when both share one; each arrow's label sits
at its middle.

The same SVG serves the page and the exports: every element carries a ``diagram__*`` class,
which the page's stylesheet colours for the light and dark themes, and presentation attributes
with print colours for where no stylesheet applies (an exported HTML or PDF file). It holds no
script, no ``style`` attribute (the page's CSP allows none) and no external reference; every
text is escaped.
"""

import math
from dataclasses import dataclass
from html import escape

from missionctl.domain.diagrams import Component, Connection, Diagram

PAD = 16
HEADER_H = 26
BOX_W = 176
BOX_H = 60
ROW_GAP = 18
COL_GAP = 110
"""The gap between two columns: room for an arrow and its label."""
TIGHT_GAP = 64
"""The gap between two columns when no arrow carries a label (a product flow's)."""
HEAD = 7
"""Length of an arrow's head."""
LANE_H = 14
"""Height of one lane above the boxes, where a connection between distant columns runs."""
LABEL_CHARS = 22
"""Characters of a box's first line (12 px semibold) that fit its width."""
DETAIL_CHARS = 29
EDGE_LABEL_CHARS = 18
EDGE_CHAR_W = 6
"""Width of one character of an arrow's label (10 px) at most, to reserve room for it."""
BULGE = COL_GAP * 0.4
"""How far an arrow between two boxes of one column bulges into the gap on their right."""

# Print colours: what an exported file shows; the page's classes override them.
_INK = "#1f2933"
_MUTED = "#52606d"
_LINE = "#7b8794"
_BOX_FILL = "#f5f7fa"
_BOX_STROKE = "#3e4c59"
_HALO = ' stroke="#ffffff" stroke-width="3" paint-order="stroke"'


@dataclass(frozen=True, slots=True)
class Placed:
    """Where one component's box is drawn (top-left corner)."""

    component: Component
    x: int
    y: int


@dataclass(frozen=True, slots=True)
class Layout:
    """Where everything goes: boxes by key, long connections' lanes, column gap, size."""

    boxes: dict[str, Placed]
    lanes: dict[tuple[str, str], int]
    width: int
    height: int
    gap: int = COL_GAP


def fit(text: str, chars: int) -> str:
    """``text`` on one line of at most ``chars`` characters, ending in "…" when cut.

    The cut falls after a whole word when one ends in the second half of the line.
    """
    flat = " ".join(text.split())
    if len(flat) <= chars:
        return flat
    kept = flat[: chars - 1]
    space = kept.rfind(" ")
    return (kept[:space] if space >= chars // 2 else kept).rstrip(" ,;:-") + "…"


# A line that ends on one of these reads as cut mid-phrase ("Convert CSV files to"): the word
# goes to the next line instead.
_LEADING_WORDS = frozenset(
    {"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "over"}
    | {"the", "to", "via", "with"}
)


def two_lines(text: str, chars: int) -> tuple[str, str]:
    """``text`` on at most two lines of ``chars`` characters; the second is empty when it fits.

    The first line breaks after a whole word (not after "to", "the", …, when an earlier word
    leaves it at least half full); the second ends in "…" when the rest is still too long.
    """
    flat = " ".join(text.split())
    if len(flat) <= chars:
        return flat, ""
    words = flat[: chars + 1].split(" ")[:-1]
    while len(words) > 1 and words[-1].lower() in _LEADING_WORDS:
        if len(" ".join(words[:-1])) < chars // 2:
            break
        words.pop()
    if not words or not words[0]:
        return fit(flat, chars), ""  # one word longer than the line: cut it
    first = " ".join(words)
    return first, fit(flat[len(first) :], chars)


def _routed(diagram: Diagram, column: dict[str, int]) -> list[Connection]:
    """The connections drawn over the top lanes: those not between neighbouring columns."""
    return [
        c
        for c in diagram.connections
        if c.source in column
        and c.target in column
        and column[c.target] - column[c.source] not in (0, 1)
    ]


def place(diagram: Diagram) -> Layout:
    """Every component's box, the lanes of the long connections, and the drawing's size.

    Columns stand :data:`COL_GAP` apart, or :data:`TIGHT_GAP` when there are arrows and none
    has a label to hold (a product flow's), so that more steps fit one screen.
    """
    links = diagram.connections
    gap = TIGHT_GAP if links and not any(c.label for c in links) else COL_GAP
    columns = {g: [c for c in diagram.components if c.group == g] for g in diagram.groups}
    column = {c.key: i for i, members in enumerate(columns.values()) for c in members}
    lanes = {(c.source, c.target): i for i, c in enumerate(_routed(diagram, column))}
    tallest = max((len(members) for members in columns.values()), default=1)
    body_h = tallest * BOX_H + (tallest - 1) * ROW_GAP
    body_top = HEADER_H + PAD + len(lanes) * LANE_H
    placed: dict[str, Placed] = {}
    for index, members in enumerate(columns.values()):
        x = PAD + index * (BOX_W + gap)
        height = len(members) * BOX_H + (len(members) - 1) * ROW_GAP
        top = body_top + (body_h - height) // 2
        for row, component in enumerate(members):
            placed[component.key] = Placed(component, x, top + row * (BOX_H + ROW_GAP))
    width = PAD + len(columns) * BOX_W + max(len(columns) - 1, 0) * gap
    width += _right_margin(diagram, column, len(columns) - 1)
    return Layout(placed, lanes, width, body_top + body_h + PAD, gap)


def _right_margin(diagram: Diagram, column: dict[str, int], last: int) -> int:
    """The room right of the last column: ``PAD``, or what an arrow inside that column needs.

    An arrow between two boxes of one column bulges into the gap on their right, its label
    beyond the bulge; right of the last column that gap is the drawing's margin, which must
    hold them, or the drawing would cut them off.
    """
    inside = [
        c
        for c in diagram.connections
        if c.source != c.target and column.get(c.source) == last == column.get(c.target)
    ]
    if not inside:
        return PAD
    label = max(len(fit(c.label, EDGE_LABEL_CHARS)) for c in inside) * EDGE_CHAR_W
    return math.ceil(BULGE) + 4 + label + PAD


@dataclass(frozen=True, slots=True)
class Route:
    """An arrow: its line, its head's tip and direction (+1 right, -1 left), its label's start."""

    path: str
    tip: tuple[float, float]
    direction: int
    label_at: tuple[float, float]


def _route(source: Placed, target: Placed, lane: int | None) -> Route:
    """The arrow from ``source`` to ``target``; its line stops where its head begins.

    Neighbouring columns are joined by a curve, boxes of one column by a bulge into the gap
    on their right, and any other pair by a line up the gap beside the source, along its lane
    above every box, and down the gap beside the target, so that it never crosses a box. Every
    arrow ends level, so its head is a triangle pointing left or right (drawn as a path: PDF
    renderers ignore SVG markers).
    """
    y1 = source.y + BOX_H // 2
    y2 = target.y + BOX_H // 2
    if source.x == target.x:
        x = source.x + BOX_W
        bulge = x + BULGE
        path = f"M{x},{y1} C{bulge},{y1} {bulge},{y2} {x + HEAD},{y2}"
        return Route(path, (x, y2), -1, (bulge + 4, (y1 + y2) / 2))
    if lane is None:  # the next column to the right
        x1, x2 = source.x + BOX_W, target.x - HEAD
        middle = (x1 + x2) / 2
        path = f"M{x1},{y1} C{middle},{y1} {middle},{y2} {x2},{y2}"
        return Route(path, (target.x, y2), 1, (x1 + 8, y2 - 6))
    forward = target.x > source.x
    offset = 10 + (lane % 4) * 8
    x1 = source.x + BOX_W if forward else source.x
    gap1 = x1 + offset if forward else x1 - offset
    tip = target.x if forward else target.x + BOX_W
    gap2 = target.x - offset if forward else target.x + BOX_W + offset
    lane_y = HEADER_H + PAD + lane * LANE_H
    end = tip - HEAD if forward else tip + HEAD
    path = f"M{x1},{y1} H{gap1} V{lane_y} H{gap2} V{y2} H{end}"
    return Route(path, (tip, y2), 1 if forward else -1, (min(gap1, gap2) + 12, lane_y - 3))


def _head(route: Route) -> str:
    x, y = route.tip
    base = x - route.direction * HEAD
    return (
        f'<path class="diagram__arrow" d="M{x},{y} L{base},{y - 4} L{base},{y + 4} z" '
        f'fill="{_LINE}"/>'
    )


def _box(placed: Placed, describe: str) -> str:
    component = placed.component
    x, y = placed.x, placed.y
    tooltip = (
        f"{component.label} — {component.technology}" if component.technology else component.label
    )
    if component.tasks:
        tooltip += f". Built by: {', '.join(component.tasks)}"
    if component.technology:
        lines = (fit(component.label, LABEL_CHARS), "")
    else:
        lines = two_lines(component.label, LABEL_CHARS)
    parts = [
        f'<g class="diagram__node" data-key="{escape(component.key)}">',
        f"<title>{escape(tooltip)}</title>",
        f'<rect class="diagram__box" x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="8" '
        f'fill="{_BOX_FILL}" stroke="{_BOX_STROKE}" stroke-width="1.5"/>',
        *(
            f'<text class="diagram__label" x="{x + 10}" y="{y + 21 + row * 16}" font-size="12" '
            f'font-weight="600" fill="{_INK}">{escape(line)}</text>'
            for row, line in enumerate(lines)
            if line
        ),
    ]
    if component.technology:
        parts.append(
            f'<text class="diagram__tech" x="{x + 10}" y="{y + 38}" font-size="11" '
            f'fill="{_MUTED}">{escape(fit(component.technology, DETAIL_CHARS))}</text>'
        )
    if component.tasks:
        count = len(component.tasks)
        parts.append(
            f'<text class="diagram__tasks" x="{x + 10}" y="{y + 53}" font-size="10" '
            f'fill="{_MUTED}">{count} {describe}{"" if count == 1 else "s"}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _edge(connection: Connection, layout: Layout, halo: bool) -> str:
    source, target = layout.boxes[connection.source], layout.boxes[connection.target]
    route = _route(source, target, layout.lanes.get((connection.source, connection.target)))
    label_x, label_y = route.label_at
    parts = [
        f'<g class="diagram__link"><title>{escape(source.component.label)} → '
        f"{escape(target.component.label)}"
        f"{': ' + escape(connection.label) if connection.label else ''}</title>",
        f'<path class="diagram__edge" d="{route.path}" fill="none" stroke="{_LINE}" '
        f'stroke-width="1.25"/>',
        _head(route),
    ]
    if connection.label:
        parts.append(
            f'<text class="diagram__edge-label" x="{label_x:.0f}" y="{label_y:.0f}" '
            f'font-size="10" fill="{_MUTED}"{_HALO if halo else ""}>'
            f"{escape(fit(connection.label, EDGE_LABEL_CHARS))}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def render_svg(
    diagram: Diagram,
    *,
    element_id: str = "diagram",
    describe: str = "task",
    font_family: str = "system-ui, sans-serif",
    halo: bool = True,
) -> str:
    """``diagram`` as an SVG document (see the module docstring).

    Args:
        diagram: A sound diagram (``diagram_problems`` finds nothing in it); connections to
            components it lacks are skipped rather than drawn.
        element_id: Prefix of the id inside the SVG (its title's), unique per page when
            several diagrams share one.
        describe: What a box's count counts ("task": "3 tasks").
        font_family: The drawing's font (a PDF needs the name of a font it embeds).
        halo: Outline arrow labels in the background colour, so that a line under a label
            does not cross its letters (PDF renderers that ignore ``paint-order`` would draw
            the outline over the letters instead).
    """
    layout = place(diagram)
    placed, width, height = layout.boxes, layout.width, layout.height
    summary = f"{diagram.title}: " + "; ".join(
        f"{group}: {', '.join(c.label for c in diagram.components if c.group == group)}"
        for group in diagram.groups
    )
    heads = "".join(
        f'<text class="diagram__column" x="{PAD + i * (BOX_W + layout.gap)}" y="{PAD + 8}" '
        f'font-size="11" font-weight="600" fill="{_MUTED}">'
        f"{escape(fit(group, LABEL_CHARS).upper())}</text>"
        for i, group in enumerate(diagram.groups)
    )
    edges = "".join(
        _edge(c, layout, halo)
        for c in diagram.connections
        if c.source in placed and c.target in placed and c.source != c.target
    )
    boxes = "".join(_box(p, describe) for p in placed.values())
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{element_id}-title" font-family="{escape(font_family)}">'
        f'<title id="{element_id}-title">{escape(summary)}</title>'
        f"{heads}{edges}{boxes}</svg>"
    )
