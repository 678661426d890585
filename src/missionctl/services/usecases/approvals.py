"""Approval gates: the queue of steps waiting for a person, and the decisions.

The engine's admission puts a gated step in ``awaiting_approval`` with an ``Approval`` row that
holds exactly what the step will run (rendered inputs) and its estimated cost. A decision is
recorded once: the row is updated only while undecided (and a database trigger refuses any
later change), under a lock on the step run, so two people deciding at once yield exactly one
decision and the other gets a ``Conflict`` naming it. The decision's person, time and reason
go into the event log (``approval.approved`` / ``approval.rejected``), which cannot be changed.

Four eyes (ADR 0078, ``domain.four_eyes``): the person who started a run (for a schedule's
run, who made the schedule) or wrote its workflow version may not approve its steps, whether
they decide with a session or a token (the MCP tool's included); an admin may override with a
reason, which the decision's event keeps (``four_eyes_override``) and the approval shows.
Under the same lock, so the check and the decision see one state.

Approve queues the step (a paused run resumes). Reject fails the step — or skips it, when
the step's ``on_reject`` (or its workflow's) says ``skip`` — and the run continues or stops by
its dependencies, exactly as after any other failure or skip.
"""

import json
import re
import shlex
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.db.models import Approval, Run, StepRun
from missionctl.db.types import utcnow
from missionctl.domain.coding import CodingCli, is_coding_agent
from missionctl.domain.four_eyes import (
    MAX_OVERRIDE_CHARS,
    OVERRIDE_FIELD,
    Authors,
    decider_ids,
    four_eyes_refusal,
    person_of,
)
from missionctl.domain.governance import needs_full_access_confirmation
from missionctl.domain.outcomes import outcome_of_status
from missionctl.domain.specs import SpecGuard
from missionctl.domain.states import (
    RUN,
    STEP_RUN,
    RunStatus,
    StepRunStatus,
    TransitionRule,
    transition,
)
from missionctl.domain.workflows import approver_refusal
from missionctl.errors import Conflict, NotFound, PermissionDenied, Problem, ValidationFailed
from missionctl.eventlog import NewEvent, append_sync
from missionctl.llm.redaction import redact
from missionctl.repositories import approvals as approval_repo
from missionctl.repositories import execution as execution_repo
from missionctl.repositories.approvals import ApprovalListing, ApprovalRow
from missionctl.schemas.governance import ApprovalRead, ApprovalState
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.execution.recording import advance_runs, finish_runs
from missionctl.services.usecases.execution.types import (
    SHIPPED_CLIS,
    DagCache,
    Tick,
    coding_clis,
    refresh_policy,
    spec_guard_for,
)
from missionctl.services.usecases.merge_preview import with_merge_preview
from missionctl.services.usecases.money import micros_to_usd
from missionctl.services.usecases.transitions import moved, step_moved

ACTION_CHARS = 500


def describe_action(agent: str, inputs: Mapping[str, Any]) -> str:
    """What a step will do, in one line: the command line, the prompt, or the target URL."""
    if agent == "command":
        argv = inputs.get("argv")
        line = shlex.join(argv) if isinstance(argv, list) else "(no argv)"
        return (line + _secrets_named(inputs))[:ACTION_CHARS]
    if is_coding_agent(agent) and isinstance(inputs.get("argv"), list):
        return _coding_action(inputs)[:ACTION_CHARS]
    if agent == "mcp" and isinstance(inputs.get("server"), Mapping):
        server = inputs["server"]
        command = server.get("command")
        where = shlex.join(command) if isinstance(command, list) else str(server.get("url"))
        return f"MCP tool {inputs.get('tool')!r} on {where}"[:ACTION_CHARS]
    if "url" in inputs:
        return f"{inputs.get('method', 'POST')} {inputs['url']}"[:ACTION_CHARS]
    for key in ("prompt", "description", "title"):
        if isinstance(inputs.get(key), str) and inputs[key].strip():
            return f"{agent}: {inputs[key].strip()}"[:ACTION_CHARS]
    return f"{agent} with {json.dumps(dict(inputs), sort_keys=True, default=str)}"[:ACTION_CHARS]


def _coding_action(inputs: Mapping[str, Any]) -> str:
    """A coding step's command line, its test command and the secrets it is handed.

    The request's ``argv`` is the CLI's command line (``execution.admission.add_approval``).
    """
    line = shlex.join(str(arg) for arg in inputs["argv"])
    tests = inputs.get("test_command")
    if isinstance(tests, list):
        line += "  [then: " + shlex.join(str(arg) for arg in tests) + "]"
    return line + _secrets_named(inputs)


def _secrets_named(inputs: Mapping[str, Any]) -> str:
    """The secrets a step is handed, as ``  [secrets: VAR←name, …]`` (names only), or ``""``."""
    secrets = inputs.get("secret_env")
    if isinstance(secrets, Mapping) and secrets:
        return "  [secrets: " + ", ".join(f"{k}←{v}" for k, v in secrets.items()) + "]"
    return ""


def _state(approval: Approval, step_status: str, step_attempt: int) -> ApprovalState:
    if approval.decision == "approved":
        return "approved"
    if approval.decision == "rejected":
        return "rejected"
    if step_status == StepRunStatus.awaiting_approval and step_attempt == approval.attempt:
        return "pending"
    return "withdrawn"


def _decision(approval: Approval) -> Literal["approved", "rejected"] | None:
    """The approval's decision as the contract types it (a database check allows no other)."""
    match approval.decision:
        case None:
            return None
        case "approved":
            return "approved"
        case "rejected":
            return "rejected"
    raise ValueError(f"approval {approval.id} has an unknown decision {approval.decision!r}")


def _read(row: ApprovalRow, overrides: Mapping[str, Mapping[str, Any]]) -> ApprovalRead:
    approval, step, run, workflow, written_by = row
    override = overrides.get(str(approval.id), {})
    override_reason = override.get("reason")
    return ApprovalRead(
        id=approval.id,
        state=_state(approval, step.status, step.attempt),
        run_id=approval.run_id,
        run_status=run.status,
        mission_id=approval.mission_id,
        workflow=workflow,
        step_run_id=approval.step_run_id,
        step_id=approval.step_id,
        attempt=approval.attempt,
        agent=approval.agent,
        risk_tier=approval.risk_tier,
        inputs=approval.inputs,
        action=describe_action(approval.agent, approval.inputs),
        estimate_usd=micros_to_usd(approval.estimate_micros),
        requested_at=approval.requested_at,
        decision=_decision(approval),
        decided_by=approval.decided_by,
        decided_by_user=approval.decided_by_user,
        decided_at=approval.decided_at,
        reason=approval.reason,
        version_written_by=written_by,
        run_started_by=run.created_by,
        override_reason=override_reason if isinstance(override_reason, str) else None,
    )


async def _overrides(
    session: AsyncSession, rows: Sequence[ApprovalRow]
) -> dict[str, dict[str, Any]]:
    """The four-eyes overrides of the approved ones among ``rows``, by approval id."""
    runs = {row.approval.run_id for row in rows if row.approval.decision == "approved"}
    return await approval_repo.read_overrides(session, run_ids=runs)


async def list_approvals(
    ctx: ServiceContext,
    *,
    state: ApprovalListing = "pending",
    run_id: uuid.UUID | None = None,
    limit: int = 200,
) -> list[ApprovalRead]:
    """Approvals, oldest first when pending (the queue), newest first otherwise."""
    async with ctx.read() as session:
        rows = await approval_repo.read_approvals(session, state=state, run_id=run_id, limit=limit)
        overrides = await _overrides(session, rows)
        found = [_read(row, overrides) for row in rows]
    return [await with_merge_preview(ctx, approval) for approval in found]


async def read_approval(ctx: ServiceContext, *, ref: uuid.UUID) -> ApprovalRead:
    """One approval, by its id or by its step run's id (the newest request of that step run).

    Raises:
        NotFound: neither an approval nor a gated step run has that id.
    """
    async with ctx.read() as session:
        row = await approval_repo.read_approval(session, ref=ref)
        if row is None:
            raise NotFound(f"no approval or gated step run with id {ref}", field="approval_id")
        found = _read(row, await _overrides(session, [row]))
    return await with_merge_preview(ctx, found)


async def decide_approval(
    ctx: ServiceContext,
    *,
    ref: uuid.UUID,
    approve: bool,
    actor: str,
    reason: str = "",
    confirm_full_access: bool = False,
    justification: str = "",
    user: str | None = None,
    override_reason: str = "",
    may_override: bool = False,
) -> ApprovalRead:
    """Approve or reject a waiting step (``ref``: the approval's id or its step run's).

    Approving a coding step that asks for full access needs ``confirm_full_access`` and a
    ``justification``, which the approval event records. ``user`` is the decider's user name
    (an API token's owner); without it, the name in a ``user:NAME`` actor, and without either
    (the local ``system``) the decision is nobody's. A step that names ``approvers`` may be
    decided by them alone. Nobody approves a step of a run they started or of a workflow
    version they wrote (four eyes, ADR 0078) unless they may override (``may_override``: an
    admin) and say why (``override_reason``, recorded on the decision's event).

    Raises:
        ValidationFailed: a rejection without a reason; a full-access approval without its
            confirmation (``confirm_full_access``) or justification (``justification``); an
            override reason where the rule allows the decision anyway.
        PermissionDenied: the step names approvers and ``user`` is not one of them (the
            message names who may); ``user`` started the run or wrote its workflow version
            and gave no override reason, or is no admin.
        NotFound: no such approval.
        Conflict: it was decided already (by whom and when is named), or the step no longer
            waits (its run was canceled or aborted).
    """
    reason = _decision_text("reason", reason)
    if not approve and not reason:
        raise ValidationFailed(
            [Problem("reason", "a rejection needs a reason, so that others know why")]
        )

    full_access = FullAccess(confirm_full_access, _decision_text("justification", justification))
    override = Override(_override_reason(override_reason), may_override)
    specs = spec_guard_for(ctx.settings)
    clis = coding_clis(ctx.settings)
    decider = user if user is not None else _user_of(actor)

    def work(session: Session) -> uuid.UUID:
        return _decide(
            session,
            DagCache(ctx.dags),
            ref,
            approve=approve,
            actor=actor,
            reason=reason,
            full_access=full_access,
            specs=specs,
            clis=clis,
            user=decider,
            override=override,
        )

    approval_id = await ctx.write_blocking(work)
    return await read_approval(ctx, ref=approval_id)


@dataclass(frozen=True, slots=True)
class FullAccess:
    """An approver's confirmation of a coding step's full access, and why it is needed."""

    confirmed: bool
    justification: str

    def check(self, step: StepRun) -> dict[str, Any]:
        """What the approval event records about full access (nothing for other steps).

        Raises:
            ValidationFailed: the step asks for full access, and it is not confirmed or
                not justified.
        """
        if not needs_full_access_confirmation(step.agent, step.inputs or {}):
            return {}
        problems = []
        if not self.confirmed:
            problems.append(
                Problem(
                    "confirm_full_access",
                    f"step {step.step_id!r} asks for full access: confirm it "
                    "(confirm_full_access: true) to let it run",
                )
            )
        if not self.justification:
            problems.append(
                Problem("justification", "say why this step needs full access (justification)")
            )
        if problems:
            raise ValidationFailed(problems)
        return {"full_access": {"confirmed": True, "justification": self.justification}}


def _user_of(actor: str) -> str | None:
    """The user name of a ``user:NAME`` actor; ``None`` for any other actor."""
    return person_of(actor)


@dataclass(frozen=True, slots=True)
class Override:
    """An admin's reason to approve despite the four-eyes rule (``reason`` empty: none)."""

    reason: str
    allowed: bool

    def check(self, refusal: str | None) -> dict[str, Any]:
        """What the approval event records about the override (nothing without one).

        Raises:
            ValidationFailed: a reason where the rule allows the decision anyway.
            PermissionDenied: the rule refuses it, and there is no reason or no admin.
        """
        if refusal is None:
            if self.reason:
                problem = (
                    "there is nothing to override: the four-eyes rule allows this decision; "
                    f"leave {OVERRIDE_FIELD} out"
                )
                raise ValidationFailed([Problem(OVERRIDE_FIELD, problem)])
            return {}
        if not self.reason:
            raise PermissionDenied(refusal, field="approval_id")
        if not self.allowed:
            raise PermissionDenied(
                f"only an admin may override the four-eyes rule ({refusal})", field=OVERRIDE_FIELD
            )
        return {"four_eyes_override": {"reason": self.reason, "rule": refusal}}


def _override_reason(text: str) -> str:
    """``text`` stripped and without secrets.

    Raises:
        ValidationFailed: longer than ``MAX_OVERRIDE_CHARS``, or holding control characters.
    """
    text = text.strip()
    if len(text) > MAX_OVERRIDE_CHARS:
        problem = f"at most {MAX_OVERRIDE_CHARS} characters; say why in fewer words"
        raise ValidationFailed([Problem(OVERRIDE_FIELD, problem)])
    return _decision_text(OVERRIDE_FIELD, text)


# C0 control characters but tab and line breaks, and DEL. A decision's words are shown on pages
# and in terminals, where an escape sequence could rewrite what the next reader sees, and
# PostgreSQL cannot store a NUL at all.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _decision_text(field: str, text: str) -> str:
    """``text`` (a reason, a justification) stripped and with its secrets redacted.

    The event log, the approval and every page keep it: a token pasted into it must not.

    Raises:
        ValidationFailed: it holds a control character (field ``field``).
    """
    text = text.strip()
    if _CONTROL_CHARACTERS.search(text):
        problem = "must not contain control characters: write plain text (tabs and line breaks)"
        raise ValidationFailed([Problem(field, problem)])
    return redact(text)


def person_behind(session: Session, actor: str) -> str | None:
    """The user behind ``actor``: ``user:NAME`` is NAME, ``token:NAME`` its owner; else nobody."""
    kind, _, name = actor.partition(":")
    if kind == "token" and name:
        return approval_repo.read_token_owner(session, token_name=name)
    return person_of(actor)


def _starter(session: Session, run_id: uuid.UUID, actor: str) -> str | None:
    """The person who set run ``run_id`` going: its starter, or its schedule's maker.

    A schedule's runs are created by ``schedule:NAME``, but the person who made the schedule
    chose their workflow, inputs and time; they count as the starter.
    """
    if actor.startswith("schedule:"):
        maker = approval_repo.read_schedule_maker(session, run_id=run_id)
        return None if maker is None else person_behind(session, maker)
    return person_behind(session, actor)


def _check_four_eyes(
    session: Session, step: StepRun, approve: bool, user: str | None, override: Override
) -> dict[str, Any]:
    """Apply the four-eyes rule to ``user`` deciding ``step``; what the event records of it.

    Raises:
        ValidationFailed, PermissionDenied: see :meth:`Override.check`.
    """
    writer, starter = approval_repo.read_work_actors(session, run_id=step.run_id)
    authors = Authors(
        writer=person_behind(session, writer), starter=_starter(session, step.run_id, starter)
    )
    refusal = four_eyes_refusal(
        decider=user, approve=approve, authors=authors, step_id=step.step_id
    )
    return override.check(refusal)


def _require_named_approver(
    session: Session, dags: DagCache, step: StepRun, user: str | None
) -> None:
    """Raise ``PermissionDenied`` when the step names approvers and ``user`` is not one."""
    run = session.get(Run, step.run_id)  # a run's workflow version never changes
    assert run is not None  # step runs keep a foreign key to their run
    step_def = dags.get(session, run.workflow_id).steps.get(step.step_id)
    refusal = approver_refusal(step_def.approvers if step_def else (), step.step_id, user)
    if refusal is not None:
        raise PermissionDenied(refusal, field="approval_id")


def _decide(
    session: Session,
    dags: DagCache,
    ref: uuid.UUID,
    *,
    approve: bool,
    actor: str,
    reason: str,
    full_access: FullAccess = FullAccess(False, ""),
    specs: SpecGuard,
    user: str | None = None,
    clis: Mapping[str, CodingCli] = SHIPPED_CLIS,
    override: Override = Override("", False),
) -> uuid.UUID:
    """Record the decision on the approval ``ref`` names and move its step and run on.

    Runs on the writer thread, in its transaction; returns the approval's id.

    Raises:
        NotFound: no such approval.
        Conflict: decided already, or the step no longer waits.
        PermissionDenied, ValidationFailed: the four-eyes rule or its override refuses it.
    """
    state = Tick(now=utcnow(), specs=specs, clis=clis)
    # The rules' lock first: approving admits what becomes ready, which may judge a
    # program under it, and the emergency stop takes it before the runs (see lock_rules).
    refresh_policy(session, state)
    approval, step = _lock_undecided(session, ref)
    # A caller that names no user (the MCP tool) is still a person when it holds a token.
    user = user if user is not None else person_behind(session, actor)
    _require_named_approver(session, dags, step, user)
    overridden = _check_four_eyes(session, step, approve, user, override)
    confirmed = full_access.check(step) if approve else {}
    now = utcnow()
    decision: Literal["approved", "rejected"] = "approved" if approve else "rejected"
    written = approval_repo.record_decision(
        session,
        approval_id=approval.id,
        decision=decision,
        decided_by=actor,
        decided_by_user=user,
        decided_at=now,
        reason=reason or None,
    )
    # Unreachable under the row lock above; kept so a lost race can never decide twice.
    if not written:
        raise Conflict(f"step {approval.step_id!r} was decided meanwhile", field="approval_id")
    run = execution_repo.lock_run(session, run_id=step.run_id)
    assert run is not None  # step runs keep a foreign key to their run
    state.now = now
    state.touched_runs[run.id] = run.mission_id
    state.run_workflows[run.id] = run.workflow_id
    state.capped_runs[run.id] = run.budget_micros is not None
    detail = {
        "approval_id": str(approval.id),
        "decided_by": actor,
        "decided_by_user": user,
        "reason": reason,
        **confirmed,
        **overridden,
    }
    events = _apply_decision(session, state, dags, run, step, approve, actor, reason, detail)
    session.flush()  # the engine's Core statements below must see these rows
    advance_runs(session, state, dags)
    finish_runs(session, state, dags)
    append_sync(session, [*events, *state.events])
    return approval.id


def _lock_undecided(session: Session, ref: uuid.UUID) -> tuple[Approval, StepRun]:
    """The approval ``ref`` names and its step run, locked, while the step still waits for it.

    Raises:
        NotFound: no such approval.
        Conflict: decided already (by whom and when is named), or the step no longer waits
            (its run was canceled or aborted).
    """
    approval_id = approval_repo.find_approval_id(session, ref=ref)
    if approval_id is None:
        raise NotFound(f"no approval or gated step run with id {ref}", field="approval_id")
    approval, step = approval_repo.lock_for_decision(session, approval_id=approval_id)
    if approval.decision is not None:
        when = f"{approval.decided_at:%Y-%m-%d %H:%M:%S} UTC" if approval.decided_at else ""
        raise Conflict(
            f"step {approval.step_id!r} was already {approval.decision} by "
            f"{decider_ids(approval.decided_by or 'nobody', approval.decided_by_user)} "
            f"{when}".rstrip(),
            field="approval_id",
        )
    if step.status != StepRunStatus.awaiting_approval or step.attempt != approval.attempt:
        raise Conflict(
            f"step {approval.step_id!r} no longer waits for a decision (it is {step.status})",
            field="approval_id",
        )
    return approval, step


def _apply_decision(
    session: Session,
    state: Tick,
    dags: DagCache,
    run: Run,
    step: StepRun,
    approve: bool,
    actor: str,
    reason: str,
    detail: dict[str, Any],
) -> list[NewEvent]:
    """Queue an approved step, or fail (or skip) a rejected one; resume a paused run.

    Returns:
        The decision's events (the step's, then the run's when it resumed).
    """
    now = state.now
    events: list[NewEvent] = []
    if approve:
        rule = transition(STEP_RUN, step.status, StepRunStatus.queued)
        step.status = rule.target
        step.queued_at = now
        state.progressing_runs.add(run.id)
        events.append(step_moved(rule, actor=actor, run=run, step=step, **detail))
    else:
        on_reject = dags.get(session, run.workflow_id).steps[step.step_id].on_reject
        target = StepRunStatus.skipped if on_reject == "skip" else StepRunStatus.failed
        rule = transition(STEP_RUN, step.status, target)
        step.status = rule.target
        step.outcome = outcome_of_status(rule.target)
        step.ended_at = now
        if rule.target is StepRunStatus.failed:
            step.error = f"rejected by {actor}: {reason}"
            state.failed.setdefault(run.id, []).append(step.step_id)
        else:
            state.skipped.setdefault(run.id, []).append(step.step_id)
        events.append(step_moved(rule, actor=actor, run=run, step=step, **detail))
    if run.status == RunStatus.paused:
        resume = transition(RUN, run.status, RunStatus.running)
        run.status = resume.target
        events.append(_run_event(resume, actor, run, reason="approval decided"))
    return events


def _run_event(rule: TransitionRule[Any], actor: str, run: Run, **payload: Any) -> NewEvent:
    return moved(rule, actor=actor, run_id=run.id, mission_id=run.mission_id, **payload)


__all__: Sequence[str] = [
    "decide_approval",
    "describe_action",
    "list_approvals",
    "read_approval",
]
