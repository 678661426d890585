"""Schedule use cases: add, change, pause, resume, delete and read schedules (ADR 0059).

Firing them is ``services.usecases.scheduler``. Every change is one blocking transaction with its
event (``schedule.saved``, ``.paused``, ``.resumed``, ``.deleted``); a refused change changes
nothing. Times come from ``now`` (a test's clock) or the wall clock.
"""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from missionctl.db.models import Mission, Schedule
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.schedules import (
    Cron,
    MisfirePolicy,
    MissionAction,
    OverlapPolicy,
    success_rate,
)
from missionctl.domain.workflows import resolve_inputs
from missionctl.errors import Conflict, NotFound, Problem, StateRefused, ValidationFailed
from missionctl.eventlog import NewEvent, append_sync
from missionctl.repositories import execution as blocking_repo
from missionctl.repositories import schedules as repo
from missionctl.schemas.schedules import ScheduleCreate, ScheduleEdit, ScheduleRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.execution.types import DagCache
from missionctl.services.usecases.money import usd_to_micros
from missionctl.services.usecases.workflow_checks import value_problems


def to_schedule_read(session: Session, schedule: Schedule) -> ScheduleRead:
    """The public contract of a schedule, with what its runs did (reads them)."""
    outcomes = repo.run_outcomes(session, schedule_id=schedule.id)
    names = repo.workflow_names(session, ids=[schedule.workflow_id] if schedule.workflow_id else [])
    return ScheduleRead(
        id=schedule.id,
        name=schedule.name,
        cron=schedule.cron,
        timezone=schedule.timezone,
        target="workflow" if schedule.workflow_id is not None else "mission",
        workflow_id=schedule.workflow_id,
        workflow=names.get(schedule.workflow_id) if schedule.workflow_id else None,
        inputs=schedule.inputs,
        mission_id=schedule.mission_id,
        mission_action=None
        if schedule.mission_action is None
        else MissionAction(schedule.mission_action),
        budget_usd=None
        if schedule.budget_micros is None
        else Decimal(schedule.budget_micros) / 1_000_000,
        misfire_policy=MisfirePolicy(schedule.misfire_policy),
        overlap_policy=OverlapPolicy(schedule.overlap_policy),
        paused=schedule.paused,
        next_fire_at=None if schedule.paused else schedule.next_fire_at,
        queued_tick=schedule.queued_tick,
        last_fired_at=schedule.last_fired_at,
        last_outcome=schedule.last_outcome,
        last_error=schedule.last_error,
        last_run_id=schedule.last_run_id,
        last_run_status=outcomes.last_status,
        runs_ended=outcomes.ended,
        success_rate=success_rate(outcomes.succeeded, outcomes.ended),
        created_by=schedule.created_by,
        created_at=schedule.created_at,
        updated_at=schedule.updated_at,
    )


def cron_of(schedule: Schedule) -> Cron:
    """The schedule's expression in its zone (both were checked when it was saved)."""
    return Cron(schedule.cron, schedule.timezone)


def _check_target(session: Session, ctx: ServiceContext, data: ScheduleCreate) -> dict[str, Any]:
    """The workflow's resolved inputs, after checking that the target exists and fits.

    Raises:
        ValidationFailed: neither or both targets, inputs for a mission, bad inputs.
        NotFound: no such workflow version or mission.
    """
    if (data.workflow_id is None) == (data.mission_id is None):
        raise ValidationFailed(
            [Problem("workflow_id", "name exactly one of workflow_id and mission_id")]
        )
    if data.mission_id is not None:
        if data.inputs:
            raise ValidationFailed(
                [Problem("inputs", "a mission takes no inputs: leave inputs out")]
            )
        if session.get(Mission, data.mission_id) is None:
            raise NotFound(f"no mission with id {data.mission_id}", field="mission_id")
        return {}
    assert data.workflow_id is not None  # exactly one is set
    return _resolved_inputs(session, ctx, data.workflow_id, data.inputs)


def _resolved_inputs(
    session: Session, ctx: ServiceContext, workflow_id: uuid.UUID, inputs: dict[str, Any]
) -> dict[str, Any]:
    workflow = blocking_repo.read_workflow(session, workflow_id=workflow_id)
    if workflow is None:
        raise NotFound(f"no workflow with id {workflow_id}", field="workflow_id")
    _, problems = resolve_inputs(DagCache(ctx.dags).of(workflow).inputs, dict(inputs))
    if problems:
        raise StateRefused(problems)  # the inputs the stored workflow declares
    return dict(inputs)


def _name_taken(name: str) -> Conflict:
    return Conflict(
        f"a schedule called {name!r} exists already; pick another name, or change that one",
        field="name",
    )


def _require_free_name(session: Session, name: str, *, keep: uuid.UUID | None = None) -> None:
    existing = repo.read_by_name(session, name=name)
    if existing is not None and existing.id != keep:
        raise _name_taken(name)


def _saved_event(schedule: Schedule, actor: str, changed: list[str]) -> NewEvent:
    # Input values may be anything a workflow takes: the event names them only.
    return NewEvent(
        type=ev.SCHEDULE_SAVED,
        actor=actor,
        mission_id=schedule.mission_id,
        payload={
            "schedule_id": str(schedule.id),
            "name": schedule.name,
            "cron": schedule.cron,
            "timezone": schedule.timezone,
            "workflow_id": None if schedule.workflow_id is None else str(schedule.workflow_id),
            "mission_action": schedule.mission_action,
            "inputs": sorted(schedule.inputs),
            "budget_micros": schedule.budget_micros,
            "misfire_policy": schedule.misfire_policy,
            "overlap_policy": schedule.overlap_policy,
            "paused": schedule.paused,
            "next_fire_at": schedule.next_fire_at.isoformat(),
            "changed": changed,
        },
    )


def _require_storable(inputs: dict[str, Any] | None) -> None:
    """Refuse inputs too deep, too big or not storable, before anything is looked up.

    Raises:
        ValidationFailed: each problem on ``inputs.<path>``, as a run's inputs are named.
    """
    problems = [
        Problem(f"inputs.{p.field}" if p.field else "inputs", p.message)
        for p in value_problems(inputs or {})
    ]
    if problems:
        raise ValidationFailed(problems)


async def create_schedule(
    ctx: ServiceContext, *, data: ScheduleCreate, actor: str, now: datetime | None = None
) -> ScheduleRead:
    """Add a schedule; its first tick is the first after ``now``.

    Raises:
        ValidationFailed: neither or both targets, inputs the workflow does not take.
        NotFound: no such workflow version or mission.
        Conflict: the name is taken.
    """
    moment = now or utcnow()
    _require_storable(data.inputs)

    def work(session: Session) -> ScheduleRead:
        inputs = _check_target(session, ctx, data)
        _require_free_name(session, data.name)
        schedule = Schedule(
            name=data.name,
            cron=data.cron,
            timezone=data.timezone,
            workflow_id=data.workflow_id,
            mission_id=data.mission_id,
            mission_action=None if data.mission_id is None else data.mission_action.value,
            inputs=inputs,
            budget_micros=None if data.budget_usd is None else usd_to_micros(data.budget_usd),
            misfire_policy=data.misfire_policy.value,
            overlap_policy=data.overlap_policy.value,
            paused=data.paused,
            next_fire_at=Cron(data.cron, data.timezone).next_after(moment),
            created_by=actor,
        )
        repo.add_schedule(session, schedule=schedule)
        session.flush()
        append_sync(session, [_saved_event(schedule, actor, [])])
        return to_schedule_read(session, schedule)

    return await _write(ctx, work, data.name)


async def _write(ctx: ServiceContext, work: Any, name: str) -> ScheduleRead:
    """Run ``work`` in a blocking transaction; a lost race for ``name`` is a ``Conflict``."""
    try:
        result: ScheduleRead = await ctx.write_blocking(work, side_by_side=True)
    except sa_exc.IntegrityError as exc:
        if "uq_schedules_live_name" in str(exc.orig) or "schedules.name" in str(exc.orig):
            raise _name_taken(name) from None
        raise
    return result


def _live(session: Session, schedule_id: uuid.UUID) -> Schedule:
    schedule = repo.read_schedule(session, schedule_id=schedule_id, for_update=True)
    if schedule is None:
        raise NotFound(f"no schedule with id {schedule_id}", field="schedule_id")
    return schedule


async def edit_schedule(
    ctx: ServiceContext,
    *,
    schedule_id: uuid.UUID,
    edit: ScheduleEdit,
    actor: str,
    now: datetime | None = None,
) -> ScheduleRead:
    """Change the fields ``edit`` sends; a new expression or zone ticks next after ``now``.

    Raises:
        NotFound: no such schedule.
        Conflict: the new name is taken.
        ValidationFailed: inputs the workflow does not take, or inputs or an action that do
            not fit the schedule's target.
    """
    moment = now or utcnow()
    _require_storable(edit.inputs)
    changes = edit.changed()

    def work(session: Session) -> ScheduleRead:
        schedule = _live(session, schedule_id)
        _apply(session, ctx, schedule, changes)
        if {"cron", "timezone"} & changes.keys():
            schedule.next_fire_at = cron_of(schedule).next_after(moment)
        session.flush()
        append_sync(session, [_saved_event(schedule, actor, sorted(changes))])
        return to_schedule_read(session, schedule)

    return await _write(ctx, work, str(changes.get("name", "")))


def _apply(
    session: Session, ctx: ServiceContext, schedule: Schedule, changes: dict[str, Any]
) -> None:
    """Set each changed field on ``schedule``, refusing what does not fit its target."""
    if "name" in changes:
        _require_free_name(session, changes["name"], keep=schedule.id)
        schedule.name = changes["name"]
    if "inputs" in changes:
        if schedule.workflow_id is None:
            raise ValidationFailed([Problem("inputs", "a mission takes no inputs")])
        schedule.inputs = _resolved_inputs(session, ctx, schedule.workflow_id, changes["inputs"])
    if "mission_action" in changes:
        if schedule.mission_id is None:
            raise ValidationFailed(
                [Problem("mission_action", "only a schedule of a mission has an action")]
            )
        schedule.mission_action = changes["mission_action"].value
    if "budget_usd" in changes:
        budget = changes["budget_usd"]
        schedule.budget_micros = None if budget is None else usd_to_micros(budget)
    for field in ("cron", "timezone"):
        if field in changes:
            setattr(schedule, field, changes[field])
    for field in ("misfire_policy", "overlap_policy"):
        if field in changes:
            setattr(schedule, field, changes[field].value)


async def pause_schedule(
    ctx: ServiceContext, *, schedule_id: uuid.UUID, actor: str
) -> ScheduleRead:
    """Pause a schedule: no tick fires until it is resumed.

    Raises:
        NotFound: no such schedule.
        Conflict: it is paused already.
    """

    def work(session: Session) -> ScheduleRead:
        schedule = _live(session, schedule_id)
        if schedule.paused:
            raise Conflict(f"schedule {schedule.name!r} is paused already", field="schedule_id")
        schedule.paused = True
        append_sync(session, [_plain_event(ev.SCHEDULE_PAUSED, schedule, actor)])
        return to_schedule_read(session, schedule)

    return await _write(ctx, work, "")


async def resume_schedule(
    ctx: ServiceContext, *, schedule_id: uuid.UUID, actor: str
) -> ScheduleRead:
    """Resume a paused schedule.

    Its ``next_fire_at`` is left as it was: the scheduler's next pass sees the ticks missed
    while it was paused and applies the misfire policy (``schedule.misfired``).

    Raises:
        NotFound: no such schedule.
        Conflict: it is not paused.
    """

    def work(session: Session) -> ScheduleRead:
        schedule = _live(session, schedule_id)
        if not schedule.paused:
            raise Conflict(f"schedule {schedule.name!r} is not paused", field="schedule_id")
        schedule.paused = False
        append_sync(session, [_plain_event(ev.SCHEDULE_RESUMED, schedule, actor)])
        return to_schedule_read(session, schedule)

    return await _write(ctx, work, "")


async def delete_schedule(
    ctx: ServiceContext, *, schedule_id: uuid.UUID, actor: str, now: datetime | None = None
) -> None:
    """Delete a schedule: it never fires again, its name is free; its runs still name it.

    Raises:
        NotFound: no such schedule.
    """
    moment = now or utcnow()

    def work(session: Session) -> None:
        schedule = _live(session, schedule_id)
        schedule.deleted_at = moment
        schedule.queued_tick = None
        append_sync(session, [_plain_event(ev.SCHEDULE_DELETED, schedule, actor)])

    await ctx.write_blocking(work, side_by_side=True)


def _plain_event(kind: str, schedule: Schedule, actor: str) -> NewEvent:
    return NewEvent(
        type=kind,
        actor=actor,
        mission_id=schedule.mission_id,
        payload={"schedule_id": str(schedule.id), "name": schedule.name},
    )


async def read_schedule(ctx: ServiceContext, *, schedule_id: uuid.UUID) -> ScheduleRead:
    """One schedule.

    Raises:
        NotFound: no such schedule.
    """
    async with ctx.read() as session:

        def read(sync: Session) -> ScheduleRead:
            schedule = repo.read_schedule(sync, schedule_id=schedule_id)
            if schedule is None:
                raise NotFound(f"no schedule with id {schedule_id}", field="schedule_id")
            return to_schedule_read(sync, schedule)

        return await session.run_sync(read)


async def list_schedules(ctx: ServiceContext) -> list[ScheduleRead]:
    """Every schedule, by name."""
    async with ctx.read() as session:

        def read(sync: Session) -> list[ScheduleRead]:
            return [to_schedule_read(sync, s) for s in repo.list_schedules(sync)]

        return await session.run_sync(read)
