"""Epics: named groups of missions with an owner, a target date and a budget (ADR 0102).

Reading needs ``missions:read``; making, changing, filling, emptying, archiving and restoring
need ``missions:write`` (operators), as the missions they group do. A bad owner, date or
budget is a 422 naming the field; a name taken or a mission in another epic a 409; nothing is
stored.
"""

from missionctl.domain.access import Permission as P
from missionctl.domain.refusals import DECIMAL_PLACES, EPIC_OWNER
from missionctl.operations import Operation
from missionctl.schemas.epics import (
    EpicCreate,
    EpicDetail,
    EpicEdit,
    EpicListQuery,
    EpicMissions,
    EpicRead,
)

_SERVICE = "missionctl.services.usecases.epics"

CREATE: Operation[EpicRead] = Operation(
    name="create_epic",
    doc="Make an epic, with the missions it starts with; its owner is its maker unless named."
    "\n\n409 when the name is taken by an epic not archived, or a mission is in another epic.",
    method="POST",
    path="/epics",
    permission=P.MISSIONS_WRITE,
    service=f"{_SERVICE}:create_epic",
    body=EpicCreate,
    refusals={"budget_usd": DECIMAL_PLACES, "owner": EPIC_OWNER},
    output=EpicRead,
    status_code=201,
    errors=(409,),
    cli="epic create",
    mcp=True,
)
LIST: Operation[list[EpicRead]] = Operation(
    name="list_epics",
    doc="The epics by name (active ones unless `state` says otherwise), each with its "
    "missions by status, what they spent against its budget, and whether it is late.",
    method="GET",
    path="/epics",
    permission=P.MISSIONS_READ,
    service=f"{_SERVICE}:list_epics",
    query=EpicListQuery,
    output=list[EpicRead],
    cli="epic list",
    mcp=True,
)
READ: Operation[EpicDetail] = Operation(
    name="read_epic",
    doc="One epic's roll-up: its missions, their tasks by board column and by outcome, cost "
    "against its budget, open risks, approvals waiting, and the board filtered to it.",
    method="GET",
    path="/epics/{epic_id}",
    permission=P.MISSIONS_READ,
    service=f"{_SERVICE}:read_epic",
    output=EpicDetail,
    cli="epic show",
    mcp=True,
)
EDIT: Operation[EpicRead] = Operation(
    name="edit_epic",
    doc="Rename it, or change its description, owner, target date or budget (the fields "
    "sent; `null` clears the date or the budget).\n\n409 when it is archived or the name is "
    "taken.",
    method="PATCH",
    path="/epics/{epic_id}",
    permission=P.MISSIONS_WRITE,
    service=f"{_SERVICE}:edit_epic",
    body=EpicEdit,
    body_as="edit",
    refusals={"budget_usd": DECIMAL_PLACES, "owner": EPIC_OWNER},
    output=EpicRead,
    errors=(409,),
    cli="epic edit",
    mcp=True,
)
ADD_MISSIONS: Operation[EpicRead] = Operation(
    name="add_epic_missions",
    doc="Put missions in it (1 to 100 at once; an epic holds up to 200).\n\n404 for an "
    "unknown mission; 409 when it is archived or a mission is in an epic already.",
    method="POST",
    path="/epics/{epic_id}/missions",
    permission=P.MISSIONS_WRITE,
    service=f"{_SERVICE}:add_missions",
    body=EpicMissions,
    output=EpicRead,
    errors=(409,),
    cli="epic add",
    mcp=True,
)
REMOVE_MISSIONS: Operation[EpicRead] = Operation(
    name="remove_epic_missions",
    doc="Take missions out of it (1 to 100, all or none); the missions are untouched.\n\n"
    "404 when a mission is not in it; 409 when it is archived.",
    method="POST",
    path="/epics/{epic_id}/missions/remove",
    permission=P.MISSIONS_WRITE,
    service=f"{_SERVICE}:remove_missions",
    body=EpicMissions,
    output=EpicRead,
    errors=(409,),
    cli="epic remove",
    mcp=True,
)
ARCHIVE: Operation[EpicRead] = Operation(
    name="archive_epic",
    doc="Archive it: it leaves the active list and is read-only; its missions stay in it "
    "(409 when archived already).",
    method="POST",
    path="/epics/{epic_id}/archive",
    permission=P.MISSIONS_WRITE,
    service=f"{_SERVICE}:archive_epic",
    output=EpicRead,
    errors=(409,),
    cli="epic archive",
    mcp=True,
)
RESTORE: Operation[EpicRead] = Operation(
    name="restore_epic",
    doc="Bring an archived epic back (409 when it is not archived, or an active epic has "
    "its name).",
    method="POST",
    path="/epics/{epic_id}/restore",
    permission=P.MISSIONS_WRITE,
    service=f"{_SERVICE}:restore_epic",
    output=EpicRead,
    errors=(409,),
    cli="epic restore",
    mcp=True,
)

OPERATIONS = (CREATE, LIST, READ, EDIT, ADD_MISSIONS, REMOVE_MISSIONS, ARCHIVE, RESTORE)
