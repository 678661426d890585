"""The queue of gated steps, and the decisions on them.

A gated step waits in ``awaiting_approval`` with exactly what it will run; nothing of it is
dispatched until an approver decides. A decision is made once: a second one (or one on a step
that no longer waits) is a 409 whose message names who decided and when. Events record the
person who decided (``user:NAME`` or ``token:NAME``), with the time and the reason.

Four eyes (ADR 0078): nobody approves a step of a run they started or of a workflow version
they wrote (403); an admin may, with an ``override_reason`` that the decision's event keeps.
The MCP tools ``list_approvals`` and ``decide_approval`` (``mcp.tools_governance``) answer in
their own shapes, older than these declarations.
"""

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from missionctl.domain.access import Permission as P
from missionctl.operations import Operation
from missionctl.schemas.governance import ApprovalDecide, ApprovalRead, Reason
from missionctl.schemas.missions import NO_NUL_PATTERN, plain_text

_SERVICE = "missionctl.services.usecases.approvals"

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


class ApprovalQuery(BaseModel):
    """Which approvals to list."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["pending", "decided", "all"] = Field(
        "pending", description="`pending`: the queue, oldest first; otherwise newest first."
    )
    run_id: uuid.UUID | None = Field(None, description="Only this run's approvals.")
    limit: int = Field(200, ge=1, le=1000)


_REF = {
    "ref": Annotated[
        uuid.UUID, Field(description="The approval's id, or the id of the step run it gates.")
    ]
}

LIST: Operation[list[ApprovalRead]] = Operation(
    name="list_approvals",
    doc="Approvals with what each step will run (`action`, `inputs`) and its estimated cost.",
    method="GET",
    path="/approvals",
    permission=P.APPROVALS_READ,
    service=f"{_SERVICE}:list_approvals",
    query=ApprovalQuery,
    output=list[ApprovalRead],
    cli="approvals",
)
READ: Operation[ApprovalRead] = Operation(
    name="get_approval",
    doc="One approval, by its id or its step run's id (404 when there is none).",
    method="GET",
    path="/approvals/{ref}",
    permission=P.APPROVALS_READ,
    service=f"{_SERVICE}:read_approval",
    path_types=_REF,
    output=ApprovalRead,
    cli="approvals",  # with REF,
)
APPROVE: Operation[ApprovalRead] = Operation(
    name="approve",
    doc="Approve a waiting step: it is queued and its run resumes (409 if decided already).\n\n"
    "Four eyes: whoever started the run or wrote its workflow version gets a 403 naming the "
    "rule; an admin may approve anyway with an `override_reason`, which the decision records.",
    method="POST",
    path="/approvals/{ref}/approve",
    permission=P.APPROVALS_DECIDE,
    service=f"{_SERVICE}:decide_approval",
    path_types=_REF,
    body=DecisionBody,
    body_fields=True,
    body_optional=True,
    arguments={"approve": True},
    needs=("user",),
    grants={"may_override": P.POLICIES_ADMIN},
    output=ApprovalRead,
    errors=(409,),
    cli="approve",
)
REJECT: Operation[ApprovalRead] = Operation(
    name="reject",
    doc="Reject a waiting step, saying why (422 without a `reason`; 409 if decided already)."
    "\n\nThe step fails, or is skipped when its `on_reject` says `skip`; the run goes on or "
    "stops by its dependencies.",
    method="POST",
    path="/approvals/{ref}/reject",
    permission=P.APPROVALS_DECIDE,
    service=f"{_SERVICE}:decide_approval",
    path_types=_REF,
    body=RejectionBody,
    body_fields=True,
    arguments={"approve": False},
    needs=("user",),
    output=ApprovalRead,
    errors=(409,),
    cli="reject",
)

OPERATIONS = (LIST, READ, APPROVE, REJECT)
"""Every declared operation, for what checks or lists them all (tests, documentation)."""
