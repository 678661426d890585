"""Claiming work: leases, per-run limits, the budget gate and programs' approval, per dispatch.

A ``command`` step (and an ``mcp`` step, whose server may be a program, and a coding step,
whose CLI and test command are programs) is judged again when it is claimed
(``domain.governance.step_gate``, under the allow-list in force, which ``refresh_policy``
makes current): an automatic retry or a recovered lease queues a new attempt
without admission, and a change to the list may have skipped a row locked at that moment. A
step the list no longer lets run freely, and that no approver approved for this attempt, goes
to ``awaiting_approval`` instead of being leased. A coding step whose repository is no longer
on the allowed list is held, with the reason, until a change to the rules releases it.
Steps of other agents are not looked at.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from missionctl.domain import events as ev
from missionctl.domain.budget import charges_tokens, fits_budget
from missionctl.domain.coding import is_coding_agent
from missionctl.domain.governance import Gate, runs_programs, step_gate
from missionctl.domain.money import micros_text
from missionctl.domain.outcomes import outcome_of_status
from missionctl.domain.spending_caps import Level
from missionctl.domain.states import (
    RUN,
    STEP_RUN,
    MissionStatus,
    RunStatus,
    StepRunStatus,
    transition,
)
from missionctl.eventlog import NewEvent
from missionctl.repositories import execution as repo
from missionctl.services.usecases.execution.admission import (
    REQUEST_APPROVAL,
    add_approval,
    repository_problem,
)
from missionctl.services.usecases.execution.caps import CapBook, CapHold, announce
from missionctl.services.usecases.execution.recording import set_mission_status
from missionctl.services.usecases.execution.types import (
    ENGINE_ACTOR,
    ClaimedStep,
    DagCache,
    Dispatch,
    Tick,
    refresh_policy,
    step_event,
)
from missionctl.services.usecases.transitions import moved, step_moved

_CLAIM = STEP_RUN.rule("claim")
_CANCEL = STEP_RUN.rule("cancel")

# A program's step asked again when it is claimed: (its row, the gate, its stored inputs).
_Ask = tuple[Any, Gate, dict[str, Any]]
# A step held back from dispatch: its row, why, and the spending cap's hold when a cap holds it.
_Hold = tuple[Any, str, CapHold | None]
# A program's step judged when it is claimed: (the gate, approved for this attempt, its
# inputs, why its repository may not be used or ``None``).
_Verdict = tuple[Gate, bool, dict[str, Any], str | None]


class _Candidate:
    """A claimable step with what the gate needs to know of its run."""

    __slots__ = (
        "agent",
        "attempt",
        "budget_micros",
        "estimate_micros",
        "id",
        "mission_id",
        "reserve_micros",
        "run_id",
        "spent_micros",
        "step_id",
        "under_caps",
        "workflow_id",
    )

    def __init__(self, step: Any, run: Any) -> None:
        self.id: uuid.UUID = step.id
        self.run_id: uuid.UUID = step.run_id
        self.step_id: str = step.step_id
        self.attempt: int = step.attempt
        self.agent: str = step.agent
        self.estimate_micros: int = step.estimate_micros
        self.reserve_micros: int = step.reserve_micros
        self.workflow_id: uuid.UUID = run.workflow_id
        self.mission_id: uuid.UUID | None = run.mission_id
        self.budget_micros: int | None = run.budget_micros
        self.spent_micros: int = run.spent_micros
        self.under_caps = False  # a spending cap governs it: its token limit is enforced


def claim(session: Session, state: Tick, dispatch: Dispatch, dags: DagCache) -> None:
    """Claim queued steps, oldest first, up to ``dispatch.capacity``, under its lease.

    Respects each run's ``max_concurrency`` and, for capped runs, spent + reserved + the step's
    reserve ≤ cap, where ``reserved`` sums the reserves of the run's running steps (the most
    each may cost; a step's actual cost replaces its reserve when its result is recorded); a
    run whose next step would pass its cap is halted (``budget.exceeded``).
    Appends ``step.started`` events to ``state`` and the claims to ``dispatch``.

    The runs with claimable work are read first, so that a run's concurrency limit bounds how
    many of its steps are read: a limited run with a long queue would otherwise have the whole
    capacity's worth of rows read on every tick, to take a few.
    """
    runs = {run.id: run for run in repo.read_claimable_runs(session, now=state.now)}
    if not runs:
        return
    book = _Book(session, state, dags, runs, dispatch.capacity)
    holds: list[_Hold] = []  # held after the asks of their page are sent
    while book.open_runs and dispatch.capacity > 0:
        page = book.page(dispatch.capacity)
        rows = repo.read_claimable(session, now=state.now, run_ids=book.open_runs, limit=page)
        chosen, asks, page_holds = _choose(session, state, dags, book, rows, dispatch.capacity)
        holds += page_holds
        _lease(session, state, dispatch, dags, chosen)
        if asks:
            _ask(session, state, runs, asks)
            if len(rows) >= page:
                continue  # asked rows are no longer claimable: read the page again
        if holds:
            if not _hold(session, state, runs, holds):
                break  # the rules changed meanwhile: the next tick decides with the new ones
            holds = []
            continue  # held rows are no longer claimable: read the page again
        if len(rows) < page:
            break  # every open run's ready steps were read
    for candidate in book.exhausted.values():
        _halt_for_budget(session, state, candidate, book.reserved.get(candidate.run_id, 0))


class _Book:
    """What one dispatch may still take of each run with claimable work.

    Attributes:
        runs: The runs with claimable work, by id.
        limits: The concurrency limit of each limited run; ``running``: its running steps.
        capped: The runs with a budget cap; ``reserved``: the reserves of their running steps.
        open_runs: The runs a step may still be taken from.
        exhausted: The capped runs whose next step would pass the cap, with that step.
    """

    def __init__(
        self,
        session: Session,
        state: Tick,
        dags: DagCache,
        runs: dict[uuid.UUID, Any],
        capacity: int,
    ) -> None:
        self.runs = runs
        self.limits: dict[uuid.UUID, int] = {}
        for run in runs.values():
            limit = dags.get(session, run.workflow_id).max_concurrency
            if limit:
                self.limits[run.id] = limit
        self.running = (
            repo.count_running_by_run(session, run_ids=list(self.limits)) if self.limits else {}
        )
        self.capped = {run.id for run in runs.values() if run.budget_micros is not None}
        self.reserved = repo.reserved_by_run(session, run_ids=self.capped) if self.capped else {}
        self.exhausted: dict[uuid.UUID, _Candidate] = {}
        self.caps = CapBook(session, state.policy.caps, state.now)
        self.open_runs = {
            run_id
            for run_id in runs
            if self.running.get(run_id, 0) < self.limits.get(run_id, capacity)
        }

    def page(self, capacity: int) -> int:
        """How many claimable rows to read: the capacity, or less if every open run is limited."""
        if any(run_id not in self.limits for run_id in self.open_runs):
            return capacity
        room = sum(
            self.limits[run_id] - self.running.get(run_id, 0)
            for run_id in self.open_runs & self.limits.keys()
        )
        return min(capacity, room)

    def take(self, candidate: _Candidate, *, bounded: bool) -> CapHold | bool:
        """Count ``candidate`` against its run's limit and cap and the spending caps.

        Returns whether it may be claimed now, or the spending cap's hold. ``bounded``: the
        step has a token limit, so its reserve bounds what it may cost.
        """
        run_id = candidate.run_id
        if run_id in self.limits:
            self.running[run_id] = self.running.get(run_id, 0) + 1
            if self.running[run_id] >= self.limits[run_id]:
                self.open_runs.discard(run_id)
        held = self.reserved.get(run_id, 0)
        if run_id in self.capped and not fits_budget(
            cap_micros=candidate.budget_micros,
            spent_micros=candidate.spent_micros,
            reserved_micros=held,
            reserve=candidate.reserve_micros,
        ):
            self.exhausted[run_id] = candidate
            self.open_runs.discard(run_id)
            return False
        verdict = self.caps.judge(candidate.agent, candidate.reserve_micros, bounded=bounded)
        if verdict is not True:
            if verdict is False:  # it fits once running steps report: the run waits till then
                self.open_runs.discard(run_id)
            return verdict
        if self.caps.governing(candidate.agent):
            candidate.under_caps = True
            self.caps.take(candidate.agent, candidate.reserve_micros)
        if run_id in self.capped:
            self.reserved[run_id] = held + candidate.reserve_micros
        return True


def _choose(
    session: Session,
    state: Tick,
    dags: DagCache,
    book: _Book,
    rows: Sequence[Any],
    capacity: int,
) -> tuple[list[_Candidate], list[_Ask], list[_Hold]]:
    """Sort a page of claimable rows: those to claim, to ask an approver about, and to hold."""
    programs = _judge_programs(session, state, dags, book.runs, rows)
    rules = bool(state.policy.rules)  # after the programs' judgement made the rules current
    chosen: list[_Candidate] = []
    asks: list[_Ask] = []
    holds: list[_Hold] = []
    for row in rows:
        if len(chosen) >= capacity:
            break
        if row.run_id not in book.open_runs:
            continue  # its limit was reached by rows before it in this page
        tier = row.risk_tier
        judged = programs.get(row.id)
        if judged is not None:
            gate, approved, inputs, refusal = judged
            if refusal is not None:
                holds.append((row, refusal, None))
                continue
            if gate.gated and not approved:
                asks.append((row, gate, inputs))
                continue
            tier = gate.risk_tier  # the tier it runs at: the agent's tier limits apply to it
        reason = state.policy.hold_reason(row.agent, tier) if rules else None
        if reason is not None:
            holds.append((row, reason, None))
            continue
        candidate = _Candidate(row, book.runs[row.run_id])
        step = dags.get(session, candidate.workflow_id).steps[row.step_id]
        taken = book.take(candidate, bounded=step.estimate_tokens > 0)
        if isinstance(taken, CapHold):
            holds.append((row, taken.reason, taken))
        elif taken:
            chosen.append(candidate)
    return chosen, asks, holds


def _judge_programs(
    session: Session,
    state: Tick,
    dags: DagCache,
    runs: dict[uuid.UUID, Any],
    rows: Any,
) -> dict[uuid.UUID, _Verdict]:
    """Judge the rows among ``rows`` that run programs under the allow-lists in force.

    Those are ``command``, ``mcp`` and coding steps. Returns, by step run id: the gate (on the
    stored, rendered inputs and the step's declared definition), whether an approver approved
    the row's current attempt, its inputs, and for a coding step whose repository is no longer
    allowed, why (it is held, not asked: an approver cannot allow a repository). No query is
    made when no row runs a program.
    """
    ids = [row.id for row in rows if runs_programs(row.agent)]
    if not ids:
        return {}
    policy = refresh_policy(session, state)
    stored = repo.read_program_steps(session, step_run_ids=ids)
    by_id = {row.id: row for row in rows}
    verdicts = {}
    for step_run_id, inputs, was_approved in stored:
        row = by_id[step_run_id]
        run = runs[row.run_id]
        definition = dags.get(session, run.workflow_id).steps[row.step_id]
        gate = step_gate(definition, inputs or {}, policy.programs, clis=state.clis)
        refusal = None
        if is_coding_agent(row.agent):
            allowed = policy.repositories
            refusal = repository_problem(session, inputs or {}, run.mission_id, allowed)
        verdicts[step_run_id] = (gate, bool(was_approved), dict(inputs or {}), refusal)
    return verdicts


def _ask(session: Session, state: Tick, runs: dict[uuid.UUID, Any], asks: list[_Ask]) -> None:
    """Send queued ``command`` steps the allow-list no longer lets run to an approver.

    The rows are locked by the claim that read them; each gets an approval request for its
    current attempt (``approval.requested``), and its run is checked for a pause at the end of
    the tick, as after admission.
    """
    for row, gate, inputs in asks:
        repo.request_approval(session, step_run_id=row.id, rule=REQUEST_APPROVAL)
        run = runs[row.run_id]
        state.touched_runs.setdefault(row.run_id, run.mission_id)
        state.run_workflows.setdefault(row.run_id, run.workflow_id)
        reason = f"attempt {row.attempt}: {gate.reason}"
        state.events.append(
            add_approval(
                session,
                row,
                run_id=row.run_id,
                inputs=inputs,
                gate=gate,
                mission_id=run.mission_id,
                actor=ENGINE_ACTOR,
                now=state.now,
                reason=reason,
            )
        )
    session.flush()


def _hold(session: Session, state: Tick, runs: dict[uuid.UUID, Any], holds: list[_Hold]) -> bool:
    """Hold queued steps back from dispatch, with the reason (``step.held``).

    Their agent may not run them, or a spending cap holds them (then the cap is announced as
    reached, once a period). The rules were read at the start of the tick; a change committed
    since (which releases held steps) must not be undone with the old rules, so the version
    is read again under a shared lock first, and nothing is held when it moved: the next tick
    decides afresh.

    Returns:
        Whether the steps were held.
    """
    if repo.read_controls_version_locked(session) != state.policy.version:
        return False
    repo.hold_steps(
        session,
        holds=[(row.id, reason, None if cap is None else cap.cap.id) for row, reason, cap in holds],
    )
    for row, reason, cap in holds:
        payload: dict[str, Any] = {"attempt": row.attempt, "reason": reason}
        if cap is not None:
            payload |= {
                "cap_id": str(cap.cap.id),
                "spent_micros": cap.spent_micros,
                "reserve_micros": cap.reserve_micros,
                "cap_micros": cap.cap.cap_micros,
            }
        mission_id = runs[row.run_id].mission_id
        state.events.append(
            NewEvent(
                type=ev.STEP_HELD,
                actor=ENGINE_ACTOR,
                run_id=row.run_id,
                mission_id=mission_id,
                step_id=row.step_id,
                payload=payload,
            )
        )
        if cap is not None and cap.reached:
            reached = announce(
                session,
                cap.cap,
                Level.reached,
                spent=cap.spent_micros,
                now=state.now,
                run_id=row.run_id,
                step_id=row.step_id,
            )
            if reached is not None:
                state.events.append(reached)
    return True


def _lease(
    session: Session,
    state: Tick,
    dispatch: Dispatch,
    dags: DagCache,
    chosen: list[_Candidate],
) -> None:
    """Move the chosen queued steps to ``running`` under the dispatch's lease."""
    if not chosen:
        return
    leased = repo.claim_queued_steps(
        session,
        step_run_ids=[c.id for c in chosen],
        owner=dispatch.worker,
        token=dispatch.lease_token,
        expires=dispatch.expires,
        now=state.now,
    )
    for c in chosen:
        if c.id not in leased:
            continue  # no longer queued (the rows are locked, so this should not happen)
        step = dags.get(session, c.workflow_id).steps[c.step_id]
        dispatch.claimed.append(
            ClaimedStep(
                step_run_id=c.id,
                run_id=c.run_id,
                mission_id=c.mission_id,
                workflow_id=c.workflow_id,
                step_id=c.step_id,
                attempt=c.attempt,
                agent=c.agent,
                inputs=leased[c.id][0],
                model=leased[c.id][1],
                lease_token=dispatch.lease_token,
                timeout_s=step.timeout_s,
                budget_capped=c.budget_micros is not None,
                depends_on=step.depends_on,
                token_limit=_token_limit(c, step.estimate_tokens),
            )
        )
        state.progressing_runs.add(c.run_id)
        state.events.append(step_event(_CLAIM, c, c.attempt, worker=dispatch.worker))
    dispatch.capacity -= len(leased)


def _token_limit(candidate: _Candidate, estimate_tokens: int) -> int | None:
    """The tokens a capped step may use (what its reserve paid for); else no limit.

    A step is capped by its run's budget, or by a spending cap that governs its agent.
    """
    capped = candidate.budget_micros is not None or candidate.under_caps
    if not capped or not charges_tokens(candidate.agent):
        return None
    return estimate_tokens


def _halt_for_budget(session: Session, state: Tick, row: Any, reserved: int) -> None:
    """Stop a run whose next step would pass its cap: fail it, cancel what has not started.

    While other steps of the run are still running, it only holds dispatch back: their spend
    is not known yet, and the run ends when they report.
    """
    run = repo.read_run(session, run_id=row.run_id)
    if run is None or run.status != RunStatus.running:
        return
    steps = repo.read_step_runs(session, run_id=row.run_id)
    if any(s.status == StepRunStatus.running for s in steps):
        return
    error = (
        f"budget exhausted: spent {micros_text(row.spent_micros)} of "
        f"{micros_text(row.budget_micros)}; "
        f"step {row.step_id!r} may cost up to {micros_text(row.reserve_micros)}"
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
                "reserve_micros": row.reserve_micros,
                "cap_micros": row.budget_micros,
            },
        )
    )
    for step in steps:
        if step.status != StepRunStatus.running and step.status in _CANCEL.sources:
            step.status = _CANCEL.target
            step.outcome = outcome_of_status(step.status)
            step.ended_at = state.now
            step.error = f"not run: {error}"
            state.events.append(
                step_moved(_CANCEL, actor=ENGINE_ACTOR, run=run, step=step, reason="budget")
            )
    rule = transition(RUN, run.status, RunStatus.failed)
    run.status = rule.target
    run.error = error
    run.ended_at = state.now
    state.events.append(
        moved(rule, actor=ENGINE_ACTOR, run_id=row.run_id, mission_id=row.mission_id, error=error)
    )
    if row.mission_id is not None:
        set_mission_status(session, state, row.mission_id, MissionStatus.failed)
