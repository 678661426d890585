"""Recording results: fenced step updates, promotion, blocking, finishing runs."""

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from missionctl.db.models import Artifact, Mission, Run
from missionctl.domain import events as ev
from missionctl.domain.ids import new_id
from missionctl.domain.states import MISSION, RUN, STEP_RUN, transition
from missionctl.eventlog import NewEvent
from missionctl.repositories import execution as repo
from missionctl.services.execution.types import (
    ENGINE_ACTOR,
    LEASE_RECOVERY_EXTRA_ATTEMPTS,
    ClaimRow,
    DagCache,
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
                "lines": [{"level": line.level, "message": line.message} for line in lines],
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
) -> None:
    """Write what happened to claimed steps, fenced by lease token and attempt.

    A result whose step is no longer ``running`` under the same lease is ignored. Successes
    promote their dependents, failures with attempts left are re-queued after a backoff, final
    failures block their descendants; usage is added to runs and missions; artifacts get rows.
    Events go to ``state``; nothing is committed here.
    """
    by_id = {o.claim.step_run_id: o for o in outcomes}
    rows: Sequence[Any]
    if any(o.lease_expired for o in outcomes):
        # Recovered leases know only the step run: read run, step and workflow with the lock.
        rows = repo.lock_step_runs(session, step_run_ids=list(by_id))
    else:
        # A claim already carries them; only the fence (status, attempt, token) is read.
        rows = [
            ClaimRow(by_id[fence.id].claim, fence.status, fence.attempt, fence.lease_token)
            for fence in repo.lock_fences(session, step_run_ids=list(by_id))
        ]
    updates: list[dict[str, Any]] = []
    succeeded: dict[uuid.UUID, list[str]] = defaultdict(list)
    failed: dict[uuid.UUID, list[str]] = defaultdict(list)
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
            "input_tokens": outcome.usage.input_tokens,
            "output_tokens": outcome.usage.output_tokens,
            "cost_micros": outcome.cost_micros,
            "lease_owner": None,
            "lease_token": None,
            "lease_expires_at": None,
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
            updates.append(
                {
                    **common,
                    "status": "succeeded",
                    "attempt": row.attempt,
                    "outputs": outcome.outputs,
                    "error": None,
                    "not_before": None,
                    "ended_at": state.now,
                }
            )
            state.events.append(
                step_event(ev.STEP_SUCCEEDED, row, "succeeded", row.attempt, **usage_payload)
            )
            succeeded[row.run_id].append(row.step_id)
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
            updates.append(
                {
                    **common,
                    "status": "queued",
                    "attempt": row.attempt + 1,
                    "outputs": {},
                    "error": outcome.error,
                    "not_before": not_before,
                    "ended_at": None,
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
        updates.append(
            {
                **common,
                "status": "failed",
                "attempt": row.attempt,
                "outputs": outcome.outputs,
                "error": outcome.error,
                "not_before": None,
                "ended_at": state.now,
            }
        )
        state.events.append(
            step_event(
                ev.STEP_FAILED, row, "failed", row.attempt, error=outcome.error, **usage_payload
            )
        )
        failed[row.run_id].append(row.step_id)
    repo.update_steps_by_id(
        session,
        rows=updates,
        columns=[
            "status",
            "attempt",
            "outputs",
            "input_tokens",
            "output_tokens",
            "cost_micros",
            "error",
            "not_before",
            "ended_at",
            "lease_owner",
            "lease_token",
            "lease_expires_at",
        ],
    )
    if artifact_rows:
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
            repo.add_run_usage(
                session,
                run_id=run_id,
                micros=micros,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
            )
    for mission_id, (micros, tokens_in, tokens_out) in mission_usage.items():
        if micros or tokens_in or tokens_out:
            repo.add_mission_usage(
                session,
                mission_id=mission_id,
                micros=micros,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
            )
    for run_id, step_ids in succeeded.items():
        _promote_dependents(session, state, run_id, step_ids, dags)
    for run_id, step_ids in failed.items():
        _block_descendants(session, state, run_id, step_ids, dags)


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


def _promote_dependents(
    session: Session,
    state: Tick,
    run_id: uuid.UUID,
    finished: Sequence[str],
    dags: DagCache,
) -> None:
    """Queue every dependent of ``finished`` whose dependencies have all succeeded or skipped.

    Fast path: when every dependency of every candidate succeeded in this tick, a guarded
    ``UPDATE … WHERE status = 'waiting'`` queues them without reading statuses first; if its
    row count shows that some candidate was not waiting, the careful path below reads them.
    """
    dag = dags.get(session, state.run_workflows[run_id])
    done_now = set(finished)
    dependents = {d for s in finished for d in dag.dependents[s]}
    candidates = [c for c in dag.order if c in dependents]
    if not candidates:
        return
    mission_id = state.touched_runs.get(run_id)
    values = {"status": "queued", "queued_at": state.now}
    if all(set(dag.steps[c].depends_on) <= done_now for c in candidates):
        updated = repo.queue_waiting_steps(
            session, run_id=run_id, step_ids=candidates, values=values
        )
        if updated == len(candidates):
            _queued_events(state, run_id, mission_id, candidates)
            return
        # Some candidate was not waiting (canceled, say): report the ones this update queued.
        statuses = repo.read_step_statuses(session, run_id=run_id, step_ids=candidates)
        _queued_events(
            state, run_id, mission_id, [c for c in candidates if statuses.get(c) == "queued"]
        )
        return
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
    repo.update_steps_by_step_id(session, run_id=run_id, step_ids=ready, values=values)
    _queued_events(state, run_id, mission_id, ready)


def _queued_events(
    state: Tick, run_id: uuid.UUID, mission_id: uuid.UUID | None, step_ids: Sequence[str]
) -> None:
    state.progressing_runs.add(run_id)
    for step_id in step_ids:
        transition(STEP_RUN, "waiting", "queued")
        state.events.append(
            NewEvent(
                type=ev.STEP_QUEUED,
                actor=ENGINE_ACTOR,
                run_id=run_id,
                mission_id=mission_id,
                step_id=step_id,
                payload={"status": "queued", "attempt": 1},
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


def finish_run_if_done(
    session: Session, state: Tick, run_id: uuid.UUID, mission_id: uuid.UUID | None
) -> None:
    """Complete or fail a running run that has no active step left."""
    counts = repo.count_steps_by_status(session, run_id=run_id)
    if any(counts.get(s, 0) for s in repo.ACTIVE_STEP_STATUSES):
        return
    run = repo.read_run(session, run_id=run_id)
    if run is None or run.status != "running":
        return
    clean = set(counts) <= {"succeeded", "skipped"}
    target = "completed" if clean else "failed"
    transition(RUN, run.status, target)
    error = None if clean else _failure_summary(counts)
    session.execute(
        update(Run)
        .where(Run.id == run_id, Run.status == "running")
        .values(status=target, ended_at=state.now, error=error),
        execution_options={"synchronize_session": False},
    )
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


def set_mission_status(session: Session, state: Tick, mission_id: uuid.UUID, target: str) -> None:
    """Move a mission to ``target`` when its state machine allows it (otherwise leave it)."""
    mission = session.get(Mission, mission_id)
    if mission is None or mission.status == target or not MISSION.can(mission.status, target):
        return
    transition(MISSION, mission.status, target)
    mission.status = target
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
