"""Plan rules that a JSON Schema cannot express, checked before a plan is stored.

A plan (``missionctl.schemas.plans.PlanDraft``, or anything shaped like it) is valid when:

- it has between :data:`MIN_TASKS` and :data:`MAX_TASKS` tasks;
- requirement keys are unique;
- its tasks form a DAG: unique keys, every dependency an existing task, no cycles (the rules of
  :func:`missionctl.domain.dag.validate_dag`, with fields named ``tasks.<i>.…``);
- every ``traces`` entry of a task is the key of an existing requirement;
- phase keys are unique, every ``task_keys`` entry of a phase is an existing task, and no task
  is in more than one phase (a task in no phase is allowed).

:func:`validate_plan` reports every problem at once, each naming the offending field by its
position (``tasks.3.traces.0``, ``phases.1.task_keys.2``), so a person or an LLM repair prompt
can fix them all in one pass. This module is pure: it reads any object with the attributes of
the protocols below (a Pydantic model, an ORM row, or the frozen dataclasses defined here).
"""

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from missionctl.domain.dag import Node, validate_dag
from missionctl.errors import Problem, ValidationFailed

__all__ = [
    "MAX_TASKS",
    "MIN_TASKS",
    "PhaseLike",
    "PlanLike",
    "PlanShape",
    "RequirementLike",
    "TaskLike",
    "ensure_valid_plan",
    "next_step_rank",
    "validate_plan",
]

MIN_TASKS = 4
"""Fewest tasks a plan may have (mirrored by ``schemas.plans.MIN_TASKS``)."""

MAX_TASKS = 20
"""Most tasks a plan may have (mirrored by ``schemas.plans.MAX_TASKS``)."""


class TaskLike(Protocol):
    """A plan task as the plan rules see it."""

    @property
    def key(self) -> str:
        """The task's key, unique within its plan."""
        ...

    @property
    def depends_on(self) -> Sequence[str]:
        """Keys of the tasks that must finish first."""
        ...

    @property
    def traces(self) -> Sequence[str]:
        """Keys of the requirements this task serves."""
        ...


class RequirementLike(Protocol):
    """A plan requirement as the plan rules see it."""

    @property
    def key(self) -> str:
        """The requirement's key (``R1``, ``R2``, …), unique within its plan."""
        ...


class PhaseLike(Protocol):
    """A plan phase as the plan rules see it."""

    @property
    def key(self) -> str:
        """The phase's key, unique within its plan."""
        ...

    @property
    def task_keys(self) -> Sequence[str]:
        """Keys of the tasks delivered in this phase."""
        ...


class RiskLike(Protocol):
    """A plan risk as the plan rules see it."""

    @property
    def title(self) -> str:
        """The risk's title."""
        ...

    @property
    def mitigation_tasks(self) -> Sequence[str]:
        """Keys of the tasks that carry out its mitigation."""
        ...


class PlanLike(Protocol):
    """A plan as the plan rules see it."""

    @property
    def requirements(self) -> Sequence[RequirementLike]:
        """The plan's requirements, in order."""
        ...

    @property
    def phases(self) -> Sequence[PhaseLike]:
        """The plan's phases, in order."""
        ...

    @property
    def tasks(self) -> Sequence[TaskLike]:
        """The plan's tasks, in order."""
        ...

    @property
    def risks(self) -> Sequence[RiskLike]:
        """The plan's risks, in order."""
        ...


@dataclass(frozen=True, slots=True)
class TaskShape:
    """A plain :class:`TaskLike`."""

    key: str
    depends_on: Sequence[str] = ()
    traces: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class RequirementShape:
    """A plain :class:`RequirementLike`."""

    key: str


@dataclass(frozen=True, slots=True)
class PhaseShape:
    """A plain :class:`PhaseLike`."""

    key: str
    task_keys: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class RiskShape:
    """A plain :class:`RiskLike`."""

    title: str
    mitigation_tasks: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class PlanShape:
    """A plain :class:`PlanLike`, handy for tests and for plans read from storage."""

    requirements: Sequence[RequirementShape] = ()
    phases: Sequence[PhaseShape] = ()
    tasks: Sequence[TaskShape] = ()
    risks: Sequence[RiskShape] = ()


def validate_plan(plan: PlanLike) -> list[Problem]:
    """Return every semantic problem of ``plan``, or ``[]`` when it may be stored.

    Problems come in this order, each group in input order:

    1. Task count (field ``tasks``) outside :data:`MIN_TASKS`..:data:`MAX_TASKS`.
    2. Duplicate requirement keys (``requirements.<i>.key``), once per repeat.
    3. Task DAG problems from :func:`~missionctl.domain.dag.validate_dag` with
       ``field_prefix="tasks"``: duplicate keys (``tasks.<i>.id``), unknown dependencies and
       self-dependencies (``tasks.<i>.depends_on``), then cycles written in execution order
       (``dependency cycle: a → b → a``).
    4. Traces to unknown requirements (``tasks.<i>.traces.<j>``), with a close-match hint.
    5. Duplicate phase keys (``phases.<i>.key``); unknown tasks in a phase and tasks already
       placed in an earlier phase (``phases.<i>.task_keys.<j>``).
    6. Risks mitigated by unknown tasks (``risks.<i>.mitigation_tasks.<j>``).

    Args:
        plan: The plan to check; only keys and references are read.

    Returns:
        The problems found, deterministic for a given input.
    """
    problems: list[Problem] = []
    tasks = list(plan.tasks)
    if not MIN_TASKS <= len(tasks) <= MAX_TASKS:
        problems.append(
            Problem(
                field="tasks",
                message=(
                    f"a plan needs {MIN_TASKS} to {MAX_TASKS} tasks; this one has {len(tasks)}"
                ),
            )
        )

    requirement_index: dict[str, int] = {}
    for index, requirement in enumerate(plan.requirements):
        if repeat := _repeated_key("requirement", index, requirement.key, requirement_index):
            problems.append(repeat)

    problems.extend(
        validate_dag([Node(task.key, task.depends_on) for task in tasks], field_prefix="tasks")
    )

    known_requirements = list(requirement_index)
    for index, task in enumerate(tasks):
        for position, trace in enumerate(task.traces):
            if trace not in requirement_index:
                problems.append(
                    Problem(
                        field=f"tasks.{index}.traces.{position}",
                        message=unknown_reference(
                            f"task '{task.key}' traces requirement '{trace}'",
                            trace,
                            known_requirements,
                        ),
                    )
                )

    problems.extend(_phase_problems(plan.phases, [task.key for task in tasks]))
    problems.extend(_mitigation_problems(plan.risks, [task.key for task in tasks]))
    return problems


def _mitigation_problems(risks: Sequence[RiskLike], task_keys: list[str]) -> list[Problem]:
    """A risk's mitigation tasks that are not tasks of the plan."""
    known = set(task_keys)
    return [
        Problem(
            field=f"risks.{index}.mitigation_tasks.{position}",
            message=unknown_reference(
                f"risk '{risk.title}' is mitigated by task '{key}'", key, task_keys
            ),
        )
        for index, risk in enumerate(risks)
        for position, key in enumerate(risk.mitigation_tasks)
        if key not in known
    ]


def ensure_valid_plan(plan: PlanLike) -> None:
    """Check ``plan`` with :func:`validate_plan`.

    Raises:
        ValidationFailed: With every problem found, if there is any.
    """
    problems = validate_plan(plan)
    if problems:
        raise ValidationFailed(problems)


def _phase_problems(phases: Sequence[PhaseLike], task_keys: Sequence[str]) -> list[Problem]:
    """Duplicate phase keys, unknown phase members, and tasks placed in two phases."""
    problems: list[Problem] = []
    known_tasks = list(dict.fromkeys(task_keys))
    task_set = set(known_tasks)
    phase_index: dict[str, int] = {}
    placed: dict[str, int] = {}  # task key -> index of the first phase holding it
    for index, phase in enumerate(phases):
        if repeat := _repeated_key("phase", index, phase.key, phase_index):
            problems.append(repeat)
        for position, task_key in enumerate(phase.task_keys):
            field = f"phases.{index}.task_keys.{position}"
            if task_key not in task_set:
                problems.append(
                    Problem(
                        field=field,
                        message=unknown_reference(
                            f"phase '{phase.key}' lists task '{task_key}'", task_key, known_tasks
                        ),
                    )
                )
                continue
            holder = placed.setdefault(task_key, index)
            if holder == index and phase.task_keys.index(task_key) == position:
                continue
            where = "this phase" if holder == index else f"phase '{phases[holder].key}'"
            problems.append(
                Problem(
                    field=field,
                    message=(
                        f"task '{task_key}' is already in {where} (phases.{holder}); "
                        "a task belongs to at most one phase"
                    ),
                )
            )
    return problems


def _repeated_key(noun: str, index: int, key: str, firsts: dict[str, int]) -> Problem | None:
    """The problem of the ``noun`` at ``index`` if another before it has ``key``, else ``None``.

    ``firsts`` maps each key seen so far to the index of its first holder; ``key`` is added
    when new. The problem's field is ``<noun>s.<index>.key``.
    """
    first = firsts.setdefault(key, index)
    if first == index:
        return None
    return Problem(
        field=f"{noun}s.{index}.key",
        message=(
            f"{noun} key '{key}' is already used by {noun}s.{first}; {noun} keys must be unique"
        ),
    )


def unknown_reference(subject: str, value: str, known: Sequence[str]) -> str:
    """``"<subject>, which does not exist"`` plus a did-you-mean hint when one is close."""
    message = f"{subject}, which does not exist"
    close = difflib.get_close_matches(value, list(known), n=1)
    if close:
        message += f"; did you mean '{close[0]}'?"
    return message


_NEXT_STEP_RANK = {"high": 0, "medium": 1, "low": 2}


def next_step_rank(priority: str | None) -> int:
    """Where a next step of ``priority`` goes: high first, then medium (or none), then low."""
    return _NEXT_STEP_RANK.get(priority or "medium", 1)
