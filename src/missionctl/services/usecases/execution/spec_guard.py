"""The spec guard in admission: risky work waits for an approved, fresh mini-spec (ADR 0066).

A ready step is *guarded* when it implements a plan task the spec policy marks
(``domain.specs``): a ``coding:*`` step or one in the implementation phase, whose task is
``inputs.task_key`` or, when the run's plan has a task of that key, its own id; or a
``git:merge`` step whose upstream coding step changed a path a rule set's globs match. A
guarded step whose task has no fresh approved spec is *held*: it stays ``waiting`` with the
reason in ``hold_reason`` (``step.held``), is never queued and so never dispatched. A decision
on a spec admits the mission's held steps again (``services.usecases.specs``); those whose task is
now approved are released (``step.released``) and admitted normally, approval gates included.

The guard reads the task's specs under the mission's spec lock, shared
(``repositories.specs.share_mission_specs``); a decision takes it exclusively, so a decision
committed meanwhile is either seen here or sees the step this holds.
"""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from missionctl.domain import events as ev
from missionctl.domain.specs import (
    MERGE_AGENT,
    Mark,
    SpecGuard,
    SpecState,
    implements_work,
    mark_summary,
    path_marks,
    spec_block,
    task_for_step,
    task_marks,
)
from missionctl.domain.workflows import StepDef, WorkflowDag
from missionctl.eventlog import NewEvent
from missionctl.repositories import execution as repo
from missionctl.repositories import specs as spec_repo
from missionctl.services.usecases.execution.types import ENGINE_ACTOR, Tick


def is_candidate(step: StepDef) -> bool:
    """Whether the guard may hold ``step`` (so the step cannot take the plain fast path)."""
    return step.agent == MERGE_AGENT or implements_work(step.agent, step.phase)


class RunTasks:
    """A run's plan tasks by key, read once per admission."""

    def __init__(self) -> None:
        self._tasks: dict[uuid.UUID, Mapping[str, Mapping[str, Any]]] = {}

    def of(self, session: Session, run_id: uuid.UUID) -> Mapping[str, Mapping[str, Any]]:
        """The tasks of the plan the run implements, by key (empty without a plan)."""
        if run_id not in self._tasks:
            tasks = spec_repo.read_run_plan_tasks(session, run_id=run_id)
            self._tasks[run_id] = {str(t.get("key")): t for t in tasks if t.get("key")}
        return self._tasks[run_id]


def spec_hold(
    session: Session,
    state: Tick,
    *,
    run_id: uuid.UUID,
    mission_id: uuid.UUID | None,
    step: StepDef,
    inputs: Mapping[str, Any],
    dag: WorkflowDag,
    tasks: RunTasks,
) -> str | None:
    """Why ``step`` must wait for a mini-spec, or ``None`` when it may be admitted."""
    if not is_candidate(step):
        return None
    guard = state.specs
    if step.agent == MERGE_AGENT:
        found = _merge_marks(session, guard, run_id, inputs, dag, tasks)
    else:
        found = _task_marks(session, guard, run_id, step.id, inputs, tasks)
    if found is None:
        return None
    key, marks = found
    return _block(session, state, guard, mission_id, key, marks)


def _task_marks(
    session: Session,
    guard: SpecGuard,
    run_id: uuid.UUID,
    step_id: str,
    inputs: Mapping[str, Any],
    tasks: RunTasks,
) -> tuple[str, list[Mark]] | None:
    plan = tasks.of(session, run_id)
    key = task_for_step(step_id, inputs, plan.keys())
    task = plan.get(key) if key is not None else None
    if key is None or task is None:
        return None
    marks = task_marks(
        guard.policy,
        title=str(task.get("title") or ""),
        description=str(task.get("description") or ""),
        role=str(task.get("role") or ""),
    )
    return (key, marks) if marks else None


def _merge_marks(
    session: Session,
    guard: SpecGuard,
    run_id: uuid.UUID,
    inputs: Mapping[str, Any],
    dag: WorkflowDag,
    tasks: RunTasks,
) -> tuple[str, list[Mark]] | None:
    """The marks of the paths a merge's upstream coding step changed, with that step's task."""
    upstream = inputs.get("step")
    if not isinstance(upstream, str) or upstream not in dag.steps:
        return None
    # A review loop's merge brings in every step of its chain (``inputs.chain``), not only
    # the last one's own changes.
    chain = inputs.get("chain")
    named = (
        [upstream, *(s for s in chain if isinstance(s, str))]
        if isinstance(chain, list)
        else [upstream]
    )
    found = repo.read_step_outputs(session, run_id=run_id, step_ids=named)
    changed = [
        path
        for _, outputs in found.values()
        if isinstance(files := outputs.get("files_changed"), list)
        for path in files
    ]
    marks = path_marks(guard.policy, changed)
    if not marks:
        return None
    definition = dag.steps[upstream]
    key = task_for_step(upstream, definition.inputs, tasks.of(session, run_id).keys())
    return (key or upstream, marks)


def _block(
    session: Session,
    state: Tick,
    guard: SpecGuard,
    mission_id: uuid.UUID | None,
    key: str,
    marks: list[Mark],
) -> str | None:
    if mission_id is None:
        # Specs belong to missions: a run outside one cannot be released, so say how to fix it.
        return (
            f"needs an approved mini-spec for task `{key}`: {mark_summary(marks)}; "
            "run it from a mission to write one"
        )
    spec_repo.share_mission_specs(session, mission_id=mission_id)
    rows = spec_repo.read_task_specs(session, mission_id=mission_id, task_keys=[key])
    approved = [row.decided_at for row in rows if row.status == "approved" and row.decided_at]
    known = SpecState(
        approved_at=max(approved) if approved else None,
        latest_status=rows[0].status if rows else None,
    )
    return spec_block(key, marks, known, now=state.now, max_age=guard.max_age)


def holds(
    session: Session,
    state: Tick,
    *,
    run_id: uuid.UUID,
    mission_id: uuid.UUID | None,
    row: Any,
    step: StepDef,
    inputs: Mapping[str, Any],
    dag: WorkflowDag,
    tasks: RunTasks,
) -> bool:
    """Hold ``row`` (its definition ``step``) if the guard says so; else release it if held.

    Returns:
        Whether the step is held (admission leaves it ``waiting``).
    """
    reason = spec_hold(
        session,
        state,
        run_id=run_id,
        mission_id=mission_id,
        step=step,
        inputs=inputs,
        dag=dag,
        tasks=tasks,
    )
    if reason is not None:
        hold(session, state, run_id=run_id, mission_id=mission_id, row=row, reason=reason)
        return True
    release(state, run_id=run_id, mission_id=mission_id, row=row)
    return False


def hold(
    session: Session,
    state: Tick,
    *,
    run_id: uuid.UUID,
    mission_id: uuid.UUID | None,
    row: Any,
    reason: str,
) -> None:
    """Hold a waiting step with ``reason`` (``step.held``), unless it is held for it already."""
    if row.hold_reason == reason:
        return
    spec_repo.hold_waiting_step(session, step_run_id=row.id, reason=reason)
    state.events.append(
        NewEvent(
            type=ev.STEP_HELD,
            actor=ENGINE_ACTOR,
            run_id=run_id,
            mission_id=mission_id,
            step_id=row.step_id,
            payload={"attempt": row.attempt, "reason": reason, "guard": "spec"},
        )
    )


def release(state: Tick, *, run_id: uuid.UUID, mission_id: uuid.UUID | None, row: Any) -> None:
    """Record that a held step passes the guard now (``step.released``); admission queues it."""
    if row.hold_reason is None:
        return
    state.events.append(
        NewEvent(
            type=ev.STEP_RELEASED,
            actor=ENGINE_ACTOR,
            run_id=run_id,
            mission_id=mission_id,
            step_id=row.step_id,
            payload={"attempt": row.attempt, "was": row.hold_reason, "guard": "spec"},
        )
    )
