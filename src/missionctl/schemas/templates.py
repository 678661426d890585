"""Workflow templates: a reusable ``WorkflowSpec`` body with declared inputs (ADR 0065).

A template is a workflow whose definition is written once and used many times: its ``inputs``
are asked of whoever uses it, and its ``workflow`` body may read them as ``{{ inputs.x }}``.
Shipped templates are YAML files in ``missionctl/gallery/`` (read by ``gallery.load``); saved
ones are rows of ``workflow_templates``, saved from a workflow version. Using one renders the
body into a new workflow version (``services.usecases.templates``); ``docs/templates.md`` explains
it.
"""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

from missionctl.schemas.missions import BudgetUsd, MissionCreate
from missionctl.schemas.workflows import InputName, InputSpec

TEMPLATE_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"
TemplateName = Annotated[str, StringConstraints(pattern=TEMPLATE_NAME_PATTERN)]
Category = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9-]{0,39}$")
]
TemplateSource = Literal["shipped", "saved"]


class TemplateQuery(BaseModel):
    """Which templates to list."""

    model_config = ConfigDict(extra="forbid")

    category: str | None = Field(
        None,
        max_length=40,
        pattern=r"^[a-z][a-z0-9-]*$",
        description="Only the templates of this category.",
    )


MAX_DEFINITION_CHARS = 512_000
"""The largest template body (as JSON) a save accepts: a template is a recipe, not data."""


class TemplateSpec(BaseModel):
    """A template as written: the shipped YAML files, and what a save stores.

    ``workflow`` is a ``WorkflowSpec`` body without its ``inputs`` (the template declares
    them); its strings may read ``{{ inputs.<name> }}``. Its ``name`` is the default name of
    the workflows made from it.
    """

    model_config = ConfigDict(extra="forbid")

    name: TemplateName = Field(description="The template's address: lower case, digits, `-`.")
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    description: str = Field(default="", max_length=2000)
    category: Category = "general"
    inputs: dict[InputName, InputSpec] = Field(default_factory=dict)
    workflow: dict[str, Any] = Field(description="A `WorkflowSpec` body, without `inputs`.")


class TemplatePhase(BaseModel):
    """One step of a template's preview, in order."""

    id: str
    phase: str | None
    agent: str
    gated: bool
    approvers: list[str]


class TemplateRead(BaseModel):
    """A template of the gallery, shipped or saved."""

    name: str
    title: str
    description: str
    category: str
    source: TemplateSource
    inputs: dict[str, InputSpec]
    workflow: dict[str, Any]
    steps: list[TemplatePhase] = Field(description="The steps in order, for a preview.")
    phases: list[str] = Field(description="The phases of its steps, in the order they appear.")
    saved_by: str | None = None
    saved_at: datetime | None = None


_UUID: JsonDict = {"type": "string", "format": "uuid"}
ONE_SOURCE: JsonDict = {
    "oneOf": [
        {
            "required": ["workflow_id"],
            "properties": {"workflow_id": _UUID, "mission_id": {"type": "null"}},
        },
        {
            "required": ["mission_id"],
            "properties": {"mission_id": _UUID, "workflow_id": {"type": "null"}},
        },
    ]
}
"""What ``services.usecases.templates.save_template`` checks first, for OpenAPI: exactly one of
``workflow_id`` and ``mission_id`` (a ``null`` one counts as left out)."""


class TemplateSave(BaseModel):
    """Save a workflow version as a template (``POST /api/v1/templates``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=ONE_SOURCE)

    name: TemplateName
    title: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
        | None
    ) = Field(default=None, description="Default: the workflow's name.")
    description: str | None = Field(default=None, max_length=2000)
    category: Category = "saved"
    workflow_id: uuid.UUID | None = Field(default=None, description="A workflow version.")
    mission_id: uuid.UUID | None = Field(
        default=None, description="A mission: its newest run's workflow version."
    )


class TemplateUse(BaseModel):
    """Use a template: render it into a new workflow version and maybe start a run."""

    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, Any] = Field(default_factory=dict, description="The template's inputs.")
    workflow_name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = Field(default=None, description="Default: the template body's name.")
    start: bool = Field(default=False, description="Also start a run of the new version.")
    budget_usd: BudgetUsd | None = None


class TemplateUsed(BaseModel):
    """What using a template made: the workflow version, and the run when one was started."""

    template: str
    workflow_id: uuid.UUID
    workflow_name: str
    workflow_version: int
    run_id: uuid.UUID | None = None
    mission_id: uuid.UUID | None = None


class MissionFromTemplate(MissionCreate):
    """A new mission that starts from a template instead of a plan.

    The template's ``goal`` input, when it has one and ``inputs`` leaves it out, is the
    mission's goal.
    """

    inputs: dict[str, Any] = Field(default_factory=dict, description="The template's inputs.")


PhaseState = Literal["done", "waiting", "running", "pending", "failed", "blocked", "skipped"]


class PhaseArtifact(BaseModel):
    """An artifact a phase's step produced."""

    id: uuid.UUID
    name: str
    step_id: str | None


class PhaseGate(BaseModel):
    """A phase's approval gate: who may open it, and who did (or refused) and when."""

    step_id: str
    approvers: list[str] = Field(description="Who alone may decide it; empty: any approver.")
    state: Literal["pending", "approved", "rejected", "withdrawn"] | None = Field(
        description="null: not reached yet."
    )
    approval_id: uuid.UUID | None = None
    decided_by: str | None = None
    decided_by_user: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None


class PhaseView(BaseModel):
    """One phase of a run's workflow, in the order phases first appear."""

    name: str
    state: PhaseState
    steps: list[str]
    artifacts: list[PhaseArtifact]
    gates: list[PhaseGate]


class PhaseTracker(BaseModel):
    """The phases of a mission's newest run (mission page), when its workflow names phases."""

    run_id: uuid.UUID
    run_status: str
    phases: list[PhaseView]
