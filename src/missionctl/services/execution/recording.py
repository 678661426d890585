"""Recording results: fenced step updates, promotion, blocking, finishing runs.

Every word an agent returns passes through the one redaction (``missionctl.llm.redaction``)
here, before it reaches an event, a row or a page: log lines, outputs, errors and artifact
names. Secrets and credential-looking tokens become ``[REDACTED]``. An artifact's content was
redacted (exact secrets only) when its blob was written (``services.artifacts.put_blob``).
"""

import dataclasses
import math
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from missionctl.db.models import Artifact, Run
from missionctl.domain import events as ev
from missionctl.domain.ids import new_id
from missionctl.domain.states import MISSION, RUN, STEP_RUN, transition
from missionctl.eventlog import NewEvent
from missionctl.llm.redaction import redact
from missionctl.repositories import execution as repo
from missionctl.services.artifacts import assign_distinct_names
from missionctl.services.execution.admission import admit_steps
from missionctl.services.execution.types import (
    ENGINE_ACTOR,
    LEASE_RECOVERY_EXTRA_ATTEMPTS,
    ClaimedStep,
    ClaimRow,
    DagCache,
    Dispatch,
    FenceConflict,
    LogLine,
    StepOutcome,
    StoredArtifact,
    Tick,
    step_event,
)


def log_events(logs: Sequence[LogLine]) -> list[NewEvent]:
    """``step.log`` events, one per (run, step, attempt) with its lines in order."""
    grouped: dict[tuple[uuid.UUID, str, int], list[LogLine]] = defaultdict(list)
    for line in logs:
        grouped[(line.run_id, line.step_id, line.attempt)].append(line)
    return [
        NewEvent(
            type=ev.STEP_LOG,
            actor=ENGINE_ACTOR,
            run_id=run_id,
            mission_id=lines[0].mission_id,
            step_id=step_id,
            payload={
                "attempt": attempt,
                "lines": [{"level": line.level, "message": redact(line.message)} for line in lines],
            },
        )
        for (run_id, step_id, attempt), lines in grouped.items()
    ]


def record_outcomes(
    session: Session,
    state: Tick,
    outcomes: Sequence[StepOutcome],
    dags: DagCache,
    random: Callable[[], float],
    *,
    careful: bool = False,
) -> None:
    """Write what happened to claimed steps, fenced by lease token and attempt.

    A result whose step is no longer ``running`` under the same lease is ignored. Failures with
    attempts left are re-queued after a backoff; usage is added to runs and missions; artifacts
    get rows. Successes and final failures are noted in ``state`` for ``advance_runs``. Events
    go to ``state``; nothing is committed here.

    By default the results of claims are written optimistically: one fenced ``UPDATE`` per kind
    of result, without reading the fences first, because a lease is almost never lost.

    Raises:
        FenceConflict: on the optimistic path, some step run was no longer under the lease of
            its result; the caller rolls back and calls again with ``careful=True``, which locks
            and reads the fences first and skips the results they refuse.
    """
    outcomes = [_redacted(o) for o in outcomes]
    by_id = {o.claim.step_run_id: o for o in outcomes}
    rows: Sequence[Any]
    if any(o.lease_expired for o in outcomes):
        # Recovered leases know only the step run: read run, step and workflow with the lock.
        rows = repo.lock_step_runs(session, step_run_ids=list(by_id))
    elif careful:
        # A claim already carries them; only the fence (status, attempt, token) is read.
        rows = [
            ClaimRow(by_id[fence.id].claim, fence.status, fence.attempt, fence.lease_token)
            for fence in repo.lock_fences(session, step_run_ids=list(by_id))
        ]
    else:
        rows = [
            ClaimRow(o.claim, "running", o.claim.attempt, o.claim.lease_token) for o in outcomes
        ]
    successes: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    usage: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0, 0, 0])
    mission_usage: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0, 0, 0])
    artifact_rows: list[dict[str, Any]] = []
    for row in rows:
        outcome = by_id[row.id]
        if (
            row.status != "running"
            or row.lease_token != outcome.claim.lease_token
            or row.attempt != outcome.claim.attempt
        ):
            continue  # fenced out: the lease was lost (expired, canceled) since the claim
        dag = dags.get(session, row.workflow_id)
        step = dag.steps[row.step_id]
        state.touched_runs[row.run_id] = row.mission_id
        state.run_workflows[row.run_id] = row.workflow_id
        state.capped_runs[row.run_id] = outcome.claim.budget_capped
        totals = usage[row.run_id]
        totals[0] += outcome.cost_micros
        totals[1] += outcome.usage.input_tokens
        totals[2] += outcome.usage.output_tokens
        if row.mission_id is not None:
            mission_totals = mission_usage[row.mission_id]
            mission_totals[0] += outcome.cost_micros
            mission_totals[1] += outcome.usage.input_tokens
            mission_totals[2] += outcome.usage.output_tokens
        common = {
            "_id": row.id,
            "f_token": row.lease_token,
            "f_attempt": row.attempt,
            "v_input_tokens": outcome.usage.input_tokens,
            "v_output_tokens": outcome.usage.output_tokens,
            "v_cost_micros": outcome.cost_micros,
        }
        usage_payload = {
            "duration_ms": outcome.duration_ms,
            "input_tokens": outcome.usage.input_tokens,
            "output_tokens": outcome.usage.output_tokens,
            "cost_micros": outcome.cost_micros,
        }
        if outcome.lease_expired:
            state.events.append(
                NewEvent(
                    type=ev.STEP_LEASE_EXPIRED,
                    actor=ENGINE_ACTOR,
                    run_id=row.run_id,
                    mission_id=row.mission_id,
                    step_id=row.step_id,
                    payload={"attempt": row.attempt, "error": outcome.error},
                )
            )
        if outcome.ok:
            transition(STEP_RUN, row.status, "succeeded")
            successes.append({**common, "v_outputs": outcome.outputs, "v_ended_at": state.now})
            state.events.append(
                step_event(ev.STEP_SUCCEEDED, row, "succeeded", row.attempt, **usage_payload)
            )
            state.succeeded.setdefault(row.run_id, []).append(row.step_id)
            for artifact in outcome.artifacts:
                artifact_rows.append(_artifact_row(row, artifact))
            continue
        allowed = step.retry.max_attempts + (
            LEASE_RECOVERY_EXTRA_ATTEMPTS if outcome.lease_expired else 0
        )
        if (outcome.retryable or outcome.lease_expired) and row.attempt < allowed:
            transition(STEP_RUN, row.status, "queued")
            delay = 0.0 if outcome.lease_expired else step.retry.delay_s(row.attempt, random)
            not_before = state.now + timedelta(seconds=delay)
            others.append(
                {
                    **common,
                    "v_status": "queued",
                    "v_attempt": row.attempt + 1,
                    "v_outputs": {},
                    "v_error": outcome.error,
                    "v_not_before": not_before,
                    "v_ended_at": None,
                }
            )
            state.events.append(
                step_event(
                    ev.STEP_RETRY_SCHEDULED,
                    row,
                    "queued",
                    row.attempt + 1,
                    error=outcome.error,
                    delay_s=round(delay, 3),
                    **usage_payload,
                )
            )
            continue
        transition(STEP_RUN, row.status, "failed")
        others.append(
            {
                **common,
                "v_status": "failed",
                "v_attempt": row.attempt,
                "v_outputs": outcome.outputs,
                "v_error": outcome.error,
                "v_not_before": None,
                "v_ended_at": state.now,
            }
        )
        state.events.append(
            step_event(
                ev.STEP_FAILED, row, "failed", row.attempt, error=outcome.error, **usage_payload
            )
        )
        state.failed.setdefault(row.run_id, []).append(row.step_id)
    applied = repo.record_results(session, successes=successes, others=others)
    if applied != len(successes) + len(others):
        raise FenceConflict(f"{len(successes) + len(others) - applied} result(s) fenced out")
    if artifact_rows:
        assign_distinct_names(session, artifact_rows)  # unique within a run (ADR 29)
        session.add_all([Artifact(**values) for values in artifact_rows])
        session.flush()
        for values in artifact_rows:
            state.events.append(
                NewEvent(
                    type=ev.ARTIFACT_CREATED,
                    actor=ENGINE_ACTOR,
                    run_id=values["run_id"],
                    mission_id=values["mission_id"],
                    step_id=values["meta"]["step_id"],
                    payload={
                        "artifact_id": str(values["id"]),
                        "name": values["name"],
                        "kind": values["kind"],
                        "sha256": values["sha256"],
                        "size": values["size"],
                    },
                )
            )
    for run_id, (micros, tokens_in, tokens_out) in usage.items():
        if micros or tokens_in or tokens_out:
            spent, cap = repo.add_run_usage(
                session,
                run_id=run_id,
                micros=micros,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
            )
            if cap is not None and micros:
                _check_spend(session, state, run_id, spent - micros, spent, cap)
    for mission_id, (micros, tokens_in, tokens_out) in mission_usage.items():
        if micros or tokens_in or tokens_out:
            repo.add_mission_usage(
                session,
                mission_id=mission_id,
                micros=micros,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
            )


def _redacted(outcome: StepOutcome) -> StepOutcome:
    """``outcome`` with its outputs, error and artifact names redacted (they are recorded)."""
    if not (outcome.outputs or outcome.error or outcome.artifacts):
        return outcome  # nothing to read
    outputs = redact(outcome.outputs)
    error = None if outcome.error is None else redact(outcome.error)
    names = [redact(a.output.name) for a in outcome.artifacts]
    if (
        outputs == outcome.outputs
        and error == outcome.error
        and all(name == a.output.name for name, a in zip(names, outcome.artifacts, strict=True))
    ):
        return outcome  # nothing to hide (almost always): no copy
    return dataclasses.replace(
        outcome,
        outputs=outputs,
        error=error,
        artifacts=tuple(
            dataclasses.replace(a, output=dataclasses.replace(a.output, name=name))
            for name, a in zip(names, outcome.artifacts, strict=True)
        ),
    )


def _check_spend(
    session: Session, state: Tick, run_id: uuid.UUID, before: int, spent: int, cap: int
) -> None:
    """Warn when spending first reaches 80 % of the cap; halt dispatch when it reaches the cap.

    Halting cancels every step of the run that has not started; steps already running finish
    (their spend is recorded) and the run then fails with the budget as its error.
    """
    mission_id = state.touched_runs.get(run_id)
    warn_at = math.ceil(cap * ev.BUDGET_WARNING_SHARE)
    if before < warn_at <= spent:
        state.events.append(
            NewEvent(
                type=ev.BUDGET_WARNING,
                actor=ENGINE_ACTOR,
                run_id=run_id,
                mission_id=mission_id,
                payload={
                    "spent_micros": spent,
                    "cap_micros": cap,
                    "share": round(spent / cap, 4) if cap else 1.0,
                },
            )
        )
    if not before < cap <= spent:
        return
    error = f"budget exhausted: spent ${spent / 1e6:.4f} of the ${cap / 1e6:.4f} cap"
    state.events.append(
        NewEvent(
            type=ev.BUDGET_EXCEEDED,
            actor=ENGINE_ACTOR,
            run_id=run_id,
            mission_id=mission_id,
            payload={"phase": "spend", "spent_micros": spent, "cap_micros": cap},
        )
    )
    canceled = repo.cancel_unstarted_steps(
        session, run_id=run_id, now=state.now, error=f"not run: {error}"
    )
    for row in canceled:
        state.events.append(
            NewEvent(
                type=ev.STEP_CANCELED,
                actor=ENGINE_ACTOR,
                run_id=run_id,
                mission_id=mission_id,
                step_id=row.step_id,
                payload={"status": "canceled", "attempt": row.attempt, "reason": "budget"},
            )
        )
    repo.set_run_error(session, run_id=run_id, error=error)


def _artifact_row(row: Any, artifact: StoredArtifact) -> dict[str, Any]:
    return {
        "id": new_id(),
        "mission_id": row.mission_id,
        "run_id": row.run_id,
        "step_run_id": row.id,
        "kind": artifact.output.kind,
        "name": artifact.output.name,
        "media_type": artifact.output.media_type,
        "sha256": artifact.blob.sha256,
        "size": artifact.blob.size,
        "uri": artifact.blob.uri,
        "meta": {"step_id": row.step_id},
    }


def advance_runs(
    session: Session, state: Tick, dags: DagCache, dispatch: Dispatch | None = None
) -> None:
    """Promote the dependents of this tick's successes and skips; block those of its failures.

    With a ``dispatch``, plain dependents that become ready are claimed in the same statement,
    up to its capacity (see ``_promote_dependents``); call this after the queue has been
    claimed from, so that steps queued earlier go first. Steps that are not plain go through
    admission, which may skip them (their dependents are promoted in turn) or fail them.

    The runs with results in this tick are locked against other ticks until commit first
    (``serialize_runs``): promotion here and ``finish_runs`` after read other steps' statuses.
    """
    repo.serialize_runs(session, run_ids={*state.succeeded, *state.skipped, *state.failed})
    # Admission can skip steps, whose dependents are then promoted too: loop until quiet.
    promoted: dict[tuple[str, uuid.UUID], int] = {}
    while True:
        pending = [
            (kind, run_id, step_ids[promoted.get((kind, run_id), 0) :])
            for kind, finished in (("succeeded", state.succeeded), ("skipped", state.skipped))
            for run_id, step_ids in finished.items()
            if len(step_ids) > promoted.get((kind, run_id), 0)
        ]
        if not pending:
            break
        for kind, run_id, step_ids in pending:
            promoted[(kind, run_id)] = promoted.get((kind, run_id), 0) + len(step_ids)
            _promote_dependents(session, state, run_id, step_ids, dags, dispatch)
    for run_id, step_ids in state.failed.items():
        _block_descendants(session, state, run_id, step_ids, dags)


def _promote_dependents(
    session: Session,
    state: Tick,
    run_id: uuid.UUID,
    finished: Sequence[str],
    dags: DagCache,
    dispatch: Dispatch | None,
) -> None:
    """Queue every dependent of ``finished`` whose dependencies have all succeeded or skipped.

    When every dependency of every candidate succeeded in this tick, they are ready without
    reading any status; otherwise the statuses of candidates and dependencies are read. Either
    way the writes are guarded by ``status = 'waiting'`` and return the rows they changed.

    A ready step of a run without a concurrency limit or budget cap is claimed at once (queued
    and started in one ``UPDATE``) while ``dispatch`` has capacity: the queue would hand it to
    this worker anyway, one statement and one tick later. Steps of limited or capped runs go
    through the queue, where ``claim`` applies the limit and the budget gate.
    """
    dag = dags.get(session, state.run_workflows[run_id])
    done_now = set(finished)
    dependents = {d for s in finished for d in dag.dependents[s]}
    candidates = dag.in_order(dependents)
    if not candidates:
        return
    ready = candidates
    if not all(set(dag.steps[c].depends_on) <= done_now for c in candidates):
        needed = set(candidates) | {dep for c in candidates for dep in dag.steps[c].depends_on}
        statuses = repo.read_step_statuses(session, run_id=run_id, step_ids=needed)
        ready = [
            c
            for c in candidates
            if statuses.get(c) == "waiting"
            and all(statuses.get(d) in ("succeeded", "skipped") for d in dag.steps[c].depends_on)
        ]
        if not ready:
            return
    if not dag.all_plain:
        special = [c for c in ready if not dag.steps[c].plain]
        if special:
            admit_steps(session, state, run_id, special, dag)
            ready = [c for c in ready if dag.steps[c].plain]
            if not ready:
                return
    mission_id = state.touched_runs.get(run_id)
    direct = 0
    if (
        dispatch is not None
        and not dag.max_concurrency
        and not state.capped_runs.get(run_id, True)
        and state.policy.unrestricted(ready, dag)
    ):
        direct = min(dispatch.capacity, len(ready))
    order = {step_id: i for i, step_id in enumerate(ready)}
    if direct:
        assert dispatch is not None
        rows = sorted(
            repo.claim_waiting_steps(
                session,
                run_id=run_id,
                step_ids=ready[:direct],
                owner=dispatch.worker,
                token=dispatch.lease_token,
                expires=dispatch.expires,
                now=state.now,
            ),
            key=lambda row: order[row.step_id],
        )
        dispatch.capacity -= len(rows)
        for row in rows:
            transition(STEP_RUN, "waiting", "queued")
            _queued_event(state, run_id, mission_id, row.step_id, row.attempt)
            transition(STEP_RUN, "queued", "running")
            state.events.append(
                NewEvent(
                    type=ev.STEP_STARTED,
                    actor=ENGINE_ACTOR,
                    run_id=run_id,
                    mission_id=mission_id,
                    step_id=row.step_id,
                    payload={
                        "status": "running",
                        "attempt": row.attempt,
                        "worker": dispatch.worker,
                    },
                )
            )
            dispatch.claimed.append(
                ClaimedStep(
                    step_run_id=row.id,
                    run_id=run_id,
                    mission_id=mission_id,
                    workflow_id=state.run_workflows[run_id],
                    step_id=row.step_id,
                    attempt=row.attempt,
                    agent=row.agent,
                    inputs=row.inputs,
                    lease_token=dispatch.lease_token,
                    timeout_s=dag.steps[row.step_id].timeout_s,
                    budget_capped=False,
                    depends_on=dag.steps[row.step_id].depends_on,
                )
            )
        if rows:
            state.progressing_runs.add(run_id)
    if direct < len(ready):
        rows = sorted(
            repo.queue_waiting_steps(
                session, run_id=run_id, step_ids=ready[direct:], now=state.now
            ),
            key=lambda row: order[row.step_id],
        )
        for row in rows:
            transition(STEP_RUN, "waiting", "queued")
            _queued_event(state, run_id, mission_id, row.step_id, row.attempt)
        if rows:
            state.progressing_runs.add(run_id)


def _queued_event(
    state: Tick, run_id: uuid.UUID, mission_id: uuid.UUID | None, step_id: str, attempt: int
) -> None:
    state.events.append(
        NewEvent(
            type=ev.STEP_QUEUED,
            actor=ENGINE_ACTOR,
            run_id=run_id,
            mission_id=mission_id,
            step_id=step_id,
            payload={"status": "queued", "attempt": attempt},
        )
    )


def _block_descendants(
    session: Session,
    state: Tick,
    run_id: uuid.UUID,
    failed_steps: Sequence[str],
    dags: DagCache,
) -> None:
    """Mark every waiting or queued step downstream of a failed step ``blocked``."""
    dag = dags.get(session, state.run_workflows[run_id])
    downstream = dag.descendants(failed_steps)
    if not downstream:
        return
    statuses = repo.read_step_statuses(session, run_id=run_id, step_ids=downstream)
    blocked = [s for s in downstream if statuses.get(s) in ("waiting", "queued")]
    if not blocked:
        return
    mission_id = state.touched_runs.get(run_id)
    repo.update_steps_by_step_id(
        session, run_id=run_id, step_ids=blocked, values={"status": "blocked"}
    )
    for step_id in blocked:
        transition(STEP_RUN, statuses[step_id], "blocked")
        state.events.append(
            NewEvent(
                type=ev.STEP_BLOCKED,
                actor=ENGINE_ACTOR,
                run_id=run_id,
                mission_id=mission_id,
                step_id=step_id,
                payload={"status": "blocked", "blocked_by": list(failed_steps)},
            )
        )


def finish_runs(session: Session, state: Tick, dags: DagCache | None = None) -> None:
    """Finish the runs this tick touched, unless it queued or claimed a step of theirs.

    With ``dags``, a run with approval gates whose only unfinished work waits for a decision
    is paused instead (``run.paused``); a decision resumes it.
    """
    for run_id, mission_id in state.touched_runs.items():
        if run_id in state.progressing_runs:
            continue
        workflow_id = state.run_workflows.get(run_id)
        gated = dags is not None and workflow_id is not None and dags.get(session, workflow_id)
        finish_run_if_done(
            session, state, run_id, mission_id, may_pause=bool(gated and gated.has_gates)
        )


def finish_run_if_done(
    session: Session,
    state: Tick,
    run_id: uuid.UUID,
    mission_id: uuid.UUID | None,
    *,
    may_pause: bool = False,
) -> None:
    """Complete or fail a running run that has no active step left (or pause it, see above)."""
    # Most runs a result touches still have work: one indexed probe, not a count of every step.
    if repo.has_active_steps(session, run_id=run_id):
        if may_pause:
            _pause_if_awaiting(session, state, run_id, mission_id)
        return
    counts = repo.count_steps_by_status(session, run_id=run_id)
    if any(counts.get(s, 0) for s in repo.ACTIVE_STEP_STATUSES):
        return
    found = repo.read_run_state(session, run_id=run_id)
    if found is None or found[0] != "running":
        return
    status, run_error = found
    clean = set(counts) <= {"succeeded", "skipped"} and not run_error
    target = "completed" if clean else "failed"
    transition(RUN, status, target)
    # An error set while the run was still going (its budget ran out) says more than counts.
    error = None if clean else run_error or _failure_summary(counts)
    repo.end_run(session, run_id=run_id, status=target, error=error, now=state.now)
    state.events.append(
        NewEvent(
            type=ev.RUN_COMPLETED if clean else ev.RUN_FAILED,
            actor=ENGINE_ACTOR,
            run_id=run_id,
            mission_id=mission_id,
            payload={"status": target, "error": error, "steps": counts},
        )
    )
    if mission_id is not None:
        set_mission_status(session, state, mission_id, target)


def _pause_if_awaiting(
    session: Session, state: Tick, run_id: uuid.UUID, mission_id: uuid.UUID | None
) -> None:
    """Pause a running run whose unfinished steps all wait on an approval decision."""
    counts = repo.count_steps_by_status(session, run_id=run_id)
    awaiting = counts.get("awaiting_approval", 0)
    if not awaiting or counts.get("queued", 0) or counts.get("running", 0):
        return
    found = repo.read_run_state(session, run_id=run_id)
    if found is None or found[0] != "running":
        return
    transition(RUN, found[0], "paused")
    session.execute(
        update(Run).where(Run.id == run_id, Run.status == "running").values(status="paused"),
        execution_options={"synchronize_session": False},
    )
    state.events.append(
        NewEvent(
            type=ev.RUN_PAUSED,
            actor=ENGINE_ACTOR,
            run_id=run_id,
            mission_id=mission_id,
            payload={
                "status": "paused",
                "reason": f"{awaiting} step(s) awaiting approval",
                "awaiting_approval": awaiting,
            },
        )
    )


def set_mission_status(session: Session, state: Tick, mission_id: uuid.UUID, target: str) -> None:
    """Move a mission to ``target`` when its state machine allows it (otherwise leave it)."""
    status = repo.read_mission_status(session, mission_id=mission_id)
    if status is None or status == target or not MISSION.can(status, target):
        return
    transition(MISSION, status, target)
    repo.move_mission(session, mission_id=mission_id, source=status, target=target)
    state.events.append(
        NewEvent(
            type=f"mission.{target}",
            actor=ENGINE_ACTOR,
            mission_id=mission_id,
            payload={"status": target},
        )
    )


def _failure_summary(counts: dict[str, int]) -> str:
    parts = [f"{counts[s]} {s}" for s in ("failed", "blocked", "canceled") if counts.get(s)]
    return "steps did not all succeed: " + ", ".join(parts)
