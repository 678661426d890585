"""The decision log and the risk register of a mission (ADR 0051, docs/decisions-and-risks.md).

Reading needs ``missions:read``; adding and editing need ``missions:write``. An edit (PATCH)
names the ``version`` it was based on: a stale one is a 409 and changes nothing. The log is
also exported as ADR files, in a zip.
"""

from missionctl.domain.access import Permission as P
from missionctl.domain.files import FileAnswer
from missionctl.operations import Operation
from missionctl.schemas.register import (
    DecisionCreate,
    DecisionEdit,
    DecisionRead,
    RiskCreate,
    RiskEdit,
    RiskRead,
    RiskRegister,
)

_DECISIONS = "missionctl.services.usecases.decision_log"
_RISKS = "missionctl.services.usecases.risk_register"

LIST_DECISIONS: Operation[list[DecisionRead]] = Operation(
    name="list_decisions",
    doc="The mission's decision log: its newest plan's decisions and those people added.",
    method="GET",
    path="/missions/{mission_id}/decisions",
    permission=P.MISSIONS_READ,
    service=f"{_DECISIONS}:list_decisions",
    output=list[DecisionRead],
    cli="decisions list",
)
ADD_DECISION: Operation[DecisionRead] = Operation(
    name="add_decision",
    doc="Add a decision (numbered after the mission's last). 422 names the field at fault.\n\n"
    "`supersedes` names a decision of the same mission that this one replaces: that one "
    "becomes `superseded`; 409 when it names one the mission does not have (or a cycle).",
    method="POST",
    path="/missions/{mission_id}/decisions",
    permission=P.MISSIONS_WRITE,
    service=f"{_DECISIONS}:add_decision",
    body=DecisionCreate,
    output=DecisionRead,
    status_code=201,
    cli="decisions add",
    errors=(409,),
)
EDIT_DECISION: Operation[DecisionRead] = Operation(
    name="edit_decision",
    doc="Change a decision: the fields sent, based on `version` (409 when it is stale).\n\n"
    "`supersedes: null` removes the link (the decision it superseded becomes `accepted` again "
    "unless another decision supersedes it). 422 for a link to the decision itself, to another "
    "mission's decision or one that would make a cycle, and for `status: superseded` set by "
    "hand.",
    method="PATCH",
    path="/missions/{mission_id}/decisions/{decision_id}",
    permission=P.MISSIONS_WRITE,
    service=f"{_DECISIONS}:edit_decision",
    body=DecisionEdit,
    body_as="edit",
    output=DecisionRead,
    errors=(409,),
    cli="decisions edit",
)
READ_RISKS: Operation[RiskRegister] = Operation(
    name="read_risks",
    doc="The mission's risk register and its heat map of open and mitigating risks.",
    method="GET",
    path="/missions/{mission_id}/risks",
    permission=P.MISSIONS_READ,
    service=f"{_RISKS}:read_register",
    output=RiskRegister,
    cli="risks list",
)
ADD_RISK: Operation[RiskRead] = Operation(
    name="add_risk",
    doc="Add a risk. `mitigation_tasks` must be keys of the newest plan's tasks (409 otherwise).",
    method="POST",
    path="/missions/{mission_id}/risks",
    permission=P.MISSIONS_WRITE,
    service=f"{_RISKS}:add_risk",
    body=RiskCreate,
    output=RiskRead,
    status_code=201,
    cli="risks add",
    errors=(409,),
)
EDIT_RISK: Operation[RiskRead] = Operation(
    name="edit_risk",
    doc="Change a risk: the fields sent, based on `version` (409 when it is stale).",
    method="PATCH",
    path="/missions/{mission_id}/risks/{risk_id}",
    permission=P.MISSIONS_WRITE,
    service=f"{_RISKS}:edit_risk",
    body=RiskEdit,
    body_as="edit",
    output=RiskRead,
    errors=(409,),
    cli="risks edit",
)

EXPORT_DECISIONS: Operation[FileAnswer] = Operation(
    name="export_decisions",
    doc="The decision log as ADR Markdown files, one per decision (`NNNN-title.md`), in a zip "
    "to download.",
    method="GET",
    path="/missions/{mission_id}/adrs",
    permission=P.MISSIONS_READ,
    service="missionctl.services.usecases.decision_export:export_adrs",
    output=FileAnswer,
    file_types=("application/zip",),
    cli="decisions export",
)

OPERATIONS = (
    LIST_DECISIONS,
    ADD_DECISION,
    EDIT_DECISION,
    EXPORT_DECISIONS,
    READ_RISKS,
    ADD_RISK,
    EDIT_RISK,
)
