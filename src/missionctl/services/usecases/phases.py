"""The phase tracker of a mission: its newest run's phases and their gates (ADR 0065).

A workflow's steps may name a ``phase``; the mission page shows the phases of the mission's
newest run in the order they first appear, each with a state derived from its steps' statuses,
the artifacts its steps wrote, and its gates: who may open each, and who did (or refused, and
why) and when. A run whose workflow names no phase has no tracker.
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from missionctl.domain.states import StepRunStatus
from missionctl.repositories import templates as template_repo
from missionctl.schemas.governance import ApprovalRead
from missionctl.schemas.runs import StepRunRead
from missionctl.schemas.templates import (
    PhaseArtifact,
    PhaseGate,
    PhaseState,
    PhaseTracker,
    PhaseView,
)
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.approvals import list_approvals
from missionctl.services.usecases.artifacts import read_artifacts
from missionctl.services.usecases.runs import read_run

_S = StepRunStatus
_FAILED = frozenset({_S.failed})
_STOPPED = frozenset({_S.blocked, _S.canceled})
_WAITING = frozenset({_S.awaiting_approval})
_RUNNING = frozenset({_S.running, _S.queued})
_DONE = frozenset({_S.succeeded, _S.skipped})


def phase_state(statuses: Sequence[str]) -> PhaseState:
    """A phase's state from its steps' statuses: the most pressing one wins.

    ``failed`` before ``blocked`` (a step that will not run: an earlier one failed, or the run
    was canceled) before ``waiting`` (for approval) before ``running`` before ``pending``;
    ``done`` when every step succeeded or was skipped (all skipped: ``skipped``).
    """
    found = set(statuses)
    if found & _FAILED:
        return "failed"
    if found & _STOPPED:
        return "blocked"
    if found & _WAITING:
        return "waiting"
    if found & _RUNNING:
        return "running"
    if found and found <= _DONE:
        return "skipped" if found == {_S.skipped} else "done"
    return "pending"


def _phases(steps: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """The steps of each phase, phases in the order they first appear (steps without one out)."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for step in steps:
        phase = step.get("phase")
        if isinstance(phase, str) and phase:
            grouped.setdefault(phase, []).append(step)
    return grouped


async def read_phase_tracker(ctx: ServiceContext, *, mission_id: uuid.UUID) -> PhaseTracker | None:
    """The phases of the mission's newest run; ``None`` when it has no run or no phases."""
    async with ctx.read() as session:
        found = await session.run_sync(lambda s: template_repo.newest_run(s, mission_id=mission_id))
        if found is None:
            return None
        run_row, workflow = found
        grouped = _phases(workflow.definition.get("steps") or [])
        run_id = run_row.id
    if not grouped:
        return None
    run = await read_run(ctx, run_id=run_id)
    steps = {s.step_id: s for s in run.steps}
    artifacts = await read_artifacts(ctx, run_id=run_id)
    approvals = await list_approvals(ctx, state="all", run_id=run_id, limit=1000)
    phases = [
        _phase(name, members, steps, artifacts, approvals) for name, members in grouped.items()
    ]
    return PhaseTracker(run_id=run_id, run_status=run.status, phases=phases)


def _phase(
    name: str,
    members: Sequence[Mapping[str, Any]],
    steps: Mapping[str, StepRunRead],
    artifacts: Sequence[Any],
    approvals: Sequence[ApprovalRead],
) -> PhaseView:
    ids = [str(m["id"]) for m in members]
    statuses = [steps[i].status for i in ids if i in steps]
    return PhaseView(
        name=name,
        state=phase_state(statuses),
        steps=ids,
        artifacts=[
            PhaseArtifact(id=a.id, name=a.name, step_id=a.step_id)
            for a in artifacts
            if a.step_id in ids
        ],
        gates=[_gate(m, approvals) for m in members if m.get("requires_approval")],
    )


def _gate(step: Mapping[str, Any], approvals: Sequence[ApprovalRead]) -> PhaseGate:
    """The step's gate, with its newest approval request (approvals come newest first)."""
    step_id = str(step["id"])
    newest = next((a for a in approvals if a.step_id == step_id), None)
    return PhaseGate(
        step_id=step_id,
        approvers=[str(a) for a in step.get("approvers") or []],
        state=None if newest is None else newest.state,
        approval_id=None if newest is None else newest.id,
        decided_by=None if newest is None else newest.decided_by,
        decided_by_user=None if newest is None else newest.decided_by_user,
        decided_at=None if newest is None else newest.decided_at,
        reason=None if newest is None else newest.reason,
    )
