"""Claiming work: leases, per-run limits and the budget gate before each dispatch."""

import uuid
from typing import Any

from sqlalchemy.orm import Session

from missionctl.domain import events as ev
from missionctl.domain.budget import fits_budget
from missionctl.domain.states import RUN, STEP_RUN, transition
from missionctl.eventlog import NewEvent
from missionctl.repositories import execution as repo
from missionctl.services.execution.recording import set_mission_status
from missionctl.services.execution.types import (
    ENGINE_ACTOR,
    ClaimedStep,
    DagCache,
    Dispatch,
    Tick,
    step_event,
)


def claim(session: Session, state: Tick, dispatch: Dispatch, dags: DagCache) -> None:
    """Claim queued steps, oldest first, up to ``dispatch.capacity``, under its lease.

    Respects each run's ``max_concurrency`` and, for capped runs, spent + reserved + the step's
    estimate ≤ cap; a run whose next step would pass its cap is halted (``budget.exceeded``).
    Appends ``step.started`` events to ``state`` and the claims to ``dispatch``.
    """
    rows = repo.read_claimable(session, now=state.now, limit=dispatch.capacity)
    if not rows:
        return
    limits: dict[uuid.UUID, int] = {}
    for row in rows:
        dag = dags.get(session, row.workflow_id)
        if dag.max_concurrency:
            limits[row.run_id] = dag.max_concurrency
    running = repo.count_running_by_run(session, run_ids=list(limits)) if limits else {}
    capped = {row.run_id for row in rows if row.budget_micros is not None}
    reserved = repo.reserved_by_run(session, run_ids=capped) if capped else {}
    exhausted: dict[uuid.UUID, Any] = {}
    chosen: list[Any] = []
    for row in rows:
        if row.run_id in exhausted:
            continue
        if row.run_id in limits:
            if running.get(row.run_id, 0) >= limits[row.run_id]:
                continue
            running[row.run_id] = running.get(row.run_id, 0) + 1
        if row.run_id in capped:
            held = reserved.get(row.run_id, 0)
            if not fits_budget(
                cap_micros=row.budget_micros,
                spent_micros=row.spent_micros,
                reserved_micros=held,
                estimate=row.estimate_micros,
            ):
                exhausted[row.run_id] = row
                continue
            reserved[row.run_id] = held + row.estimate_micros
        chosen.append(row)
    inputs = (
        repo.claim_queued_steps(
            session,
            step_run_ids=[row.id for row in chosen],
            owner=dispatch.worker,
            token=dispatch.lease_token,
            expires=dispatch.expires,
            now=state.now,
        )
        if chosen
        else {}
    )
    for row in chosen:
        if row.id not in inputs:
            continue  # no longer queued (the rows are locked, so this should not happen)
        transition(STEP_RUN, "queued", "running")
        dispatch.claimed.append(
            ClaimedStep(
                step_run_id=row.id,
                run_id=row.run_id,
                mission_id=row.mission_id,
                workflow_id=row.workflow_id,
                step_id=row.step_id,
                attempt=row.attempt,
                agent=row.agent,
                inputs=inputs[row.id],
                lease_token=dispatch.lease_token,
                timeout_s=dags.get(session, row.workflow_id).steps[row.step_id].timeout_s,
                budget_capped=row.budget_micros is not None,
            )
        )
        state.progressing_runs.add(row.run_id)
        state.events.append(
            step_event(ev.STEP_STARTED, row, "running", row.attempt, worker=dispatch.worker)
        )
    dispatch.capacity -= len(inputs)
    for row in exhausted.values():
        _halt_for_budget(session, state, row, reserved.get(row.run_id, 0))


def _halt_for_budget(session: Session, state: Tick, row: Any, reserved: int) -> None:
    """Stop a run whose next step would pass its cap: fail it, cancel what has not started.

    While other steps of the run are still running, it only holds dispatch back: their spend
    is not known yet, and the run ends when they report.
    """
    run = repo.read_run(session, run_id=row.run_id)
    if run is None or run.status != "running":
        return
    steps = repo.read_step_runs(session, run_id=row.run_id)
    if any(s.status == "running" for s in steps):
        return
    error = (
        f"budget exhausted: spent ${row.spent_micros / 1e6:.4f} of ${row.budget_micros / 1e6:.4f}; "
        f"step {row.step_id!r} needs an estimated ${row.estimate_micros / 1e6:.4f}"
    )
    state.events.append(
        NewEvent(
            type=ev.BUDGET_EXCEEDED,
            actor=ENGINE_ACTOR,
            run_id=row.run_id,
            mission_id=row.mission_id,
            step_id=row.step_id,
            payload={
                "phase": "dispatch",
                "spent_micros": row.spent_micros,
                "reserved_micros": reserved,
                "estimate_micros": row.estimate_micros,
                "cap_micros": row.budget_micros,
            },
        )
    )
    for step in steps:
        if step.status != "running" and STEP_RUN.can(step.status, "canceled"):
            transition(STEP_RUN, step.status, "canceled")
            step.status = "canceled"
            step.ended_at = state.now
            state.events.append(
                NewEvent(
                    type=ev.STEP_CANCELED,
                    actor=ENGINE_ACTOR,
                    run_id=row.run_id,
                    mission_id=row.mission_id,
                    step_id=step.step_id,
                    payload={"status": "canceled", "attempt": step.attempt, "reason": "budget"},
                )
            )
    transition(RUN, run.status, "failed")
    run.status = "failed"
    run.error = error
    run.ended_at = state.now
    state.events.append(
        NewEvent(
            type=ev.RUN_FAILED,
            actor=ENGINE_ACTOR,
            run_id=row.run_id,
            mission_id=row.mission_id,
            payload={"status": "failed", "error": error},
        )
    )
    if row.mission_id is not None:
        set_mission_status(session, state, row.mission_id, "failed")
