"""``/api/v1/approvals``: the queue of gated steps, and the decisions on them.

A gated step waits in ``awaiting_approval`` with exactly what it will run; nothing of it is
dispatched until an approver decides. A decision is made once: a second one (or one on a step
that no longer waits) is a 409 whose message names who decided and when. Events record the
person who decided (``user:NAME`` or ``token:NAME``), with the time and the reason.

Four eyes (ADR 0078): nobody approves a step of a run they started or of a workflow version
they wrote (403); an admin may, with an ``override_reason`` that the decision's event keeps.
"""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from missionctl.api.deps import Context, Identity, P, requires
from missionctl.api.errors import BODY_RESPONSES, CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.schemas.governance import ApprovalDecide, ApprovalRead, Reason
from missionctl.schemas.missions import NO_NUL_PATTERN, plain_text
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import approvals as approval_service

router = APIRouter(
    route_class=GuardedRoute, prefix="/approvals", tags=["approvals"], responses=ERROR_RESPONSES
)
DECIDE_RESPONSES = {**CONFLICT_RESPONSES, **BODY_RESPONSES}
REASON_MAX_CHARS = 2000

# What ``services.usecases.approvals._decision_text`` accepts, for OpenAPI: the text without
# the whitespace around it (Python's ``str.strip``) holds no control character but tab and line
# breaks. The service's own check words the 422; these patterns only say it in the document.
_SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
DECISION_TEXT_PATTERN = f"^[{_SPACE}]*[^{_CONTROL}]*[{_SPACE}]*$"
"""A reason, justification or override reason as sent: plain text between any whitespace."""
REJECTION_PATTERN = f"^[{_SPACE}]*[^{_CONTROL}]*[^{_CONTROL}{_SPACE}][^{_CONTROL}]*[{_SPACE}]*$"
"""A rejection's reason as sent: as :data:`DECISION_TEXT_PATTERN`, and not blank."""
PLAIN: JsonDict = {"pattern": DECISION_TEXT_PATTERN}

Decider = Annotated[Identity, requires(P.APPROVALS_DECIDE)]
Ref = Annotated[
    uuid.UUID, Path(description="The approval's id, or the id of the step run it gates.")
]


class DecisionBody(ApprovalDecide):
    """An approval's reason: optional, and so is the body."""

    # Checked as sent (before stripping) and free of NUL, which PostgreSQL cannot store.
    reason: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, max_length=REASON_MAX_CHARS, pattern=NO_NUL_PATTERN
        ),
        plain_text(REASON_MAX_CHARS),
    ] = Field(
        default="",
        description=f"Optional: why it may run, up to {REASON_MAX_CHARS} characters; recorded "
        "with the decision.",
        json_schema_extra=PLAIN,
    )
    justification: Reason = Field(
        default="",
        description=ApprovalDecide.model_fields["justification"].description,
        json_schema_extra=PLAIN,
    )
    override_reason: Reason = Field(
        default="",
        description=ApprovalDecide.model_fields["override_reason"].description,
        json_schema_extra=PLAIN,
    )


# Approving needs no body at all.
NO_REASON = DecisionBody()


def _not_blank(value: object) -> object:
    """Refuse a reason of spaces alone, in the service's words (Pydantic says "1 character")."""
    if isinstance(value, str) and not value.strip():
        raise PydanticCustomError(
            "string_too_short",
            "a rejection needs a reason, so that others know why; write one",
            {"min_length": 1},
        )
    return value


class RejectionBody(BaseModel):
    """A rejection's reason: required."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True,
            min_length=1,
            max_length=REASON_MAX_CHARS,
            pattern=NO_NUL_PATTERN,
        ),
        plain_text(REASON_MAX_CHARS),
        BeforeValidator(_not_blank),
    ] = Field(
        description=f"Required: why the step must not run, 1 to {REASON_MAX_CHARS} characters "
        "(not only spaces). The run's people see it, and its events record it.",
        examples=["not before the release"],
        json_schema_extra={"pattern": REJECTION_PATTERN},
    )


@router.get("", response_model=list[ApprovalRead], dependencies=[requires(P.APPROVALS_READ)])
async def list_approvals(
    ctx: Context,
    state: Annotated[
        Literal["pending", "decided", "all"],
        Query(description="`pending`: the queue, oldest first; otherwise newest first."),
    ] = "pending",
    run_id: Annotated[uuid.UUID | None, Query(description="Only this run's approvals.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ApprovalRead]:
    """Approvals with what each step will run (`action`, `inputs`) and its estimated cost."""
    return await approval_service.list_approvals(ctx, state=state, run_id=run_id, limit=limit)


@router.get("/{ref}", response_model=ApprovalRead, dependencies=[requires(P.APPROVALS_READ)])
async def get_approval(ref: Ref, ctx: Context) -> ApprovalRead:
    """One approval, by its id or its step run's id (404 when there is none)."""
    return await approval_service.read_approval(ctx, ref=ref)


@router.post("/{ref}/approve", response_model=ApprovalRead, responses=DECIDE_RESPONSES)
async def approve(
    ref: Ref, ctx: Context, who: Decider, body: DecisionBody = NO_REASON
) -> ApprovalRead:
    """Approve a waiting step: it is queued and its run resumes (409 if decided already).

    Four eyes: whoever started the run or wrote its workflow version gets a 403 naming the
    rule; an admin may approve anyway with an `override_reason`, which the decision records.
    """
    return await approval_service.decide_approval(
        ctx,
        ref=ref,
        approve=True,
        actor=who.actor,
        reason=body.reason,
        confirm_full_access=body.confirm_full_access,
        justification=body.justification,
        user=who.person,
        override_reason=body.override_reason,
        may_override=who.allows(P.POLICIES_ADMIN),
    )


@router.post("/{ref}/reject", response_model=ApprovalRead, responses=DECIDE_RESPONSES)
async def reject(ref: Ref, ctx: Context, who: Decider, body: RejectionBody) -> ApprovalRead:
    """Reject a waiting step, saying why (422 without a `reason`; 409 if decided already).

    The step fails, or is skipped when its `on_reject` says `skip`; the run goes on or stops
    by its dependencies.
    """
    return await approval_service.decide_approval(
        ctx, ref=ref, approve=False, actor=who.actor, reason=body.reason, user=who.person
    )
