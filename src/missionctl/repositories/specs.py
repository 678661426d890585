"""Mini-spec queries: a mission's specs, a task's specs for the guard, the steps it holds.

Reads for pages take an ``AsyncSession``. The guard runs in the engine's blocking tick and a
decision runs on the blocking writer thread (it admits the steps it releases), so their
functions take a ``Session``.
"""

import uuid
from collections.abc import Collection, Sequence
from typing import Any, cast

from sqlalchemy import Table, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.db.models import Mission, Plan, Run, Spec, StepRun, Workflow
from missionctl.domain.states import RunStatus, StepRunStatus

_steps = cast(Table, StepRun.__table__)
# A mission's specs are guarded by a transaction-scoped advisory lock of two 32-bit keys (a key
# space apart from the runs' single 64-bit keys): this class, and the end of the mission's id.
_SPEC_LOCK_CLASS = 0x5EC5
_SHARE_MISSION = text("SELECT pg_advisory_xact_lock_shared(:cls, :key)")
_LOCK_MISSION = text("SELECT pg_advisory_xact_lock(:cls, :key)")
# Runs whose held steps a decision may release: those that can still dispatch.
_LIVE_RUNS = (RunStatus.pending, RunStatus.running, RunStatus.paused)


async def read_mission_specs(session: AsyncSession, *, mission_id: uuid.UUID) -> Sequence[Spec]:
    """A mission's specs, oldest first."""
    rows = await session.scalars(
        select(Spec).where(Spec.mission_id == mission_id).order_by(Spec.created_at, Spec.id)
    )
    return rows.all()


async def read_mission(session: AsyncSession, *, mission_id: uuid.UUID) -> Mission | None:
    """The mission a spec is written for, or ``None``."""
    return await session.get(Mission, mission_id)


async def read_newest_plan_tasks(
    session: AsyncSession, *, mission_id: uuid.UUID
) -> list[dict[str, Any]] | None:
    """The tasks of a mission's newest plan, or ``None`` when it has no plan."""
    tasks = await session.scalar(
        select(Plan.tasks)
        .where(Plan.mission_id == mission_id)
        .order_by(Plan.version.desc())
        .limit(1)
    )
    return None if tasks is None else list(tasks)


def lock_spec(session: Session, *, spec_id: uuid.UUID) -> Spec | None:
    """One spec locked for a decision (``FOR UPDATE``), or ``None``."""
    return session.get(Spec, spec_id, with_for_update=True)


def _mission_lock(session: Session, statement: Any, mission_id: uuid.UUID) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite's writers take turns: nothing to order
    key = int.from_bytes(mission_id.bytes[12:], "big", signed=True)
    session.execute(statement, {"cls": _SPEC_LOCK_CLASS, "key": key})


def share_mission_specs(session: Session, *, mission_id: uuid.UUID) -> None:
    """Hold the mission's spec lock, shared, until commit: the guard reads its specs under it.

    Guards share it; a decision takes it exclusively (:func:`lock_mission_specs`). So a
    decision waits for every transaction that judged a step of the mission against the specs
    as they were, and then sees the steps they held; a guard that comes later sees the decision
    (ADR 0066). This covers a task that had no spec at all when it was judged.
    """
    _mission_lock(session, _SHARE_MISSION, mission_id)


def lock_mission_specs(session: Session, *, mission_id: uuid.UUID) -> None:
    """Hold the mission's spec lock exclusively until commit (a decision on one of its specs)."""
    _mission_lock(session, _LOCK_MISSION, mission_id)


def read_spec_mission(session: Session, *, spec_id: uuid.UUID) -> uuid.UUID | None:
    """The mission of a spec, or ``None`` when there is no such spec (no lock taken)."""
    return session.scalar(select(Spec.mission_id).where(Spec.id == spec_id))


def read_live_run_ids(session: Session, *, mission_id: uuid.UUID) -> list[uuid.UUID]:
    """The mission's runs that may still dispatch (pending, running, paused)."""
    rows = session.scalars(
        select(Run.id).where(Run.mission_id == mission_id, Run.status.in_(_LIVE_RUNS))
    )
    return list(rows.all())


def read_task_specs(
    session: Session, *, mission_id: uuid.UUID, task_keys: Collection[str]
) -> Sequence[Any]:
    """The specs of some tasks of a mission, newest first: ``task_key, status, decided_at``.

    The caller holds the mission's spec lock (:func:`share_mission_specs`); the rows are also
    read ``FOR SHARE``, so a decision on one of them waits for this transaction.
    """
    statement = (
        select(Spec.task_key, Spec.status, Spec.decided_at)
        .where(Spec.mission_id == mission_id, Spec.task_key.in_(list(task_keys)))
        .order_by(Spec.created_at.desc(), Spec.id.desc())
        .with_for_update(read=True)
    )
    return session.execute(statement).all()


def read_run_plan_tasks(session: Session, *, run_id: uuid.UUID) -> list[dict[str, Any]]:
    """The plan tasks a run implements: its workflow's plan, else its mission's newest plan.

    Empty when the run has neither.
    """
    found = session.execute(
        select(Workflow.plan_id, Run.mission_id)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(Run.id == run_id)
    ).first()
    if found is None:
        return []
    plan_id, mission_id = found
    if plan_id is not None:
        tasks = session.scalar(select(Plan.tasks).where(Plan.id == plan_id))
    elif mission_id is not None:
        tasks = session.scalar(
            select(Plan.tasks)
            .where(Plan.mission_id == mission_id)
            .order_by(Plan.version.desc())
            .limit(1)
        )
    else:
        tasks = None
    return [task for task in tasks or [] if isinstance(task, dict)]


def read_held_steps(session: Session, *, mission_id: uuid.UUID) -> Sequence[Any]:
    """The mission's steps the spec guard holds, in live runs: ``run_id, workflow_id, step_id``.

    A held step waits (``waiting``) with a ``hold_reason``; only the spec guard holds a step
    that has not been queued. The rows are locked, so two decisions release a step once.
    """
    statement = (
        select(StepRun.run_id, Run.workflow_id, StepRun.step_id)
        .join(Run, Run.id == StepRun.run_id)
        .where(
            Run.mission_id == mission_id,
            Run.status.in_(_LIVE_RUNS),
            StepRun.status == StepRunStatus.waiting,
            StepRun.hold_reason.is_not(None),
        )
        .order_by(StepRun.run_id, StepRun.id)
        .with_for_update(of=StepRun)
    )
    return session.execute(statement).all()


def hold_waiting_step(session: Session, *, step_run_id: uuid.UUID, reason: str | None) -> bool:
    """Set (or clear, with ``None``) the hold reason of a step that still waits."""
    statement = (
        update(_steps)
        .where(_steps.c.id == step_run_id, _steps.c.status == StepRunStatus.waiting.value)
        .values(hold_reason=reason)
    )
    return bool(session.connection().execute(statement).rowcount)
