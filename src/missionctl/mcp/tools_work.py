"""The tools that do a mission's work: create, plan, run, read a task's pack, report on tasks.

Each tool checks its permission first (``caller.permitted``: a refusal changes nothing), then
validates its arguments through the API's own schemas and calls one service as the caller's
identity (``token:NAME``), so that its events name who acted. Errors come back as the tool's
error result, naming the argument to fix.
"""

import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from missionctl.domain.access import Permission as P
from missionctl.errors import Problem as FieldProblem
from missionctl.errors import ValidationFailed
from missionctl.mcp.caller import permitted, tool_errors
from missionctl.schemas.clarifications import ClarificationRead
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.plans import MAX_PLAN_VERSION, PlanAgain
from missionctl.schemas.task_reports import TaskProgress, TaskResult
from missionctl.schemas.workflows import WorkflowRunCreate
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import packs as pack_service
from missionctl.services.usecases import plans as plan_service
from missionctl.services.usecases import task_reports
from missionctl.services.usecases import workflows as workflow_service

MissionId = Annotated[uuid.UUID, Field(description="The mission's id (a UUID).")]
TaskKey = Annotated[str, Field(description="A task's key in the mission's plan, e.g. `api`.")]
# Bounded before the schemas look at them, so that a huge argument costs nothing to refuse.
Text = Annotated[str, Field(max_length=1_000_000)]

_TRIGGER = "mcp"


async def create_mission(
    goal: Annotated[Text, Field(description="The software goal, in plain words.")],
    title: Annotated[
        Text | None, Field(description="A short name; default: from the goal.")
    ] = None,
    constraints: Annotated[
        list[Text] | None, Field(description="Constraints the plan must respect, one per item.")
    ] = None,
    repo_context: Annotated[
        Text, Field(description="What exists already: repository, stack, conventions.")
    ] = "",
    budget_usd: Annotated[
        Decimal | None, Field(description="A spending cap in US dollars for the mission.")
    ] = None,
) -> dict[str, Any]:
    """Create a mission (status `draft`) from a software goal. Needs missions:write (operator).

    Returns the mission; plan it next with `plan_mission`.
    """
    with tool_errors():
        caller = await permitted(P.MISSIONS_WRITE, "tool create_mission")
        data = MissionCreate(
            goal=goal,
            title=title,
            constraints=constraints or [],
            repo_context=repo_context,
            budget_usd=budget_usd,
        )
        mission = await mission_service.create_mission(
            caller.ctx, data=data, actor=caller.identity.actor
        )
    return mission.model_dump(mode="json")


async def plan_mission(
    mission_id: MissionId,
    constraints: Annotated[
        list[Text] | None, Field(description="Replace the mission's constraints first.")
    ] = None,
    repo_context: Annotated[
        Text | None, Field(description="Replace the mission's repository context first.")
    ] = None,
) -> dict[str, Any]:
    """Plan a mission (a new plan version). Needs missions:write (operator).

    Returns the plan, or, when the planner cannot plan the goal as written, its questions
    (`status: needs_clarification`) and nothing else changes.
    """
    with tool_errors():
        caller = await permitted(P.MISSIONS_WRITE, "tool plan_mission")
        changes = None
        if constraints is not None or repo_context is not None:
            changes = PlanAgain(constraints=constraints, repo_context=repo_context)
        outcome = await plan_service.plan_again(
            caller.ctx,
            mission_id=mission_id,
            actor=caller.identity.actor,
            planner=caller.planner,
            changes=changes,
        )
    body = outcome.model_dump(mode="json")
    return {"questions": body} if isinstance(outcome, ClarificationRead) else body


async def start_run(
    mission_id: Annotated[
        uuid.UUID | None, Field(description="Run this mission's newest plan.")
    ] = None,
    workflow: Annotated[
        str | None,
        Field(max_length=200, description="Or run the newest version of this workflow by name."),
    ] = None,
    inputs: Annotated[
        dict[str, Any] | None, Field(description="The workflow's inputs (with `workflow` only).")
    ] = None,
    budget_usd: Annotated[
        Decimal | None, Field(description="A cap for this workflow run, in US dollars.")
    ] = None,
) -> dict[str, Any]:
    """Start a run: a mission's (`mission_id`) or a workflow's (`workflow`, with `inputs`).

    Needs runs:control (operator). Returns the run with its steps; an engine
    (`missionctl serve` or `missionctl worker`) executes it.
    """
    with tool_errors():
        caller = await permitted(P.RUNS_CONTROL, "tool start_run")
        actor = caller.identity.actor
        if (mission_id is None) == (workflow is None):
            raise ValidationFailed(
                [FieldProblem("mission_id", "give either mission_id or workflow, not both")]
            )
        if mission_id is not None:
            if inputs or budget_usd is not None:
                raise ValidationFailed(
                    [FieldProblem("inputs", "inputs and budget_usd go with workflow only")]
                )
            run = await plan_service.run_mission(
                caller.ctx, mission_id=mission_id, actor=actor, trigger=_TRIGGER
            )
        else:
            assert workflow is not None
            data = WorkflowRunCreate(inputs=inputs or {}, budget_usd=budget_usd)
            found = await workflow_service.read_workflow_by_name(caller.ctx, name=workflow)
            run = await workflow_service.run_workflow(
                caller.ctx, workflow_id=found.id, actor=actor, trigger=_TRIGGER, data=data
            )
    return run.model_dump(mode="json")


async def get_task_pack(
    mission_id: MissionId,
    task_key: TaskKey,
    plan_version: Annotated[
        int | None, Field(ge=1, le=MAX_PLAN_VERSION, description="Default: the newest.")
    ] = None,
) -> str:
    """One task's file of the mission's AI execution pack, as Markdown. Needs missions:read.

    What to do, its acceptance criteria, its dependencies, the requirements it traces and the
    risks and decisions that concern it; secrets redacted.
    """
    with tool_errors():
        caller = await permitted(P.MISSIONS_READ, "tool get_task_pack")
        text = await pack_service.read_task_file(
            caller.ctx, mission_id=mission_id, task_key=task_key, plan_version=plan_version
        )
    return text


async def report_task_progress(
    mission_id: MissionId,
    task_key: TaskKey,
    message: Annotated[Text, Field(description="What was done or is being done.")],
    percent: Annotated[
        int | None, Field(description="How much of the task is done, 0 to 100.")
    ] = None,
) -> dict[str, Any]:
    """Say how far you got with a task of the mission's newest plan. Needs missions:write.

    Recorded as a `task.progress` event of the mission: its page shows it live.
    """
    with tool_errors():
        caller = await permitted(P.MISSIONS_WRITE, "tool report_task_progress")
        report = TaskProgress(task_key=task_key, message=message, percent=percent)
        record = await task_reports.report_progress(
            caller.ctx, mission_id=mission_id, report=report, actor=caller.identity.actor
        )
    return record.model_dump(mode="json")


async def report_task_result(
    mission_id: MissionId,
    task_key: TaskKey,
    status: Annotated[Literal["done", "failed"], Field(description="`done` or `failed`.")],
    summary: Annotated[Text, Field(description="What was done, or why it failed.")],
) -> dict[str, Any]:
    """Say how a task of the mission's newest plan ended. Needs missions:write (operator).

    Recorded as a `task.reported` event of the mission: your account, not a verdict of the
    engine (no status changes).
    """
    with tool_errors():
        caller = await permitted(P.MISSIONS_WRITE, "tool report_task_result")
        report = TaskResult(task_key=task_key, status=status, summary=summary)
        record = await task_reports.report_result(
            caller.ctx, mission_id=mission_id, report=report, actor=caller.identity.actor
        )
    return record.model_dump(mode="json")
