"""Run read models for the dashboard: the runs list, a run with its steps, one step in full."""

import uuid
from typing import Any

from sqlalchemy import func, select

from missionctl.db.models import Event, Mission, Plan, Run, Workflow
from missionctl.domain import events as ev
from missionctl.domain.states import RunStatus
from missionctl.errors import NotFound
from missionctl.schemas.artifacts import ArtifactRead
from missionctl.schemas.dashboard import DocumentLink, RunRow, RunRowPage, RunView, StepDetail
from missionctl.services import approvals as approval_service
from missionctl.services import missions as mission_service
from missionctl.services import plans as plan_service
from missionctl.services import runs as run_service
from missionctl.services.artifacts import read_artifacts
from missionctl.services.context import ServiceContext
from missionctl.services.dashboard.events import to_event_item
from missionctl.services.dashboard.missions import step_counts
from missionctl.services.dashboard.tasks import DONE, controls_for, merge_tasks
from missionctl.services.paging import keyset_cursor

LOG_LIMIT = 2000
"""Log lines a step's detail shows (the newest are kept)."""

ARTIFACT_LIMIT = 500
"""Artifacts the run page lists (the oldest first)."""


async def read_run_rows(
    ctx: ServiceContext,
    *,
    limit: int = 50,
    cursor: str | None = None,
    status: RunStatus | None = None,
) -> RunRowPage:
    """A page of runs, newest first, with their workflow, mission and progress.

    Raises:
        ValidationFailed: ``limit`` is out of range or ``cursor`` is not one this page issued.
    """
    before = keyset_cursor(limit=limit, cursor=cursor)
    query = (
        select(Run, Workflow.name, Mission.title)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .outerjoin(Mission, Mission.id == Run.mission_id)
    )
    counted = select(func.count()).select_from(Run)
    if status is not None:
        query = query.where(Run.status == status.value)
        counted = counted.where(Run.status == status.value)
    if before is not None:
        query = query.where(Run.id < before)
    async with ctx.read() as session:
        rows = (await session.execute(query.order_by(Run.id.desc()).limit(limit + 1))).all()
        total = int(await session.scalar(counted) or 0)
        counts = await step_counts(session, [row[0].id for row in rows[:limit]])
    items = [
        RunRow(
            run=run_service.to_run_read(run, []),
            workflow=name,
            mission_title=title,
            tasks_total=sum(counts.get(run.id, {}).values()),
            tasks_done=sum(n for s, n in counts.get(run.id, {}).items() if s in DONE),
        )
        for run, name, title in rows[:limit]
    ]
    more = len(rows) > limit
    return RunRowPage(
        items=items, total=total, next_cursor=str(items[-1].run.id) if more and items else None
    )


async def read_run_view(ctx: ServiceContext, *, run_id: uuid.UUID) -> RunView:
    """A run with its steps in workflow order, its mission and its controls.

    Raises:
        NotFound: no such run (``field="run_id"``).
    """
    async with ctx.read() as session:
        newest = await session.scalar(
            select(Event).where(Event.run_id == run_id).order_by(Event.seq.desc()).limit(1)
        )
    last_seq = newest.seq if newest is not None else 0
    run = await run_service.read_run(ctx, run_id=run_id)
    async with ctx.read() as session:
        workflow = await session.get(Workflow, run.workflow_id)
        assert workflow is not None  # runs keep a foreign key to their workflow
        inputs = await session.scalar(select(Run.inputs).where(Run.id == run_id))
        name, version, definition = workflow.name, workflow.version, workflow.definition
        plan_version = None
        if workflow.plan_id is not None and run.mission_id is not None:
            plan_version = await session.scalar(
                select(Plan.version).where(Plan.id == workflow.plan_id)
            )
    mission = (
        await mission_service.read_mission(ctx, mission_id=run.mission_id)
        if run.mission_id
        else None
    )
    plan = None
    if mission is not None and plan_version is not None:
        plan = await plan_service.read_plan(ctx, mission_id=mission.id, version=plan_version)
    tasks = merge_tasks(plan, run, list(definition.get("steps", [])))
    return RunView(
        run=run,
        workflow=name,
        workflow_version=version,
        mission=mission,
        tasks=tasks,
        controls=controls_for(mission, None, run),
        last_seq=last_seq,
        inputs=inputs or {},
        artifacts=await read_artifacts(ctx, run_id=run_id, limit=ARTIFACT_LIMIT),
        approvals=await pending_approvals(ctx, run_id=run_id),
        latest=to_event_item(newest) if newest is not None else None,
    )


async def pending_approvals(ctx: ServiceContext, *, run_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """The id of the approval each waiting step of the run waits for, by step id."""
    pending = await approval_service.list_approvals(ctx, state="pending", run_id=run_id)
    return {a.step_id: a.id for a in pending}


async def read_step_detail(ctx: ServiceContext, *, run_id: uuid.UUID, step_id: str) -> StepDetail:
    """One step of a run with its inputs, outputs, error and (newest) log lines.

    Raises:
        NotFound: no such run, or it has no such step (``field="step_id"``).
    """
    run = await run_service.read_run(ctx, run_id=run_id)
    step = next((s for s in run.steps if s.step_id == step_id), None)
    if step is None:
        raise NotFound(f"run {run_id} has no step {step_id!r}", field="step_id")
    where = (Event.run_id == run_id) & (Event.step_id == step_id) & (Event.type == ev.STEP_LOG)
    async with ctx.read() as session:
        total = int(await session.scalar(select(func.count()).select_from(Event).where(where)) or 0)
        rows = await session.scalars(
            select(Event).where(where).order_by(Event.seq.desc()).limit(LOG_LIMIT)
        )
        log = [to_event_item(row) for row in reversed(rows.all())]
    artifacts = await read_artifacts(ctx, run_id=run_id, limit=ARTIFACT_LIMIT)
    return StepDetail(
        run_id=run_id,
        step=step,
        log=log,
        log_total=total,
        documents=_documents(step.outputs, [a for a in artifacts if a.step_id == step_id]),
        approval_id=(await pending_approvals(ctx, run_id=run_id)).get(step_id),
    )


def _documents(outputs: dict[str, Any], artifacts: list[ArtifactRead]) -> list[DocumentLink] | None:
    """The outputs' ``documents`` (the names agents list) matched to the step's artifacts."""
    names = outputs.get("documents")
    if not isinstance(names, list):
        return None
    by_name = {a.name: a for a in artifacts}
    return [DocumentLink(name=str(n), artifact=by_name.get(str(n))) for n in names]
