"""Missions and their plans: a mission made, listed and read; its plans read, compared, run.

And a mission planned, the planner's questions answered, and a plan's traceability and
diagrams read. Reading needs ``missions:read``; creating, planning a mission and answering its
planner need ``missions:write``, running it ``runs:control``. The downloads are routes of
their own: the pack, the decision records and a diagram as SVG.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from missionctl.domain.access import Permission as P
from missionctl.domain.files import FileAnswer
from missionctl.domain.refusals import MISSION_RULES
from missionctl.domain.states import MissionStatus
from missionctl.operations import Operation, OtherStatus
from missionctl.schemas.clarifications import ClarificationAnswers, ClarificationRead
from missionctl.schemas.diagrams import PlanDiagramsRead
from missionctl.schemas.missions import NO_NUL_PATTERN, MissionCreate, MissionPage, MissionRead
from missionctl.schemas.paging import KeysetQuery
from missionctl.schemas.plans import (
    MAX_PLAN_VERSION,
    REQUIREMENT_KEY_PATTERN,
    PlanAgain,
    PlanDiffRead,
    PlanRead,
    PlanVersionRead,
)
from missionctl.schemas.runs import RunRead
from missionctl.schemas.tracemap import TraceMapRead

_MISSIONS = "missionctl.services.usecases.missions"
_PLANS = "missionctl.services.usecases.plans"

Version = Annotated[int, Field(ge=1, le=MAX_PLAN_VERSION)]
"""A path's plan version."""


class MissionQuery(KeysetQuery):
    """A page of missions, newest first, and what they must match."""

    status: MissionStatus | None = None
    q: str | None = Field(
        None, max_length=200, pattern=NO_NUL_PATTERN, description="Text to find in title or goal"
    )


class PlanQuery(BaseModel):
    """Which plan version to read."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(None, ge=1, le=MAX_PLAN_VERSION, description="Default: the newest")


class DiffQuery(BaseModel):
    """Which plan version to compare the path's with."""

    model_config = ConfigDict(extra="forbid")

    base: int = Field(ge=1, le=MAX_PLAN_VERSION, description="The version to compare it with")


class PlanVersionQuery(BaseModel):
    """Which plan version to look at."""

    model_config = ConfigDict(extra="forbid")

    plan_version: int | None = Field(
        None, ge=1, le=MAX_PLAN_VERSION, description="The plan version; default: the newest"
    )


class TraceQuery(PlanVersionQuery):
    """Which plan version to trace, and which requirement's path alone."""

    requirement: str | None = Field(
        None,
        pattern=REQUIREMENT_KEY_PATTERN,
        description="Keep only this requirement's path (e.g. R2): its tasks, their artifacts, "
        "risks and decisions",
    )


CREATE: Operation[MissionRead] = Operation(
    name="create_mission",
    doc="Create a mission in `draft`; nothing is stored when the body is invalid (422).\n\n"
    "A repository the server's settings or allow-list refuse is a 409: an admin can allow it.",
    method="POST",
    path="/missions",
    permission=P.MISSIONS_WRITE,
    service=f"{_MISSIONS}:create_mission",
    body=MissionCreate,
    refusals=MISSION_RULES,
    output=MissionRead,
    status_code=201,
    errors=(409,),
    cli="mission create",
)
LIST: Operation[MissionPage] = Operation(
    name="list_missions",
    doc="List missions, newest first, with keyset paging.",
    method="GET",
    path="/missions",
    permission=P.MISSIONS_READ,
    service=f"{_MISSIONS}:read_missions",
    query=MissionQuery,
    output=MissionPage,
    cli="mission list",
)
READ: Operation[MissionRead] = Operation(
    name="get_mission",
    doc="One mission by id (404 when there is none).",
    method="GET",
    path="/missions/{mission_id}",
    permission=P.MISSIONS_READ,
    service=f"{_MISSIONS}:read_mission",
    output=MissionRead,
    cli="mission show",
)
ASKED = OtherStatus(
    202,
    when=lambda answer: isinstance(answer, ClarificationRead),
    description="The planner asks questions instead of planning; the mission waits for the "
    "answers (`POST /api/v1/missions/{mission_id}/clarification`)",
    model=ClarificationRead,
)
"""Planning, and answering the planner's questions, answer them instead of a plan (ADR 0035)."""
PLAN_AGAIN: Operation[PlanRead | ClarificationRead] = Operation(
    name="plan_mission",
    doc="Plan (or plan again) a mission: a new plan version from the model or the local "
    "planner.\n\n"
    'An optional body (`{"constraints": [...], "repo_context": "..."}`, or `null`) replaces the '
    "mission's constraints and repository context first, so the new version is planned with "
    "them; an omitted field keeps its value. 422 names the field of a bad body; 409 when the "
    "mission cannot be planned now (e.g. it is running), and then nothing changes; 422 also "
    "when the planner's plan still broke the rules after its repairs (the reasons are listed). "
    "The new version's `notes` say what the planner repaired in a model's answer (keys renamed "
    "to the plan's formats, dangling references dropped, …) or noticed (requirements no task "
    "traces). 202 when the planner cannot plan the mission as written (its goal names nothing "
    "to plan, or is not in English for the local planner) and asks questions instead: the "
    "mission is then `needs_clarification` until they are answered.",
    method="POST",
    path="/missions/{mission_id}/plan",
    permission=P.MISSIONS_WRITE,
    service=f"{_PLANS}:plan_again",
    body=PlanAgain,
    body_as="changes",
    body_optional=True,
    body_nullable=True,
    needs=("planner",),
    output=PlanRead,
    status_code=201,
    other_statuses=(ASKED,),
    errors=(409, 502, 503),
    cli="mission plan",
)
ANSWER: Operation[PlanRead | ClarificationRead] = Operation(
    name="answer_questions",
    doc="Answer the planner's questions about a mission, and plan it with the answers.\n\n"
    '`{"answers": [...]}` holds one answer per question, in order (the questions are the last '
    "of the mission's `clarifications`). 201 with the plan; 202 with new questions when the "
    "answers still leave the planner guessing; 409 when the mission does not wait for answers "
    "(its status is not `needs_clarification`), and then nothing changes; 422 names the field "
    "of a bad body (no answer given, too many answers, one too long).",
    method="POST",
    path="/missions/{mission_id}/clarification",
    permission=P.MISSIONS_WRITE,
    service=f"{_PLANS}:answer_questions",
    body=ClarificationAnswers,
    body_as="answers",
    needs=("planner",),
    output=PlanRead,
    status_code=201,
    other_statuses=(ASKED,),
    errors=(409, 502, 503),
    cli="mission answer",
)
PLAN_VERSIONS: Operation[list[PlanVersionRead]] = Operation(
    name="list_plans",
    doc="The mission's plan versions, newest first (404 when there is no such mission).",
    method="GET",
    path="/missions/{mission_id}/plans",
    permission=P.MISSIONS_READ,
    service=f"{_PLANS}:list_plan_versions",
    output=list[PlanVersionRead],
    cli="mission plans",
)
PLAN_VERSION: Operation[PlanRead] = Operation(
    name="get_plan_version",
    doc="One plan version of the mission (404 when the mission or the version does not exist).",
    method="GET",
    path="/missions/{mission_id}/plans/{version}",
    permission=P.MISSIONS_READ,
    service=f"{_PLANS}:read_plan",
    path_types={"version": Version},
    output=PlanRead,
    cli="mission show-plan",
)
COMPARE: Operation[PlanDiffRead] = Operation(
    name="diff_plan_version",
    doc="What changed from plan version `base` to plan version `version`.\n\n"
    "The tasks, requirements, risks and decisions added, removed and changed; 404 names the "
    "version that does not exist.",
    method="GET",
    path="/missions/{mission_id}/plans/{version}/diff",
    permission=P.MISSIONS_READ,
    service=f"{_PLANS}:compare_plans",
    path_types={"version": Version},
    query=DiffQuery,
    output=PlanDiffRead,
    cli="mission plan-diff",
)
PLAN: Operation[PlanRead] = Operation(
    name="get_plan",
    doc="A mission's plan.",
    method="GET",
    path="/missions/{mission_id}/plan",
    permission=P.MISSIONS_READ,
    service=f"{_PLANS}:read_plan",
    query=PlanQuery,
    output=PlanRead,
    cli="mission show-plan",
)
RUN: Operation[RunRead] = Operation(
    name="run_mission",
    doc="Run the mission's newest plan; the engine picks the run up at once (202).\n\n"
    "409 when the mission has no plan yet (plan it first: `POST /api/v1/missions/{id}/plan`) "
    "or cannot run in its state; 404 when there is no such mission.",
    method="POST",
    path="/missions/{mission_id}/runs",
    permission=P.RUNS_CONTROL,
    service=f"{_PLANS}:run_mission",
    needs=("trigger",),
    output=RunRead,
    status_code=202,
    errors=(409,),
    cli="mission run",
)
TRACE: Operation[TraceMapRead] = Operation(
    name="read_trace",
    doc="The mission's traceability map: goal → requirements → tasks → artifacts, and its "
    "gaps.\n\nNodes, edges (traces, depends_on, produced, mitigates, concerns) and coverage "
    "gaps, each with what is missing and the fix: a requirement no task traces, a task that "
    "traces nothing, a task that succeeded without an artifact, a high or critical risk "
    "without a mitigation task. 409 when the mission has no plan yet (plan it first); 404 "
    "names the mission, the `plan_version` or the `requirement` that does not exist.",
    method="GET",
    path="/missions/{mission_id}/trace",
    permission=P.MISSIONS_READ,
    service="missionctl.services.usecases.tracemap:read_trace_map",
    query=TraceQuery,
    output=TraceMapRead,
    errors=(409,),
    cli="mission trace",
)
DIAGRAMS: Operation[PlanDiagramsRead] = Operation(
    name="read_diagrams",
    doc="The architecture, deployment and product flow of what the mission's plan builds.\n\n"
    "Each diagram has its columns (`groups`), components (with the plan tasks that build "
    "them), connections and notes. The product flow is the journey of the software's user, "
    "a step per box, always drawn by the local rules from the mission's own words. 409 when "
    "the mission has no plan yet (plan it first); 404 names the mission or the `plan_version` "
    "that does not exist.",
    method="GET",
    path="/missions/{mission_id}/diagrams",
    permission=P.MISSIONS_READ,
    service="missionctl.services.usecases.diagrams:read_plan_diagrams",
    query=PlanVersionQuery,
    output=PlanDiagramsRead,
    errors=(409,),
    cli="mission diagrams",
)

DIAGRAM_SVG: Operation[FileAnswer] = Operation(
    name="read_diagram_svg",
    doc="One diagram (`architecture`, `deployment` or `product_flow`) as a standalone SVG "
    "file.\n\nAny other name is refused (422, naming `name` and the names there are); 409 and "
    "404 as the diagrams' JSON.",
    method="GET",
    path="/missions/{mission_id}/diagrams/{name}.svg",
    permission=P.MISSIONS_READ,
    service="missionctl.services.usecases.diagrams:diagram_svg",
    query=PlanVersionQuery,
    output=FileAnswer,
    file_types=("image/svg+xml",),
    errors=(409,),
)

PACK: Operation[FileAnswer] = Operation(
    name="download_pack",
    doc="The mission's AI execution pack for a coding agent, as a zip to download.\n\n"
    "`AGENTS.md` (goal, constraints, stack, conventions, how to run and test, what not to touch, "
    "task order, requirements), one Markdown file per task in execution order (`tasks/NN-<key>"
    ".md`), and `plan.json` (the plan as `GET /api/v1/missions/{mission_id}/plan` returns it); "
    "secrets redacted; byte-identical for the same mission and plan version. 409 when the "
    "mission has no plan yet (plan it first); 404 names the mission or the `plan_version` that "
    "does not exist.",
    method="GET",
    path="/missions/{mission_id}/pack",
    permission=P.MISSIONS_READ,
    service="missionctl.services.usecases.packs:download_pack",
    query=PlanVersionQuery,
    output=FileAnswer,
    file_types=("application/zip",),
    errors=(409,),
    cli="pack",
)

OPERATIONS = (
    CREATE,
    LIST,
    READ,
    PLAN_AGAIN,
    ANSWER,
    PLAN_VERSIONS,
    PLAN_VERSION,
    COMPARE,
    PLAN,
    RUN,
    TRACE,
    DIAGRAMS,
    DIAGRAM_SVG,
    PACK,
)
"""Every declared operation, for what checks or lists them all (tests, documentation)."""
