"""The traceability map as tables: the goal's clauses, then the requirements.

The clause table lists what keeps each clause of the goal; the requirement table has one row
per requirement, with its tasks and their artifacts. The page shows them beside the graph
(``web/trace_graph.py``): what the graph groups or shortens, the tables list in full. Tasks
that trace no requirement come last, in a row of their own.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from missionctl.domain.tracemap import TraceMap, TraceNode


@dataclass(frozen=True, slots=True)
class TaskCell:
    """A task of a row, with its artifacts and the risks and decisions attached to it."""

    task: TraceNode
    artifacts: list[TraceNode]
    attached: list[TraceNode]
    gaps: list[str]


@dataclass(frozen=True, slots=True)
class RequirementRow:
    """A requirement (None: the tasks that trace none), its tasks and its gaps' messages."""

    requirement: TraceNode | None
    tasks: list[TaskCell] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ClauseRow:
    """A clause of the goal, the requirements or tasks that keep it, and its gap's message."""

    clause: TraceNode
    kept_by: list[TraceNode]
    gaps: list[str]


def clause_rows(trace: TraceMap) -> list[ClauseRow]:
    """The clauses of ``trace``'s goal in the goal's order (none for a version without them)."""
    by_id = {n.id: n for n in trace.nodes}
    kept_by: dict[str, list[TraceNode]] = defaultdict(list)
    for edge in trace.edges:
        if edge.kind == "covers" and edge.target in by_id:
            kept_by[edge.source].append(by_id[edge.target])
    gaps: dict[str, list[str]] = defaultdict(list)
    for gap in trace.gaps:
        gaps[gap.item].append(gap.message)
    return [
        ClauseRow(node, kept_by[node.id], gaps[node.id])
        for node in trace.nodes
        if node.kind == "clause"
    ]


def trace_rows(trace: TraceMap) -> list[RequirementRow]:
    """The rows of ``trace``'s table, requirements in plan order, tasks in plan order within."""
    by_id = {n.id: n for n in trace.nodes}
    gaps: dict[str, list[str]] = defaultdict(list)
    for gap in trace.gaps:
        gaps[gap.item].append(gap.message)
    produced: dict[str, list[TraceNode]] = defaultdict(list)
    attached: dict[str, list[TraceNode]] = defaultdict(list)
    traced_by: dict[str, list[str]] = defaultdict(list)
    for edge in trace.edges:
        if edge.kind == "produced" and edge.target in by_id:
            produced[edge.source].append(by_id[edge.target])
        elif edge.kind in ("concerns", "mitigates") and edge.source in by_id:
            attached[edge.target].append(by_id[edge.source])
        elif edge.kind == "traces" and edge.source.startswith("requirement:"):
            traced_by[edge.source].append(edge.target)

    def cell(task_id: str) -> TaskCell:
        return TaskCell(by_id[task_id], produced[task_id], attached[task_id], gaps[task_id])

    rows = [
        RequirementRow(node, [cell(t) for t in traced_by[node.id] if t in by_id], gaps[node.id])
        for node in trace.nodes
        if node.kind == "requirement"
    ]
    tracing = {t for targets in traced_by.values() for t in targets}
    orphans = [cell(n.id) for n in trace.nodes if n.kind == "task" and n.id not in tracing]
    if orphans:
        rows.append(RequirementRow(None, orphans))
    return rows
