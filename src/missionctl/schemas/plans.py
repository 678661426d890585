"""Plan contracts: what a planner (LLM or local) must produce, and what clients read.

``PlanDraft`` is the planner's output contract. For an LLM planner its JSON Schema is the
response format, and a reply that does not validate is sent back with the errors (the repair
loop). Semantic rules that JSON Schema cannot express are checked by
``missionctl.domain.plans.validate_plan`` before anything is stored: a valid DAG, and every
dependency, traced requirement and phase member existing.
"""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from missionctl.domain.plan_diff import SectionName
from missionctl.domain.workflows import RiskTier as RiskTier  # re-exported: the plans speak of it
from missionctl.schemas.missions import (
    MAX_CONSTRAINTS,
    REPO_CONTEXT_MAX_CHARS,
    Constraint,
    RepoContextText,
)

MIN_TASKS = 4
# Plan versions are a 32-bit INTEGER column: a larger one cannot exist, and the databases
# refuse to compare the column with it (a 500 instead of a 404).
MAX_PLAN_VERSION = 2**31 - 1
MAX_TASKS = 20
MAX_MITIGATION_TASKS = 20

Severity = Literal["low", "medium", "high", "critical"]
Likelihood = Literal["low", "medium", "high"]
Priority = Literal["must", "should", "could"]
RequirementKind = Literal["feature", "constraint", "quality"]
"""What a requirement is: something the product does (``feature``), a bound the goal or its
constraints set on every part of it (``constraint``: a law, a figure, a platform, a deadline),
or a quality the planner holds any product of its kind to (``quality``)."""
REQUIREMENT_HEADINGS: dict[RequirementKind, str] = {
    "feature": "Features",
    "constraint": "Constraints",
    "quality": "Qualities",
}
"""How each kind of requirement is headed wherever a plan's requirements are listed, in order."""
NextStepPriority = Literal["low", "medium", "high"]
SpecialistRole = Literal[
    "product",
    "architect",
    "backend",
    "frontend",
    "mobile",
    "firmware",
    "data",
    "ml",
    "devops",
    "security",
    "qa",
    "docs",
    "release",
    "infrastructure",
]

TASK_KEY_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"
REQUIREMENT_KEY_PATTERN = r"^R[0-9]{1,3}$"
TaskKey = Annotated[str, StringConstraints(pattern=TASK_KEY_PATTERN)]
RequirementKey = Annotated[str, StringConstraints(pattern=REQUIREMENT_KEY_PATTERN)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


_FROM_MISSION = (
    "The id of the past mission this {what} comes from: only one of the similar finished "
    "missions offered to the planner; null when it comes from no past mission."
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlanRequirement(_Strict):
    """Something the result must do or be."""

    key: RequirementKey = Field(description="R1, R2, …")
    text: LongText
    priority: Priority = "must"
    kind: RequirementKind = Field(
        default="feature",
        description=(
            "feature: something a user or the system does; constraint: a bound the goal sets "
            "on every part (law, figure, platform, stack, deadline); quality: a standard the "
            "planner adds for this kind of product."
        ),
    )


class PlanPhase(_Strict):
    """A group of tasks delivered together."""

    key: TaskKey
    name: ShortText
    goal: LongText
    task_keys: list[TaskKey] = Field(min_length=1)


class PlanTask(_Strict):
    """One unit of work for one specialist."""

    key: TaskKey = Field(description="Unique slug, e.g. `api-contract`.")
    title: ShortText
    description: LongText
    role: SpecialistRole
    depends_on: list[TaskKey] = Field(default_factory=list)
    expected_artifacts: list[ShortText] = Field(default_factory=list)
    acceptance: list[ShortText] = Field(min_length=1, description="How we know it is done.")
    risk_tier: RiskTier = "read"
    estimate_tokens: int = Field(ge=0, le=2_000_000, description="Expected LLM tokens.")
    traces: list[RequirementKey] = Field(
        default_factory=list, description="Requirement keys this task serves."
    )


class PlanRisk(_Strict):
    """A risk with its size and what to do about it."""

    title: ShortText
    description: LongText
    severity: Severity
    likelihood: Likelihood
    mitigation: LongText
    mitigation_tasks: list[TaskKey] = Field(
        default_factory=list,
        max_length=MAX_MITIGATION_TASKS,
        description="Keys of this plan's tasks that carry out the mitigation.",
    )
    owner: str = Field(
        default="",
        max_length=200,
        description="Who answers for the risk: the role of the task that mitigates it.",
    )
    from_mission: uuid.UUID | None = Field(
        default=None, description=_FROM_MISSION.format(what="risk carried over")
    )


class PlanDecision(_Strict):
    """A choice made while planning."""

    title: ShortText
    choice: LongText
    reasons: list[ShortText] = Field(min_length=1)
    trade_offs: list[ShortText] = Field(default_factory=list)
    alternatives: list[ShortText] = Field(default_factory=list)
    from_mission: uuid.UUID | None = Field(
        default=None, description=_FROM_MISSION.format(what="decision reused")
    )


class PlanNextStep(_Strict):
    """Something to do next, outside or after the tasks."""

    text: LongText
    priority: NextStepPriority = "medium"


class PlanDraft(_Strict):
    """A planner's complete output for one mission."""

    summary: LongText
    requirements: list[PlanRequirement] = Field(min_length=1, max_length=40)
    phases: list[PlanPhase] = Field(default_factory=list, max_length=10)
    tasks: list[PlanTask] = Field(min_length=MIN_TASKS, max_length=MAX_TASKS)
    risks: list[PlanRisk] = Field(default_factory=list, max_length=30)
    decisions: list[PlanDecision] = Field(default_factory=list, max_length=30)
    next_steps: list[PlanNextStep] = Field(default_factory=list, max_length=30)


ClauseKind = Literal["feature", "constraint"]


class PlanClause(BaseModel):
    """A clause of the goal as the plan was made, and what in the plan keeps it."""

    text: str = Field(description="The clause as the user wrote it.")
    kind: ClauseKind = Field(
        description="feature (something the software does) or constraint (a bound on all of it)."
    )
    requirements: list[str] = Field(description="Keys of the requirements that quote it.")
    tasks: list[str] = Field(description="Keys of the tasks whose acceptance criteria quote it.")

    @property
    def covered(self) -> bool:
        """Whether a requirement or a task's acceptance keeps the clause."""
        return bool(self.requirements or self.tasks)


class PlanRead(PlanDraft):
    """A stored plan version."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    mission_id: uuid.UUID
    version: int
    source: str = Field(description='"local" or the model name.')
    created_at: datetime
    notes: list[str] = Field(
        default_factory=list,
        description=(
            "What the planner repaired or noticed while making this version, one sentence "
            "each: keys renamed to the plan's formats, dangling references dropped, "
            "requirements no task traces, replies sent back to the model, the output mode "
            "when the server refused json_schema. Empty when there was nothing to say."
        ),
    )
    clauses: list[PlanClause] = Field(
        default_factory=list,
        description=(
            "Every clause of the goal and its constraints when this version was made, with "
            "the requirements and tasks that keep it; a clause with neither is one the plan "
            "left out. Empty for versions made before plans were checked for it."
        ),
    )


class PlanAgain(BaseModel):
    """What to change before planning a mission again; an omitted field keeps its value.

    The mission's constraints and repository context are replaced by these before the planner
    runs, so the new plan version is made with them. Unknown fields are refused.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    constraints: list[Constraint] | None = Field(
        default=None,
        max_length=MAX_CONSTRAINTS,
        description="Constraints the new plan must respect (one per item); replaces the old.",
    )
    repo_context: RepoContextText | None = Field(
        default=None,
        max_length=REPO_CONTEXT_MAX_CHARS,
        description="What exists already (repository, stack, conventions); replaces the old.",
    )


class PlanVersionRead(BaseModel):
    """One plan version of a mission, in the list of its versions."""

    version: int
    source: str = Field(description='"local" or the model name.')
    created_at: datetime
    summary: str
    tasks: int = Field(description="How many tasks the version has.")
    requirements: int
    risks: int
    decisions: int


class PlanDiffItem(BaseModel):
    """An item of a plan section: its identity and its readable name.

    The identity is a task's or requirement's key, a risk's or decision's title.
    """

    key: str
    label: str


class PlanDiffChange(PlanDiffItem):
    """An item in both versions whose content differs."""

    fields: list[str] = Field(description="The item's fields that differ.")


class PlanDiffSection(BaseModel):
    """One section of the plan (tasks, requirements, risks or decisions) compared."""

    name: SectionName
    added: list[PlanDiffItem]
    removed: list[PlanDiffItem]
    changed: list[PlanDiffChange]


class PlanDiffRead(BaseModel):
    """What changed from plan version ``base`` to plan version ``target``."""

    base: int
    target: int
    same: bool = Field(description="True when both versions plan the same thing.")
    summary_changed: bool
    sections: list[PlanDiffSection]
