"""Mini-specs: a mission's specs, the tasks that need one, and the decisions on them.

Steps implementing a task the spec policy marks (migrations, security, cross-service
interfaces, novel patterns) are held until one of the task's specs is approved and fresh
(ADR 0066, docs/specs.md). Operators write specs; approvers decide on them, once, and never on
their own (403); approving releases the held steps of that task.
"""

import uuid
from typing import Annotated

from pydantic import Field

from missionctl.domain.access import Permission as P
from missionctl.operations import Operation
from missionctl.schemas.specs import MarkedTask, SpecApprove, SpecRead, SpecReject, SpecWrite

_SERVICE = "missionctl.services.usecases.specs"
_SPEC_ID = {"spec_id": Annotated[uuid.UUID, Field(description="The spec's id.")]}

LIST: Operation[list[SpecRead]] = Operation(
    name="list_specs",
    doc="The mission's specs, oldest first (404 when there is no such mission).",
    method="GET",
    path="/missions/{mission_id}/specs",
    permission=P.MISSIONS_READ,
    service=f"{_SERVICE}:list_specs",
    output=list[SpecRead],
    cli="specs list",
)
MARKED: Operation[list[MarkedTask]] = Operation(
    name="list_marked_tasks",
    doc="The tasks of the newest plan that need a mini-spec, why, and where their spec stands.",
    method="GET",
    path="/missions/{mission_id}/specs/marked",
    permission=P.MISSIONS_READ,
    service=f"{_SERVICE}:marked_tasks",
    output=list[MarkedTask],
    cli="specs marked",
)
WRITE: Operation[SpecRead] = Operation(
    name="write_spec",
    doc="Write a draft spec for a task; it is also kept as an artifact of the mission.",
    method="POST",
    path="/missions/{mission_id}/specs",
    permission=P.MISSIONS_WRITE,
    service=f"{_SERVICE}:write_spec",
    body=SpecWrite,
    body_fields=True,
    needs=("user",),
    output=SpecRead,
    status_code=201,
    cli="specs write",
)
APPROVE: Operation[SpecRead] = Operation(
    name="approve_spec",
    doc="Approve a draft (409 if decided already, 403 for its author); releases held steps.",
    method="POST",
    path="/specs/{spec_id}/approve",
    permission=P.APPROVALS_DECIDE,
    service=f"{_SERVICE}:decide_spec",
    path_types=_SPEC_ID,
    body=SpecApprove,
    body_fields=True,
    body_optional=True,
    arguments={"approve": True},
    needs=("user",),
    output=SpecRead,
    errors=(409,),
    cli="specs approve",
)
REJECT: Operation[SpecRead] = Operation(
    name="reject_spec",
    doc="Reject a draft, saying why (422 without a `reason`; 409 if decided already).",
    method="POST",
    path="/specs/{spec_id}/reject",
    permission=P.APPROVALS_DECIDE,
    service=f"{_SERVICE}:decide_spec",
    path_types=_SPEC_ID,
    body=SpecReject,
    body_fields=True,
    arguments={"approve": False},
    needs=("user",),
    output=SpecRead,
    errors=(409,),
    cli="specs reject",
)

OPERATIONS = (LIST, MARKED, WRITE, APPROVE, REJECT)
"""Every declared operation, for what checks or lists them all (tests, documentation)."""
