"""Workflow use cases: check a definition, save a version, list and read versions.

A workflow is identified by its ``name``; every save of a name adds a version (1, 2, …) and
never edits one, so a run pins exactly what it ran (``runs.workflow_id`` is a version's id).
Nothing invalid is stored: a save runs every check of ``services.workflow_checks`` first and
raises ``ValidationFailed`` with all the problems found.
"""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from missionctl.db.models import Run, Workflow
from missionctl.domain import events as ev
from missionctl.errors import NotFound, ValidationFailed
from missionctl.eventlog import NewEvent, append
from missionctl.schemas.workflows import (
    WorkflowGraph,
    WorkflowRead,
    WorkflowSpec,
    WorkflowSummary,
)
from missionctl.services.context import ServiceContext
from missionctl.services.money import usd_to_micros
from missionctl.services.workflow_checks import WorkflowCheck, check_definition, check_spec


def to_workflow_read(workflow: Workflow) -> WorkflowRead:
    """Map the ORM row to the public contract (with its graph)."""
    spec = WorkflowSpec.model_validate(workflow.definition)
    check = check_spec(spec)
    return WorkflowRead(
        id=workflow.id,
        name=workflow.name,
        version=workflow.version,
        mission_id=workflow.mission_id,
        definition=spec,
        graph=WorkflowGraph(layers=check.layers, edges=[list(e) for e in check.edges]),
        created_by=workflow.created_by,
        created_at=workflow.created_at,
    )


def check_workflow(definition: str | Mapping[str, Any]) -> WorkflowCheck:
    """Check a definition (YAML/JSON text or data) without saving it; see ``workflow_checks``."""
    return check_definition(definition)


async def save_workflow(
    ctx: ServiceContext, *, definition: str | Mapping[str, Any], actor: str
) -> WorkflowRead:
    """Check a definition (YAML/JSON text or data) and save it as the next version of its name.

    Raises:
        ValidationFailed: every problem found (syntax, schema, graph, agents, templates,
            conditions), each with its location; nothing is stored.
    """
    check = check_definition(definition)
    if not check.valid:
        raise ValidationFailed(check.problems)
    assert check.spec is not None
    return await create_workflow(ctx, spec=check.spec, actor=actor)


async def create_workflow(
    ctx: ServiceContext,
    *,
    spec: WorkflowSpec,
    actor: str,
    mission_id: uuid.UUID | None = None,
    plan_id: uuid.UUID | None = None,
) -> WorkflowRead:
    """Check ``spec`` and save it as the next version of its name.

    Raises:
        ValidationFailed: the definition breaks a graph, agent or expression rule (every
            problem is named); nothing is stored.
    """
    check = check_spec(spec)
    if check.problems:
        raise ValidationFailed(check.problems)
    async with ctx.write() as session:
        latest = await session.scalar(
            select(func.max(Workflow.version)).where(Workflow.name == spec.name)
        )
        workflow = Workflow(
            name=spec.name,
            version=(latest or 0) + 1,
            mission_id=mission_id,
            plan_id=plan_id,
            definition=spec.model_dump(mode="json"),
            budget_micros=None if spec.budget_usd is None else usd_to_micros(spec.budget_usd),
            max_concurrency=spec.max_concurrency,
            created_by=actor,
        )
        session.add(workflow)
        await session.flush()
        await append(
            session,
            [
                NewEvent(
                    type=ev.WORKFLOW_SAVED,
                    actor=actor,
                    mission_id=mission_id,
                    payload={
                        "workflow_id": str(workflow.id),
                        "name": workflow.name,
                        "version": workflow.version,
                        "steps": len(spec.steps),
                    },
                )
            ],
        )
        return to_workflow_read(workflow)


async def read_workflow(ctx: ServiceContext, *, workflow_id: uuid.UUID) -> WorkflowRead:
    """One workflow version.

    Raises:
        NotFound: no such workflow.
    """
    async with ctx.read() as session:
        workflow = await session.get(Workflow, workflow_id)
        if workflow is None:
            raise NotFound(f"no workflow with id {workflow_id}", field="workflow_id")
        return to_workflow_read(workflow)


async def read_workflow_by_name(
    ctx: ServiceContext, *, name: str, version: int | None = None
) -> WorkflowRead:
    """A version of the workflow called ``name``: ``version``, or else the newest.

    Raises:
        NotFound: no workflow has that name, or it has no such version.
    """
    async with ctx.read() as session:
        query = select(Workflow).where(Workflow.name == name)
        if version is not None:
            query = query.where(Workflow.version == version)
        workflow = await session.scalar(query.order_by(Workflow.version.desc()).limit(1))
        if workflow is None:
            what = f"version {version} of workflow {name!r}" if version else f"workflow {name!r}"
            raise NotFound(f"no {what}", field="version" if version else "name")
        return to_workflow_read(workflow)


async def read_workflow_versions(ctx: ServiceContext, *, name: str) -> list[WorkflowSummary]:
    """Every version of the workflow called ``name``, newest first.

    Raises:
        NotFound: no workflow has that name.
    """
    async with ctx.read() as session:
        rows = (
            await session.scalars(
                select(Workflow).where(Workflow.name == name).order_by(Workflow.version.desc())
            )
        ).all()
        if not rows:
            raise NotFound(f"no workflow {name!r}", field="name")
        runs = await _run_counts(session, [row.id for row in rows])
        return [_summary(row, versions=len(rows), runs=runs.get(row.id, 0)) for row in rows]


async def list_workflows(
    ctx: ServiceContext, *, include_plans: bool = False
) -> list[WorkflowSummary]:
    """The newest version of every workflow, by name.

    Workflows compiled from a mission's plan are left out unless ``include_plans``: they are
    listed on their mission.
    """
    async with ctx.read() as session:
        newest = (
            select(Workflow.name, func.max(Workflow.version).label("version"), func.count())
            .group_by(Workflow.name)
            .subquery()
        )
        query = select(Workflow, newest.c[2]).join(
            newest, (Workflow.name == newest.c.name) & (Workflow.version == newest.c.version)
        )
        if not include_plans:
            query = query.where(Workflow.plan_id.is_(None))
        rows = (await session.execute(query.order_by(Workflow.name))).all()
        runs = await _run_counts(session, [row[0].id for row in rows])
        return [
            _summary(workflow, versions=int(count), runs=runs.get(workflow.id, 0))
            for workflow, count in rows
        ]


async def _run_counts(session: Any, workflow_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not workflow_ids:
        return {}
    rows = await session.execute(
        select(Run.workflow_id, func.count())
        .where(Run.workflow_id.in_(workflow_ids))
        .group_by(Run.workflow_id)
    )
    return {workflow_id: int(count) for workflow_id, count in rows.all()}


def _summary(workflow: Workflow, *, versions: int, runs: int) -> WorkflowSummary:
    definition = workflow.definition
    return WorkflowSummary(
        id=workflow.id,
        name=workflow.name,
        version=workflow.version,
        versions=versions,
        description=str(definition.get("description") or ""),
        steps=len(definition.get("steps") or []),
        runs=runs,
        mission_id=workflow.mission_id,
        created_by=workflow.created_by,
        created_at=workflow.created_at,
    )
