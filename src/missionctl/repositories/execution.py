"""The engine's hot-path queries: blocking, Core, batched (run in a worker thread; ADR 0007).

They run on the session's connection with Core statements built once (module constants or
per-shape caches), because in a tick of a few milliseconds the ORM's per-statement machinery
and rebuilding SQL expressions would cost as much as the database work itself. The statements
every tick runs go further: they are ``Prepared`` (ADR 0016) — compiled once per dialect and
run on the driver's cursor — and an ``IN`` list gets one statement per length (``in_list``)
instead of an expanding parameter, which SQLAlchemy would re-render on every execution.

A statement that moves a status is guarded by the sources of the state machine's rule it
applies (``leaves(column, rule)``) and writes the rule's target, so the table in
``domain.states`` is the one place that says which moves exist.
"""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import pairwise
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    and_,
    bindparam,
    func,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Update

from missionctl.db.models import Agent, Approval, Control, Mission, Run, StepRun, Workflow
from missionctl.db.prepared import Prepared, in_list, in_params
from missionctl.domain.budget import Usage
from missionctl.domain.outcomes import Outcome, outcome_of_status
from missionctl.domain.states import RUN, STEP_RUN, RunStatus, StepRunStatus, TransitionRule

__all__ = ["ACTIVE_STEP_STATUSES", "leaves"]

# The states of a step that still has work ahead of it (``blocked`` waits for a person).
ACTIVE_STEP_STATUSES = tuple(
    s.value
    for s in (
        StepRunStatus.waiting,
        StepRunStatus.queued,
        StepRunStatus.running,
        StepRunStatus.awaiting_approval,
    )
)


def _outcome_of(rule: TransitionRule[StepRunStatus]) -> str | None:
    """The outcome a step moved by ``rule`` has: what its target decides alone, else none.

    Every statement that moves a step writes it, so a step that leaves an ended state (a
    retried failure) loses its outcome, and one that reaches ``failed``, ``skipped`` or
    ``canceled`` gets it. Success is written with the outcome its facts decide
    (``record_results``).
    """
    return outcome_of_status(rule.status)


def leaves(column: ColumnElement[Any], rule: TransitionRule[Any]) -> ColumnElement[bool]:
    """``column`` holds one of ``rule``'s source states: the guard of an ``UPDATE`` applying it.

    Written out as literals (``status = 'waiting'``, or an ``OR`` of them), not ``IN``: a
    literal list is an expanding parameter, which ``Prepared`` refuses.
    """
    sources = sorted(state.value for state in rule.sources)
    guards: list[ColumnElement[bool]] = [column == source for source in sources]
    return guards[0] if len(guards) == 1 else or_(*guards)


_QUEUE = STEP_RUN.rule("queue")
_CLAIM = STEP_RUN.rule("claim")
_SUCCEED = STEP_RUN.rule("succeed")
_STEP_CANCEL = STEP_RUN.rule("cancel")
_RUN_COMPLETE = RUN.rule("complete")

_steps = cast(Table, StepRun.__table__)
_runs = cast(Table, Run.__table__)
_missions = cast(Table, Mission.__table__)
_controls = cast(Table, Control.__table__)
_agents = cast(Table, Agent.__table__)
_approvals = cast(Table, Approval.__table__)
_CONTROLS = Prepared(
    select(_controls.c.emergency_stop, _controls.c.version).where(_controls.c.id == 1)
)
_CONTROLS_VERSION_SHARED = (
    select(_controls.c.version).where(_controls.c.id == 1).with_for_update(read=True)
)
_AGENT_RULES = select(
    _agents.c.name, _agents.c.enabled, _agents.c.allowed_risk_tiers, _agents.c.config
)
_HOLD = (
    update(_steps)
    .where(_steps.c.id == bindparam("_id"), _steps.c.status == StepRunStatus.queued.value)
    .values(hold_reason=bindparam("v_reason"), hold_cap_id=bindparam("v_cap"))
)

_LOCK_STEP_RUNS = (
    select(
        _steps.c.id,
        _steps.c.run_id,
        _steps.c.step_id,
        _steps.c.status,
        _steps.c.attempt,
        _steps.c.lease_token,
        _runs.c.workflow_id,
        _runs.c.mission_id,
    )
    .join(_runs, _runs.c.id == _steps.c.run_id)
    .where(_steps.c.id.in_(bindparam("ids", expanding=True)))
    .with_for_update(of=_steps)
)
_LOCK_FENCES = (
    select(_steps.c.id, _steps.c.status, _steps.c.attempt, _steps.c.lease_token)
    .where(_steps.c.id.in_(bindparam("ids", expanding=True)))
    .with_for_update()
)


@lru_cache(maxsize=512)
def _step_statuses(size: int) -> Prepared:
    return Prepared(
        select(_steps.c.step_id, _steps.c.status).where(
            _steps.c.run_id == bindparam("run_id"), in_list(_steps.c.step_id, "s", size)
        )
    )


_COUNT_BY_STATUS = Prepared(
    select(_steps.c.status, func.count())
    .where(_steps.c.run_id == bindparam("run_id"))
    .group_by(_steps.c.status)
)
_RUN_USAGE = (
    update(_runs)
    .where(_runs.c.id == bindparam("_id"))
    .values(
        spent_micros=_runs.c.spent_micros + bindparam("micros"),
        input_tokens=_runs.c.input_tokens + bindparam("tokens_in"),
        output_tokens=_runs.c.output_tokens + bindparam("tokens_out"),
    )
    .returning(_runs.c.spent_micros, _runs.c.budget_micros)
)
_MISSION_USAGE = (
    update(_missions)
    .where(_missions.c.id == bindparam("_id"))
    .values(
        spent_micros=_missions.c.spent_micros + bindparam("micros"),
        input_tokens=_missions.c.input_tokens + bindparam("tokens_in"),
        output_tokens=_missions.c.output_tokens + bindparam("tokens_out"),
    )
)


@lru_cache(maxsize=64)
def _running_by_run(size: int) -> Prepared:
    return Prepared(
        select(_steps.c.run_id, func.count())
        .where(in_list(_steps.c.run_id, "r", size), _steps.c.status == _RUNNING)
        .group_by(_steps.c.run_id)
    )


@lru_cache(maxsize=64)
def _reserved_by_run(size: int) -> Prepared:
    return Prepared(
        select(_steps.c.run_id, func.coalesce(func.sum(_steps.c.reserve_micros), 0))
        .where(in_list(_steps.c.run_id, "r", size), _steps.c.status == _RUNNING)
        .group_by(_steps.c.run_id)
    )


_RUNNING = StepRunStatus.running.value
_EXPIRED_LEASES = (
    select(_steps.c.id, _steps.c.attempt, _steps.c.lease_token, _steps.c.lease_owner)
    .where(
        and_(
            leaves(_steps.c.status, STEP_RUN.rule("requeue")),
            _steps.c.lease_expires_at.is_not(None),
            _steps.c.lease_expires_at < bindparam("now"),
        )
    )
    .limit(500)
    .with_for_update(skip_locked=True)
)
# A result, written only if the step run is still running under the lease that produced it.
_FENCE = (
    _steps.c.id == bindparam("_id"),
    # Success, failure and retry all leave from ``running``; a later state is fenced out.
    leaves(_steps.c.status, _SUCCEED),
    _steps.c.lease_token == bindparam("f_token"),
    _steps.c.attempt == bindparam("f_attempt"),
)
_RELEASE = {"lease_owner": null(), "lease_token": null(), "lease_expires_at": null()}
# An attempt that used no tokens names no model: the step keeps the one it was last billed at.
_BILLED_MODEL = func.coalesce(bindparam("v_model", type_=String()), _steps.c.model)
_RECORD_SUCCESS = Prepared(
    update(_steps)
    .where(*_FENCE)
    .values(
        status=_SUCCEED.status,
        outcome=bindparam("v_outcome"),
        outputs=bindparam("v_outputs"),
        input_tokens=bindparam("v_input_tokens"),
        output_tokens=bindparam("v_output_tokens"),
        cost_micros=bindparam("v_cost_micros"),
        model=_BILLED_MODEL,
        error=null(),
        not_before=null(),
        ended_at=bindparam("v_ended_at"),
        **_RELEASE,
    )
)
_RECORD_OTHER = Prepared(
    update(_steps)
    .where(*_FENCE)
    .values(
        status=bindparam("v_status"),
        outcome=bindparam("v_outcome"),
        attempt=bindparam("v_attempt"),
        outputs=bindparam("v_outputs"),
        input_tokens=bindparam("v_input_tokens"),
        output_tokens=bindparam("v_output_tokens"),
        cost_micros=bindparam("v_cost_micros"),
        model=_BILLED_MODEL,
        error=bindparam("v_error"),
        not_before=bindparam("v_not_before"),
        ended_at=bindparam("v_ended_at"),
        **_RELEASE,
    )
)
_LEASE_VALUES: dict[str, Any] = {
    "status": _CLAIM.status,
    "lease_owner": bindparam("owner"),
    "lease_token": bindparam("token"),
    "lease_expires_at": bindparam("expires"),
    "started_at": bindparam("now"),
    "ended_at": null(),
    # A new attempt starts from no usage; what earlier attempts spent moves aside, so that
    # the row still adds up to what the run was charged for the step (ADR 0042).
    "earlier_input_tokens": _steps.c.earlier_input_tokens + _steps.c.input_tokens,
    "earlier_output_tokens": _steps.c.earlier_output_tokens + _steps.c.output_tokens,
    "earlier_cost_micros": _steps.c.earlier_cost_micros + _steps.c.cost_micros,
    "input_tokens": 0,
    "output_tokens": 0,
    "cost_micros": 0,
}
# Claiming returns what the worker needs and the claimable read left out (``inputs`` can be
# large, and that read returns more rows than per-run limits let the engine take).


@lru_cache(maxsize=512)
def _claim_queued(size: int) -> Prepared:
    return Prepared(
        update(_steps)
        .where(in_list(_steps.c.id, "i", size), leaves(_steps.c.status, _CLAIM))
        .values(**_LEASE_VALUES)
        .returning(_steps.c.id, _steps.c.inputs, _steps.c.routed_model)
    )


@lru_cache(maxsize=512)
def _claim_waiting(size: int) -> Prepared:
    return Prepared(
        update(_steps)
        .where(
            _steps.c.run_id == bindparam("w_run_id"),
            in_list(_steps.c.step_id, "s", size),
            leaves(_steps.c.status, _QUEUE),
        )
        .values(**_LEASE_VALUES, queued_at=bindparam("now"))
        .returning(
            _steps.c.id,
            _steps.c.step_id,
            _steps.c.attempt,
            _steps.c.agent,
            _steps.c.inputs,
            _steps.c.routed_model,
        )
    )


@lru_cache(maxsize=512)
def _queue_waiting(size: int) -> Prepared:
    return Prepared(
        update(_steps)
        .where(
            _steps.c.run_id == bindparam("w_run_id"),
            in_list(_steps.c.step_id, "s", size),
            leaves(_steps.c.status, _QUEUE),
        )
        .values(status=_QUEUE.status, queued_at=bindparam("now"))
        .returning(_steps.c.step_id, _steps.c.attempt)
    )


_HAS_ACTIVE = Prepared(
    select(_steps.c.id)
    .where(
        _steps.c.run_id == bindparam("run_id"),
        # Not ``in_``: a literal list is an expanding parameter, which ``Prepared`` refuses.
        or_(*(_steps.c.status == status for status in ACTIVE_STEP_STATUSES)),
    )
    .limit(1)
)
_RUN_CONTEXT = select(
    _runs.c.inputs, _runs.c.trigger, _runs.c.mission_id, _runs.c.workflow_id
).where(_runs.c.id == bindparam("run_id"))
_ADMISSION_ROWS = select(
    _steps.c.id,
    _steps.c.step_id,
    _steps.c.status,
    _steps.c.attempt,
    _steps.c.agent,
    _steps.c.risk_tier,
    _steps.c.estimate_micros,
    _steps.c.inputs,
    _steps.c.hold_reason,
).where(
    _steps.c.run_id == bindparam("run_id"),
    _steps.c.step_id.in_(bindparam("step_ids", expanding=True)),
)
_STEP_OUTPUTS = select(_steps.c.step_id, _steps.c.status, _steps.c.outputs).where(
    _steps.c.run_id == bindparam("run_id"),
    _steps.c.step_id.in_(bindparam("step_ids", expanding=True)),
)
_HELD_LEASES = select(_steps.c.id, _steps.c.lease_token).where(
    _steps.c.id.in_(bindparam("ids", expanding=True)), _steps.c.status == _RUNNING
)


_READY = (
    leaves(_steps.c.status, _CLAIM),
    _steps.c.hold_reason.is_(None),
    or_(_steps.c.not_before.is_(None), _steps.c.not_before <= bindparam("now")),
)
_CLAIMABLE_RUNS = Prepared(
    select(
        _runs.c.id,
        _runs.c.workflow_id,
        _runs.c.mission_id,
        _runs.c.budget_micros,
        _runs.c.spent_micros,
    ).where(
        _runs.c.status == RunStatus.running.value,
        # A probe per running run (index on run_id, status), not a scan of the whole queue.
        select(_steps.c.id).where(_steps.c.run_id == _runs.c.id, *_READY).exists(),
    )
)


@lru_cache(maxsize=1024)
def _claimable(limit: int, runs: int) -> Prepared:
    return Prepared(
        select(
            _steps.c.id,
            _steps.c.run_id,
            _steps.c.step_id,
            _steps.c.attempt,
            _steps.c.agent,
            _steps.c.risk_tier,
            _steps.c.estimate_micros,
            _steps.c.reserve_micros,
        )
        .where(*_READY, in_list(_steps.c.run_id, "r", runs))
        .order_by(_steps.c.queued_at, _steps.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def read_controls(session: Session) -> tuple[bool, int]:
    """``(emergency stop on, controls version)``; a database without the row reads as off."""
    row = _CONTROLS.first(session)
    return (bool(row.emergency_stop), int(row.version)) if row else (False, 0)


def read_controls_version_locked(session: Session) -> int:
    """The controls' version, read under a shared lock (``FOR SHARE``) until commit.

    A change of the agents' rules takes the row ``FOR UPDATE``: it waits for this transaction,
    or this read waits for it, so the two never interleave.
    """
    row = session.connection().execute(_CONTROLS_VERSION_SHARED).first()
    return int(row.version) if row else 0


def read_agent_rules(session: Session) -> Sequence[Any]:
    """Every agent row's name, enabled flag, allowed risk tiers and config."""
    return session.connection().execute(_AGENT_RULES).all()


def hold_steps(
    session: Session, *, holds: Sequence[tuple[uuid.UUID, str, uuid.UUID | None]]
) -> None:
    """Hold queued step runs back from dispatch, each with its reason and the cap holding it."""
    if holds:
        params = [
            {"_id": step_run_id, "v_reason": reason, "v_cap": cap_id}
            for step_run_id, reason, cap_id in holds
        ]
        session.connection().execute(_HOLD, params)


def request_approval(
    session: Session, *, step_run_id: uuid.UUID, rule: TransitionRule[StepRunStatus]
) -> bool:
    """Send a step run to an approver by ``rule`` (it leaves the hold it may have had)."""
    statement = (
        update(_steps)
        .where(_steps.c.id == step_run_id, leaves(_steps.c.status, rule))
        .values(status=rule.status, hold_reason=None)
    )
    return bool(session.connection().execute(statement).rowcount)


_APPROVED_ATTEMPT = (
    select(_approvals.c.id)
    .where(
        _approvals.c.step_run_id == _steps.c.id,
        _approvals.c.attempt == _steps.c.attempt,
        _approvals.c.decision == "approved",
    )
    .exists()
)
_PROGRAM_STEPS = select(_steps.c.id, _steps.c.inputs, _APPROVED_ATTEMPT.label("approved")).where(
    _steps.c.id.in_(bindparam("ids", expanding=True))
)


def read_program_steps(session: Session, *, step_run_ids: Collection[uuid.UUID]) -> Sequence[Any]:
    """Step runs with their stored inputs and whether an approver approved their attempt.

    Returns:
        Rows of ``id``, ``inputs``, ``approved``.
    """
    return session.connection().execute(_PROGRAM_STEPS, {"ids": list(step_run_ids)}).all()


def read_run_context(session: Session, *, run_id: uuid.UUID) -> Any:
    """What templates and conditions read of a run: inputs, trigger, mission, workflow."""
    return session.connection().execute(_RUN_CONTEXT, {"run_id": run_id}).one()


def read_admission_rows(
    session: Session, *, run_id: uuid.UUID, step_ids: Collection[str]
) -> Sequence[Any]:
    """The named steps of a run with what admission needs: id, status, agent, tier, inputs."""
    params = {"run_id": run_id, "step_ids": list(step_ids)}
    return session.connection().execute(_ADMISSION_ROWS, params).all()


def read_step_outputs(
    session: Session, *, run_id: uuid.UUID, step_ids: Collection[str]
) -> dict[str, tuple[str, dict[str, Any]]]:
    """``step_id → (status, outputs)`` for the named steps of a run."""
    if not step_ids:
        return {}
    params = {"run_id": run_id, "step_ids": list(step_ids)}
    rows = session.connection().execute(_STEP_OUTPUTS, params)
    return {row.step_id: (row.status, row.outputs) for row in rows}


def admit_step(
    session: Session,
    *,
    run_id: uuid.UUID,
    step_id: str,
    moves: Sequence[TransitionRule[StepRunStatus]],
    values: dict[str, Any],
) -> bool:
    """Apply ``moves`` in turn to a step of a run in one ``UPDATE``, setting ``values`` too.

    The step must still be in a source of the first move (the guard); it ends in the last
    move's target. Returns whether it was.
    """
    for move, then in pairwise(moves):
        assert move.target in then.sources, f"{then.name} does not follow {move.name}"
    statement = (
        update(_steps)
        .where(
            _steps.c.run_id == run_id,
            _steps.c.step_id == step_id,
            leaves(_steps.c.status, moves[0]),
        )
        .values({**values, "status": moves[-1].status, "outcome": _outcome_of(moves[-1])})
    )
    return bool(session.connection().execute(statement).rowcount)


def read_run(session: Session, *, run_id: uuid.UUID) -> Run | None:
    """The run, fresh from the database, or ``None``."""
    return session.get(Run, run_id, populate_existing=True)


# Ending a run and moving its mission: once per run, but on the path to the run's last event,
# and the ORM's per-engine compilation costs milliseconds in a fresh process (``missionctl run``).
_RUN_STATE = Prepared(
    select(_runs.c.status, _runs.c.error).where(_runs.c.id == bindparam("run_id"))
)
_END_RUN = Prepared(
    update(_runs)
    # Completing and failing a finished run both leave from ``running`` (a paused run has
    # steps awaiting approval, so it is not finished).
    .where(_runs.c.id == bindparam("_id"), leaves(_runs.c.status, _RUN_COMPLETE))
    .values(status=bindparam("v_status"), ended_at=bindparam("v_now"), error=bindparam("v_error"))
)
_MISSION_STATUS = Prepared(
    select(_missions.c.status).where(_missions.c.id == bindparam("mission_id"))
)
_MOVE_MISSION = Prepared(
    update(_missions)
    .where(_missions.c.id == bindparam("_id"), _missions.c.status == bindparam("f_status"))
    .values(status=bindparam("v_status"))
)


def read_run_state(session: Session, *, run_id: uuid.UUID) -> tuple[str, str | None] | None:
    """``(status, error)`` of a run, or ``None`` when there is no such run."""
    row = _RUN_STATE.first(session, {"run_id": run_id})
    return None if row is None else (row.status, row.error)


def end_run(
    session: Session,
    *,
    run_id: uuid.UUID,
    rule: TransitionRule[RunStatus],
    error: str | None,
    now: datetime,
) -> bool:
    """End a ``running`` run by ``rule`` (complete or fail), with its ``error`` and end time.

    Returns:
        Whether the run was still running.
    """
    assert rule.sources >= _RUN_COMPLETE.sources, f"{rule.name} does not end a running run"
    params = {"_id": run_id, "v_status": rule.status, "v_now": now, "v_error": error}
    return _END_RUN.run(session, params) == 1


def move_run(session: Session, *, run_id: uuid.UUID, rule: TransitionRule[RunStatus]) -> bool:
    """Move a run by ``rule`` if it is in one of its sources; whether it was."""
    statement = (
        update(_runs)
        .where(_runs.c.id == run_id, leaves(_runs.c.status, rule))
        .values(status=rule.status)
    )
    return bool(session.connection().execute(statement).rowcount)


def read_mission_status(session: Session, *, mission_id: uuid.UUID) -> str | None:
    """A mission's status, or ``None`` when there is no such mission."""
    row = _MISSION_STATUS.first(session, {"mission_id": mission_id})
    return None if row is None else str(row.status)


def move_mission(session: Session, *, mission_id: uuid.UUID, source: str, target: str) -> bool:
    """Move a mission from ``source`` to ``target``; false if it was no longer in ``source``."""
    params = {"_id": mission_id, "f_status": source, "v_status": target}
    return _MOVE_MISSION.run(session, params) == 1


def lock_run(session: Session, *, run_id: uuid.UUID) -> Run | None:
    """The run fresh from the database, its row locked until the transaction ends, or ``None``."""
    return session.get(Run, run_id, with_for_update=True, populate_existing=True)


def read_workflow(session: Session, *, workflow_id: uuid.UUID) -> Workflow | None:
    """The workflow version, or ``None``."""
    return session.get(Workflow, workflow_id)


def read_step_runs(session: Session, *, run_id: uuid.UUID) -> list[StepRun]:
    """Every step run of a run, in creation (definition) order (ORM objects, for rare paths).

    Fresh from the database (``populate_existing``): the hot path updates step runs with Core,
    behind the ORM's back.
    """
    statement = (
        select(StepRun)
        .where(StepRun.run_id == run_id)
        .order_by(StepRun.id)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(statement).all())


def lock_step_runs(session: Session, *, step_run_ids: Collection[uuid.UUID]) -> Sequence[Any]:
    """Lock and read the rows a batch of results refers to, with their run's workflow."""
    return session.connection().execute(_LOCK_STEP_RUNS, {"ids": list(step_run_ids)}).all()


def lock_fences(session: Session, *, step_run_ids: Collection[uuid.UUID]) -> Sequence[Any]:
    """Lock and read what fences a result: status, attempt and lease token (no join)."""
    return session.connection().execute(_LOCK_FENCES, {"ids": list(step_run_ids)}).all()


def read_step_statuses(
    session: Session, *, run_id: uuid.UUID, step_ids: Collection[str]
) -> dict[str, str]:
    """``step_id → status`` for the given steps of a run."""
    ids = list(step_ids)
    rows = _step_statuses(len(ids)).all(session, {"run_id": run_id, **in_params("s", ids)})
    return {row.step_id: row.status for row in rows}


def count_steps_by_status(session: Session, *, run_id: uuid.UUID) -> dict[str, int]:
    """How many of a run's steps are in each status."""
    rows = _COUNT_BY_STATUS.all(session, {"run_id": run_id})
    return {status: int(count) for status, count in rows}


_EXTEND_LEASE = (
    update(_steps)
    .where(_steps.c.id == bindparam("_id"))
    .values(lease_expires_at=bindparam("v_expires"))
)


def extend_leases(
    session: Session, *, step_run_ids: Collection[uuid.UUID], expires: datetime
) -> None:
    """Move the lease expiry of these step runs to ``expires`` — one executemany."""
    if step_run_ids:
        params = [{"_id": step_run_id, "v_expires": expires} for step_run_id in step_run_ids]
        session.connection().execute(_EXTEND_LEASE, params)


@lru_cache(maxsize=64)
def _move_steps(rule: TransitionRule[StepRunStatus]) -> Update:
    return (
        update(_steps)
        .where(
            _steps.c.run_id == bindparam("w_run_id"),
            _steps.c.step_id.in_(bindparam("w_step_ids", expanding=True)),
            leaves(_steps.c.status, rule),
        )
        .values(status=rule.status, outcome=_outcome_of(rule))
    )


def move_steps(
    session: Session,
    *,
    run_id: uuid.UUID,
    step_ids: Collection[str],
    rule: TransitionRule[StepRunStatus],
) -> int:
    """Move those of the named steps of a run that are in a source of ``rule``; how many."""
    if not step_ids:
        return 0
    params = {"w_run_id": run_id, "w_step_ids": list(step_ids)}
    return int(session.connection().execute(_move_steps(rule), params).rowcount)


def queue_waiting_steps(
    session: Session, *, run_id: uuid.UUID, step_ids: Collection[str], now: datetime
) -> Sequence[Any]:
    """Queue those of the named steps of a run that are ``waiting``.

    Returns:
        The queued rows: ``step_id``, ``attempt``.
    """
    ids = list(step_ids)
    if not ids:  # an empty IN cannot be prepared, and would match nothing
        return []
    params = {"w_run_id": run_id, "now": now, **in_params("s", ids)}
    return _queue_waiting(len(ids)).all(session, params)


def claim_waiting_steps(
    session: Session,
    *,
    run_id: uuid.UUID,
    step_ids: Collection[str],
    owner: str,
    token: uuid.UUID,
    expires: datetime,
    now: datetime,
) -> Sequence[Any]:
    """Queue and claim at once those of the named steps that are ``waiting``.

    Returns:
        The claimed rows: ``id``, ``step_id``, ``attempt``, ``agent``, ``inputs`` and
        ``routed_model`` (the model routing chose for an ``llm:`` step, else ``None``).
    """
    ids = list(step_ids)
    if not ids:  # an empty IN cannot be prepared, and would match nothing
        return []
    params = {
        "w_run_id": run_id,
        "owner": owner,
        "token": token,
        "expires": expires,
        "now": now,
        **in_params("s", ids),
    }
    return _claim_waiting(len(ids)).all(session, params)


def claim_queued_steps(
    session: Session,
    *,
    step_run_ids: Collection[uuid.UUID],
    owner: str,
    token: uuid.UUID,
    expires: datetime,
    now: datetime,
) -> dict[uuid.UUID, tuple[dict[str, Any], str | None]]:
    """Lease those of the given step runs that are still ``queued``.

    Returns:
        By id, each leased step's inputs and routed model (``None``: not routed).
    """
    ids = list(step_run_ids)
    if not ids:  # an empty IN cannot be prepared, and would match nothing
        return {}
    params = {"owner": owner, "token": token, "expires": expires, "now": now, **in_params("i", ids)}
    rows = _claim_queued(len(ids)).all(session, params)
    return {row.id: (row.inputs, row.routed_model) for row in rows}


@dataclass(frozen=True, slots=True)
class StepResult:
    """What an attempt's end writes on its step run, fenced by the lease that ran it.

    Attributes:
        step_run_id, lease_token, attempt: The fence: the step run must still be ``running``
            under this lease token and attempt, or the result is not written.
        rule: The move: ``succeed``, ``requeue`` (retry) or ``fail``.
        next_attempt: The attempt the step run holds afterwards (``attempt + 1`` on a retry).
        usage: What the attempt spent; model: what it was priced at (None: no tokens used).
        outputs, error: What the agent returned (a retry keeps them: the next attempt reads
            the failed one's outputs).
        outcome: What the step produced (``domain.outcomes``); ``None`` on a retry.
        not_before: When a retry may be claimed (``None`` otherwise).
        ended_at: When the step ended (``None`` on a retry).
    """

    step_run_id: uuid.UUID
    lease_token: uuid.UUID | None
    attempt: int
    rule: TransitionRule[StepRunStatus]
    next_attempt: int
    usage: Usage
    outputs: dict[str, Any]
    error: str | None
    not_before: datetime | None
    ended_at: datetime | None
    model: str | None = None
    outcome: Outcome | None = None


def record_results(session: Session, results: Sequence[StepResult]) -> int:
    """Write results fenced by their lease; returns how many applied (one executemany per kind).

    A step run that is no longer ``running`` under the result's lease token and attempt is
    left alone, which the count shows.
    """
    successes: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for result in results:
        params: dict[str, Any] = {
            "_id": result.step_run_id,
            "f_token": result.lease_token,
            "f_attempt": result.attempt,
            "v_outputs": result.outputs,
            "v_input_tokens": result.usage.input_tokens,
            "v_output_tokens": result.usage.output_tokens,
            "v_cost_micros": result.usage.micros,
            "v_model": result.model,
            "v_ended_at": result.ended_at,
            "v_outcome": result.outcome,
        }
        if result.rule is _SUCCEED:
            successes.append(params)
            continue
        params["v_status"] = result.rule.status
        params["v_attempt"] = result.next_attempt
        params["v_error"] = result.error
        params["v_not_before"] = result.not_before
        others.append(params)
    return _RECORD_SUCCESS.run_many(session, successes) + _RECORD_OTHER.run_many(session, others)


_workflows = cast(Table, Workflow.__table__)
_STEP_OUTCOMES = Prepared(
    select(_steps.c.step_id, _steps.c.agent, _steps.c.outcome, _workflows.c.plan_id)
    .join(_runs, _runs.c.id == _steps.c.run_id)
    .join(_workflows, _workflows.c.id == _runs.c.workflow_id)
    .where(_steps.c.run_id == bindparam("run_id"))
    .order_by(_steps.c.id)
)


def read_step_outcomes(
    session: Session, *, run_id: uuid.UUID
) -> tuple[list[tuple[str, str, Any]], bool]:
    """A run's ``(step_id, agent, outcome)`` rows in creation order, and whether it is a plan's.

    What ``domain.outcomes.run_outcomes`` reads: a run whose workflow was compiled from a plan
    is counted by task.
    """
    rows = _STEP_OUTCOMES.all(session, {"run_id": run_id})
    from_plan = bool(rows) and rows[0].plan_id is not None
    return [(row.step_id, row.agent, row.outcome) for row in rows], from_plan


# Transaction-scoped advisory locks, taken in the order of the keys (ascending, as sorted).
_LOCK_RUN_KEYS = text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k")


def serialize_runs(session: Session, *, run_ids: Collection[uuid.UUID]) -> None:
    """Make transactions that read these runs' step statuses wait for each other until commit.

    On PostgreSQL two ticks may record results of one run at once; without this, each reads
    the other's step as still running (READ COMMITTED) and neither promotes a step that waits
    for both, nor ends the run. A transaction-scoped advisory lock per run, taken in a fixed
    order (so two ticks never wait for each other in a cycle), makes the second read what the
    first committed. SQLite has one writer at a time: nothing to do.
    """
    if not run_ids or session.get_bind().dialect.name != "postgresql":
        return
    # The last 8 bytes of a UUIDv7 are random (its first are a timestamp); a shared key only
    # makes two runs wait for each other.
    keys = sorted({int.from_bytes(run_id.bytes[8:], "big", signed=True) for run_id in run_ids})
    session.execute(_LOCK_RUN_KEYS, {"keys": keys})


def has_active_steps(session: Session, *, run_id: uuid.UUID) -> bool:
    """Whether a run still has a step that is waiting, queued, running or awaiting approval."""
    return _HAS_ACTIVE.first(session, {"run_id": run_id}) is not None


def _usage_params(entity_id: uuid.UUID, usage: Usage) -> dict[str, Any]:
    return {
        "_id": entity_id,
        "micros": usage.micros,
        "tokens_in": usage.input_tokens,
        "tokens_out": usage.output_tokens,
    }


def add_run_usage(session: Session, *, run_id: uuid.UUID, usage: Usage) -> tuple[int, int | None]:
    """Add spending to a run; returns its spent total and its cap afterwards."""
    params = _usage_params(run_id, usage)
    spent, cap = session.connection().execute(_RUN_USAGE, params).one()
    return int(spent), cap


_RUNNING_USAGE = (
    update(_steps)
    .where(*_FENCE)
    .values(input_tokens=bindparam("v_input_tokens"), output_tokens=bindparam("v_output_tokens"))
)


def set_running_usage(
    session: Session,
    *,
    step_run_id: uuid.UUID,
    token: uuid.UUID,
    attempt: int,
    input_tokens: int,
    output_tokens: int,
) -> bool:
    """Show a running step's tokens so far; whether it was still running under that lease."""
    params = {
        "_id": step_run_id,
        "f_token": token,
        "f_attempt": attempt,
        "v_input_tokens": input_tokens,
        "v_output_tokens": output_tokens,
    }
    return bool(session.connection().execute(_RUNNING_USAGE, params).rowcount)


_CANCEL_UNSTARTED = (
    update(_steps)
    .where(
        _steps.c.run_id == bindparam("w_run_id"),
        # Spending reached the cap: the steps not started are canceled, running ones finish.
        leaves(_steps.c.status, _STEP_CANCEL),
        _steps.c.status != _RUNNING,
    )
    .values(
        status=_STEP_CANCEL.status,
        outcome=_outcome_of(_STEP_CANCEL),
        ended_at=bindparam("now"),
        hold_reason=null(),
        error=bindparam("v_error"),
    )
    .returning(_steps.c.step_id, _steps.c.attempt)
)


def cancel_unstarted_steps(
    session: Session, *, run_id: uuid.UUID, now: datetime, error: str
) -> Sequence[Any]:
    """Cancel every step of a run that has not started (or cannot), saying why in ``error``.

    Returns:
        The canceled rows: ``step_id``, ``attempt``.
    """
    params = {"w_run_id": run_id, "now": now, "v_error": error}
    return session.connection().execute(_CANCEL_UNSTARTED, params).all()


def set_run_error(session: Session, *, run_id: uuid.UUID, error: str) -> None:
    """Record why a run is failing before it ends (kept when it does)."""
    session.connection().execute(update(_runs).where(_runs.c.id == run_id).values(error=error))


def add_mission_usage(session: Session, *, mission_id: uuid.UUID, usage: Usage) -> None:
    """Add spending to a mission."""
    session.connection().execute(_MISSION_USAGE, _usage_params(mission_id, usage))


def read_claimable_runs(session: Session, *, now: datetime) -> Sequence[Any]:
    """Running runs with a queued step whose backoff has passed: id, workflow, mission, budget."""
    return _CLAIMABLE_RUNS.all(session, {"now": now})


def read_claimable(
    session: Session, *, now: datetime, run_ids: Collection[uuid.UUID], limit: int
) -> Sequence[Any]:
    """Queued steps of these runs whose backoff has passed, oldest first, locked for claiming.

    On PostgreSQL rows another worker is claiming are skipped (``SKIP LOCKED``), so workers
    never wait on each other; on SQLite the write lock already serialises claimers.
    """
    ids = list(run_ids)
    return _claimable(limit, len(ids)).all(session, {"now": now, **in_params("r", ids)})


def count_running_by_run(
    session: Session, *, run_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Running steps per run."""
    ids = list(run_ids)
    rows = _running_by_run(len(ids)).all(session, in_params("r", ids))
    return {run_id: int(count) for run_id, count in rows}


def reserved_by_run(session: Session, *, run_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The reserves of running steps per run: the most they may still spend."""
    ids = list(run_ids)
    rows = _reserved_by_run(len(ids)).all(session, in_params("r", ids))
    return {run_id: int(total) for run_id, total in rows}


def read_expired_leases(session: Session, *, now: datetime) -> Sequence[Any]:
    """Running steps whose lease ran out (their worker stopped heartbeating), locked."""
    return session.connection().execute(_EXPIRED_LEASES, {"now": now}).all()


def read_held_leases(
    session: Session, *, leases: Collection[tuple[uuid.UUID, uuid.UUID]]
) -> set[uuid.UUID]:
    """Which of ``(step_run_id, lease_token)`` are still running under that lease."""
    if not leases:
        return set()
    tokens = dict(leases)
    rows = session.connection().execute(_HELD_LEASES, {"ids": list(tokens)})
    return {step_id for step_id, token in rows.all() if tokens.get(step_id) == token}
