"""The template gallery (ADR 0065, docs/templates.md).

Reading needs ``workflows:read``; saving, deleting and using a template need
``workflows:write`` (operators), and starting a mission from one ``missions:write``. Starting a
run, from either, needs ``runs:control`` too: a token capped below it gets a 403 naming
``start``. A bad input is a 422 naming ``inputs.<name>``; a name taken, or a shipped template
deleted, a 409.
"""

from missionctl.domain.access import Permission as P
from missionctl.domain.refusals import DECIMAL_PLACES, MISSION_RULES
from missionctl.operations import Operation
from missionctl.schemas.templates import (
    MissionFromTemplate,
    TemplateName,
    TemplateQuery,
    TemplateRead,
    TemplateSave,
    TemplateUse,
    TemplateUsed,
)

_SERVICE = "missionctl.services.usecases.templates"
_NAME = {"name": TemplateName}

LIST: Operation[list[TemplateRead]] = Operation(
    name="list_templates",
    doc="The shipped templates, then the saved ones, each by name; `category` filters them.",
    method="GET",
    path="/templates",
    permission=P.WORKFLOWS_READ,
    service=f"{_SERVICE}:list_templates",
    query=TemplateQuery,
    output=list[TemplateRead],
    cli="templates list",
)
READ: Operation[TemplateRead] = Operation(
    name="read_template",
    doc="One template, with its inputs, its workflow body and its steps' preview.",
    method="GET",
    path="/templates/{name}",
    permission=P.WORKFLOWS_READ,
    service=f"{_SERVICE}:read_template",
    path_types=_NAME,
    output=TemplateRead,
    cli="templates show",
)
SAVE: Operation[TemplateRead] = Operation(
    name="save_template",
    doc="Save a workflow version (`workflow_id`) or a mission's last-run workflow "
    "(`mission_id`).\n\n409 when the name is taken by a shipped or saved template, or the "
    "mission never ran.",
    method="POST",
    path="/templates",
    permission=P.WORKFLOWS_WRITE,
    service=f"{_SERVICE}:save_template",
    body=TemplateSave,
    output=TemplateRead,
    status_code=201,
    errors=(409,),
    cli="templates save",
)
DELETE: Operation[None] = Operation(
    name="delete_template",
    doc="Delete a saved template (409 for a shipped one, which is part of the product).",
    method="DELETE",
    path="/templates/{name}",
    permission=P.WORKFLOWS_WRITE,
    service=f"{_SERVICE}:delete_template",
    path_types=_NAME,
    status_code=204,
    errors=(409,),
    cli="templates delete",
)
USE: Operation[TemplateUsed] = Operation(
    name="use_template",
    doc="Render the template with `inputs` into a new workflow version; `start` also runs "
    "it.\n\nStarting needs `runs:control` too (a token capped below it gets a 403).",
    method="POST",
    path="/templates/{name}/use",
    permission=P.WORKFLOWS_WRITE,
    service=f"{_SERVICE}:use_template",
    path_types=_NAME,
    body=TemplateUse,
    output=TemplateUsed,
    status_code=201,
    errors=(409,),
    refusals={"budget_usd": DECIMAL_PLACES},
    grants={"may_run": P.RUNS_CONTROL},
    cli="templates use",
)
START_MISSION: Operation[TemplateUsed] = Operation(
    name="start_mission",
    doc="Create a mission whose workflow is this template rendered (no planning), and run "
    "it.\n\nRunning needs `runs:control` too (a token capped below it gets a 403).",
    method="POST",
    path="/templates/{name}/missions",
    permission=P.MISSIONS_WRITE,
    service=f"{_SERVICE}:start_mission_from_template",
    path_types=_NAME,
    body=MissionFromTemplate,
    output=TemplateUsed,
    status_code=201,
    errors=(409,),
    refusals=MISSION_RULES,
    grants={"may_run": P.RUNS_CONTROL},
    cli="templates use",  # with --mission
)

OPERATIONS = (LIST, READ, SAVE, DELETE, USE, START_MISSION)
"""Every declared operation, for what checks or lists them all (tests, documentation)."""
