"""Workflows: list them, read a version by id or by name, list a name's versions, run a version.

Reading needs ``workflows:read``; starting a run needs ``runs:control``. Every save adds a
version of the workflow's name; a run pins the version it was started from. Saving and checking
a definition take it as JSON or YAML text, not as a model: they are still routes of their own
(``api.routes.workflows``).
"""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from missionctl.domain.access import Permission as P
from missionctl.domain.refusals import DECIMAL_PLACES
from missionctl.operations import Operation
from missionctl.schemas.runs import RunRead
from missionctl.schemas.suggestions import AppliedSuggestionRead, SuggestionsRead
from missionctl.schemas.workflows import WorkflowRead, WorkflowRunCreate, WorkflowSummary

_SERVICE = "missionctl.services.usecases.workflows"

# Versions are a 32-bit INTEGER column: a larger one cannot exist, and the databases refuse
# to compare the column with it (a 500 instead of a 404).
MAX_VERSION = 2**31 - 1
NAME_MAX_CHARS = 200

Name = Annotated[str, Field(max_length=NAME_MAX_CHARS, description="The workflow's name.")]
"""A path's workflow name; it may hold a slash (plans are named after their mission's title)."""


class ListQuery(BaseModel):
    """Which workflows to list."""

    model_config = ConfigDict(extra="forbid")

    include_plans: bool = Field(
        False, description="Also list workflows compiled from missions' plans."
    )


class VersionQuery(BaseModel):
    """Which version of a name."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(
        None, ge=1, le=MAX_VERSION, description="A version number; default: the newest"
    )


LIST: Operation[list[WorkflowSummary]] = Operation(
    name="list_workflows",
    doc="The newest version of every workflow, by name.",
    method="GET",
    path="/workflows",
    permission=P.WORKFLOWS_READ,
    service=f"{_SERVICE}:list_workflows",
    query=ListQuery,
    output=list[WorkflowSummary],
    cli="workflow list",
)
SCHEMA: Operation[dict[str, Any]] = Operation(
    name="workflow_schema",
    doc="The JSON Schema of a definition (also in `docs/workflow.schema.json`).",
    method="GET",
    path="/workflows/schema",
    permission=P.WORKFLOWS_READ,
    service=f"{_SERVICE}:read_definition_schema",
    output=dict[str, Any],
    cli="workflow schema",
)
VERSIONS: Operation[list[WorkflowSummary]] = Operation(
    name="list_workflow_versions",
    doc="Every version of the workflow called `name`, newest first (404 for an unknown name).",
    method="GET",
    path="/workflows/by-name/{name:path}/versions",
    permission=P.WORKFLOWS_READ,
    service=f"{_SERVICE}:read_workflow_versions",
    path_types={"name": Name},
    output=list[WorkflowSummary],
    cli="workflow versions",
)
BY_NAME: Operation[WorkflowRead] = Operation(
    name="get_workflow_by_name",
    doc="The newest version of the workflow called `name`, or the one `version` names.",
    method="GET",
    path="/workflows/by-name/{name:path}",
    permission=P.WORKFLOWS_READ,
    service=f"{_SERVICE}:read_workflow_by_name",
    path_types={"name": Name},
    query=VersionQuery,
    output=WorkflowRead,
    cli="workflow show",
)
READ: Operation[WorkflowRead] = Operation(
    name="get_workflow",
    doc="One workflow version by id, with its definition and graph.",
    method="GET",
    # Only an id matches: `GET /workflows/validate` is then a 405 naming POST, not a 422.
    path="/workflows/{workflow_id:uuid}",
    permission=P.WORKFLOWS_READ,
    service=f"{_SERVICE}:read_workflow",
    output=WorkflowRead,
    cli="workflow show",
)
RUN: Operation[RunRead] = Operation(
    name="run_workflow",
    doc="Start a run of this version with its inputs; the engine picks it up at once (202).\n\n"
    "422 names each bad input as `inputs.<name>` (undeclared, missing, wrong type).",
    method="POST",
    path="/workflows/{workflow_id}/runs",
    permission=P.RUNS_CONTROL,
    service=f"{_SERVICE}:run_workflow",
    body=WorkflowRunCreate,
    body_optional=True,
    body_nullable=True,
    refusals={"budget_usd": DECIMAL_PLACES},
    needs=("trigger",),
    output=RunRead,
    status_code=202,
    errors=(409,),
    cli="workflow run",
)

SUGGESTION_KEY_PATTERN = r"^[a-z]+-[a-z0-9_.-]{1,290}$"
"""A suggestion's key: its kind, ``-``, then step ids (``parallel-lint.fetch``)."""

SuggestionKey = Annotated[
    str,
    Field(
        min_length=1,
        max_length=300,
        pattern=SUGGESTION_KEY_PATTERN,
        description="A suggestion's key, e.g. `parallel-lint.fetch`.",
    ),
]

SUGGESTIONS: Operation[SuggestionsRead] = Operation(
    name="list_workflow_suggestions",
    doc="What the last 30 days of the workflow called `name` suggest for its newest version "
    "(steps that could run in parallel, limits that cause retries, a cheaper model that does "
    "a role as well), each as the new version it would save with its diff and expected effect; "
    "and the suggestions applied, with the runs before and after.",
    method="GET",
    path="/workflows/by-name/{name:path}/suggestions",
    permission=P.WORKFLOWS_READ,
    service="missionctl.services.usecases.suggestions:list_suggestions",
    path_types={"name": Name},
    output=SuggestionsRead,
    cli="workflow suggestions",
)
APPLY_SUGGESTION: Operation[AppliedSuggestionRead] = Operation(
    name="apply_workflow_suggestion",
    doc="Save a suggestion of the version `workflow_id` (its workflow's newest, as the "
    "suggestions list names it) as the next version (404 when the history no longer suggests "
    "it; 409 when the version is no longer the newest).",
    method="POST",
    path="/workflows/{workflow_id}/suggestions/{key}/apply",
    permission=P.WORKFLOWS_WRITE,
    service="missionctl.services.usecases.suggestions:apply_to_version",
    path_types={"key": SuggestionKey},
    errors=(409,),
    output=AppliedSuggestionRead,
    cli="workflow apply-suggestion",
)

OPERATIONS = (LIST, SCHEMA, VERSIONS, SUGGESTIONS, APPLY_SUGGESTION, BY_NAME, READ, RUN)
"""Every declared operation, for what checks or lists them all (tests, documentation)."""
