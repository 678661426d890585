"""Saved workflow templates: their rows (ADR 0065).

Each function takes a session keyword-only and never commits. Async services call the
blocking ones through ``AsyncSession.run_sync``.
"""

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from missionctl.db.models import Run, Workflow, WorkflowTemplate

MAX_SAVED = 1000
"""The most saved templates a list returns (a gallery is read by people, not scanned)."""


def read_templates(session: Session, *, category: str | None = None) -> Sequence[WorkflowTemplate]:
    """The saved templates, by name (at most :data:`MAX_SAVED`), of ``category`` when given."""
    statement = select(WorkflowTemplate).order_by(WorkflowTemplate.name).limit(MAX_SAVED)
    if category is not None:
        statement = statement.where(WorkflowTemplate.category == category)
    return session.scalars(statement).all()


def read_template(session: Session, *, name: str) -> WorkflowTemplate | None:
    """The saved template called ``name``, if any."""
    return session.scalars(select(WorkflowTemplate).where(WorkflowTemplate.name == name)).first()


def delete_template(session: Session, *, template_id: uuid.UUID) -> bool:
    """Delete the saved template ``template_id``; whether a row was deleted."""
    result = session.execute(delete(WorkflowTemplate).where(WorkflowTemplate.id == template_id))
    return bool(getattr(result, "rowcount", 0))


def newest_run(session: Session, *, mission_id: uuid.UUID) -> tuple[Run, Workflow] | None:
    """The mission's newest run and its workflow version, if it has run."""
    statement = (
        select(Run, Workflow)
        .join(Workflow, Run.workflow_id == Workflow.id)
        .where(Run.mission_id == mission_id)
        .order_by(Run.created_at.desc(), Run.id.desc())
        .limit(1)
    )
    row = session.execute(statement).first()
    return None if row is None else (row[0], row[1])


def newest_run_workflow(session: Session, *, mission_id: uuid.UUID) -> Workflow | None:
    """The workflow version of the mission's newest run, if it has run."""
    found = newest_run(session, mission_id=mission_id)
    return None if found is None else found[1]


def mission_workflow(session: Session, *, mission_id: uuid.UUID) -> Workflow | None:
    """The newest workflow version saved for the mission (its own, ADR 0046), if any."""
    statement = (
        select(Workflow)
        .where(Workflow.mission_id == mission_id)
        .order_by(Workflow.created_at.desc(), Workflow.version.desc())
        .limit(1)
    )
    return session.scalars(statement).first()
