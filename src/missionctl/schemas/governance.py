"""Governance contracts: approvals, the emergency stop, agent restrictions."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, field_validator

from missionctl.domain.governance import (
    CODING_RULE,
    MAX_ENV_NAMES,
    MAX_PROGRAM_CHARS,
    MAX_PROGRAMS,
    MAX_REPOSITORIES,
    MAX_REPOSITORY_CHARS,
    SAFE_VARIABLES,
    env_name_problem,
    normal_repository,
    program_problem,
    repository_entry_problem,
    shown_source,
)
from missionctl.schemas.missions import plain_text
from missionctl.schemas.plans import RiskTier

ApprovalDecision = Literal["approved", "rejected"]
ApprovalState = Literal["pending", "approved", "rejected", "withdrawn"]
# Checked as sent (length, no NUL: PostgreSQL refuses it in text), then stripped.
Reason = Annotated[str, plain_text(2000), StringConstraints(strip_whitespace=True, max_length=2000)]


class ApprovalDiff(BaseModel):
    """What a ``git:merge`` step would merge: its coding step's diff (diff-first approval)."""

    artifact_id: uuid.UUID
    step_id: str = Field(description="The coding step whose branch the merge brings in.")
    text: str = Field(description="The unified diff, cut at 200,000 characters.")
    truncated: bool


class ApprovalReview(BaseModel):
    """A review loop's verdict, shown beside the diff its merge would bring in.

    The reviewer's opinion (a coding agent's answer), never a fact: it decided whether the
    rework ran, and decides nothing else; the decision is the approver's.
    """

    step_id: str = Field(description="The review step (`<task>-review`).")
    agent: str = Field(description="The coding agent that reviewed, such as `coding:claude`.")
    verdict: Literal["approve", "changes_requested"] | None = Field(
        description="What the reviewer concluded; null when the review has not succeeded."
    )
    findings: list[str] = Field(description="What the reviewer found, one item each.")
    reworked: bool = Field(
        description="Whether the rework step ran on the findings before this merge."
    )


class ApprovalRead(BaseModel):
    """A request for a person's decision on one step, and the decision once made.

    ``state`` is ``withdrawn`` when the step stopped waiting without a decision (its run was
    canceled or aborted).
    """

    id: uuid.UUID
    state: ApprovalState
    run_id: uuid.UUID
    run_status: str
    mission_id: uuid.UUID | None
    workflow: str
    step_run_id: uuid.UUID
    step_id: str
    attempt: int
    agent: str
    risk_tier: str
    inputs: dict[str, Any] = Field(description="Exactly what the step runs with.")
    action: str = Field(
        description="What will run, in one line: the command line, the prompt, or the URL."
    )
    estimate_usd: float
    requested_at: datetime
    decision: ApprovalDecision | None
    decided_by: str | None = Field(
        description="The actor that decided: `user:NAME`, or `token:NAME` for an API token."
    )
    decided_by_user: str | None = Field(
        default=None,
        description="The person behind `decided_by` (an API token's owner); null when "
        "Mission Control itself decided.",
    )
    decided_at: datetime | None
    reason: str | None
    diff: ApprovalDiff | None = Field(
        default=None,
        description="For a `git:merge` step: the diff it would merge, to read before deciding "
        "(of a review loop: its builder's; `diffs` holds every step's).",
    )
    diffs: list[ApprovalDiff] = Field(
        default_factory=list,
        description="For a `git:merge` step: the diff of each step whose work it merges, in "
        "order (a review loop's builder, tests and rework), together cut at 200,000 characters.",
    )
    review: ApprovalReview | None = Field(
        default=None,
        description="For the merge of a review loop: the reviewer's verdict and findings, "
        "labelled as its opinion.",
    )
    version_written_by: str = Field(
        description="Who saved the workflow version the run executes (`user:NAME`, "
        "`token:NAME`, `system`…): by the four-eyes rule, not the one to approve it.",
    )
    run_started_by: str = Field(
        description="Who started the run (`user:NAME`, `token:NAME`, `schedule:NAME`, "
        "`system`…): by the four-eyes rule, not the one to approve it. A schedule or `system` "
        "is nobody: any approver may decide.",
    )
    override_reason: str | None = Field(
        default=None,
        description="When an admin approved despite the four-eyes rule: why, as recorded on "
        "the decision's event.",
    )


class ApprovalDecide(BaseModel):
    """A decision's reason: optional to approve, required to reject."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason = ""
    confirm_full_access: StrictBool = Field(
        default=False,
        description="Approving a coding step that asks for full access needs `true` here, "
        "and a `justification`.",
    )
    justification: Reason = Field(
        default="",
        description="Why full access is needed: required to approve a full-access coding step; "
        "recorded in the event log with the decision.",
    )
    override_reason: Reason = Field(
        default="",
        description="Admins only: why this step may be approved by the person who started its "
        "run or wrote its workflow version (the four-eyes rule). Recorded on the decision's "
        "event and shown on the approval; refused when nothing needs overriding.",
    )


class ControlsRead(BaseModel):
    """The system-wide controls: whether the emergency stop is on, since when and by whom."""

    emergency_stop: bool
    stopped_by: str | None
    stopped_at: datetime | None
    reason: str | None
    recorded: bool = Field(
        default=True,
        description="False while the stop is held only by the stop signal (a file of the data "
        "directory, or memory when that fails) because the database could not be written; it is "
        "written to the event log, with the runs it aborts, as soon as it can be.",
    )
    note: str | None = Field(
        default=None, description="What an unrecorded stop holds on, and what happens next."
    )


class EmergencyStop(BaseModel):
    """Why everything is being stopped (or released)."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason = ""


class EmergencyStopResult(BaseModel):
    """The controls after a stop, and the runs it aborted."""

    controls: ControlsRead
    aborted_runs: list[uuid.UUID]
    canceled_steps: int


ProgramName = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PROGRAM_CHARS)]
RepositorySource = Annotated[str, StringConstraints(min_length=1, max_length=MAX_REPOSITORY_CHARS)]
# How much of a refused program name an error message repeats.
_SHOWN_CHARS = 60


class AllowedProgram(BaseModel):
    """An allow-listed program: its tier, its network, and the variables its steps may set."""

    model_config = ConfigDict(extra="forbid")

    tier: RiskTier = Field(
        description="The lowest tier its steps run at: a step runs at the higher of this and "
        "its declared tier, and only `read` runs without an approver."
    )
    network: StrictBool = Field(
        default=False,
        description="Whether a step of it may ask for the network (`network: true`) without "
        "an approver. JSON `true` or `false` only.",
    )
    env: list[str] = Field(
        default_factory=list,
        max_length=MAX_ENV_NAMES,
        description="The variables its steps may set in `env` or `secret_env` without an "
        f"approver, besides {', '.join(SAFE_VARIABLES)}. Any other variable (PATH, LD_*, "
        "PYTHONPATH, HOME…) can change what runs, so a step setting it waits for an approver. "
        f"At most {MAX_ENV_NAMES} names.",
    )

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: list[str]) -> list[str]:
        for name in value:
            problem = env_name_problem(name)
            if problem:
                shown = repr(name[:_SHOWN_CHARS]) + ("…" if len(name) > _SHOWN_CHARS else "")
                raise ValueError(f"the variable {shown} {problem}; write a name such as API_URL")
        return sorted(set(value))


class AgentRead(BaseModel):
    """An agent (or a kind of agent, ``llm:*``) and its restrictions."""

    name: str
    kind: str
    diagnostic: bool = Field(
        default=False,
        description="A builtin for testing workflows and the engine (builtin:noop, "
        "builtin:sleep, builtin:fail); it does no real work.",
    )
    enabled: bool
    allowed_risk_tiers: list[RiskTier] = Field(description="Empty: every tier is allowed.")
    allowed_programs: dict[str, AllowedProgram] = Field(
        default_factory=dict,
        description="Only `command`: the programs (argv[0], exactly as written) its steps run "
        "without an approver. Any other program waits for one.",
    )
    allowed_repositories: list[str] = Field(
        default_factory=list,
        description=f"Only `{CODING_RULE}`: the repositories coding steps may work on (absolute "
        "paths, each allowing what is under it, and clone URL prefixes). Empty: none.",
    )
    held_steps: int = Field(description="Queued steps held back by this agent's restrictions.")
    updated_at: datetime | None


class AgentUpdate(BaseModel):
    """A change to an agent's restrictions; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool | None = Field(
        default=None, description="JSON `true` or `false`; 0, 1 and strings are refused."
    )
    allowed_risk_tiers: list[RiskTier] | None = Field(
        default=None, description="Empty list: every tier is allowed."
    )
    allowed_programs: dict[ProgramName, AllowedProgram | None] | None = Field(
        default=None,
        max_length=MAX_PROGRAMS,
        description="Only for `command`: changes to its allow-list, applied to the list as it "
        "is when the change lands (programs not named keep their entry, so two admins' changes "
        "never undo each other). A program maps to its entry, or to `null` to remove it. A "
        "program is a bare name (`pytest`, found in the sandbox's system directories) or an "
        f"absolute path, matched exactly against argv[0]; at most {MAX_PROGRAMS} programs.",
    )

    allowed_repositories: dict[RepositorySource, StrictBool] | None = Field(
        default=None,
        max_length=MAX_REPOSITORIES,
        description=f"Only for `{CODING_RULE}`: changes to the repositories coding steps may "
        "work on, applied to the list as it is when the change lands. A source maps to `true` "
        "to allow it or `false` to take it off. A source is an absolute path without `.` or "
        "`..` parts (it allows itself and every path under it) or a clone URL prefix (it "
        "allows the URLs that continue it at a `/`); at most "
        f"{MAX_REPOSITORIES} entries.",
    )

    @field_validator("allowed_repositories", mode="before")
    @classmethod
    def _repository_sources(cls, value: Any) -> Any:
        # Checked before the keys are validated, for the reason given for programs below.
        if not isinstance(value, dict):
            return value
        if len(value) > MAX_REPOSITORIES:
            raise ValueError(f"at most {MAX_REPOSITORIES} repositories in one change")
        changes = {}
        for source, allow in value.items():
            text = str(source)
            problem = repository_entry_problem(text) if isinstance(source, str) else "is not text"
            if problem:
                # Without a URL's user part: a token there must not come back in the error.
                shown = shown_source(text)
                shown = repr(shown[:_SHOWN_CHARS]) + ("…" if len(shown) > _SHOWN_CHARS else "")
                raise ValueError(f"the repository {shown} {problem}")
            changes[normal_repository(source)] = allow
        return changes

    @field_validator("allowed_programs", mode="before")
    @classmethod
    def _program_names(cls, value: Any) -> Any:
        # Checked before the keys are validated: Pydantic would repeat a bad key, whatever
        # its size, in the error's location.
        if not isinstance(value, dict):
            return value
        if len(value) > MAX_PROGRAMS:
            raise ValueError(f"at most {MAX_PROGRAMS} programs in one change")
        for program in value:
            problem = program_problem(program) if isinstance(program, str) else "is not text"
            if problem:
                shown = repr(program[:_SHOWN_CHARS]) + ("…" if len(program) > _SHOWN_CHARS else "")
                raise ValueError(f"the program {shown} {problem}")
        return value
