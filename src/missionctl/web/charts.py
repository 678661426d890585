"""Charts drawn on the server as SVG: costs, a run's timeline, the insights cockpit's trends.

No chart library and nothing from another host: each function returns the ``<svg>`` element as
``Markup``, and every text in it (labels, tooltips) passes through ``markupsafe.escape``, so a
step id or a model name holding ``<script>`` or quotes is shown, never run. Colours come from
classes styled in ``static/css/app.css`` (the page's CSP allows no inline style). Sizes are in
SVG user units, and text is scaled with the drawing: so that a label is drawn at the size the
stylesheet gives it (a little below the body's), a cost chart is drawn as wide as the card it
usually sits in and shown at that size (``width`` in pixels), smaller only in a narrower card;
on a narrow screen the chart keeps a readable least width and scrolls inside its frame
(``.chart-frame`` in ``app.css``). A trend chart fills its panel instead. A chart of nothing
spent says so rather than draw an empty frame or a made-up scale.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from markupsafe import Markup, escape

from missionctl.domain.money import usd_text
from missionctl.schemas.analytics import TrendItem, TrendsAnswer
from missionctl.schemas.costs import CostBucket, CostLine
from missionctl.schemas.dashboard import TaskView

WIDTH = 720
BARS_WIDTH = 540
"""Width of the horizontal bar charts: they sit in half a row of cards (``.cost-grid``)."""
LABEL_W = 200
"""Width of the label column of horizontal bars and of the timeline."""
ROW_H = 22
BAR_H = 14
LABEL_CHARS = 28
_TIME_H = 180


def _money(usd: float) -> str:
    return usd_text(usd)


def _short(text: str, chars: int = LABEL_CHARS) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _svg(
    height: int, label: str, body: list[str], testid: str, *, width: int | None = WIDTH
) -> Markup:
    """The ``<svg>`` of a drawing ``WIDTH`` (or ``width``) units wide, in its frame.

    A ``width`` is also the size it is shown at, one unit a pixel, so that its text is as large
    as the stylesheet says (the frame scales it down only when it is narrower); ``None`` fills
    the frame, text scaled with it (a trend chart).
    """
    units = width or WIDTH
    shown = "100%" if width is None else str(width)
    head = (
        f'<div class="chart-frame"><svg class="chart" viewBox="0 0 {units} {height}" '
        f'width="{shown}" role="img" preserveAspectRatio="xMinYMin meet" '
        f'data-testid="{escape(testid)}" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>"
    )
    # Safe to mark: every text placed above went through ``escape``.
    return Markup(head + "".join(body) + "</svg></div>")


def cost_over_time(buckets: Sequence[CostBucket], *, bucket: str) -> Markup:
    """Vertical bars, one per UTC hour or day, their height the bucket's spend.

    The first and last bucket's start label the axis; each bar's tooltip gives its start and
    its spend. When nothing was spent the chart says so in place of a scale.
    """
    spent = max((b.cost_usd for b in buckets), default=0.0)
    top = spent or 1.0
    plot_w, plot_h = WIDTH - 80, _TIME_H - 40
    step = plot_w / max(len(buckets), 1)
    fmt = "%Y-%m-%d %H:00" if bucket == "hour" else "%Y-%m-%d"
    body = [
        f'<line class="chart__axis" x1="70" y1="{plot_h + 10}" x2="{WIDTH - 10}" '
        f'y2="{plot_h + 10}"/>',
        f'<text class="chart__tick" x="66" y="16" text-anchor="end">{escape(_money(top))}</text>'
        if spent
        else f'<text class="chart__tick chart__empty" x="{(70 + WIDTH - 10) // 2}" '
        f'y="{plot_h // 2 + 10}" text-anchor="middle">Nothing spent in this range</text>',
    ]
    for i, b in enumerate(buckets):
        height = round(plot_h * b.cost_usd / top, 1)
        x = round(70 + i * step, 1)
        tokens = b.input_tokens + b.output_tokens
        tip = f"{b.start:{fmt}} UTC: {_money(b.cost_usd)}, {tokens} tokens"
        body.append(
            f'<rect class="chart__bar" data-bucket="{escape(b.start.isoformat())}" x="{x}" '
            f'y="{plot_h + 10 - height}" width="{max(round(step - 1, 1), 1)}" '
            f'height="{height}"><title>{escape(tip)}</title></rect>'
        )
    if buckets:
        first, last = f"{buckets[0].start:{fmt}}", f"{buckets[-1].start:{fmt}}"
        body.append(f'<text class="chart__tick" x="70" y="{_TIME_H - 8}">{escape(first)}</text>')
        body.append(
            f'<text class="chart__tick" x="{WIDTH - 10}" y="{_TIME_H - 8}" '
            f'text-anchor="end">{escape(last)}</text>'
        )
    label = f"Cost per {bucket} (UTC)"
    return _svg(_TIME_H, label, body, "cost-over-time")


def cost_bars(lines: Sequence[CostLine], *, title: str, testid: str) -> Markup:
    """Horizontal bars, one per line (an agent, a model…), their length the line's spend.

    No lines draw nothing: the table beside the chart says "Nothing spent".
    """
    if not lines:
        return Markup("")
    top = max((line.cost_usd for line in lines), default=0.0) or 1.0
    plot_w = BARS_WIDTH - LABEL_W - 110
    body = []
    for i, line in enumerate(lines):
        y = 6 + i * ROW_H
        length = round(plot_w * line.cost_usd / top, 1)
        tip = (
            f"{line.label}: {_money(line.cost_usd)}, {line.input_tokens} tokens in, "
            f"{line.output_tokens} out, {line.steps} steps"
        )
        body.append(
            f'<g class="chart__row" data-key="{escape(line.key)}"><title>{escape(tip)}</title>'
            f'<text class="chart__label" x="{LABEL_W - 8}" y="{y + BAR_H - 3}" '
            f'text-anchor="end">{escape(_short(line.label))}</text>'
            f'<rect class="chart__bar" x="{LABEL_W}" y="{y}" width="{max(length, 1)}" '
            f'height="{BAR_H}"/>'
            f'<text class="chart__value" x="{LABEL_W + max(length, 1) + 6}" '
            f'y="{y + BAR_H - 3}">{escape(_money(line.cost_usd))}</text></g>'
        )
    return _svg(len(lines) * ROW_H + 12, title, body, testid, width=BARS_WIDTH)


def _seconds(start: datetime, moment: datetime) -> float:
    return (moment - start).total_seconds()


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def timeline_runs_to_now(tasks: Sequence[TaskView]) -> bool:
    """Whether ``timeline(tasks, now=...)`` depends on ``now``: a step started and has not ended."""
    return any(t.started_at is not None and t.ended_at is None for t in tasks)


def timeline(tasks: Sequence[TaskView], *, now: datetime) -> Markup:
    """A Gantt chart: one row per started step, a bar from its start to its end (or ``now``).

    Bars take their step's status class; each row has the step's key and its duration, and a
    tooltip with both. Rows are a fixed height, so 50 or 500 steps stay readable (the card
    scrolls).
    """
    started = [t for t in tasks if t.started_at is not None]
    if not started:
        return Markup("")
    origin = min(t.started_at for t in started if t.started_at is not None)
    ends = [t.ended_at or now for t in started]
    span = max(max(_seconds(origin, end) for end in ends), 0.001)
    plot_w = WIDTH - LABEL_W - 90
    body = [
        f'<text class="chart__tick" x="{LABEL_W}" y="12">0 s</text>',
        f'<text class="chart__tick" x="{LABEL_W + plot_w}" y="12" '
        f'text-anchor="end">{escape(_duration(span))}</text>',
    ]
    for i, (task, end) in enumerate(zip(started, ends, strict=True)):
        assert task.started_at is not None  # kept above
        y = 20 + i * ROW_H
        x = LABEL_W + round(plot_w * _seconds(origin, task.started_at) / span, 1)
        length = max(round(plot_w * _seconds(task.started_at, end) / span, 1), 2)
        took = _duration(_seconds(task.started_at, end))
        status = task.status.value if task.status else "pending"
        tip = f"{task.key} ({status}): {took}"
        body.append(
            f'<g class="chart__row" data-step="{escape(task.key)}"><title>{escape(tip)}</title>'
            f'<text class="chart__label" x="{LABEL_W - 8}" y="{y + BAR_H - 3}" '
            f'text-anchor="end">{escape(_short(task.key))}</text>'
            f'<rect class="chart__span chart__span--{escape(status)}" x="{x}" y="{y}" '
            f'width="{length}" height="{BAR_H}"/>'
            f'<text class="chart__value" x="{x + length + 6}" y="{y + BAR_H - 3}">'
            f"{escape(took)}</text></g>"
        )
    return _svg(len(started) * ROW_H + 28, "Step timeline", body, "run-timeline")


# --- trends (the insights cockpit) ----------------------------------------------------------

_TREND_H = 210
_PLOT_TOP = 34
_PLOT_BOTTOM = _TREND_H - 34
_PLOT_LEFT = 74
_PLOT_RIGHT = WIDTH - 74


@dataclass(frozen=True, slots=True)
class Series:
    """One metric drawn over the buckets: bars on the left axis, or a line on either axis."""

    label: str
    unit: str
    values: Sequence[float | None]
    kind: Literal["bar", "line"] = "line"
    axis: Literal["left", "right"] = "left"
    previous: bool = False
    """The same metric over the range before: drawn dashed and grey, whatever its place."""

    def tone(self, n: int) -> str:
        """The class suffix that colours the ``n``-th series."""
        return "before" if self.previous else str(n)


def _format(value: float, unit: str) -> str:
    if unit == "ratio":
        return f"{value * 100:.0f}%"
    if unit == "usd":
        return _money(value)
    if unit == "seconds":
        return _duration(value)
    return f"{value:,.0f}"


def _top(series: Sequence[Series], axis: str) -> float:
    values = [v for s in series if s.axis == axis for v in s.values if v is not None]
    if series and all(s.unit == "ratio" for s in series if s.axis == axis) and values:
        return 1.0
    return max(values, default=0.0) or 1.0


def _y(value: float, top: float) -> float:
    return round(_PLOT_BOTTOM - (_PLOT_BOTTOM - _PLOT_TOP) * value / top, 1)


def _line_paths(points: list[tuple[float, float] | None]) -> list[str]:
    """Polyline point lists, broken where a bucket has no value (not drawn as zero)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        else:
            runs[-1].append(point)
    return [" ".join(f"{x},{y}" for x, y in run) for run in runs if run]


def _legend(series: Sequence[Series]) -> list[str]:
    body, x = [], _PLOT_LEFT
    for i, s in enumerate(series):
        mark = "bar" if s.kind == "bar" else f"line--{s.tone(i)}"
        side = " (right axis)" if s.axis == "right" else ""
        text = f"{s.label}{side}"
        body.append(
            f'<rect class="chart__key chart__{mark}" x="{x}" y="6" width="12" height="12"/>'
            f'<text class="chart__tick" x="{x + 17}" y="16">{escape(text)}</text>'
        )
        x += 40 + 7 * len(text)
    return body


def _axes(series: Sequence[Series], labels: Sequence[str], caption: str) -> list[str]:
    left, right = _top(series, "left"), _top(series, "right")
    left_unit = next(s.unit for s in series if s.axis == "left")
    body = [
        f'<line class="chart__axis" x1="{_PLOT_LEFT}" y1="{_PLOT_BOTTOM}" x2="{_PLOT_RIGHT}" '
        f'y2="{_PLOT_BOTTOM}"/>',
        f'<text class="chart__tick" x="{_PLOT_LEFT - 6}" y="{_PLOT_TOP + 4}" '
        f'text-anchor="end">{escape(_format(left, left_unit))}</text>',
        f'<text class="chart__tick" x="{_PLOT_LEFT - 6}" y="{_PLOT_BOTTOM}" '
        f'text-anchor="end">0</text>',
    ]
    right_unit = next((s.unit for s in series if s.axis == "right"), None)
    if right_unit is not None:
        body.append(
            f'<text class="chart__tick" x="{_PLOT_RIGHT + 6}" y="{_PLOT_TOP + 4}">'
            f"{escape(_format(right, right_unit))}</text>"
        )
    if labels:
        ends = [(labels[0], _PLOT_LEFT, "start"), (labels[-1], _PLOT_RIGHT, "end")]
        for text, x, anchor in ends[: 1 if len(labels) == 1 else 2]:
            body.append(
                f'<text class="chart__tick" x="{x}" y="{_PLOT_BOTTOM + 16}" '
                f'text-anchor="{anchor}">{escape(text)}</text>'
            )
    body.append(
        f'<text class="chart__tick chart__caption" x="{(_PLOT_LEFT + _PLOT_RIGHT) // 2}" '
        f'y="{_TREND_H - 4}" text-anchor="middle">{escape(caption)}</text>'
    )
    return body


def _bucket_marks(series: Sequence[Series], labels: Sequence[str]) -> list[str]:
    """Each bucket's bars and line dots, each with a tooltip naming the bucket and the value."""
    step = (_PLOT_RIGHT - _PLOT_LEFT) / max(len(labels), 1)
    tops = {"left": _top(series, "left"), "right": _top(series, "right")}
    body: list[str] = []
    for i, label in enumerate(labels):
        x = _PLOT_LEFT + i * step
        parts = []
        for n, s in enumerate(series):
            value = s.values[i]
            shown = "no value" if value is None else _format(value, s.unit)
            tip = f"{label} (UTC): {s.label} {shown}"
            if s.kind == "bar":
                y = _y(value or 0, tops[s.axis])
                parts.append(
                    f'<rect class="chart__bar" x="{round(x + 1, 1)}" y="{y}" '
                    f'width="{max(round(step - 2, 1), 1)}" height="{round(_PLOT_BOTTOM - y, 1)}">'
                    f"<title>{escape(tip)}</title></rect>"
                )
            elif value is not None:
                cx, cy = round(x + step / 2, 1), _y(value, tops[s.axis])
                parts.append(
                    f'<circle class="chart__dot chart__dot--{s.tone(n)}" cx="{cx}" cy="{cy}" '
                    f'r="2.5"><title>{escape(tip)}</title></circle>'
                )
        body.append(f'<g class="chart__bucket" data-bucket="{escape(label)}">{"".join(parts)}</g>')
    return body


def trend_chart(
    series: Sequence[Series], *, labels: Sequence[str], title: str, caption: str, testid: str
) -> Markup:
    """Bars and lines over the buckets ``labels`` (oldest first), with a legend and two axes.

    Bars grow from zero on the left axis; lines break where a bucket has no value (a day
    without ended runs has no success rate, which is not 0 %). Ratios run from 0 to 100 %.
    Every mark has a tooltip with its bucket and value; the axis names the buckets' UTC days
    or weeks.
    """
    step = (_PLOT_RIGHT - _PLOT_LEFT) / max(len(labels), 1)
    tops = {"left": _top(series, "left"), "right": _top(series, "right")}
    body = _legend(series) + _axes(series, labels, caption)
    for n, s in enumerate(series):
        if s.kind != "line":
            continue
        points = [
            None if v is None else (round(_PLOT_LEFT + (i + 0.5) * step, 1), _y(v, tops[s.axis]))
            for i, v in enumerate(s.values)
        ]
        for path in _line_paths(points):
            body.append(f'<polyline class="chart__line chart__line--{s.tone(n)}" points="{path}"/>')
    body += _bucket_marks(series, labels)
    return _svg(_TREND_H, title, body, testid, width=None)


def _aligned(previous: Sequence[TrendItem] | None, buckets: int) -> list[TrendItem | None] | None:
    """The range before's buckets matched to this range's by position (``None``: no comparison).

    Both ranges have as many days; by ISO week one may touch a week more than the other.
    """
    if previous is None:
        return None
    return [previous[i] if i < len(previous) else None for i in range(buckets)]


def _earlier(
    label: str, unit: str, before: list[TrendItem | None] | None, field: str
) -> list[Series]:
    """A line of ``field`` over the range before, on the same axis; none unless compared."""
    if before is None:
        return []
    values = [None if b is None else getattr(b, field) for b in before]
    return [Series(label, unit, values, previous=True)]


def trend_charts(answer: TrendsAnswer) -> dict[str, Markup]:
    """The cockpit's five trend charts of ``answer``, by name."""
    items = answer.items
    labels = [item.bucket for item in items]
    weekly = answer.meta.grain == "week"
    caption = "ISO weeks, UTC (Monday to Sunday)" if weekly else "UTC days"
    before = _aligned(answer.previous, len(items))
    specs: dict[str, tuple[str, list[Series]]] = {
        "runs": (
            "Runs started and run success rate",
            [
                Series("Runs started", "runs", [i.runs_started for i in items], "bar"),
                Series("Success rate", "ratio", [i.success_rate for i in items], axis="right"),
                *_earlier("Runs started, the range before", "runs", before, "runs_started"),
            ],
        ),
        "cost": (
            "Cost and tokens",
            [
                Series("Cost", "usd", [i.cost_usd for i in items], "bar"),
                Series("Tokens", "tokens", [i.tokens for i in items], axis="right"),
            ],
        ),
        "outcomes": (
            "Tasks built and tasks documented",
            [
                Series("Tasks built", "tasks", [i.tasks_built for i in items], "bar"),
                Series("Tasks documented", "tasks", [i.tasks_documented for i in items]),
            ],
        ),
        "users": (
            "Active users",
            [
                Series("Active users", "users", [i.active_users for i in items], "bar"),
                *_earlier("Active users, the range before", "users", before, "active_users"),
            ],
        ),
        "durations": (
            "Run duration, median and 95th percentile",
            [
                Series("Median", "seconds", [i.duration_p50_s for i in items]),
                Series("95th percentile", "seconds", [i.duration_p95_s for i in items]),
            ],
        ),
    }
    return {
        name: trend_chart(
            series, labels=labels, title=title, caption=caption, testid=f"trend-{name}"
        )
        for name, (title, series) in specs.items()
    }
