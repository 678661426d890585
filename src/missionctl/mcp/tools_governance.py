"""The governance tools: the approval queue, a decision on it, and the emergency stop.

As every tool: the permission first (a refusal changes nothing), then one service as the
caller's identity, whose events record who decided or stopped and why.
"""

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field

from missionctl.domain.access import Permission as P
from missionctl.errors import Problem, ValidationFailed
from missionctl.mcp.caller import permitted, tool_errors
from missionctl.schemas.governance import ApprovalDecide, EmergencyStop
from missionctl.services.usecases import approvals as approval_service
from missionctl.services.usecases import controls as control_service

Reason = Annotated[str, Field(max_length=100_000)]


async def list_approvals(
    state: Annotated[
        Literal["pending", "decided", "all"],
        Field(description="`pending` (the queue, oldest first), `decided` or `all`."),
    ] = "pending",
    run_id: Annotated[uuid.UUID | None, Field(description="Only this run's approvals.")] = None,
    limit: Annotated[int, Field(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Approvals, with what each gated step will run and its estimated cost. approvals:read."""
    with tool_errors():
        caller = await permitted(P.APPROVALS_READ, "tool list_approvals")
        approvals = await approval_service.list_approvals(
            caller.ctx, state=state, run_id=run_id, limit=limit
        )
    return {"approvals": [approval.model_dump(mode="json") for approval in approvals]}


async def decide_approval(
    approval_id: Annotated[
        uuid.UUID, Field(description="The approval's id, or the id of the step run it gates.")
    ],
    decision: Annotated[Literal["approve", "reject"], Field(description="`approve` or `reject`.")],
    reason: Annotated[
        Reason, Field(description="Why; required to reject, optional to approve.")
    ] = "",
) -> dict[str, Any]:
    """Approve or reject a gated step. Needs approvals:decide (approver role or above).

    Approved, the step is queued and its run resumes; rejected, it fails (or is skipped, as its
    `on_reject` says). A decision is made once: a second one is refused, naming who decided.
    """
    with tool_errors():
        caller = await permitted(P.APPROVALS_DECIDE, "tool decide_approval")
        checked = ApprovalDecide(reason=reason).reason
        if decision == "reject" and not checked:
            raise ValidationFailed(
                [Problem("reason", "a rejection needs a reason, so that others know why")]
            )
        approval = await approval_service.decide_approval(
            caller.ctx,
            ref=approval_id,
            approve=decision == "approve",
            actor=caller.identity.actor,
            reason=checked,
        )
    return approval.model_dump(mode="json")


async def emergency_stop(
    reason: Annotated[Reason, Field(description="Why everything is being stopped.")] = "",
) -> dict[str, Any]:
    """Stop everything now: abort every active run, dispatch nothing until an admin releases.

    Needs emergency:stop (operator role or above).
    """
    with tool_errors():
        caller = await permitted(P.EMERGENCY_STOP, "tool emergency_stop")
        checked = EmergencyStop(reason=reason).reason
        result = await control_service.engage_emergency_stop(
            caller.ctx, actor=caller.identity.actor, reason=checked
        )
    return result.model_dump(mode="json")
