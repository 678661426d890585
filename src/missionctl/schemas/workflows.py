"""Workflow contracts: a DAG of steps, as written by hand or compiled from a plan.

``WorkflowSpec`` is the one definition format: YAML or JSON written by hand, the output of
plan compilation, the stored ``workflows.definition`` and what the engine parses. Its JSON
Schema (``WorkflowSpec.model_json_schema()``) is published at ``/api/v1/workflows/schema`` and
in ``docs/workflow.schema.json``; ``docs/workflows.md`` explains it with examples. The graph,
agent, template and condition rules a schema cannot express are checked at save time by
``services.usecases.workflows``.
"""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from missionctl.domain.access import NAME_PATTERN
from missionctl.domain.workflows import input_type_matches
from missionctl.schemas.missions import NO_NUL_PATTERN, BudgetUsd
from missionctl.schemas.plans import RiskTier

STEP_ID_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"
StepId = Annotated[str, StringConstraints(pattern=STEP_ID_PATTERN)]
AgentName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*(:[A-Za-z0-9_.-]+)?$")]
InputName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
InputType = Literal["string", "integer", "number", "boolean", "array", "object"]
OnReject = Literal["fail", "skip"]
ApproverName = Annotated[str, StringConstraints(pattern=f"^{NAME_PATTERN.pattern}$")]
PinnedModel = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@-]*$")
]
"""A model a workflow or an ``llm:`` step pins: a name such as ``gpt-4o-mini``."""


class InputSpec(BaseModel):
    """A workflow input a run supplies; steps read it as ``inputs.<name>``."""

    model_config = ConfigDict(extra="forbid")

    type: InputType = "string"
    description: str = Field(default="", max_length=2000)
    required: bool = Field(default=False, description="A run must give it (no default).")
    default: Any = None

    @model_validator(mode="after")
    def _default_matches(self) -> "InputSpec":
        if self.default is not None and not input_type_matches(self.type, self.default):
            raise ValueError(f"default {self.default!r} is not of type {self.type}")
        if self.required and self.default is not None:
            raise ValueError("a required input has no default; drop one of the two")
        return self


class ApprovalPolicy(BaseModel):
    """Which risk tiers wait for a person's approval before they run, and what a rejection does.

    The default makes ``write`` and ``irreversible`` steps wait and lets ``read`` steps run;
    a step's own ``requires_approval`` and ``on_reject`` override it.
    """

    model_config = ConfigDict(extra="forbid")

    read: bool = False
    write: bool = True
    irreversible: bool = True
    on_reject: OnReject = Field(
        default="fail",
        description="`fail`: the step fails and what depends on it is blocked; "
        "`skip`: the step is skipped and the run goes on without it.",
    )


class RetrySpec(BaseModel):
    """How often a failed step is tried again, and how long to wait in between."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=1, ge=1, le=20, description="Including the first.")
    backoff_s: float = Field(default=1.0, ge=0, le=3600)
    max_backoff_s: float = Field(default=60.0, ge=0, le=86_400)
    jitter: bool = True


class StepSpec(BaseModel):
    """One step of a workflow."""

    model_config = ConfigDict(extra="forbid")

    id: StepId
    agent: AgentName = Field(description="`builtin:<role>`, `llm:<role>`, `command`, …")
    description: str = Field(default="", max_length=2000)
    inputs: dict[str, Any] = Field(
        default_factory=dict,
        description="What the agent gets; strings may hold templates such as "
        "`{{ inputs.version }}` or `{{ steps.build.outputs.summary }}`.",
    )
    depends_on: list[StepId] = Field(default_factory=list)
    when: str | None = Field(
        default=None,
        max_length=2000,
        description="A condition (bare expression); when false the step is skipped.",
    )
    risk_tier: RiskTier = "read"
    requires_approval: bool | None = Field(
        default=None, description="Overrides the workflow's approval policy for this step."
    )
    on_reject: OnReject | None = Field(
        default=None, description="Overrides the workflow's `approvals.on_reject`."
    )
    approval_reason: str | None = Field(
        default=None,
        max_length=500,
        description="Why the step waits for approval, or runs without it, in words for the "
        "people who read the run: shown on the step's page, on its `step.queued` event when it "
        "runs ungated and in its approval request when it waits. It decides nothing. A plan's "
        "compiler writes one on each step of a task the plan marks `irreversible`.",
    )
    phase: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)] | None
    ) = Field(
        default=None,
        description="The phase of work the step belongs to (e.g. `PRD`, `Implementation`); "
        "the mission page tracks a workflow's phases in the order they first appear.",
    )
    approvers: list[ApproverName] | None = Field(
        default=None,
        max_length=50,
        description="User names who alone may decide the step's approval gate (an admin "
        "included); none: anyone who may decide approvals.",
    )
    estimate_tokens: int = Field(default=0, ge=0, le=10_000_000)
    timeout_s: float = Field(default=600.0, gt=0, le=86_400)
    retry: RetrySpec = Field(default_factory=RetrySpec)
    model: PinnedModel | None = Field(
        default=None,
        description="For an `llm:` step: the model it runs on, whatever routing would choose "
        "(the workflow's `model` otherwise; neither: routing chooses, docs/routing.md).",
    )


class WorkflowSpec(BaseModel):
    """A workflow definition; saving it creates a new version."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL_PATTERN
        ),
    ] = Field(description="Saving the same name again adds a version.")
    description: str = Field(default="", max_length=5000)
    inputs: dict[InputName, InputSpec] = Field(default_factory=dict)
    steps: list[StepSpec] = Field(min_length=1, max_length=5000)
    max_concurrency: int | None = Field(default=None, ge=1, le=1000)
    budget_usd: BudgetUsd | None = None
    approvals: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    model: PinnedModel | None = Field(
        default=None,
        description="The model every `llm:` step without its own `model` runs on; unset: "
        "routing chooses each step's model (docs/routing.md).",
    )


class WorkflowGraph(BaseModel):
    """The DAG of a definition: layers of steps that may run together, and dependency edges."""

    layers: list[list[str]] = Field(
        default_factory=list, description="Step ids by depth; empty when the graph has a cycle."
    )
    edges: list[list[str]] = Field(
        default_factory=list, description="`[dependency, step]` pairs: the step waits for it."
    )


class WorkflowRead(BaseModel):
    """A stored workflow version."""

    id: uuid.UUID
    name: str
    version: int
    mission_id: uuid.UUID | None
    definition: WorkflowSpec
    graph: WorkflowGraph
    created_by: str
    created_at: datetime


class WorkflowSummary(BaseModel):
    """One workflow version in a list."""

    id: uuid.UUID
    name: str
    version: int
    versions: int = Field(description="How many versions the name has.")
    description: str
    steps: int
    runs: int = Field(description="Runs of this version.")
    mission_id: uuid.UUID | None
    plan_id: uuid.UUID | None = Field(
        default=None,
        description="The mission's plan this version was compiled from; null for a workflow "
        "written by hand.",
    )
    created_by: str
    created_at: datetime


class ProblemRead(BaseModel):
    """One problem of a definition: where it is and how to fix it."""

    field: str | None
    message: str


class WorkflowCheckRead(BaseModel):
    """The outcome of checking a definition without saving it."""

    valid: bool
    problems: list[ProblemRead]
    graph: WorkflowGraph
    name: str | None = None
    steps: list[dict[str, Any]] = Field(
        default_factory=list,
        description="`{id, agent, risk_tier, gated, gate_reason, when}` per step, for a "
        "preview: whether it would wait for an approver now, at which tier it would run, why.",
    )


class WorkflowRunCreate(BaseModel):
    """What a run of a workflow version is started with."""

    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, Any] = Field(default_factory=dict, description="The workflow's inputs.")
    budget_usd: BudgetUsd | None = Field(
        default=None,
        description="A cap for this run; the lower of it and the workflow's cap applies.",
    )
