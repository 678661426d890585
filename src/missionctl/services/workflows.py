"""Workflow use cases: save a version, read one."""

import uuid

from sqlalchemy import func, select

from missionctl.db.models import Workflow
from missionctl.domain.dag import ensure_valid_dag
from missionctl.errors import NotFound
from missionctl.eventlog import NewEvent, append
from missionctl.schemas.workflows import WorkflowRead, WorkflowSpec
from missionctl.services.context import ServiceContext
from missionctl.services.money import usd_to_micros


def to_workflow_read(workflow: Workflow) -> WorkflowRead:
    """Map the ORM row to the public contract."""
    return WorkflowRead(
        id=workflow.id,
        name=workflow.name,
        version=workflow.version,
        mission_id=workflow.mission_id,
        definition=WorkflowSpec.model_validate(workflow.definition),
        created_by=workflow.created_by,
        created_at=workflow.created_at,
    )


async def create_workflow(
    ctx: ServiceContext,
    *,
    spec: WorkflowSpec,
    actor: str,
    mission_id: uuid.UUID | None = None,
    plan_id: uuid.UUID | None = None,
) -> WorkflowRead:
    """Validate ``spec`` and save it as the next version of its name.

    Raises:
        ValidationFailed: the steps do not form a valid DAG (every problem is named).
    """
    ensure_valid_dag(spec.steps)
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
                    type="workflow.saved",
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
