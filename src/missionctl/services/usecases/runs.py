"""Run use cases: start, cancel, retry a failed step, rerun from the failure, read, replay."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.db.models import Mission, Run, StepRun, Workflow
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.coding import CodingCli
from missionctl.domain.events import OUTPUT_DIGESTS_KEY, OUTPUTS_DIGEST_KEY
from missionctl.domain.ids import new_id
from missionctl.domain.money import micros_text
from missionctl.domain.outcomes import Outcome, outcome_of_status, run_outcomes, step_outcome
from missionctl.domain.replay import RunState, StepState, fold_run
from missionctl.domain.specs import SpecGuard
from missionctl.domain.states import (
    ENDED_RUN_STATUSES,
    MISSION,
    RUN,
    STEP_RUN,
    MissionStatus,
    RunStatus,
    StepRunStatus,
    TransitionRule,
    transition,
)
from missionctl.domain.workflows import WorkflowDag, queued_reason, resolve_inputs
from missionctl.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    Problem,
    StateRefused,
    ValidationFailed,
)
from missionctl.eventlog import NewEvent, append, append_sync
from missionctl.eventlog.receipts import outputs_digest
from missionctl.repositories import events as event_repo
from missionctl.repositories import execution as blocking_repo
from missionctl.repositories import runs as repo
from missionctl.repositories import schedules as schedule_repo
from missionctl.repositories import step_rows
from missionctl.schemas.runs import RunRead, StepRunRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.agents import gate_retried_step, lock_rules
from missionctl.services.usecases.execution.admission import admit_steps
from missionctl.services.usecases.execution.recording import advance_runs, finish_runs
from missionctl.services.usecases.execution.types import (
    SHIPPED_CLIS,
    DagCache,
    Tick,
    coding_clis,
    spec_guard_for,
)
from missionctl.services.usecases.money import micros_to_usd
from missionctl.services.usecases.routing import (
    PricedSteps,
    price_steps,
    routed_events,
)
from missionctl.services.usecases.transitions import moved, step_moved
from missionctl.telemetry import run_trace_fields

TRIGGERS = ("manual", "cron", "api", "mcp", "rerun", "cli")
SCHEDULED_TRIGGERS = ("cron", "manual")
"""The triggers of runs a schedule may have started (its ticks, and run-now)."""


def to_run_read(run: Run, steps: Sequence[StepRun], *, from_plan: bool = False) -> RunRead:
    """Map ORM rows to the public contract.

    ``from_plan``: the run's workflow was compiled from a plan (``Workflow.plan_id``), so its
    outcomes are counted by task; otherwise by step (``domain.outcomes.run_outcomes``).
    """
    return _run_read(
        run,
        [
            StepRunRead(
                id=s.id,
                step_id=s.step_id,
                agent=s.agent,
                status=s.status,
                outcome=cast("Outcome | None", s.outcome),  # written from ``Outcome`` only
                attempt=s.attempt,
                risk_tier=s.risk_tier,
                inputs=s.inputs,
                outputs=s.outputs,
                error=s.error,
                hold_reason=s.hold_reason,
                input_tokens=s.input_tokens,
                output_tokens=s.output_tokens,
                cost_usd=micros_to_usd(s.cost_micros),
                started_at=s.started_at,
                ended_at=s.ended_at,
                routed_model=s.routed_model,
                routed_from=s.routed_from,
            )
            for s in steps
        ],
        reserved_micros(run, steps),
        from_plan=from_plan,
    )


def reserved_micros(run: Run, steps: Sequence[StepRun]) -> int:
    """What a capped run's running steps may still spend (0 for a run without a cap)."""
    if run.budget_micros is None:
        return 0
    return sum(s.reserve_micros for s in steps if s.status == StepRunStatus.running)


def _run_read(
    run: Run, steps: list[StepRunRead], reserved_micros: int = 0, *, from_plan: bool
) -> RunRead:
    # A read without its steps (a list's) says nothing of what they produced.
    outcomes, headline = (
        run_outcomes(
            ((s.step_id, s.agent, s.outcome) for s in steps),
            from_plan=from_plan,
            ended=run.status in ENDED_RUN_STATUSES,
        )
        if steps
        else ({}, "")
    )
    return RunRead(
        id=run.id,
        workflow_id=run.workflow_id,
        mission_id=run.mission_id,
        trigger=run.trigger,
        status=run.status,
        budget_usd=None if run.budget_micros is None else micros_to_usd(run.budget_micros),
        spent_usd=micros_to_usd(run.spent_micros),
        reserved_usd=micros_to_usd(reserved_micros),
        input_tokens=run.input_tokens,
        output_tokens=run.output_tokens,
        error=run.error,
        rerun_of=run.rerun_of,
        created_by=run.created_by,
        created_at=run.created_at,
        started_at=run.started_at,
        ended_at=run.ended_at,
        steps=steps,
        outcomes=outcomes,
        headline=headline,
    )


async def start_run(
    ctx: ServiceContext,
    *,
    workflow_id: uuid.UUID,
    actor: str,
    trigger: str = "manual",
    mission_id: uuid.UUID | None = None,
    budget_micros: int | None = None,
    inputs: Mapping[str, Any] | None = None,
) -> RunRead:
    """Create a run of a workflow version and queue its ready root steps, in one transaction.

    ``inputs`` are checked against the workflow's declared inputs (defaults filled in). The
    cap is the lowest of ``budget_micros``, the workflow's budget and what is left of the
    mission's budget. When the summed step estimates exceed it, the run is stored ``failed``
    with a ``budget.exceeded`` event and nothing is ever dispatched. Root steps with a
    condition, a template or an approval gate are admitted at once (skipped, queued, or left
    awaiting approval).

    Raises:
        NotFound: no such workflow or mission.
        ValidationFailed: a bad trigger, bad inputs (``inputs.<name>``), or a cap with an LLM
            step whose model has no price.
    """
    _require_trigger(trigger)  # before any transaction

    def work(session: Session) -> RunRead:
        workflow = blocking_repo.read_workflow(session, workflow_id=workflow_id)
        if workflow is None:
            raise NotFound(f"no workflow with id {workflow_id}", field="workflow_id")
        return start_in(
            session,
            ctx,
            workflow,
            actor=actor,
            trigger=trigger,
            mission_id=mission_id,
            budget_micros=budget_micros,
            inputs=inputs,
        )

    # Blocking (ADR 0020): a run writes a row and an event per step it queues. Starts need
    # not wait for one another, nor for engine ticks, where the database can run them side by
    # side (ADR 0037).
    return await ctx.write_blocking(work, side_by_side=True)


def start_in(
    session: Session,
    ctx: ServiceContext,
    workflow: Workflow,
    *,
    actor: str,
    trigger: str,
    mission_id: uuid.UUID | None,
    budget_micros: int | None,
    inputs: Mapping[str, Any] | None,
) -> RunRead:
    """``start_run`` of a workflow version in hand, in the caller's blocking transaction.

    Raises:
        NotFound: no such mission.
        ValidationFailed: as ``start_run``.
    """
    _require_trigger(trigger)
    mission = None
    if mission_id is not None:
        mission = session.get(Mission, mission_id)
        if mission is None:
            raise NotFound(f"no mission with id {mission_id}", field="mission_id")
    dag = DagCache(ctx.dags).of(workflow)
    resolved, problems = resolve_inputs(dag.inputs, dict(inputs or {}))
    if problems:
        raise StateRefused(problems)  # the inputs the stored workflow declares
    cap = effective_cap(
        budget_micros,
        workflow.budget_micros,
        None
        if mission is None or mission.budget_micros is None
        else max(0, mission.budget_micros - mission.spent_micros),
    )
    return _create_run(
        session,
        ctx,
        workflow,
        actor=actor,
        trigger=trigger,
        mission_id=mission_id,
        cap=cap,
        inputs=resolved,
    )


def _require_trigger(trigger: str) -> None:
    if trigger not in TRIGGERS:
        raise ValidationFailed([Problem("trigger", f"must be one of {', '.join(TRIGGERS)}")])


def effective_cap(*caps: int | None) -> int | None:
    """The lowest of the caps that are set (run, workflow, mission remainder), or ``None``."""
    present = [cap for cap in caps if cap is not None]
    return min(present) if present else None


def _create_run(
    session: Session,
    ctx: ServiceContext,
    workflow: Workflow,
    *,
    actor: str,
    trigger: str,
    mission_id: uuid.UUID | None,
    cap: int | None,
    reused: dict[str, dict[str, Any]] | None = None,
    rerun_of: uuid.UUID | None = None,
    inputs: dict[str, Any] | None = None,
) -> RunRead:
    """Create the run and its step runs, check the budget, queue what is ready; append events.

    Steps in ``reused`` are created ``succeeded`` with those outputs (a rerun from a failure).
    Every state is decided before anything is written, so the run is inserted once, in its
    final state, and its step runs with one multi-row insert; the returned read is built from
    the values written rather than read back (a large workflow has thousands of steps).
    """
    reused = reused or {}
    dag = DagCache(ctx.dags).of(workflow)
    from_plan = workflow.plan_id is not None
    priced = _priced_steps(session, ctx, dag, cap, reused=frozenset(reused))
    estimates = priced.estimates
    now = utcnow()
    run = Run(
        id=new_id(),
        workflow_id=workflow.id,
        mission_id=mission_id,
        trigger=trigger,
        status=RUN.initial.value,
        inputs=inputs or {},
        budget_micros=cap,
        rerun_of=rerun_of,
        created_by=actor,
    )
    steps = _step_rows(run, dag, priced, reused, now)
    events = _created_events(run, workflow, dag, reused, actor)
    events += routed_events(
        priced.routes,
        run_id=run.id,
        mission_id=run.mission_id,
        actor=actor,
    )
    total_estimate = sum(v for k, v in estimates.items() if k not in reused)
    if cap is not None and total_estimate > cap:
        events += _refuse_for_budget(run, steps, total_estimate, now)
        return _write_run(session, run, steps, events, from_plan=from_plan)
    events += _start(run, actor, total_estimate, now)
    queued, special = _queue_plain_roots(run, dag, steps, now)
    events += queued
    if mission_id is not None:
        mission = session.get(Mission, mission_id)
        if mission is not None:
            events += _mission_moved(mission, MissionStatus.running, actor)
    if special:
        _write_run(session, run, steps, events, from_plan=from_plan)
        specs, clis = spec_guard_for(ctx.settings), coding_clis(ctx.settings)
        return _admit_roots(session, run, workflow, dag, special, now, specs, clis)
    if all(row["status"] == "succeeded" for row in steps.values()):
        # A rerun whose every step was reused has nothing left to run.
        events += _complete(run, now)
    return _write_run(session, run, steps, events, from_plan=from_plan)


def _priced_steps(
    session: Session,
    ctx: ServiceContext,
    dag: WorkflowDag,
    cap: int | None,
    *,
    reused: frozenset[str] = frozenset(),
) -> PricedSteps:
    """Each step's route, estimate and reserve (``price_steps``), refusing a cap not kept.

    Raises:
        ValidationFailed: a cap with an LLM step that has no token limit or no priced model.
    """
    if dag.has_gates:
        # Admission may judge a program under the rules' lock: take it before any row's lock
        # (the mission's), in the order every change to the rules takes them.
        blocking_repo.read_controls_version_locked(session)
    priced = price_steps(session, ctx, dag, cap, reused=reused)
    if priced.problems and cap is not None:
        raise ValidationFailed(priced.problems)
    return priced


def _step_rows(
    run: Run,
    dag: WorkflowDag,
    priced: PricedSteps,
    reused: dict[str, dict[str, Any]],
    now: datetime,
) -> dict[str, dict[str, Any]]:
    """The step runs to insert, by step id: each waiting, or succeeded when it is reused."""
    steps: dict[str, dict[str, Any]] = {}
    for step in dag.steps.values():
        outputs = reused.get(step.id)
        # A reused step is born succeeded: it ran in the earlier run, not in this one.
        steps[step.id] = {
            "id": new_id(),
            "run_id": run.id,
            "step_id": step.id,
            "attempt": 1,
            "status": STEP_RUN.initial.value if outputs is None else "succeeded",
            "agent": step.agent,
            "risk_tier": step.risk_tier,
            "inputs": dict(step.inputs),
            "outputs": {} if outputs is None else outputs,
            "estimate_micros": priced.estimates[step.id],
            "reserve_micros": priced.reserves[step.id],
            **priced.columns(step.id),
            "error": None,
            # A reused step keeps what it produced: the same facts decide it again.
            "outcome": None if outputs is None else step_outcome(step.agent, "succeeded", outputs),
            "queued_at": None,
            "started_at": None if outputs is None else now,
            "ended_at": None if outputs is None else now,
        }
    return steps


def _created_events(
    run: Run,
    workflow: Workflow,
    dag: WorkflowDag,
    reused: dict[str, dict[str, Any]],
    actor: str,
) -> list[NewEvent]:
    """``run.created``, then a ``step.reused`` for each step copied from the earlier run."""
    events = [
        NewEvent(
            type=ev.RUN_CREATED,
            actor=actor,
            run_id=run.id,
            mission_id=run.mission_id,
            payload={
                "status": run.status,
                "workflow_id": str(workflow.id),
                "workflow": workflow.name,
                "version": workflow.version,
                "trigger": run.trigger,
                "budget_micros": run.budget_micros,
                "rerun_of": str(run.rerun_of) if run.rerun_of else None,
                "steps": list(dag.order),
                # Every output this run's steps record is vouched for by a digest in the
                # chain: a row with outputs and no digest was written outside the engine.
                OUTPUT_DIGESTS_KEY: True,
            },
        )
    ]
    for step_id, outputs in reused.items():
        outcome = step_outcome(dag.steps[step_id].agent, "succeeded", outputs)
        events.append(
            NewEvent(
                type=ev.STEP_REUSED,
                actor=actor,
                run_id=run.id,
                mission_id=run.mission_id,
                step_id=step_id,
                payload={
                    "status": "succeeded",
                    "attempt": 1,
                    "from_run": str(run.rerun_of),
                    "outcome": outcome,
                    OUTPUTS_DIGEST_KEY: outputs_digest(outputs),
                },
            )
        )
    return events


def _start(run: Run, actor: str, total_estimate: int, now: datetime) -> list[NewEvent]:
    """Move the new run to ``running``; its event carries the estimate the cap was checked on.

    While tracing is on, it carries the run's ``trace_id`` too.
    """
    rule = transition(RUN, run.status, RunStatus.running)
    run.status = rule.target
    run.started_at = now
    return [
        moved(
            rule,
            actor=actor,
            run_id=run.id,
            mission_id=run.mission_id,
            estimate_micros=total_estimate,
            **run_trace_fields(run.id),  # where a page links to the run's trace (ADR 0045)
        )
    ]


def _queue_plain_roots(
    run: Run, dag: WorkflowDag, steps: dict[str, dict[str, Any]], now: datetime
) -> tuple[list[NewEvent], list[str]]:
    """Queue the ready steps that need no decision; return their events and the other ready ones.

    A ready step is waiting with every dependency succeeded (reused). One with a condition, a
    template or an approval gate is left waiting and returned, in definition order, to be
    admitted once the rows exist (``_admit_roots``).
    """
    events: list[NewEvent] = []
    special: list[str] = []
    for step_id in dag.order:
        row = steps[step_id]
        ready = all(steps[d]["status"] == "succeeded" for d in dag.steps[step_id].depends_on)
        if row["status"] != "waiting" or not ready:
            continue
        if not dag.steps[step_id].plain:
            special.append(step_id)
            continue
        queue = transition(STEP_RUN, row["status"], StepRunStatus.queued)
        row["status"] = queue.target
        row["queued_at"] = now
        events.append(
            moved(
                queue,
                actor="system",
                run_id=run.id,
                mission_id=run.mission_id,
                step_id=step_id,
                attempt=1,
                **queued_reason(dag.steps[step_id]),
            )
        )
    return events, special


def _complete(run: Run, now: datetime) -> list[NewEvent]:
    """End a run that has nothing left to run as ``completed``."""
    rule = transition(RUN, run.status, RunStatus.completed)
    run.status = rule.target
    run.ended_at = now
    return [moved(rule, actor="system", run_id=run.id, mission_id=run.mission_id)]


def _refuse_for_budget(
    run: Run, steps: dict[str, dict[str, Any]], total_estimate: int, now: datetime
) -> list[NewEvent]:
    """Fail a run whose estimate is over its cap before it starts; return the events.

    Every step that would have run is canceled with the reason (``budget``), so that a refused
    run holds no step still waiting: the store and its replay both show it ended. Reused steps
    stay succeeded.
    """
    assert run.budget_micros is not None
    cap = run.budget_micros
    error = (
        f"estimated cost {micros_text(total_estimate)} exceeds the budget cap {micros_text(cap)}"
    )
    events = [
        NewEvent(
            type=ev.BUDGET_EXCEEDED,
            actor="system",
            run_id=run.id,
            mission_id=run.mission_id,
            payload={"estimate_micros": total_estimate, "cap_micros": cap, "phase": "pre-run"},
        )
    ]
    for step_id, row in steps.items():
        if row["status"] == "succeeded":
            continue
        cancel = transition(STEP_RUN, row["status"], StepRunStatus.canceled)
        row["status"] = cancel.target
        row["outcome"] = outcome_of_status(cancel.target)
        row["ended_at"] = now
        row["error"] = f"not run: {error}"
        events.append(
            moved(
                cancel,
                actor="system",
                run_id=run.id,
                mission_id=run.mission_id,
                step_id=step_id,
                attempt=row["attempt"],
                reason="budget",
            )
        )
    rule = transition(RUN, run.status, RunStatus.failed)
    run.status = rule.target
    run.error = error
    run.ended_at = now
    events.append(
        moved(rule, actor="system", run_id=run.id, mission_id=run.mission_id, error=error)
    )
    return events


def _admit_roots(
    session: Session,
    run: Run,
    workflow: Workflow,
    dag: WorkflowDag,
    step_ids: list[str],
    now: datetime,
    specs: SpecGuard,
    clis: Mapping[str, CodingCli] = SHIPPED_CLIS,
) -> RunRead:
    """Admit ready steps that need a decision (condition, template, gate), then finish or pause.

    Runs the engine's own admission code, in the same transaction.
    """
    dags = DagCache()
    dags.put(workflow.id, dag)
    state = Tick(now=now, specs=specs, clis=clis)
    state.touched_runs[run.id] = run.mission_id
    state.run_workflows[run.id] = workflow.id
    state.capped_runs[run.id] = run.budget_micros is not None
    admit_steps(session, state, run.id, step_ids, dag)
    advance_runs(session, state, dags)
    finish_runs(session, state, dags)
    append_sync(session, state.events)
    session.refresh(run)  # the admission wrote with Core, behind the ORM's back
    steps = blocking_repo.read_step_runs(session, run_id=run.id)
    return to_run_read(run, steps, from_plan=workflow.plan_id is not None)


def _write_run(
    session: Session,
    run: Run,
    steps: dict[str, dict[str, Any]],
    events: list[NewEvent],
    *,
    from_plan: bool,
) -> RunRead:
    """Insert the run, its step runs and its events; the read of what was written.

    ``from_plan``: the run's workflow was compiled from a plan (see ``to_run_read``).
    """
    session.add(run)
    session.flush()
    rows = list(steps.values())
    step_rows.insert_step_runs(session, rows=rows)
    append_sync(session, events)
    return _run_read(
        run,
        [
            StepRunRead(
                id=row["id"],
                step_id=row["step_id"],
                agent=row["agent"],
                status=row["status"],
                outcome=row["outcome"],
                attempt=row["attempt"],
                risk_tier=row["risk_tier"],
                inputs=row["inputs"],
                outputs=row["outputs"],
                error=row["error"],
                input_tokens=0,
                output_tokens=0,
                cost_usd=0.0,
                started_at=row["started_at"],
                ended_at=row["ended_at"],
                routed_model=row["routed_model"],
                routed_from=row["routed_from"],
            )
            for row in rows
        ],
        from_plan=from_plan,
    )


async def move_mission(
    session: AsyncSession, mission_id: uuid.UUID, target: MissionStatus, actor: str
) -> list[NewEvent]:
    """Move a mission to ``target`` when its machine allows it; the event, or nothing."""
    mission = await session.get(Mission, mission_id)
    return [] if mission is None else _mission_moved(mission, target, actor)


def _mission_moved(mission: Mission, target: MissionStatus, actor: str) -> list[NewEvent]:
    rule = MISSION.rule_for(mission.status, target)  # None for a move the machine refuses
    if rule is None:
        return []
    mission.status = rule.target
    return [moved(rule, actor=actor, mission_id=mission.id)]


async def _load_run(session: AsyncSession, run_id: uuid.UUID) -> Run:
    run = await session.get(Run, run_id, with_for_update=True)
    if run is None:
        raise NotFound(f"no run with id {run_id}", field="run_id")
    return run


async def read_run(ctx: ServiceContext, *, run_id: uuid.UUID) -> RunRead:
    """A run with its steps.

    Raises:
        NotFound: no such run.
    """
    async with ctx.read() as session:
        run = await session.get(Run, run_id)
        if run is None:
            raise NotFound(f"no run with id {run_id}", field="run_id")
        steps = await repo.read_step_runs(session, run_id=run_id)
        from_plan = await repo.compiled_from_plan(session, workflow_id=run.workflow_id)
        read = to_run_read(run, steps, from_plan=from_plan)
        if run.trigger in SCHEDULED_TRIGGERS:
            # A schedule's run names it (its page links to the schedule).
            found = await session.run_sync(schedule_repo.schedule_of_run, run_id=run_id)
            if found is not None:
                read.schedule_id, read.schedule_name = found
        return read


async def cancel_run(ctx: ServiceContext, *, run_id: uuid.UUID, actor: str) -> RunRead:
    """Cancel a run: no more dispatch; every unfinished step becomes ``canceled``.

    Running steps lose their lease at once, so their results are fenced out; the engine that
    runs them cancels the agents (process groups included) when it hears ``run.canceled``.

    Raises:
        NotFound: no such run.
        InvalidTransition: the run already ended.
    """
    async with ctx.write() as session:
        run = await _load_run(session, run_id)
        rule = transition(RUN, run.status, RunStatus.canceled)
        steps = await repo.read_step_runs(session, run_id=run_id)
        now = utcnow()
        events: list[NewEvent] = []
        cancel = STEP_RUN.rule("cancel")
        for step in steps:
            if step.status in cancel.sources:
                step.status = cancel.target
                step.outcome = outcome_of_status(step.status)
                step.lease_owner = step.lease_token = step.lease_expires_at = None
                step.ended_at = now
                events.append(
                    moved(
                        cancel,
                        actor=actor,
                        run_id=run_id,
                        mission_id=run.mission_id,
                        step_id=step.step_id,
                        attempt=step.attempt,
                    )
                )
        run.status = rule.target
        run.ended_at = now
        events.append(moved(rule, actor=actor, run_id=run_id, mission_id=run.mission_id))
        if run.mission_id is not None:
            events += await move_mission(session, run.mission_id, MissionStatus.canceled, actor)
        await append(session, events)
        from_plan = await repo.compiled_from_plan(session, workflow_id=run.workflow_id)
        return to_run_read(run, steps, from_plan=from_plan)


async def retry_step(
    ctx: ServiceContext, *, run_id: uuid.UUID, step_id: str, actor: str
) -> RunRead:
    """Queue a failed step again (``attempt + 1``) and un-block what waits on it.

    A failed run resumes (``failed → running``); its mission too.

    Raises:
        NotFound: no such run or step.
        InvalidTransition: the step is not failed, or the run cannot resume.
    """
    async with ctx.write() as session:
        # The rules' lock before the run's: a retried program is judged under it (see lock_rules).
        await lock_rules(session)
        run = await _load_run(session, run_id)
        steps = await repo.read_step_runs(session, run_id=run_id)
        by_id = {s.step_id: s for s in steps}
        target = _failed_step(by_id, run_id, step_id)
        retry = transition(STEP_RUN, target.status, StepRunStatus.queued)
        events = await _resume(session, run, step_id, actor)
        events += _requeue(target, retry, run, actor)
        workflow = await repo.read_workflow(session, workflow_id=run.workflow_id)
        assert workflow is not None  # runs keep a foreign key to their workflow
        dag = DagCache(ctx.dags).of(workflow)
        # A retried program is judged again: a rejection is not undone by retrying.
        events += await gate_retried_step(
            session,
            step=target,
            definition=dag.steps[step_id],
            mission_id=run.mission_id,
            actor=actor,
        )
        events += _unblock_descendants(run, dag, by_id, step_id, actor)
        await append(session, events)
        return to_run_read(run, steps, from_plan=workflow.plan_id is not None)


def _failed_step(by_id: Mapping[str, StepRun], run_id: uuid.UUID, step_id: str) -> StepRun:
    """The step run a person asked to retry, which must have failed.

    Raises:
        NotFound: the run has no such step.
        InvalidTransition: the step has not failed.
    """
    target = by_id.get(step_id)
    if target is None:
        raise NotFound(f"run {run_id} has no step {step_id!r}", field="step_id")
    if target.status != StepRunStatus.failed:
        # running → queued is also an edge (the engine's automatic requeue), so the
        # machine alone would accept this; a person may only retry what has failed.
        raise InvalidTransition(
            f"step {step_id!r} is {target.status}; only a failed step can be retried",
            field="step_id",
        )
    return target


async def _resume(session: AsyncSession, run: Run, step_id: str, actor: str) -> list[NewEvent]:
    """Move a run that is not running back to ``running`` (its mission too); the events.

    Raises:
        InvalidTransition: the run cannot resume.
    """
    if run.status == RunStatus.running:
        return []
    resume = transition(RUN, run.status, RunStatus.running)
    run.status = resume.target
    run.ended_at = None
    run.error = None
    events = [
        moved(resume, actor=actor, run_id=run.id, mission_id=run.mission_id, retried_step=step_id)
    ]
    if run.mission_id is not None:
        events += await move_mission(session, run.mission_id, MissionStatus.running, actor)
    return events


def _requeue(
    target: StepRun, retry: TransitionRule[StepRunStatus], run: Run, actor: str
) -> list[NewEvent]:
    """Queue the failed step as its next attempt, with a clean slate; the event."""
    target.status = retry.target
    target.outcome = None  # it has not ended: the new attempt decides
    target.attempt += 1
    target.error = None
    target.not_before = None
    target.queued_at = utcnow()
    target.ended_at = None
    return [step_moved(retry, actor=actor, run=run, step=target)]


def _unblock_descendants(
    run: Run, dag: WorkflowDag, by_id: Mapping[str, StepRun], step_id: str, actor: str
) -> list[NewEvent]:
    """Move the steps blocked behind the retried one back to ``waiting``; their events."""
    events: list[NewEvent] = []
    for descendant in dag.descendants([step_id]):
        step = by_id[descendant]
        if step.status != StepRunStatus.blocked:
            continue
        unblock = transition(STEP_RUN, step.status, StepRunStatus.waiting)
        step.status = unblock.target
        events.append(
            moved(
                unblock,
                actor=actor,
                run_id=run.id,
                mission_id=run.mission_id,
                step_id=descendant,
                attempt=step.attempt,
            )
        )
    return events


RERUNNABLE = frozenset({RunStatus.failed, RunStatus.canceled, RunStatus.aborted})
"""Run statuses a rerun from the failure starts from."""

RERUNNABLE_FROM_STEP = RERUNNABLE | {RunStatus.completed}
"""Run statuses a rerun from a chosen step starts from: any run that ended."""


async def rerun_from_failure(
    ctx: ServiceContext, *, run_id: uuid.UUID, actor: str, from_step: str | None = None
) -> RunRead:
    """Start a new run of the same workflow version that reuses steps of ``run_id``.

    Without ``from_step``: the steps that succeeded in ``run_id`` are created ``succeeded``
    with their outputs copied (``step.reused``); the rest run again. With ``from_step``: only
    the succeeded steps that are neither ``from_step`` nor downstream of it are reused, so
    that step and everything after it run again (a completed run may be rerun this way too).
    One transaction, under a lock of the original run: no worker can claim a step that is
    about to be reused, and twin requests are taken one after the other.

    Raises:
        NotFound: no such run, or ``from_step`` is not a step of its workflow
            (``field="from_step"``).
        Conflict: the run has not ended (in failure, cancellation or abort, when there is no
            ``from_step``), or its mission cannot run again (a canceled mission is final, a
            running one is busy).
    """

    def work(session: Session) -> RunRead:
        original = blocking_repo.lock_run(session, run_id=run_id)
        if original is None:
            raise NotFound(f"no run with id {run_id}", field="run_id")
        _check_rerunnable(session, original, from_step)
        workflow = blocking_repo.read_workflow(session, workflow_id=original.workflow_id)
        assert workflow is not None  # runs keep a foreign key to their workflow
        again = _steps_to_run_again(DagCache(ctx.dags).of(workflow), run_id, from_step)
        reused = {
            s.step_id: dict(s.outputs)
            for s in blocking_repo.read_step_runs(session, run_id=run_id)
            if s.status == "succeeded" and s.step_id not in again
        }
        return _create_run(
            session,
            ctx,
            workflow,
            actor=actor,
            trigger="rerun",
            mission_id=original.mission_id,
            cap=original.budget_micros,
            reused=reused,
            rerun_of=run_id,
            inputs=dict(original.inputs or {}),
        )

    return await ctx.write_blocking(work)


def _check_rerunnable(session: Session, original: Run, from_step: str | None) -> None:
    """Refuse a rerun of a run that has not ended, or whose mission cannot run again.

    Raises:
        Conflict: as ``rerun_from_failure`` says.
    """
    if from_step is None and original.status not in RERUNNABLE:
        raise Conflict(
            f"run {original.id} is {original.status}; only a failed, canceled or aborted run "
            "can be rerun from its failure (a run that ended may be rerun from a chosen step)",
            field="run_id",
        )
    if original.status not in RERUNNABLE_FROM_STEP:
        raise Conflict(
            f"run {original.id} is {original.status}; only a run that ended (completed, "
            f"failed, canceled or aborted) can be rerun from step {from_step!r}",
            field="run_id",
        )
    if original.mission_id is not None:
        mission = session.get(Mission, original.mission_id)
        if mission is not None and not MISSION.can(mission.status, MissionStatus.running):
            raise Conflict(
                f"mission {mission.id} is {mission.status}; its runs cannot be rerun",
                field="run_id",
            )


def _steps_to_run_again(dag: WorkflowDag, run_id: uuid.UUID, from_step: str | None) -> set[str]:
    """``from_step`` and every step downstream of it; nothing without ``from_step``.

    Raises:
        NotFound: ``from_step`` is not a step of the run's workflow.
    """
    if from_step is None:
        return set()
    if from_step not in dag.steps:
        raise NotFound(
            f"run {run_id} has no step {from_step!r}: give one of its step ids",
            field="from_step",
        )
    return {from_step, *dag.descendants([from_step])}


async def replay_run(ctx: ServiceContext, *, run_id: uuid.UUID) -> tuple[RunState, RunState]:
    """Fold the run's events and read its stored projection: ``(replayed, stored)``.

    The two must be equal; a difference means a state change was written without its event.
    """
    async with ctx.read() as session:
        run = await session.get(Run, run_id)
        if run is None:
            raise NotFound(f"no run with id {run_id}", field="run_id")
        replayed = fold_run(await event_repo.read_run_events(session, run_id=run_id))
        stored = RunState(
            status=run.status,
            steps={
                s.step_id: StepState(s.status, s.attempt)
                for s in await repo.read_step_runs(session, run_id=run_id)
            },
        )
        return replayed, stored


__all__ = [
    "cancel_run",
    "read_run",
    "replay_run",
    "rerun_from_failure",
    "retry_step",
    "start_run",
]
