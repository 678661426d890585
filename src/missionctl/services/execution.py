"""Engine-facing use cases: claim work, record results, keep and recover leases.

The engine calls ``tick`` in a loop. One tick is ONE write transaction that records every result
that finished since the last tick, promotes the steps those results made ready, finishes runs
with nothing left to do, and claims new work up to the engine's free capacity — so the cost of a
transaction is shared by every transition in it (DESIGN §8: batched per tick, not per row).

Every result write is fenced: it applies only if the step run is still ``running`` under the same
``lease_token`` and ``attempt`` that the claim handed out. A worker that lost its lease (expired,
run canceled) therefore cannot overwrite what happened since.
"""

import random as random_module
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from missionctl.agents.base import ArtifactOutput
from missionctl.blobs import BlobRef
from missionctl.db.models import Artifact, Mission, Run
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.budget import Price, cost_micros, fits_budget
from missionctl.domain.ids import new_id
from missionctl.domain.states import MISSION, RUN, STEP_RUN, transition
from missionctl.domain.workflows import WorkflowDag
from missionctl.errors import NotFound
from missionctl.eventlog import NewEvent, append_sync
from missionctl.llm import LLMUsage
from missionctl.repositories import execution as repo
from missionctl.services.context import ServiceContext
from missionctl.services.pricing import resolve_price

# A worker crash is not the step's fault: a step whose lease expired gets this many extra
# attempts beyond its retry policy before it is failed (a step that kills every worker stops).
LEASE_RECOVERY_EXTRA_ATTEMPTS = 2
ENGINE_ACTOR = "system"


@dataclass(frozen=True, slots=True)
class ClaimedStep:
    """A step run handed to a worker under a lease."""

    step_run_id: uuid.UUID
    run_id: uuid.UUID
    mission_id: uuid.UUID | None
    workflow_id: uuid.UUID
    step_id: str
    attempt: int
    agent: str
    inputs: dict[str, Any]
    lease_token: uuid.UUID
    timeout_s: float


@dataclass(frozen=True, slots=True)
class StoredArtifact:
    """An artifact already written to the blob store, waiting for its row."""

    output: ArtifactOutput
    blob: BlobRef


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What happened to one claimed step."""

    claim: ClaimedStep
    ok: bool
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    retryable: bool = True
    usage: LLMUsage = field(default_factory=LLMUsage)
    cost_micros: int = 0
    duration_ms: int = 0
    artifacts: tuple[StoredArtifact, ...] = ()
    lease_expired: bool = False


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line an agent logged."""

    run_id: uuid.UUID
    mission_id: uuid.UUID | None
    step_id: str
    attempt: int
    level: str
    message: str


class DagCache:
    """Parsed workflow definitions by workflow id (versions are immutable, so never stale)."""

    def __init__(self) -> None:
        self._dags: dict[uuid.UUID, WorkflowDag] = {}

    def peek(self, workflow_id: uuid.UUID) -> WorkflowDag | None:
        """The DAG if it is cached (it is, for any step this process claimed)."""
        return self._dags.get(workflow_id)

    def get(self, session: Session, workflow_id: uuid.UUID) -> WorkflowDag:
        """The DAG of a workflow version.

        Raises:
            NotFound: no such workflow.
        """
        dag = self._dags.get(workflow_id)
        if dag is None:
            workflow = repo.read_workflow(session, workflow_id=workflow_id)
            if workflow is None:
                raise NotFound(f"no workflow with id {workflow_id}", field="workflow_id")
            dag = self._dags[workflow_id] = WorkflowDag.from_definition(workflow.definition)
        return dag


class _ClaimRow:
    """A claimed step's identity from its claim, with the fence read from the database."""

    __slots__ = (
        "attempt",
        "id",
        "lease_token",
        "mission_id",
        "run_id",
        "status",
        "step_id",
        "workflow_id",
    )

    def __init__(
        self, claim: ClaimedStep, status: str, attempt: int, lease_token: uuid.UUID | None
    ) -> None:
        self.id = claim.step_run_id
        self.run_id = claim.run_id
        self.step_id = claim.step_id
        self.mission_id = claim.mission_id
        self.workflow_id = claim.workflow_id
        self.status = status
        self.attempt = attempt
        self.lease_token = lease_token


@dataclass
class _Tick:
    """Everything one tick accumulates before it writes."""

    now: datetime
    events: list[NewEvent] = field(default_factory=list)
    touched_runs: dict[uuid.UUID, uuid.UUID | None] = field(default_factory=dict)
    # Runs that queued a step in this tick cannot be finished: skip that check for them.
    progressing_runs: set[uuid.UUID] = field(default_factory=set)
    run_workflows: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)


async def tick(
    ctx: ServiceContext,
    *,
    worker: str,
    outcomes: Sequence[StepOutcome],
    logs: Sequence[LogLine],
    capacity: int,
    lease_s: float,
    dags: DagCache,
    random: Callable[[], float] = random_module.random,
) -> list[ClaimedStep]:
    """Record ``outcomes`` and ``logs``, then claim up to ``capacity`` steps — one transaction.

    Runs in a worker thread on the blocking engine (ADR 0007); events are published after the
    commit.

    Returns:
        The newly claimed steps (each ``running`` under a fresh lease owned by ``worker``).
    """

    def work(session: Session) -> list[ClaimedStep]:
        state = _Tick(now=utcnow())
        state.events.extend(_log_events(logs))
        if outcomes:
            _record_outcomes(session, state, outcomes, dags, random)
        for run_id, mission_id in state.touched_runs.items():
            if run_id not in state.progressing_runs:
                _finish_run_if_done(session, state, run_id, mission_id)
        claimed = _claim(session, state, worker, capacity, lease_s, dags) if capacity > 0 else []
        append_sync(session, state.events)
        return claimed

    return await ctx.write_in_thread(work)


async def renew_leases(
    ctx: ServiceContext, *, leases: Sequence[tuple[uuid.UUID, uuid.UUID]], lease_s: float
) -> set[uuid.UUID]:
    """Extend the leases still held; returns the step run ids whose lease is still ours.

    A step missing from the result was canceled or recovered by someone else: its worker must
    stop it.
    """
    if not leases:
        return set()

    def work(session: Session) -> set[uuid.UUID]:
        held = repo.read_held_leases(session, leases=leases)
        expires = utcnow() + timedelta(seconds=lease_s)
        repo.update_steps_by_id(
            session,
            rows=[{"_id": step_id, "lease_expires_at": expires} for step_id in held],
            columns=["lease_expires_at"],
        )
        return held

    return await ctx.write_in_thread(work)


async def recover_expired_leases(
    ctx: ServiceContext, *, dags: DagCache, random: Callable[[], float] = random_module.random
) -> int:
    """Put steps whose worker vanished back in the queue (``attempt + 1``), or fail them.

    Returns:
        How many expired leases were recovered.
    """

    def work(session: Session) -> int:
        rows = repo.read_expired_leases(session, now=utcnow())
        if not rows:
            return 0
        state = _Tick(now=utcnow())
        outcomes = [
            StepOutcome(
                claim=ClaimedStep(
                    step_run_id=row.id,
                    run_id=uuid.UUID(int=0),  # the locked row supplies run, step and mission
                    mission_id=None,
                    workflow_id=uuid.UUID(int=0),
                    step_id="",
                    attempt=row.attempt,
                    agent="",
                    inputs={},
                    lease_token=row.lease_token,
                    timeout_s=0,
                ),
                ok=False,
                error=f"lease expired: worker {row.lease_owner} stopped heartbeating",
                lease_expired=True,
            )
            for row in rows
        ]
        _record_outcomes(session, state, outcomes, dags, random)
        for run_id, mission_id in state.touched_runs.items():
            if run_id not in state.progressing_runs:
                _finish_run_if_done(session, state, run_id, mission_id)
        append_sync(session, state.events)
        return len(rows)

    return await ctx.write_in_thread(work)


async def price_for(ctx: ServiceContext, *, model: str) -> Price | None:
    """The price in force for ``model`` (override, else bundled), or ``None`` if unknown."""
    async with ctx.read() as session:
        return await resolve_price(session, model=model)


def usage_cost_micros(price: Price | None, usage: LLMUsage) -> int:
    """What ``usage`` costs at ``price`` (0 when no tokens were used or the price is unknown)."""
    if price is None or not (usage.input_tokens or usage.output_tokens):
        return 0
    return cost_micros(
        price,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_input_tokens=usage.cached_input_tokens,
    )


def _log_events(logs: Sequence[LogLine]) -> list[NewEvent]:
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


def _step_event(type_: str, row: Any, status: str, attempt: int, **payload: Any) -> NewEvent:
    return NewEvent(
        type=type_,
        actor=ENGINE_ACTOR,
        run_id=row.run_id,
        mission_id=row.mission_id,
        step_id=row.step_id,
        payload={"status": status, "attempt": attempt, **payload},
    )


def _record_outcomes(
    session: Session,
    state: _Tick,
    outcomes: Sequence[StepOutcome],
    dags: DagCache,
    random: Callable[[], float],
) -> None:
    by_id = {o.claim.step_run_id: o for o in outcomes}
    rows: Sequence[Any]
    if any(o.lease_expired for o in outcomes):
        # Recovered leases know only the step run: read run, step and workflow with the lock.
        rows = repo.lock_step_runs(session, step_run_ids=list(by_id))
    else:
        # A claim already carries them; only the fence (status, attempt, token) is read.
        rows = [
            _ClaimRow(by_id[fence.id].claim, fence.status, fence.attempt, fence.lease_token)
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
                _step_event(ev.STEP_SUCCEEDED, row, "succeeded", row.attempt, **usage_payload)
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
                _step_event(
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
            _step_event(
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
    state: _Tick,
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
    candidates = [c for c in dag.order if c in {d for s in finished for d in dag.dependents[s]}]
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
    state: _Tick, run_id: uuid.UUID, mission_id: uuid.UUID | None, step_ids: Sequence[str]
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
    state: _Tick,
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


def _finish_run_if_done(
    session: Session, state: _Tick, run_id: uuid.UUID, mission_id: uuid.UUID | None
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
        _set_mission_status(session, state, mission_id, target)


def _set_mission_status(session: Session, state: _Tick, mission_id: uuid.UUID, target: str) -> None:
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


def _claim(
    session: Session,
    state: _Tick,
    worker: str,
    capacity: int,
    lease_s: float,
    dags: DagCache,
) -> list[ClaimedStep]:
    rows = repo.read_claimable(session, now=state.now, limit=capacity)
    if not rows:
        return []
    limits: dict[uuid.UUID, int] = {}
    for row in rows:
        dag = dags.get(session, row.workflow_id)
        if dag.max_concurrency:
            limits[row.run_id] = dag.max_concurrency
    running = repo.count_running_by_run(session, run_ids=list(limits)) if limits else {}
    capped = {row.run_id for row in rows if row.budget_micros is not None}
    reserved = repo.reserved_by_run(session, run_ids=capped) if capped else {}
    exhausted: dict[uuid.UUID, Any] = {}
    expires = state.now + timedelta(seconds=lease_s)
    claimed: list[ClaimedStep] = []
    updates: list[dict[str, Any]] = []
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
        dag = dags.get(session, row.workflow_id)
        transition(STEP_RUN, "queued", "running")
        token = uuid.uuid4()
        updates.append(
            {
                "_id": row.id,
                "status": "running",
                "lease_owner": worker,
                "lease_token": token,
                "lease_expires_at": expires,
                "started_at": state.now,
                "ended_at": None,
            }
        )
        claimed.append(
            ClaimedStep(
                step_run_id=row.id,
                run_id=row.run_id,
                mission_id=row.mission_id,
                workflow_id=row.workflow_id,
                step_id=row.step_id,
                attempt=row.attempt,
                agent=row.agent,
                inputs=row.inputs,
                lease_token=token,
                timeout_s=dag.steps[row.step_id].timeout_s,
            )
        )
        state.events.append(
            _step_event(ev.STEP_STARTED, row, "running", row.attempt, worker=worker)
        )
    repo.update_steps_by_id(
        session,
        rows=updates,
        columns=[
            "status",
            "lease_owner",
            "lease_token",
            "lease_expires_at",
            "started_at",
            "ended_at",
        ],
    )
    for row in exhausted.values():
        _halt_for_budget(session, state, row, reserved.get(row.run_id, 0))
    return claimed


def _halt_for_budget(session: Session, state: _Tick, row: Any, reserved: int) -> None:
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
        _set_mission_status(session, state, row.mission_id, "failed")


__all__ = [
    "ClaimedStep",
    "DagCache",
    "LogLine",
    "StepOutcome",
    "StoredArtifact",
    "recover_expired_leases",
    "renew_leases",
    "tick",
]
