"""The emergency stop: halt every dispatch and abort every active run, until an admin releases.

Engaging the stop, in one transaction: sets the flag in the ``controls`` row (every engine
reads it in each tick and claims nothing while it is on), aborts every pending, running or
paused run (their unfinished steps are canceled, their missions fail) and records
``emergency.stopped``. Engines in this process hear the ``step.canceled`` events and cancel
the agents at once (a command agent's whole process group is killed); engines elsewhere see
the flag at their next tick and stop what they run. Runs started while the stop is on are
created but nothing of theirs is dispatched until the release (``emergency.released``).
"""

import contextlib
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.faults import database_fault
from missionctl.db.models import Control, Run
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.outcomes import outcome_of_status
from missionctl.domain.states import RUN, STEP_RUN, MissionStatus, transition
from missionctl.errors import Conflict
from missionctl.eventlog import NewEvent, append
from missionctl.repositories import runs as run_repo
from missionctl.schemas.governance import ControlsRead, EmergencyStopResult
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.runtime.stop_signal import PendingStop, StopSignal
from missionctl.services.usecases.runs import move_mission
from missionctl.services.usecases.transitions import moved, step_moved

_PENDING_NOTE = (
    "Held by the stop signal: the database could not be written when it was pressed. It is "
    "written to the event log, with the runs it aborts, as soon as the database takes writes."
)
# The emergency stop aborts every run it can, and cancels every step it can.
_ABORT = RUN.rule("abort")
_CANCEL = STEP_RUN.rule("cancel")


def _read(controls: Control | None) -> ControlsRead:
    if controls is None:
        return ControlsRead(emergency_stop=False, stopped_by=None, stopped_at=None, reason=None)
    return ControlsRead(
        emergency_stop=controls.emergency_stop,
        stopped_by=controls.stopped_by,
        stopped_at=controls.stopped_at,
        reason=controls.reason,
    )


async def _lock_controls(session: AsyncSession) -> Control:
    controls = await session.get(Control, 1, with_for_update=True)
    if controls is None:  # a database created before the row existed
        controls = Control(id=1, emergency_stop=False, version=0)
        session.add(controls)
        await session.flush()
    return controls


async def read_controls(ctx: ServiceContext) -> ControlsRead:
    """Whether the emergency stop is on, since when, by whom and why.

    A stop the stop signal holds and the database has not recorded yet is on, ``recorded``
    false; it is reported even while the database cannot be read.
    """
    pending = ctx.stop_signal.pending()
    try:
        async with ctx.read() as session:
            controls = _read(await session.get(Control, 1))
    except Exception as failure:
        if pending is None or database_fault(failure) is None:
            raise
        return _pending_read(pending)
    if controls.emergency_stop or pending is None:
        return controls
    return _pending_read(pending)


def _pending_read(pending: PendingStop) -> ControlsRead:
    return ControlsRead(
        emergency_stop=True,
        stopped_by=pending.actor,
        stopped_at=pending.at,
        reason=pending.reason,
        recorded=False,
        note=_PENDING_NOTE,
    )


async def engage_emergency_stop(
    ctx: ServiceContext, *, actor: str, reason: str = ""
) -> EmergencyStopResult:
    """Stop everything now (see the module docstring).

    When the database cannot be written (``db.faults``: full, read-only, unreachable), the
    stop is held by the stop signal instead and the result says so (``recorded`` false, with
    a note): the engines that share the data directory stop at their next tick, and the
    first that can write records it.

    Raises:
        Conflict: the stop is already on (it names who engaged it and when).
    """
    try:
        return await _engage(ctx, actor=actor, reason=reason)
    except Exception as failure:
        fault = database_fault(failure)
        if fault is None:
            raise
        return held_by_signal(ctx.stop_signal, actor=actor, reason=reason, cause=fault.message)


async def record_pending_stop(ctx: ServiceContext) -> None:
    """Write a stop held by the stop signal to the database, then clear the signal.

    A stop already on (another engine recorded it first, or someone pressed it again) is left
    as it is. Database faults are raised: the caller tries again later.
    """
    pending = ctx.stop_signal.pending()
    if pending is None:
        return
    with contextlib.suppress(Conflict):
        await _engage(ctx, actor=pending.actor, reason=pending.reason or "", held_since=pending.at)
    ctx.stop_signal.clear()


def held_by_signal(
    signal: StopSignal, *, actor: str, reason: str, cause: str
) -> EmergencyStopResult:
    """Hold the stop in ``signal`` when the database could not take it (``cause`` says why).

    The answer says where the stop holds and that it is not recorded yet. A command that
    cannot even open the database calls this with its home's signal.
    """
    in_file = signal.raise_(actor, reason or None)
    where = (
        "every engine that shares this data directory"
        if in_file
        else "the engines of this process only (the stop file cannot be written either)"
    )
    note = (
        f"The database cannot be written: {cause}. The stop holds on {where} from "
        "their next tick, and is written to the event log, with the runs it aborts, as soon "
        "as the database takes writes again."
    )
    controls = _pending_read(PendingStop(actor=actor, reason=reason or None, at=utcnow()))
    controls.note = note
    return EmergencyStopResult(controls=controls, aborted_runs=[], canceled_steps=0)


async def _engage(
    ctx: ServiceContext, *, actor: str, reason: str, held_since: datetime | None = None
) -> EmergencyStopResult:
    """Record the stop in one transaction; ``held_since`` when the stop signal held it first."""
    async with ctx.write() as session:
        controls = await _lock_controls(session)
        if controls.emergency_stop:
            raise Conflict(
                f"the emergency stop is already on (engaged by {controls.stopped_by} "
                f"at {controls.stopped_at:%Y-%m-%d %H:%M:%S} UTC)"
                if controls.stopped_at
                else "the emergency stop is already on"
            )
        now = utcnow()
        controls.emergency_stop = True
        controls.stopped_by = actor
        controls.stopped_at = held_since or now  # when it was pressed
        controls.reason = reason or None
        controls.version += 1
        payload: dict[str, object] = {"reason": reason}
        if held_since is not None:  # pressed while the database could not be written
            payload["held_since"] = held_since.isoformat()
        events = [NewEvent(type=ev.EMERGENCY_STOPPED, actor=actor, payload=payload)]
        runs = await run_repo.lock_runs_in_status(session, statuses=_ABORT.sources)
        error = f"aborted by the emergency stop ({actor}{': ' + reason if reason else ''})"
        canceled = 0
        for run in runs:
            canceled += await _abort(session, run, actor=actor, error=error, now=now, events=events)
        await append(session, events)
        return EmergencyStopResult(
            controls=_read(controls), aborted_runs=[run.id for run in runs], canceled_steps=canceled
        )


async def _abort(
    session: AsyncSession,
    run: Run,
    *,
    actor: str,
    error: str,
    now: datetime,
    events: list[NewEvent],
) -> int:
    """Cancel every step of ``run`` that can be, abort it and fail its mission.

    Appends the events to ``events``; returns how many steps were canceled.
    """
    canceled = 0
    for step in await run_repo.read_step_runs(session, run_id=run.id):
        if step.status not in _CANCEL.sources:
            continue
        step.status = _CANCEL.target
        step.outcome = outcome_of_status(step.status)
        step.lease_owner = step.lease_token = step.lease_expires_at = None
        step.ended_at = now
        canceled += 1
        events.append(step_moved(_CANCEL, actor=actor, run=run, step=step, reason="emergency stop"))
    run.status = transition(RUN, run.status, _ABORT.target).target
    run.error = error
    run.ended_at = now
    events.append(moved(_ABORT, actor=actor, run_id=run.id, mission_id=run.mission_id, error=error))
    if run.mission_id is not None:
        events += await move_mission(session, run.mission_id, MissionStatus.failed, actor)
    return canceled


async def release_emergency_stop(
    ctx: ServiceContext, *, actor: str, reason: str = ""
) -> ControlsRead:
    """Turn the emergency stop off; dispatch resumes (aborted runs stay aborted: rerun them).

    A stop the stop signal still holds is recorded first, so that the log shows it before
    its release.

    Raises:
        Conflict: the stop is not on.
    """
    await record_pending_stop(ctx)
    async with ctx.write() as session:
        controls = await _lock_controls(session)
        if not controls.emergency_stop:
            raise Conflict("the emergency stop is not on")
        payload = {
            "reason": reason,
            "stopped_by": controls.stopped_by,
            "stopped_at": controls.stopped_at.isoformat() if controls.stopped_at else None,
        }
        controls.emergency_stop = False
        controls.stopped_by = None
        controls.stopped_at = None
        controls.reason = None
        controls.version += 1
        await append(session, [NewEvent(type=ev.EMERGENCY_RELEASED, actor=actor, payload=payload)])
        return _read(controls)
