"""Recording results: fenced step updates, promotion, blocking, finishing runs.

Every word an agent returns passes through the one redaction (``missionctl.llm.redaction``)
here, before it reaches an event, a row or a page: log lines, outputs, errors and artifact
names. Secrets and credential-looking tokens become ``[REDACTED]``. An artifact's content was
redacted (exact secrets only) when its blob was written (``services.usecases.artifacts.put_blob``).
"""

import dataclasses
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from missionctl.db.models import Artifact
from missionctl.domain import events as ev
from missionctl.domain.budget import Usage, check_spend
from missionctl.domain.events import OUTPUTS_DIGEST_KEY
from missionctl.domain.ids import new_id
from missionctl.domain.money import micros_text
from missionctl.domain.outcomes import Outcome, run_outcomes, step_outcome
from missionctl.domain.retry import Failed, Retry, Succeeded, decide
from missionctl.domain.states import (
    MISSION,
    RUN,
    STEP_RUN,
    MissionStatus,
    RunStatus,
    StepRunStatus,
    transition,
)
from missionctl.domain.workflows import StepDef, WorkflowDag, queued_reason
from missionctl.eventlog import NewEvent
from missionctl.eventlog.receipts import outputs_digest
from missionctl.llm.redaction import redact
from missionctl.repositories import execution as repo
from missionctl.services.usecases.artifacts import assign_distinct_names
from missionctl.services.usecases.execution.admission import admit_steps
from missionctl.services.usecases.execution.caps import note_spending
from missionctl.services.usecases.execution.types import (
    ENGINE_ACTOR,
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
from missionctl.services.usecases.transitions import moved

_QUEUE = STEP_RUN.rule("queue")
_CLAIM = STEP_RUN.rule("claim")
_SUCCEED = STEP_RUN.rule("succeed")
_REQUEUE = STEP_RUN.rule("requeue")
_FAIL = STEP_RUN.rule("fail")
_BLOCK = STEP_RUN.rule("block")
_CANCEL = STEP_RUN.rule("cancel")
_PAUSE = RUN.rule("pause")
# What a claim's step is in while its agent runs: the state every result leaves from.
(_SUCCEED_FROM,) = _SUCCEED.sources
# A dependency that is done: its dependents may run.
_DONE = frozenset({StepRunStatus.succeeded, StepRunStatus.skipped})
# What a mission becomes when its run ends.
_MISSION_AFTER_RUN = {
    RunStatus.completed: MissionStatus.completed,
    RunStatus.failed: MissionStatus.failed,
}


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
    attempts left are re-queued after a backoff (``domain.retry.decide``); usage is added to
    runs and missions; artifacts get rows. Successes and final failures are noted in ``state``
    for ``advance_runs``. Events go to ``state``; nothing is committed here.

    By default the results of claims are written optimistically: one fenced ``UPDATE`` per kind
    of result, without reading the fences first, because a lease is almost never lost.

    Raises:
        FenceConflict: on the optimistic path, some step run was no longer under the lease of
            its result; the caller rolls back and calls again with ``careful=True``, which locks
            and reads the fences first and skips the results they refuse.
    """
    by_id = {o.claim.step_run_id: o for o in map(_redacted, outcomes)}
    results: list[repo.StepResult] = []
    artifacts: list[dict[str, Any]] = []
    spending = _Spending()
    for row in _fenced_rows(session, by_id, careful=careful):
        outcome = by_id[row.id]
        if not _holds_lease(row, outcome):
            continue  # fenced out: the lease was lost (expired, canceled) since the claim
        state.touched_runs[row.run_id] = row.mission_id
        state.run_workflows[row.run_id] = row.workflow_id
        state.capped_runs[row.run_id] = outcome.claim.budget_capped
        usage = Usage(outcome.cost_micros, outcome.usage.input_tokens, outcome.usage.output_tokens)
        spending.add(row, usage, outcome.claim.agent)
        policy = dags.get(session, row.workflow_id).steps[row.step_id].retry
        verdict = decide(outcome, policy, row.attempt, random)
        results.append(_result(state, row, outcome, usage, verdict))
        if isinstance(verdict, Succeeded):
            artifacts += [_artifact_row(row, artifact) for artifact in outcome.artifacts]
    applied = repo.record_results(session, results)
    if applied != len(results):
        raise FenceConflict(f"{len(results) - applied} result(s) fenced out")
    _create_artifacts(session, state, artifacts)
    spending.charge(session, state)
    if state.policy.caps and spending.agents:
        state.events += note_spending(session, state.policy.caps, spending.agents, state.now)


def _fenced_rows(
    session: Session, by_id: dict[uuid.UUID, StepOutcome], *, careful: bool
) -> Sequence[Any]:
    """The rows the results apply to, with the fence each must still match."""
    outcomes = by_id.values()
    if any(o.lease_expired for o in outcomes):
        # Recovered leases know only the step run: read run, step and workflow with the lock.
        return repo.lock_step_runs(session, step_run_ids=list(by_id))
    if careful:
        # A claim already carries them; only the fence (status, attempt, token) is read.
        return [
            ClaimRow(by_id[fence.id].claim, fence.status, fence.attempt, fence.lease_token)
            for fence in repo.lock_fences(session, step_run_ids=list(by_id))
        ]
    return [
        ClaimRow(o.claim, _SUCCEED_FROM, o.claim.attempt, o.claim.lease_token) for o in outcomes
    ]


def _holds_lease(row: Any, outcome: StepOutcome) -> bool:
    """Whether the step run is still running under the lease and attempt of ``outcome``."""
    return (
        row.status in _SUCCEED.sources
        and row.lease_token == outcome.claim.lease_token
        and row.attempt == outcome.claim.attempt
    )


def _result(
    state: Tick,
    row: Any,
    outcome: StepOutcome,
    usage: Usage,
    verdict: Succeeded | Retry | Failed,
) -> repo.StepResult:
    """The row write and the events of one attempt's end, as ``verdict`` decided it."""
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
    spent = {
        "duration_ms": outcome.duration_ms,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cost_micros": usage.micros,
        # Each of the three ends writes these outputs to the row: the chain vouches for them,
        # so a row changed later is caught by the audit and by a replay (ADR 0098).
        OUTPUTS_DIGEST_KEY: outputs_digest(outcome.outputs),
    }
    # A success or a final failure ends the step as it stands; a retry re-queues it for later.
    rule, attempt, outputs = _FAIL, row.attempt, outcome.outputs
    not_before: datetime | None = None
    ended_at: datetime | None = state.now
    produced: Outcome | None = "failed"
    if isinstance(verdict, Succeeded):
        rule = _SUCCEED
        # From what Mission Control measured (the agent kind, the diff, the test command's exit
        # code), never from the agent's summary (``domain.outcomes``).
        produced = step_outcome(outcome.claim.agent, _SUCCEED.status, outputs)
        state.events.append(step_event(_SUCCEED, row, row.attempt, outcome=produced, **spent))
        state.succeeded.setdefault(row.run_id, []).append(row.step_id)
    elif isinstance(verdict, Retry):
        # The failed attempt's outputs stay until the next attempt records its own: that
        # attempt reads them (``StepContext.load_previous_outputs``; a coding step's failed
        # test run, say).
        rule, attempt, ended_at, produced = _REQUEUE, verdict.attempt, None, None
        not_before = state.now + timedelta(seconds=verdict.delay_s)
        delay_s = round(verdict.delay_s, 3)
        state.events.append(
            step_event(
                _REQUEUE, row, verdict.attempt, error=outcome.error, delay_s=delay_s, **spent
            )
        )
    else:
        state.events.append(step_event(_FAIL, row, row.attempt, error=outcome.error, **spent))
        state.failed.setdefault(row.run_id, []).append(row.step_id)
    return repo.StepResult(
        row.id,
        row.lease_token,
        row.attempt,
        rule,
        attempt,
        usage=usage,
        outputs=outputs,
        error=outcome.error,
        not_before=not_before,
        ended_at=ended_at,
        model=outcome.model,
        outcome=produced,
    )


class _Spending:
    """What a batch of results spent, summed per run and per mission."""

    def __init__(self) -> None:
        self.runs: dict[uuid.UUID, Usage] = {}
        self.missions: dict[uuid.UUID, Usage] = {}
        self.agents: set[str] = set()  # the agents whose steps cost something

    def add(self, row: Any, usage: Usage, agent: str) -> None:
        """Count ``usage`` for the run and the mission of ``row``, spent by ``agent``."""
        if not usage:
            return
        if usage.micros:
            self.agents.add(agent)
        self.runs[row.run_id] = self.runs.get(row.run_id, _NOTHING) + usage
        if row.mission_id is not None:
            self.missions[row.mission_id] = self.missions.get(row.mission_id, _NOTHING) + usage

    def charge(self, session: Session, state: Tick) -> None:
        """Add the sums to runs and missions, and check each capped run's budget."""
        for run_id, usage in self.runs.items():
            spent, cap = repo.add_run_usage(session, run_id=run_id, usage=usage)
            if cap is not None and usage.micros:
                _check_spend(session, state, run_id, spent - usage.micros, spent, cap)
        for mission_id, usage in self.missions.items():
            repo.add_mission_usage(session, mission_id=mission_id, usage=usage)


_NOTHING = Usage()


def _create_artifacts(session: Session, state: Tick, rows: list[dict[str, Any]]) -> None:
    """Insert the artifacts successes produced, named distinctly in their run (ADR 0029)."""
    if not rows:
        return
    assign_distinct_names(session, rows)
    session.add_all([Artifact(**values) for values in rows])
    session.flush()
    for values in rows:
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
    crossed = check_spend(
        before=before, spent=spent, cap=cap, warning_share=ev.BUDGET_WARNING_SHARE
    )
    if crossed.warn:
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
    if crossed.exhausted:
        _halt_spending(session, state, run_id, spent, cap)


def _halt_spending(session: Session, state: Tick, run_id: uuid.UUID, spent: int, cap: int) -> None:
    """Cancel what a run has not started, now that its spending reached its cap."""
    mission_id = state.touched_runs.get(run_id)
    error = f"budget exhausted: spent {micros_text(spent)} of the {micros_text(cap)} cap"
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
            moved(
                _CANCEL,
                actor=ENGINE_ACTOR,
                run_id=run_id,
                mission_id=mission_id,
                step_id=row.step_id,
                attempt=row.attempt,
                reason="budget",
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

    Steps that are not plain go through admission. A ready step of a run without a
    concurrency limit or budget cap is claimed at once (queued and started in one ``UPDATE``)
    while ``dispatch`` has capacity: the queue would hand it to this worker anyway, one
    statement and one tick later. Steps of limited or capped runs go through the queue, where
    ``claim`` applies the limit and the budget gate.
    """
    dag = dags.get(session, state.run_workflows[run_id])
    ready = _ready_dependents(session, run_id, finished, dag)
    if ready and not dag.all_plain:
        special = [c for c in ready if not dag.steps[c].plain]
        if special:
            admit_steps(session, state, run_id, special, dag)
            ready = [c for c in ready if dag.steps[c].plain]
    if not ready:
        return
    direct = 0
    if (
        dispatch is not None
        and not dag.max_concurrency
        and not state.capped_runs.get(run_id, True)
        and state.policy.unrestricted(ready, dag)
    ):
        direct = min(dispatch.capacity, len(ready))
    if dispatch is not None and direct:  # a full worker claims nothing: the rest is queued
        _claim_at_once(session, state, run_id, ready[:direct], dag, dispatch)
    if direct < len(ready):
        _queue_at_once(session, state, run_id, ready[direct:], dag)


def _ready_dependents(
    session: Session, run_id: uuid.UUID, finished: Sequence[str], dag: WorkflowDag
) -> list[str]:
    """The dependents of ``finished`` that wait and whose dependencies are all done, in order.

    When every dependency of every candidate finished in this tick, they are ready without
    reading any status; otherwise the statuses of candidates and dependencies are read. Either
    way the writes that follow are guarded by the ``queue`` rule's sources (``waiting``).
    """
    done_now = set(finished)
    candidates = dag.in_order({d for s in finished for d in dag.dependents[s]})
    if all(set(dag.steps[c].depends_on) <= done_now for c in candidates):
        return candidates
    needed = set(candidates) | {dep for c in candidates for dep in dag.steps[c].depends_on}
    statuses = repo.read_step_statuses(session, run_id=run_id, step_ids=needed)
    return [
        c
        for c in candidates
        if statuses.get(c) in _QUEUE.sources
        and all(statuses.get(d) in _DONE for d in dag.steps[c].depends_on)
    ]


def _claim_at_once(
    session: Session,
    state: Tick,
    run_id: uuid.UUID,
    step_ids: list[str],
    dag: WorkflowDag,
    dispatch: Dispatch,
) -> None:
    """Queue and claim ``step_ids`` for this worker in one statement, in their order.

    Each gets ``step.queued`` and ``step.started`` and joins ``dispatch.claimed``.
    """
    mission_id = state.touched_runs.get(run_id)
    workflow_id = state.run_workflows[run_id]
    rows = _in_order(
        step_ids,
        repo.claim_waiting_steps(
            session,
            run_id=run_id,
            step_ids=step_ids,
            owner=dispatch.worker,
            token=dispatch.lease_token,
            expires=dispatch.expires,
            now=state.now,
        ),
    )
    dispatch.capacity -= len(rows)
    for row in rows:
        step = dag.steps[row.step_id]
        _queued_event(state, run_id, mission_id, step, row.attempt)
        state.events.append(
            moved(
                _CLAIM,
                actor=ENGINE_ACTOR,
                run_id=run_id,
                mission_id=mission_id,
                step_id=row.step_id,
                attempt=row.attempt,
                worker=dispatch.worker,
            )
        )
        dispatch.claimed.append(
            ClaimedStep(
                step_run_id=row.id,
                run_id=run_id,
                mission_id=mission_id,
                workflow_id=workflow_id,
                step_id=row.step_id,
                attempt=row.attempt,
                agent=row.agent,
                inputs=row.inputs,
                model=row.routed_model,
                lease_token=dispatch.lease_token,
                timeout_s=step.timeout_s,
                budget_capped=False,
                depends_on=step.depends_on,
            )
        )
    if rows:
        state.progressing_runs.add(run_id)


def _queue_at_once(
    session: Session, state: Tick, run_id: uuid.UUID, step_ids: list[str], dag: WorkflowDag
) -> None:
    """Queue ``step_ids`` in one statement (``step.queued``), in their order."""
    mission_id = state.touched_runs.get(run_id)
    rows = _in_order(
        step_ids,
        repo.queue_waiting_steps(session, run_id=run_id, step_ids=step_ids, now=state.now),
    )
    for row in rows:
        _queued_event(state, run_id, mission_id, dag.steps[row.step_id], row.attempt)
    if rows:
        state.progressing_runs.add(run_id)


def _in_order(step_ids: list[str], rows: Sequence[Any]) -> list[Any]:
    """``rows`` (each with a ``step_id``) in the order of ``step_ids``: the DAG's order."""
    order = {step_id: i for i, step_id in enumerate(step_ids)}
    return sorted(rows, key=lambda row: order[row.step_id])


def _queued_event(
    state: Tick, run_id: uuid.UUID, mission_id: uuid.UUID | None, step: StepDef, attempt: int
) -> None:
    """Add ``step.queued`` of a plain ``step``, with why it runs ungated when it says so."""
    state.events.append(
        moved(
            _QUEUE,
            actor=ENGINE_ACTOR,
            run_id=run_id,
            mission_id=mission_id,
            step_id=step.id,
            attempt=attempt,
            **queued_reason(step),
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
    blocked = [s for s in downstream if statuses.get(s) in _BLOCK.sources]
    if not blocked:
        return
    mission_id = state.touched_runs.get(run_id)
    repo.move_steps(session, run_id=run_id, step_ids=blocked, rule=_BLOCK)
    for step_id in blocked:
        state.events.append(
            moved(
                _BLOCK,
                actor=ENGINE_ACTOR,
                run_id=run_id,
                mission_id=mission_id,
                step_id=step_id,
                blocked_by=list(failed_steps),
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
    if found is None or found[0] != RunStatus.running:
        return
    status, run_error = found
    clean = set(counts) <= _DONE and not run_error
    rule = transition(RUN, status, RunStatus.completed if clean else RunStatus.failed)
    # An error set while the run was still going (its budget ran out) says more than counts.
    error = None if clean else run_error or _failure_summary(counts)
    repo.end_run(session, run_id=run_id, rule=rule, error=error, now=state.now)
    rows, from_plan = repo.read_step_outcomes(session, run_id=run_id)
    outcomes, headline = run_outcomes(rows, from_plan=from_plan, ended=True)
    state.events.append(
        moved(
            rule,
            actor=ENGINE_ACTOR,
            run_id=run_id,
            mission_id=mission_id,
            error=error,
            steps=counts,
            # What the steps produced, beside the statuses that say they ran (webhooks send it).
            outcomes=outcomes,
            headline=headline,
        )
    )
    if mission_id is not None:
        set_mission_status(session, state, mission_id, _MISSION_AFTER_RUN[rule.target])


def _pause_if_awaiting(
    session: Session, state: Tick, run_id: uuid.UUID, mission_id: uuid.UUID | None
) -> None:
    """Pause a running run whose unfinished steps all wait on an approval decision."""
    counts = repo.count_steps_by_status(session, run_id=run_id)
    awaiting = counts.get(StepRunStatus.awaiting_approval, 0)
    if not awaiting or counts.get(StepRunStatus.queued, 0) or counts.get(StepRunStatus.running, 0):
        return
    found = repo.read_run_state(session, run_id=run_id)
    if found is None or found[0] not in _PAUSE.sources:
        return
    repo.move_run(session, run_id=run_id, rule=_PAUSE)
    state.events.append(
        moved(
            _PAUSE,
            actor=ENGINE_ACTOR,
            run_id=run_id,
            mission_id=mission_id,
            reason=f"{awaiting} step(s) awaiting approval",
            awaiting_approval=awaiting,
        )
    )


def set_mission_status(
    session: Session, state: Tick, mission_id: uuid.UUID, target: MissionStatus
) -> None:
    """Move a mission to ``target`` when its state machine allows it (otherwise leave it)."""
    status = repo.read_mission_status(session, mission_id=mission_id)
    rule = None if status is None else MISSION.rule_for(status, target)
    if status is None or rule is None:
        return
    repo.move_mission(session, mission_id=mission_id, source=status, target=rule.target)
    state.events.append(moved(rule, actor=ENGINE_ACTOR, mission_id=mission_id))


def _failure_summary(counts: dict[str, int]) -> str:
    unfinished = (StepRunStatus.failed, StepRunStatus.blocked, StepRunStatus.canceled)
    parts = [f"{counts[s]} {s}" for s in unfinished if counts.get(s)]
    return "steps did not all succeed: " + ", ".join(parts)
