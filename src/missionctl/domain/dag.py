"""Workflow DAG rules: validation that reports every problem at once, layers and the ready set.

A workflow is a sequence of steps, each with an ``id`` and the ids it ``depends_on``. Anything
with those two attributes is a :class:`DagNode` (a Pydantic step model, an ORM row, or the
:class:`Node` defined here).

Every algorithm here is iterative, so a chain of thousands of steps cannot hit Python's
recursion limit, and deterministic: the same input gives the same output, in input order.

Problems name the offending field with its position in the input, as ``steps.<index>.<field>``
(``steps.3.id``, ``steps.2.depends_on``), so an adapter can point at the exact line to fix. A
plan's tasks reuse the same rules with ``field_prefix="tasks"`` (``tasks.3.depends_on``).
"""

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from missionctl.domain.states import StepRunStatus
from missionctl.errors import Problem, ValidationFailed

__all__ = [
    "CYCLE_ARROW",
    "DagNode",
    "Node",
    "ensure_valid_dag",
    "ready_set",
    "topological_layers",
    "validate_dag",
]

CYCLE_ARROW = " → "
"""Separator of a cycle path in problem messages: ``"build → test → build"``."""

_DONE = frozenset({StepRunStatus.succeeded, StepRunStatus.skipped})


class DagNode(Protocol):
    """A step of a workflow as the DAG rules see it."""

    @property
    def id(self) -> str:
        """The step's id, unique within its workflow."""
        ...

    @property
    def depends_on(self) -> Sequence[str]:
        """Ids of the steps that must finish before this one may start."""
        ...


@dataclass(frozen=True, slots=True)
class Node:
    """A plain :class:`DagNode`; ``depends_on`` is stored as a tuple."""

    id: str
    depends_on: Sequence[str] = ()

    def __post_init__(self) -> None:
        # A tuple keeps the frozen node hashable and safe from the caller's list.
        object.__setattr__(self, "depends_on", tuple(self.depends_on))


def validate_dag(nodes: Sequence[DagNode], *, field_prefix: str = "steps") -> list[Problem]:
    """Return every problem of a workflow's dependency graph, or ``[]`` when it is a valid DAG.

    Problems of each step come first, step by step in input order: its duplicate id, then its
    bad dependencies in the order it lists them.

    - A duplicate id (field ``steps.<i>.id``), once for each repeat after the first:
      ``step id 'build' is already used by steps.0; step ids must be unique``.
    - An unknown dependency (field ``steps.<i>.depends_on``), with a hint when an existing id
      is close: ``step 'deploy' depends on 'buidl', which does not exist; did you mean
      'build'?``.
    - A self-dependency (field ``steps.<i>.depends_on``): ``step 'build' depends on itself``.

    Then every cycle found by a depth-first search that visits steps in input order and their
    dependents in input order. Each is an elementary cycle written in execution order, first
    step repeated at the end: ``dependency cycle: build → test → build; remove one of these
    dependencies`` (``a → b`` means *b* depends on *a*). Its field is the ``depends_on`` of the
    first step of the path, whose dependency on the last-but-one step closes the cycle. Every
    cycle of the graph goes through at least one such closing dependency, so removing the
    closing dependency of every reported cycle always leaves a DAG.

    For cycle detection a repeated id stands for its first occurrence; unknown dependencies
    and self-dependencies are left out (they are reported on their own), and a dependency
    listed twice counts once.

    Args:
        nodes: The steps, in the order the user wrote them.
        field_prefix: The collection the nodes live in, used in problem fields and messages.
            With ``"tasks"`` (a plan's tasks) fields read ``tasks.3.depends_on`` and messages
            say *task* instead of *step*; a trailing ``s`` is dropped to name one node.

    Returns:
        The problems found, deterministic for a given input; empty when the graph is a DAG.
    """
    noun = field_prefix.removesuffix("s") or field_prefix
    first_index: dict[str, int] = {}
    for index, node in enumerate(nodes):
        first_index.setdefault(node.id, index)
    known = list(first_index)

    problems: list[Problem] = []
    for index, node in enumerate(nodes):
        if first_index[node.id] != index:
            problems.append(
                Problem(
                    field=f"{field_prefix}.{index}.id",
                    message=(
                        f"{noun} id '{node.id}' is already used by "
                        f"{field_prefix}.{first_index[node.id]}; {noun} ids must be unique"
                    ),
                )
            )
        for dependency in _unique(node.depends_on):
            if dependency == node.id:
                problems.append(
                    Problem(
                        field=f"{field_prefix}.{index}.depends_on",
                        message=f"{noun} '{node.id}' depends on itself",
                    )
                )
            elif dependency not in first_index:
                message = f"{noun} '{node.id}' depends on '{dependency}', which does not exist"
                close = difflib.get_close_matches(dependency, known, n=1)
                if close:
                    message += f"; did you mean '{close[0]}'?"
                problems.append(
                    Problem(field=f"{field_prefix}.{index}.depends_on", message=message)
                )

    for cycle in _find_cycles(nodes, first_index):
        problems.append(
            Problem(
                field=f"{field_prefix}.{first_index[cycle[0]]}.depends_on",
                message=(
                    f"dependency cycle: {CYCLE_ARROW.join(cycle)}; remove one of these dependencies"
                ),
            )
        )
    return problems


def ensure_valid_dag(nodes: Sequence[DagNode], *, field_prefix: str = "steps") -> None:
    """Check that ``nodes`` form a valid DAG.

    Args:
        nodes: The steps, in the order the user wrote them.
        field_prefix: Passed to :func:`validate_dag` to name the fields of its problems.

    Raises:
        ValidationFailed: With every problem :func:`validate_dag` finds, if there is any.
    """
    problems = validate_dag(nodes, field_prefix=field_prefix)
    if problems:
        raise ValidationFailed(problems)


def topological_layers(nodes: Sequence[DagNode]) -> list[list[str]]:
    """Group step ids into layers that can run one after the other (Kahn's algorithm).

    Layer 0 holds the steps with no dependencies; layer *k* holds the steps whose last
    dependency is in layer *k - 1*. Every id appears exactly once; within a layer ids keep
    their input order.

    Raises:
        ValidationFailed: If ``nodes`` is not a valid DAG (see :func:`validate_dag`).
    """
    ensure_valid_dag(nodes)
    order = {node.id: index for index, node in enumerate(nodes)}
    remaining = {node.id: len(_unique(node.depends_on)) for node in nodes}
    dependents = _dependents(nodes, order)
    layer = [node.id for node in nodes if remaining[node.id] == 0]
    layers: list[list[str]] = []
    while layer:
        layers.append(layer)
        released: list[str] = []
        for step_id in layer:
            for dependent in dependents[step_id]:
                remaining[dependent] -= 1
                if remaining[dependent] == 0:
                    released.append(dependent)
        layer = sorted(released, key=order.__getitem__)
    return layers


def ready_set(nodes: Sequence[DagNode], statuses: Mapping[str, StepRunStatus]) -> list[str]:
    """Return the ids of the steps whose dependencies are all done and that have not started.

    A step is ready when its own status is ``waiting`` (or it has no status yet) and every
    dependency is ``succeeded`` or ``skipped``. A dependency with no status, or with an id that
    does not exist, is not done, so its dependents are not ready. ``when`` conditions, approval
    and budget checks are the engine's to apply afterwards.

    Args:
        nodes: The workflow's steps (validate them first; this function does not).
        statuses: The current status of each step run, by step id.

    Returns:
        The ready ids in input order, each once.
    """
    ready: list[str] = []
    seen: set[str] = set()
    for node in nodes:
        if node.id in seen:
            continue
        seen.add(node.id)
        if statuses.get(node.id, StepRunStatus.waiting) != StepRunStatus.waiting:
            continue
        if all(statuses.get(dependency) in _DONE for dependency in node.depends_on):
            ready.append(node.id)
    return ready


def _unique(ids: Iterable[str]) -> list[str]:
    """Return ``ids`` without repeats, keeping the first occurrence of each."""
    return list(dict.fromkeys(ids))


def _dependents(nodes: Sequence[DagNode], order: Mapping[str, int]) -> dict[str, list[str]]:
    """Map each known id to the ids depending on it, in input order.

    Only the first occurrence of a repeated id counts; self-dependencies and unknown ids are
    left out.
    """
    dependents: dict[str, list[str]] = {step_id: [] for step_id in order}
    for index, node in enumerate(nodes):
        if order[node.id] != index:
            continue
        for dependency in _unique(node.depends_on):
            if dependency != node.id and dependency in dependents:
                dependents[dependency].append(node.id)
    return dependents


def _find_cycles(nodes: Sequence[DagNode], order: Mapping[str, int]) -> list[list[str]]:
    """Return one elementary cycle per back edge of an iterative depth-first search.

    The search starts from each unvisited step in input order and follows dependency edges
    in execution direction (from a step to the steps depending on it). When it reaches a step
    still on its stack, the stack from that step to the current one, plus that step again, is
    a cycle. Back edges are distinct, so no cycle is reported twice.
    """
    dependents = _dependents(nodes, order)
    on_stack: dict[str, int] = {}  # step id -> its position in ``path``
    finished: set[str] = set()
    path: list[str] = []
    cycles: list[list[str]] = []
    for start in order:
        if start in finished:
            continue
        stack = [(start, iter(dependents[start]))]
        on_stack[start] = 0
        path.append(start)
        while stack:
            step_id, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                del on_stack[step_id]
                finished.add(step_id)
            elif child in on_stack:
                cycles.append([*path[on_stack[child] :], child])
            elif child not in finished:
                on_stack[child] = len(path)
                path.append(child)
                stack.append((child, iter(dependents[child])))
    return cycles
