"""Workflow version queries: read versions by id or name, count their runs, add a version."""

import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.db.models import Run, Workflow

# The two-key advisory lock space, apart from the engine's one-key locks on runs.
_NAME_LOCK_SPACE = 1
_LOCK_NAME = text("SELECT pg_advisory_xact_lock(:space, hashtext(:name))")


class NewestVersion(NamedTuple):
    """The newest version of a workflow, and how many versions its name has."""

    workflow: Workflow
    versions: int


async def read_workflow(session: AsyncSession, *, workflow_id: uuid.UUID) -> Workflow | None:
    """The workflow version with ``workflow_id``, or ``None``."""
    return await session.get(Workflow, workflow_id)


async def read_workflow_by_name(
    session: AsyncSession, *, name: str, version: int | None = None
) -> Workflow | None:
    """Version ``version`` of the workflow called ``name`` (``None``: the newest), or ``None``."""
    query = select(Workflow).where(Workflow.name == name)
    if version is not None:
        query = query.where(Workflow.version == version)
    return await session.scalar(query.order_by(Workflow.version.desc()).limit(1))


def read_newest_sync(session: Session, *, name: str) -> Workflow | None:
    """The newest version of the workflow called ``name``, or ``None`` (blocking)."""
    query = select(Workflow).where(Workflow.name == name).order_by(Workflow.version.desc())
    return session.scalar(query.limit(1))


def read_workflow_version_sync(session: Session, *, name: str, version: int) -> Workflow | None:
    """Version ``version`` of the workflow called ``name``, or ``None`` (blocking)."""
    query = select(Workflow).where(Workflow.name == name, Workflow.version == version)
    return session.scalar(query)


async def read_versions(session: AsyncSession, *, name: str) -> Sequence[Workflow]:
    """Every version of the workflow called ``name``, newest first (none: no such name)."""
    query = select(Workflow).where(Workflow.name == name).order_by(Workflow.version.desc())
    return (await session.scalars(query)).all()


async def read_newest_versions(
    session: AsyncSession, *, include_plans: bool
) -> list[NewestVersion]:
    """The newest version of every workflow name, by name.

    Workflows compiled from a mission's plan are left out unless ``include_plans``.
    """
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
    return [NewestVersion(workflow, int(count)) for workflow, count in rows]


async def count_runs(
    session: AsyncSession, *, workflow_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many runs each workflow version has had (a version never run is absent)."""
    if not workflow_ids:
        return {}
    rows = await session.execute(
        select(Run.workflow_id, func.count())
        .where(Run.workflow_id.in_(workflow_ids))
        .group_by(Run.workflow_id)
    )
    return {workflow_id: int(count) for workflow_id, count in rows.all()}


def add_version(
    session: Session,
    *,
    name: str,
    definition: dict[str, Any],
    created_by: str,
    mission_id: uuid.UUID | None,
    plan_id: uuid.UUID | None,
    budget_micros: int | None,
    max_concurrency: int | None,
) -> Workflow:
    """Insert the next version of the workflow called ``name``; flushed, so it has its id.

    A blocking session: a version is saved on the writer's path, so that starting a mission's
    run can save the version it compiles and start the run in one transaction.

    Two saves of one name must not both pick the next version. On PostgreSQL they queue on a
    transaction-scoped advisory lock on the name, so saves of other names go on side by side
    and the log's head is locked only when the events are appended (ADR 0038); SQLite's
    ``BEGIN IMMEDIATE`` serialises every writer already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK_NAME, {"space": _NAME_LOCK_SPACE, "name": name})
    latest = session.scalar(select(func.max(Workflow.version)).where(Workflow.name == name))
    workflow = Workflow(
        name=name,
        version=(latest or 0) + 1,
        mission_id=mission_id,
        plan_id=plan_id,
        definition=definition,
        budget_micros=budget_micros,
        max_concurrency=max_concurrency,
        created_by=created_by,
    )
    session.add(workflow)
    session.flush()
    return workflow
