"""The scheduler: fire due schedules exactly once however many engines run (ADR 0059).

:func:`fire_due` is one pass, at an injected ``now``; :func:`schedule_firing` repeats it beside
every engine (the server's and ``missionctl worker``'s). A tick is *claimed* by the
conditional ``UPDATE`` that moves the schedule's ``next_fire_at`` from the value the pass read
to the next tick (``repositories.schedules.claim_tick``), in the transaction that starts the
run: of two engines that read the same tick, one moves it and starts the run, the other's
``UPDATE`` matches no row and it does nothing. A start the rules refuse (a mission already
running, a budget the workflow cannot keep) rolls back and is recorded as a failed firing in a
second transaction that claims the same tick, so a refused tick is not retried forever.

A mission scheduled to be planned again first is claimed (outcome ``planning``), planned
outside any transaction (a model may think for minutes), then run: a crash while planning
leaves that tick ``planning`` and the schedule ticks on.
"""

import contextlib
import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from missionctl.db.models import Schedule
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.schedules import (
    MAX_COUNTED_MISSES,
    DueTicks,
    MisfirePolicy,
    MissionAction,
    OverlapPolicy,
    due_ticks,
)
from missionctl.errors import Conflict, MissionControlError, NotFound
from missionctl.eventlog import NewEvent, append_sync
from missionctl.llm.redaction import redact
from missionctl.planning import LocalPlanner, Planner
from missionctl.repositories import execution as blocking_repo
from missionctl.repositories import schedules as repo
from missionctl.schemas.clarifications import ClarificationRead
from missionctl.schemas.runs import RunRead
from missionctl.schemas.schedules import ScheduleRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.runtime.periodic import repeating
from missionctl.services.usecases import plans as plan_service
from missionctl.services.usecases.runs import start_in
from missionctl.services.usecases.schedules import cron_of, read_schedule

log = logging.getLogger(__name__)

MAX_DUE_PER_PASS = 100
"""Schedules one pass looks at; the rest wait for the next pass (seconds later)."""

ERROR_MAX_CHARS = 2000


def schedule_actor(schedule: Schedule) -> str:
    """Who a schedule's runs are created by: ``schedule:<name>``."""
    return f"schedule:{schedule.name}"


@dataclass(frozen=True, slots=True)
class Fired:
    """What one firing did, and the run it started.

    ``outcome`` is ``started``, ``skipped``, ``queued``, ``planning``, ``failed`` or ``missed``
    (every due tick missed, none run).
    """

    schedule_id: uuid.UUID
    outcome: str
    run_id: uuid.UUID | None = None
    missed: int = 0


@dataclass(frozen=True, slots=True)
class _Claim:
    """A claimed firing: whether to run, for which tick, and the due ticks it came from."""

    run: bool
    tick: datetime | None
    due: DueTicks | None = None


Claimer = Callable[[Session, Schedule], _Claim | None]


@dataclass(frozen=True, slots=True)
class _Attempt:
    """One firing to try: how to claim it, and how it was asked for."""

    schedule_id: uuid.UUID
    claim: Claimer
    now: datetime
    trigger: str  # "cron" for a tick, "manual" for run-now
    asked_by: str | None  # the event's actor; None: the schedule itself
    check_overlap: bool


# --- A pass --------------------------------------------------------------------------------


async def fire_due(
    ctx: ServiceContext, now: datetime | None = None, *, planner: Planner | None = None
) -> list[Fired]:
    """One pass: fire every schedule with a tick due at ``now`` or a queued tick now free.

    Safe to call from any number of engines at once: each tick is fired by one of them.
    ``planner`` plans the missions scheduled to be planned again (default: the local one).

    Returns:
        What this caller fired (a tick another caller claimed is not listed).
    """
    moment = now or utcnow()
    async with ctx.read() as session:
        due = await session.run_sync(
            lambda s: repo.due_schedules(s, now=moment, limit=MAX_DUE_PER_PASS)
        )
    fired: list[Fired] = []
    for item in due:
        if item.next_fire_at <= moment:
            attempt = _Attempt(
                item.id, _tick_claimer(item.next_fire_at, moment), moment, "cron", None, True
            )
        elif item.queued_tick is not None:
            attempt = _Attempt(
                item.id, _queue_claimer(item.queued_tick), moment, "cron", None, False
            )
        else:
            continue
        try:
            result = await _fire(ctx, attempt, planner or LocalPlanner())
        except Exception:
            # One broken schedule must not keep the others from firing: its tick stays
            # unclaimed and the next pass tries it again.
            log.exception("schedule %s could not be fired; trying again next pass", item.id)
            continue
        if result is not None:
            fired.append(result)
    return fired


def schedule_firing(
    ctx: ServiceContext, *, planner: Planner | None, every_s: float, enabled: bool = True
) -> AbstractAsyncContextManager[None]:
    """Run :func:`fire_due` now and every ``every_s`` while the block runs (if ``enabled``)."""
    if not enabled:
        return contextlib.nullcontext()
    return repeating(lambda: fire_due(ctx, planner=planner), every_s=every_s, what="the scheduler")


async def run_now(
    ctx: ServiceContext,
    *,
    schedule_id: uuid.UUID,
    actor: str,
    planner: Planner | None = None,
    now: datetime | None = None,
) -> ScheduleRead:
    """Fire a schedule now, paused or not, whatever its overlap policy; its ticks stay.

    A start the rules refuse is recorded (``last_outcome`` ``failed``) and raised.

    Raises:
        NotFound: no such schedule.
        Conflict | ValidationFailed: the run could not start (the firing is recorded).
    """
    attempt = _Attempt(schedule_id, _now_claimer, now or utcnow(), "manual", actor, False)
    fired = await _fire(ctx, attempt, planner or LocalPlanner(), raise_failure=True)
    if fired is None:
        raise NotFound(f"no schedule with id {schedule_id}", field="schedule_id")
    return await read_schedule(ctx, schedule_id=schedule_id)


# --- Claims --------------------------------------------------------------------------------


def _tick_claimer(expected: datetime, now: datetime) -> Claimer:
    """Claim the ticks due from ``expected``: on time, or missed and caught up by the policy."""

    def claim(session: Session, schedule: Schedule) -> _Claim | None:
        if schedule.paused:
            return None
        due = due_ticks(cron_of(schedule), expected, now)
        if not repo.claim_tick(
            session, schedule_id=schedule.id, expected=expected, following=due.next_fire_at
        ):
            return None
        catch_up = schedule.misfire_policy == MisfirePolicy.run_once and due.missed > 0
        tick = due.on_time or (due.last_missed if catch_up else None)
        return _Claim(run=tick is not None, tick=tick, due=due)

    return claim


def _queue_claimer(queued: datetime) -> Claimer:
    """Claim the queued tick once the previous run ended."""

    def claim(session: Session, schedule: Schedule) -> _Claim | None:
        if schedule.paused or not _previous_ended(session, schedule):
            return None
        if not repo.claim_queued(session, schedule_id=schedule.id, queued=queued):
            return None
        return _Claim(run=True, tick=queued)

    return claim


def _now_claimer(session: Session, schedule: Schedule) -> _Claim | None:
    # Run-now claims no tick: two presses start two runs, as two requests to run would.
    return _Claim(run=True, tick=None)


def _previous_ended(session: Session, schedule: Schedule) -> bool:
    return schedule.last_run_id is None or repo.run_has_ended(session, run_id=schedule.last_run_id)


# --- Firing --------------------------------------------------------------------------------


async def _fire(
    ctx: ServiceContext, attempt: _Attempt, planner: Planner, *, raise_failure: bool = False
) -> Fired | None:
    """Claim and start in one transaction; record a refused start in a second one."""
    try:
        fired = await ctx.write_blocking(
            lambda s: _claim_and_start(s, ctx, attempt), side_by_side=True
        )
    except MissionControlError as exc:
        refused = exc  # bound for the closure: ``exc`` is unbound after the block
        fired = await ctx.write_blocking(
            lambda s: _claim_and_fail(s, attempt, refused), side_by_side=True
        )
        if raise_failure and fired is not None:
            raise
        return fired
    if fired is None or fired.outcome != "planning":
        return fired
    return await _plan_then_run(ctx, attempt, planner, raise_failure=raise_failure)


def _claim_and_start(session: Session, ctx: ServiceContext, attempt: _Attempt) -> Fired | None:
    schedule = repo.read_schedule(session, schedule_id=attempt.schedule_id)
    if schedule is None or (claim := attempt.claim(session, schedule)) is None:
        return None
    session.refresh(schedule)  # the claim holds the row now: read what others committed
    if not claim.run:
        append_sync(session, _misfired(schedule, claim, attempt, None))
        return Fired(schedule.id, "missed", missed=claim.due.missed if claim.due else 0)
    outcome, reason = _overlap(session, schedule, claim, attempt)
    run: RunRead | None = None
    if outcome is None:
        if schedule.mission_action == MissionAction.plan_again:
            outcome = "planning"
        else:
            run = _start(session, ctx, schedule, attempt.trigger)
            _record_run(session, schedule, run.id, claim.tick)
            outcome = "started"
    _record(schedule, attempt.now, outcome, None)
    run_id = None if run is None else run.id
    events = _misfired(schedule, claim, attempt, run_id)
    events.append(_fired_event(schedule, claim.tick, attempt, outcome, run_id, reason))
    append_sync(session, events)
    return Fired(schedule.id, outcome, run_id, claim.due.missed if claim.due else 0)


def _overlap(
    session: Session, schedule: Schedule, claim: _Claim, attempt: _Attempt
) -> tuple[str | None, str | None]:
    """``(None, None)`` to start now, else the outcome and why (the previous run is active)."""
    if not attempt.check_overlap or _previous_ended(session, schedule):
        return None, None
    policy = schedule.overlap_policy
    active = f"run {schedule.last_run_id} is still active"
    if policy == OverlapPolicy.allow:
        return None, None
    if policy == OverlapPolicy.queue and schedule.queued_tick is None:
        schedule.queued_tick = claim.tick
        return "queued", f"{active}: this tick runs when it ends"
    if policy == OverlapPolicy.queue:
        return "skipped", f"{active} and a tick waits for it already"
    return "skipped", active


def _start(session: Session, ctx: ServiceContext, schedule: Schedule, trigger: str) -> RunRead:
    """Start the schedule's run in this transaction (a mission's newest plan, or a workflow)."""
    actor = schedule_actor(schedule)
    if schedule.mission_id is not None:
        return plan_service.run_mission_in(
            session,
            ctx,
            mission_id=schedule.mission_id,
            actor=actor,
            trigger=trigger,
            budget_micros=schedule.budget_micros,
        )
    assert schedule.workflow_id is not None  # a schedule has one target
    workflow = blocking_repo.read_workflow(session, workflow_id=schedule.workflow_id)
    if workflow is None:
        raise NotFound(f"no workflow with id {schedule.workflow_id}", field="workflow_id")
    return start_in(
        session,
        ctx,
        workflow,
        actor=actor,
        trigger=trigger,
        mission_id=None,
        budget_micros=schedule.budget_micros,
        inputs=schedule.inputs,
    )


def _record_run(
    session: Session, schedule: Schedule, run_id: uuid.UUID, tick: datetime | None
) -> None:
    repo.add_schedule_run(session, schedule_id=schedule.id, run_id=run_id, tick=tick)
    schedule.last_run_id = run_id
    schedule.queued_tick = None  # a run started: a tick waiting for the previous one is served


def _record(schedule: Schedule, now: datetime, outcome: str, error: str | None) -> None:
    schedule.last_fired_at = now
    schedule.last_outcome = outcome
    schedule.last_error = error


def _claim_and_fail(session: Session, attempt: _Attempt, exc: MissionControlError) -> Fired | None:
    """Claim the same firing again and record why its run could not start."""
    schedule = repo.read_schedule(session, schedule_id=attempt.schedule_id)
    if schedule is None or (claim := attempt.claim(session, schedule)) is None:
        return None
    session.refresh(schedule)
    error = _error_text(exc)
    _record(schedule, attempt.now, "failed", error)
    events = _misfired(schedule, claim, attempt, None)
    events.append(_fired_event(schedule, claim.tick, attempt, "failed", None, error))
    append_sync(session, events)
    return Fired(schedule.id, "failed", None, claim.due.missed if claim.due else 0)


def _error_text(exc: Exception) -> str:
    text = str(exc) if not isinstance(exc, MissionControlError) else exc.message
    return str(redact(text[:ERROR_MAX_CHARS]))


async def _plan_then_run(
    ctx: ServiceContext, attempt: _Attempt, planner: Planner, *, raise_failure: bool
) -> Fired | None:
    """Plan the claimed mission again, outside any transaction, then start its new plan."""
    async with ctx.read() as session:
        schedule = await session.get(Schedule, attempt.schedule_id)
        assert schedule is not None and schedule.mission_id is not None
        mission_id, actor = schedule.mission_id, schedule_actor(schedule)
    try:
        planned = await plan_service.plan_mission(
            ctx, mission_id=mission_id, actor=actor, planner=planner
        )
        if isinstance(planned, ClarificationRead):
            raise Conflict(
                "the planner asked questions instead of planning: answer them on the mission's "
                "page, then the schedule's next tick runs the plan",
                field="mission_id",
            )
        return await ctx.write_blocking(
            lambda s: _start_planned(s, ctx, attempt), side_by_side=True
        )
    except MissionControlError as exc:
        refused = exc  # bound for the closure: ``exc`` is unbound after the block
        await ctx.write_blocking(lambda s: _planning_failed(s, attempt, refused), side_by_side=True)
        if raise_failure:
            raise
        return Fired(attempt.schedule_id, "failed")


def _start_planned(session: Session, ctx: ServiceContext, attempt: _Attempt) -> Fired | None:
    schedule = repo.read_schedule(session, schedule_id=attempt.schedule_id, for_update=True)
    if schedule is None:  # deleted while its mission was planned: nothing to run it for
        return None
    run = _start(session, ctx, schedule, attempt.trigger)
    _record_run(session, schedule, run.id, None)
    _record(schedule, attempt.now, "started", None)
    append_sync(session, [_fired_event(schedule, None, attempt, "started", run.id, None)])
    return Fired(schedule.id, "started", run.id)


def _planning_failed(session: Session, attempt: _Attempt, exc: MissionControlError) -> None:
    schedule = repo.read_schedule(session, schedule_id=attempt.schedule_id, for_update=True)
    if schedule is None:
        return
    error = _error_text(exc)
    _record(schedule, attempt.now, "failed", error)
    append_sync(session, [_fired_event(schedule, None, attempt, "failed", None, error)])


# --- Events --------------------------------------------------------------------------------


def _actor(schedule: Schedule, attempt: _Attempt) -> str:
    return attempt.asked_by or schedule_actor(schedule)


def _fired_event(
    schedule: Schedule,
    tick: datetime | None,
    attempt: _Attempt,
    outcome: str,
    run_id: uuid.UUID | None,
    reason: str | None,
) -> NewEvent:
    payload: dict[str, Any] = {
        "schedule_id": str(schedule.id),
        "name": schedule.name,
        "tick": None if tick is None else tick.isoformat(),
        "trigger": attempt.trigger,
        "outcome": outcome,
        "run_id": None if run_id is None else str(run_id),
        "reason": reason,
    }
    return NewEvent(
        type=ev.SCHEDULE_FIRED,
        actor=_actor(schedule, attempt),
        mission_id=schedule.mission_id,
        payload=payload,
    )


def _misfired(
    schedule: Schedule, claim: _Claim, attempt: _Attempt, run_id: uuid.UUID | None
) -> list[NewEvent]:
    """``schedule.misfired`` when the claim's due ticks include missed ones, else nothing."""
    due = claim.due
    if due is None or due.missed == 0:
        return []
    assert due.first_missed is not None and due.last_missed is not None
    payload: dict[str, Any] = {
        "schedule_id": str(schedule.id),
        "name": schedule.name,
        "missed": due.missed,
        "counted_to_limit": due.missed >= MAX_COUNTED_MISSES,
        "first_missed": due.first_missed.isoformat(),
        "last_missed": due.last_missed.isoformat(),
        "policy": schedule.misfire_policy,
        # Lets a webhook filtered on one workflow receive its schedules' misfires.
        "workflow_id": None if schedule.workflow_id is None else str(schedule.workflow_id),
        "caught_up": run_id is not None and due.on_time is None,
        "run_id": None if run_id is None else str(run_id),
    }
    return [
        NewEvent(
            type=ev.SCHEDULE_MISFIRED,
            actor=_actor(schedule, attempt),
            mission_id=schedule.mission_id,
            payload=payload,
        )
    ]
