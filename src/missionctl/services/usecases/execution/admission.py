"""Admission of steps that are not plain: conditions, templates and approval gates.

A step whose dependencies are all done is *ready*. A plain one is queued (or claimed) on the
fast path in ``recording``; the others come here, where, in this order:

1. its ``when`` condition is evaluated; false skips the step (``step.skipped``) and its
   dependents are considered in turn;
2. its input templates are rendered, and the rendered inputs replace the stored ones, so what
   an approver sees is exactly what runs;
3. the spec guard decides whether it implements a task that needs an approved, fresh
   mini-spec it does not have yet (``spec_guard``, ADR 0066): then it is *held*, left
   ``waiting`` with the reason (``step.held``), until a decision on a spec admits it again;
4. its gate is decided (``domain.governance.step_gate``, the same decision a workflow's
   preview shows): a step the approval policy gates, and a ``command`` step whose rendered
   program is not allow-listed for it, goes to ``awaiting_approval`` with an ``Approval`` row
   (``approval.requested``, with the reason); any other is queued. An ``mcp`` step whose
   server is a program is judged as a ``command`` step (``domain.governance.mcp_gate``), and
   so are a coding step's CLI and test command (``coding_gate``), after its repository is
   checked against the allowed list (a refused one fails the step to start). The
   tier the step runs at (for a program, at least its listed tier) is written on the
   approval; the step run keeps the tier its workflow declares, which every later judgement
   starts from.

A program is judged by the allow-list in force: the first ``command`` step of a tick makes the
tick's rules current under a lock (``refresh_policy``), so a change to the list lands either
before the judgement or after the step is queued, where the change finds it. The engine judges
it again when it claims it (``claiming``), so an attempt the list no longer allows waits too.

:func:`add_approval` is the one place an approval request is built, here and in the services
that send a queued step to an approver.

A condition or template that cannot be evaluated fails the step (``fail_to_start``) with the
reason, and what depends on it is blocked. Everything here runs inside the caller's write
transaction and adds its events to the tick's state.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.db.models import Approval, Mission
from missionctl.domain.coding import is_coding_agent
from missionctl.domain.governance import (
    Gate,
    ProgramRule,
    repository_refusal,
    runs_programs,
    step_gate,
)
from missionctl.domain.ids import new_id
from missionctl.domain.states import STEP_RUN, StepRunStatus, TransitionRule
from missionctl.domain.workflows import StepDef, WorkflowDag, queued_reason
from missionctl.eventlog import NewEvent
from missionctl.expressions import ExpressionError, evaluate_condition, render_inputs
from missionctl.repositories import execution as repo
from missionctl.services.usecases.execution import spec_guard
from missionctl.services.usecases.execution.types import ENGINE_ACTOR, Tick, refresh_policy
from missionctl.services.usecases.transitions import moved

_QUEUE = STEP_RUN.rule("queue")
_SKIP = STEP_RUN.rule("skip")
_FAIL_TO_START = STEP_RUN.rule("fail_to_start")
REQUEST_APPROVAL = STEP_RUN.rule("request_approval")


def admit_steps(
    session: Session, state: Tick, run_id: uuid.UUID, step_ids: Sequence[str], dag: WorkflowDag
) -> None:
    """Skip, fail, gate or queue each ready, non-plain step of a run (see the module doc).

    Skipped steps are added to ``state.skipped`` and failed ones to ``state.failed``, for
    ``advance_runs`` to promote or block what depends on them.
    """
    if not step_ids:
        return
    mission_id = state.touched_runs.get(run_id)
    run = repo.read_run_context(session, run_id=run_id)
    rows = {
        row.step_id: row
        for row in repo.read_admission_rows(session, run_id=run_id, step_ids=step_ids)
    }
    needs_context = [s for s in step_ids if dag.steps[s].when or dag.steps[s].templated]
    context: dict[str, Any] = {}
    if needs_context:
        upstream = {a for s in needs_context for a in dag.ancestors(s)}
        outputs = repo.read_step_outputs(session, run_id=run_id, step_ids=upstream)
        context = {
            "inputs": dict(run.inputs or {}),
            "steps": {
                step_id: {"status": status, "outputs": dict(values or {})}
                for step_id, (status, values) in outputs.items()
            },
            "run": {"id": str(run_id), "trigger": run.trigger},
            "workflow": {"name": dag.name, "version": dag.version},
        }
    tasks = spec_guard.RunTasks()
    for step_id in step_ids:
        row = rows.get(step_id)
        if row is None or row.status != StepRunStatus.waiting:
            continue  # decided already (another path got there first)
        step = dag.steps[step_id]
        inputs: dict[str, Any] = dict(row.inputs)
        if step.when:
            try:
                holds = evaluate_condition(step.when, context)
            except ExpressionError as exc:
                error = f"cannot evaluate `when: {step.when}`: {exc.message}"
                _fail(session, state, run_id, mission_id, row, error)
                continue
            if not holds:
                _skip(session, state, run_id, mission_id, row, f"`when: {step.when}` is false")
                continue
        if step.templated:
            try:
                inputs = render_inputs(inputs, context)
            except ExpressionError as exc:
                _fail(
                    session, state, run_id, mission_id, row, f"cannot render inputs.{exc.message}"
                )
                continue
        _guard_gate_or_queue(session, state, run_id, mission_id, row, step, inputs, dag, tasks)


def _guard_gate_or_queue(
    session: Session,
    state: Tick,
    run_id: uuid.UUID,
    mission_id: uuid.UUID | None,
    row: Any,
    step: StepDef,
    inputs: dict[str, Any],
    dag: WorkflowDag,
    tasks: spec_guard.RunTasks,
) -> None:
    """Hold a step that waits for a mini-spec; send any other to approval or to the queue."""
    if spec_guard.holds(
        session,
        state,
        run_id=run_id,
        mission_id=mission_id,
        row=row,
        step=step,
        inputs=inputs,
        dag=dag,
        tasks=tasks,
    ):
        return
    _gate_or_queue(session, state, run_id, mission_id, row, step, inputs)


def _gate_or_queue(
    session: Session,
    state: Tick,
    run_id: uuid.UUID,
    mission_id: uuid.UUID | None,
    row: Any,
    step: StepDef,
    inputs: dict[str, Any],
) -> None:
    """Send a step decided to run to approval or to the queue, with its rendered inputs.

    A coding step whose repository is not allowed fails to start instead, with the reason.
    """
    programs: Mapping[str, ProgramRule] = {}
    if runs_programs(step.agent):
        policy = refresh_policy(session, state)
        programs = policy.programs
        if is_coding_agent(step.agent):
            refusal = repository_problem(session, inputs, mission_id, policy.repositories)
            if refusal is not None:
                _fail(session, state, run_id, mission_id, row, refusal)
                return
    gate = step_gate(step, inputs, programs, clis=state.clis)
    if gate.gated:
        _request_approval(session, state, run_id, mission_id, row, inputs, gate)
        return
    repo.admit_step(
        session,
        run_id=run_id,
        step_id=row.step_id,
        moves=(_QUEUE,),
        values={"inputs": inputs, "queued_at": state.now, "hold_reason": None},
    )
    state.events.append(_step_event(_QUEUE, run_id, mission_id, row, **queued_reason(step)))
    state.progressing_runs.add(run_id)


def repository_problem(
    session: Session,
    inputs: Mapping[str, Any],
    mission_id: uuid.UUID | None,
    allowed: Sequence[str],
) -> str | None:
    """Why a coding step may not work on its repository now, or ``None`` when it may.

    Its repository is ``inputs.repository``, else its mission's; a step with neither fails
    when it runs, naming both. ``allowed`` is the list in force (``DispatchPolicy``).
    """
    source = inputs.get("repository")
    field = "inputs.repository"
    if not source and mission_id is not None:
        mission = session.get(Mission, mission_id)
        source = ((mission.repository if mission is not None else None) or {}).get("source")
        field = "the mission's repository"
    if not isinstance(source, str) or not source:
        return None
    return repository_refusal(source, allowed, field=field)


def _step_event(
    rule: TransitionRule[Any],
    run_id: uuid.UUID,
    mission_id: uuid.UUID | None,
    row: Any,
    **payload: Any,
) -> NewEvent:
    return moved(
        rule,
        actor=ENGINE_ACTOR,
        run_id=run_id,
        mission_id=mission_id,
        step_id=row.step_id,
        attempt=row.attempt,
        **payload,
    )


def _skip(
    session: Session,
    state: Tick,
    run_id: uuid.UUID,
    mission_id: uuid.UUID | None,
    row: Any,
    reason: str,
) -> None:
    repo.admit_step(
        session,
        run_id=run_id,
        step_id=row.step_id,
        moves=(_SKIP,),
        values={"ended_at": state.now, "hold_reason": None},
    )
    state.events.append(_step_event(_SKIP, run_id, mission_id, row, reason=reason))
    state.skipped.setdefault(run_id, []).append(row.step_id)


def _fail(
    session: Session,
    state: Tick,
    run_id: uuid.UUID,
    mission_id: uuid.UUID | None,
    row: Any,
    error: str,
) -> None:
    repo.admit_step(
        session,
        run_id=run_id,
        step_id=row.step_id,
        moves=(_FAIL_TO_START,),
        values={"error": error, "ended_at": state.now, "hold_reason": None},
    )
    state.events.append(_step_event(_FAIL_TO_START, run_id, mission_id, row, error=error))
    state.failed.setdefault(run_id, []).append(row.step_id)


def _request_approval(
    session: Session,
    state: Tick,
    run_id: uuid.UUID,
    mission_id: uuid.UUID | None,
    row: Any,
    inputs: dict[str, Any],
    gate: Gate,
) -> None:
    repo.admit_step(
        session,
        run_id=run_id,
        step_id=row.step_id,
        moves=(_QUEUE, REQUEST_APPROVAL),
        values={"inputs": inputs, "queued_at": state.now, "hold_reason": None},
    )
    state.events.append(_step_event(_QUEUE, run_id, mission_id, row))
    state.events.append(
        add_approval(
            session,
            row,
            run_id=run_id,
            inputs=inputs,
            gate=gate,
            mission_id=mission_id,
            actor=ENGINE_ACTOR,
            now=state.now,
        )
    )
    session.flush()


def add_approval(
    session: Session | AsyncSession,
    step: Any,
    *,
    run_id: uuid.UUID,
    inputs: dict[str, Any],
    gate: Gate,
    mission_id: uuid.UUID | None,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> NewEvent:
    """Add the approval request of ``step``'s current attempt; return its event.

    ``step`` is a step run of the run ``run_id`` (or a row of one: ``id``, ``step_id``,
    ``attempt``, ``agent``, ``estimate_micros``) that the caller moves to
    ``awaiting_approval``. The request
    shows ``inputs``, exactly what runs, at the tier ``gate`` raised the step to; the step run
    keeps its declared tier. For a coding step the request's ``argv`` is the command line its
    CLI runs (``gate.command``: a preset's comes from the presets, not the inputs), so the
    approver reads it. ``reason`` (default: the gate's) is what the approver reads.

    Returns:
        The ``approval.requested`` event, for the caller to append in its transaction.
    """
    if gate.command is not None and is_coding_agent(step.agent):
        inputs = {**inputs, "argv": list(gate.command)}
    approval = Approval(
        id=new_id(),
        step_run_id=step.id,
        run_id=run_id,
        mission_id=mission_id,
        step_id=step.step_id,
        attempt=step.attempt,
        agent=step.agent,
        risk_tier=gate.risk_tier,
        inputs=inputs,
        estimate_micros=step.estimate_micros,
        requested_at=now,
    )
    session.add(approval)
    return moved(
        REQUEST_APPROVAL,
        actor=actor,
        run_id=run_id,
        mission_id=mission_id,
        step_id=step.step_id,
        attempt=step.attempt,
        approval_id=str(approval.id),
        agent=step.agent,
        risk_tier=gate.risk_tier,
        estimate_micros=step.estimate_micros,
        reason=gate.reason if reason is None else reason,
    )
