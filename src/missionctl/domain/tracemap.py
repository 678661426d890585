"""The traceability map: goal → its clauses → requirements → tasks → artifacts, and its gaps.

:func:`build_map` turns plain data (one plan version's goal clauses, requirements, tasks, risks
and decisions, and the artifacts the runs of that version produced, by task) into nodes, edges
and coverage gaps. It is pure: the same data always gives the same map, in the same order.

**Edges** go left to right: ``goal → clause`` (``states``: a feature or constraint the user
wrote, as the plan version stored them), ``clause → requirement`` (``covers``: the requirement
quotes the clause; ``clause → task`` when only a task's acceptance criterion does),
``goal → requirement`` for a requirement no clause leads to (the planner's own standards, or
every requirement of a version stored before clauses were), ``requirement → task``
(``traces``: the task serves the requirement), ``dependency → task`` (``depends_on``),
``task → artifact``
(``produced``), ``risk → task`` (``mitigates`` when the risk names the task as its mitigation,
``concerns`` otherwise) and ``decision → task`` (``concerns``).

**Which tasks a risk or decision concerns** is decided by ``domain.packs.relevant_items``, the
rule the execution pack lists them by: a risk's explicit mitigation tasks when it has them;
otherwise a high or critical risk concerns every task, and any other item the tasks it shares
significant words with.

**Gaps** (:data:`GAP_KINDS`), each with the item and a sentence saying what is missing and the
fix:

- ``dropped_clause``: a clause of the goal that no requirement and no acceptance criterion
  keeps;
- ``untraced_requirement``: a requirement no task traces;
- ``task_traces_nothing``: a task that traces no requirement;
- ``no_artifact``: a task whose step succeeded in a run and produced no artifact (a mission
  that never ran says nothing about artifacts);
- ``unmitigated_risk``: a high or critical risk, not closed, that no task is linked to as its
  mitigation.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from missionctl.domain.packs import Candidate, relevant_items, significant_words

NodeKind = Literal["goal", "clause", "requirement", "task", "artifact", "risk", "decision"]
EdgeKind = Literal["states", "covers", "traces", "depends_on", "produced", "concerns", "mitigates"]
GapKind = Literal[
    "dropped_clause",
    "untraced_requirement",
    "task_traces_nothing",
    "no_artifact",
    "unmitigated_risk",
]
GAP_KINDS: tuple[GapKind, ...] = (
    "dropped_clause",
    "untraced_requirement",
    "task_traces_nothing",
    "no_artifact",
    "unmitigated_risk",
)
SERIOUS_SEVERITIES = frozenset({"high", "critical"})
"""Severities of the risks that need a mitigation task."""
GOAL_KEY = "goal"
NOT_RUN = "not_run"
"""The status of a task no run of the plan version has a step for."""


@dataclass(frozen=True, slots=True)
class TraceClause:
    """A clause of the goal (``kind``: feature or constraint) and what in the plan keeps it.

    ``requirements`` and ``tasks`` are keys (a task keeps it by an acceptance criterion).
    """

    text: str
    kind: str
    requirements: Sequence[str] = ()
    tasks: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class TraceRequirement:
    """A requirement of the plan version."""

    key: str
    text: str
    priority: str = "must"


@dataclass(frozen=True, slots=True)
class TraceTask:
    """A task of the plan version, with its step's status in the newest run that has it.

    ``status`` is :data:`NOT_RUN` when no run has its step; ``succeeded`` is whether its step
    succeeded in any run of the version.
    """

    key: str
    title: str
    description: str = ""
    traces: Sequence[str] = ()
    depends_on: Sequence[str] = ()
    phase: str | None = None
    status: str = NOT_RUN
    succeeded: bool = False


@dataclass(frozen=True, slots=True)
class TraceRisk:
    """A risk; ``linked`` holds the keys of its mitigation tasks, or None when it names none.

    A ``closed`` risk is on the map but needs no mitigation task (it is no gap).
    """

    title: str
    description: str
    severity: str
    linked: Sequence[str] | None = None
    closed: bool = False


@dataclass(frozen=True, slots=True)
class TraceDecision:
    """A decision of the plan version."""

    title: str
    choice: str


@dataclass(frozen=True, slots=True)
class TraceArtifact:
    """An artifact a run's step produced; ``task_key`` is the step's id (a task's key)."""

    id: str
    name: str
    task_key: str
    kind: str = "file"


@dataclass(frozen=True, slots=True)
class TraceInput:
    """Everything the map is built from; ``runs`` counts the runs of the plan version."""

    goal: str
    requirements: Sequence[TraceRequirement]
    tasks: Sequence[TraceTask]
    risks: Sequence[TraceRisk] = ()
    decisions: Sequence[TraceDecision] = ()
    artifacts: Sequence[TraceArtifact] = ()
    runs: int = 0
    clauses: Sequence[TraceClause] = ()


@dataclass(frozen=True, slots=True)
class TraceNode:
    """One box of the map. ``id`` is ``"<kind>:<key>"``, unique in the map.

    ``status``: the goal's is ``goal``; a clause's ``covered`` or ``dropped`` (its ``detail``
    is its kind); a requirement's ``traced`` or ``untraced``; a task's its
    step status or :data:`NOT_RUN`; an artifact's its kind; a risk's its severity; a
    decision's ``recorded``. ``detail`` is the longer text (a requirement's priority, a task's
    phase, a risk's description, a decision's choice).
    """

    kind: NodeKind
    key: str
    label: str
    status: str
    detail: str = ""

    @property
    def id(self) -> str:
        """``"<kind>:<key>"``."""
        return f"{self.kind}:{self.key}"


@dataclass(frozen=True, slots=True)
class TraceEdge:
    """A link between two nodes, by their ids, from the left column to the right one."""

    kind: EdgeKind
    source: str
    target: str


@dataclass(frozen=True, slots=True)
class TraceGap:
    """Something missing: its kind, the node at fault (its id) and what to do about it."""

    kind: GapKind
    item: str
    message: str


@dataclass(frozen=True, slots=True)
class TraceMap:
    """The nodes (goal, requirements, tasks, artifacts, risks, decisions), edges and gaps."""

    nodes: tuple[TraceNode, ...]
    edges: tuple[TraceEdge, ...]
    gaps: tuple[TraceGap, ...]
    ran: bool = field(default=False)

    def node(self, node_id: str) -> TraceNode | None:
        """The node with ``node_id``, or None."""
        return next((n for n in self.nodes if n.id == node_id), None)


def risk_key(position: int) -> str:
    """The key of the plan's ``position``-th risk (from 1): titles may repeat, positions not."""
    return f"risk-{position}"


def decision_key(position: int) -> str:
    """The key of the plan's ``position``-th decision (from 1)."""
    return f"decision-{position}"


def clause_key(position: int) -> str:
    """The key of the goal's ``position``-th clause (from 1)."""
    return f"C{position}"


def build_map(data: TraceInput) -> TraceMap:
    """The traceability map of ``data`` (see the module docstring for its edges and gaps)."""
    traced = {key for task in data.tasks for key in task.traces}
    nodes = [TraceNode("goal", GOAL_KEY, data.goal, "goal")]
    nodes += [
        TraceNode("clause", clause_key(n), c.text, _clause_status(data, c), c.kind)
        for n, c in enumerate(data.clauses, 1)
    ]
    nodes += [
        TraceNode(
            "requirement", r.key, r.text, "traced" if r.key in traced else "untraced", r.priority
        )
        for r in data.requirements
    ]
    nodes += [TraceNode("task", t.key, t.title, t.status, t.phase or "") for t in data.tasks]
    nodes += [TraceNode("artifact", a.id, a.name, a.kind, a.task_key) for a in data.artifacts]
    nodes += [
        TraceNode("risk", risk_key(n), r.title, r.severity, r.description)
        for n, r in enumerate(data.risks, 1)
    ]
    nodes += [
        TraceNode("decision", decision_key(n), d.title, "recorded", d.choice)
        for n, d in enumerate(data.decisions, 1)
    ]
    edges = _clause_edges(data) + _plan_edges(data) + _attachment_edges(data)
    return TraceMap(tuple(nodes), tuple(edges), tuple(find_gaps(data)), ran=data.runs > 0)


def _clause_status(data: TraceInput, clause: TraceClause) -> str:
    return "covered" if _kept_by(data, clause) else "dropped"


def _kept_by(data: TraceInput, clause: TraceClause) -> list[str]:
    """The ids of what keeps ``clause``.

    The plan's requirements that quote it, or else the plan's tasks whose acceptance criteria
    do; keys the plan lacks are ignored.
    """
    requirements = {r.key for r in data.requirements}
    quoting = [f"requirement:{k}" for k in clause.requirements if k in requirements]
    if quoting:
        return quoting
    tasks = {t.key for t in data.tasks}
    return [f"task:{k}" for k in clause.tasks if k in tasks]


def _clause_edges(data: TraceInput) -> list[TraceEdge]:
    """``states`` edges to each clause, then ``covers`` edges from it to what keeps it."""
    edges: list[TraceEdge] = []
    for n, clause in enumerate(data.clauses, 1):
        source = f"clause:{clause_key(n)}"
        edges.append(TraceEdge("states", f"goal:{GOAL_KEY}", source))
        edges += [TraceEdge("covers", source, target) for target in _kept_by(data, clause)]
    return edges


def _plan_edges(data: TraceInput) -> list[TraceEdge]:
    """``traces``, ``depends_on`` and ``produced`` edges; links to unknown keys are dropped.

    The goal traces straight to each requirement no clause leads to.
    """
    requirements = {r.key for r in data.requirements}
    tasks = {t.key for t in data.tasks}
    from_clause = {key for clause in data.clauses for key in clause.requirements}
    edges = [
        TraceEdge("traces", f"goal:{GOAL_KEY}", f"requirement:{r.key}")
        for r in data.requirements
        if r.key not in from_clause
    ]
    for task in data.tasks:
        edges += [
            TraceEdge("traces", f"requirement:{key}", f"task:{task.key}")
            for key in task.traces
            if key in requirements
        ]
        edges += [
            TraceEdge("depends_on", f"task:{key}", f"task:{task.key}")
            for key in task.depends_on
            if key in tasks
        ]
    edges += [
        TraceEdge("produced", f"task:{a.task_key}", f"artifact:{a.id}")
        for a in data.artifacts
        if a.task_key in tasks
    ]
    return edges


def _attachment_edges(data: TraceInput) -> list[TraceEdge]:
    """``mitigates`` and ``concerns`` edges from risks and decisions to the tasks they concern.

    One rule decides, ``domain.packs.relevant_items`` (the execution pack's), so the map and
    a task's pack file always list the same risks and decisions.
    """
    words = significant_words([f"{t.title}. {t.description}" for t in data.tasks])
    risks = [Candidate(f"{r.title}. {r.description}", r.severity, r.linked) for r in data.risks]
    decisions = [Candidate(f"{d.title}. {d.choice}") for d in data.decisions]
    edges: list[TraceEdge] = []
    for task, task_words in zip(data.tasks, words, strict=True):
        for n in relevant_items(task.key, task_words, risks):
            kind: EdgeKind = "mitigates" if data.risks[n].linked is not None else "concerns"
            edges.append(TraceEdge(kind, f"risk:{risk_key(n + 1)}", f"task:{task.key}"))
        edges += [
            TraceEdge("concerns", f"decision:{decision_key(n + 1)}", f"task:{task.key}")
            for n in relevant_items(task.key, task_words, decisions)
        ]
    return edges


def find_gaps(data: TraceInput) -> list[TraceGap]:
    """The map's coverage gaps, in the order of :data:`GAP_KINDS`, then of the plan."""
    traced = {key for task in data.tasks for key in task.traces}
    requirements = {r.key for r in data.requirements}
    task_keys = {t.key for t in data.tasks}
    produced = {a.task_key for a in data.artifacts}
    gaps = [
        TraceGap(
            "dropped_clause",
            f"clause:{clause_key(n)}",
            f"The goal says “{c.text}”, and no requirement or acceptance criterion keeps it: "
            "add a requirement that quotes it, or reword the goal and plan again.",
        )
        for n, c in enumerate(data.clauses, 1)
        if not _kept_by(data, c)
    ]
    gaps += [
        TraceGap(
            "untraced_requirement",
            f"requirement:{r.key}",
            f"Requirement {r.key} is traced by no task: add a task that traces {r.key}, or add "
            f"{r.key} to the traces of the task that delivers it.",
        )
        for r in data.requirements
        if r.key not in traced
    ]
    gaps += [
        TraceGap(
            "task_traces_nothing",
            f"task:{t.key}",
            f"Task {t.key} traces no requirement: add the requirement it serves to its traces, "
            "or drop the task if nothing needs it.",
        )
        for t in data.tasks
        if not requirements.intersection(t.traces)
    ]
    # Without a run nothing could have been produced yet: no artifact gap before the first run.
    gaps += [
        TraceGap(
            "no_artifact",
            f"task:{t.key}",
            f"Task {t.key} succeeded but produced no artifact: check that its agent returns "
            "what the task's expected artifacts name, then run the mission again.",
        )
        for t in data.tasks
        if data.runs and t.succeeded and t.key not in produced
    ]
    gaps += [
        _risk_gap(n, risk, task_keys)
        for n, risk in enumerate(data.risks, 1)
        if risk.severity in SERIOUS_SEVERITIES
        and not risk.closed
        and not task_keys.intersection(risk.linked or ())
    ]
    return gaps


def _risk_gap(position: int, risk: TraceRisk, task_keys: set[str]) -> TraceGap:
    """The gap of a high or critical risk that has no mitigation task in the plan."""
    if risk.linked is None:
        missing = "no task is linked to it as its mitigation"
    elif risk.linked:
        missing = "none of its mitigation tasks is in the plan"
    else:
        missing = "its list of mitigation tasks is empty"
    return TraceGap(
        "unmitigated_risk",
        f"risk:{risk_key(position)}",
        f"The {risk.severity} risk “{risk.title}” has no mitigation task ({missing}): link the "
        "task that mitigates it, or add one.",
    )


def focus(trace: TraceMap, requirement: str) -> TraceMap:
    """The part of ``trace`` on the path of ``requirement``.

    Kept: the goal, the clauses that lead to the requirement, the requirement, the tasks that
    trace it, their artifacts and the risks and decisions attached to them, the edges between
    kept nodes, and the gaps of kept nodes.

    Raises:
        KeyError: ``trace`` has no such requirement.
    """
    start = f"requirement:{requirement}"
    if trace.node(start) is None:
        raise KeyError(requirement)
    tasks = {e.target for e in trace.edges if e.kind == "traces" and e.source == start}
    attached = {
        e.target if e.source in tasks else e.source
        for e in trace.edges
        if (e.kind == "produced" and e.source in tasks)
        or (e.kind in ("concerns", "mitigates") and e.target in tasks)
    }
    clauses = {e.source for e in trace.edges if e.kind == "covers" and e.target == start}
    kept = {f"goal:{GOAL_KEY}", start} | clauses | tasks | attached
    return TraceMap(
        tuple(n for n in trace.nodes if n.id in kept),
        tuple(e for e in trace.edges if e.source in kept and e.target in kept),
        tuple(g for g in trace.gaps if g.item in kept),
        ran=trace.ran,
    )
