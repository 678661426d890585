"""Approval queries: the queue of steps waiting for a person, and recording a decision.

Reads for pages take an ``AsyncSession``; the decision runs on the blocking writer thread
(``ServiceContext.write_blocking``), so its functions take a ``Session``.
"""

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.db.accounts import ApiToken, User
from missionctl.db.models import Approval, Event, Run, Schedule, ScheduleRun, StepRun, Workflow
from missionctl.domain.events import APPROVAL_APPROVED

ApprovalListing = Literal["pending", "decided", "all"]


class ApprovalRow(NamedTuple):
    """An approval with the step run it gates, that step's run, the workflow's name and writer.

    ``written_by`` is the actor who saved the workflow version the run executes.
    """

    approval: Approval
    step: StepRun
    run: Run
    workflow: str
    written_by: str


def _joined() -> Select[Approval, StepRun, Run, str, str]:
    return (
        select(Approval, StepRun, Run, Workflow.name, Workflow.created_by)
        .join(StepRun, StepRun.id == Approval.step_run_id)
        .join(Run, Run.id == Approval.run_id)
        .join(Workflow, Workflow.id == Run.workflow_id)
    )


def _by_ref(ref: uuid.UUID) -> Select[Approval, StepRun, Run, str, str]:
    """The approval with id ``ref``, or the newest request of the step run with id ``ref``."""
    return (
        _joined()
        .where((Approval.id == ref) | (Approval.step_run_id == ref))
        .order_by(Approval.requested_at.desc())
        .limit(1)
    )


async def read_approvals(
    session: AsyncSession, *, state: ApprovalListing, run_id: uuid.UUID | None, limit: int
) -> list[ApprovalRow]:
    """Up to ``limit`` approvals: pending ones oldest first (the queue), others newest first.

    Pending means undecided while its step run still waits at the attempt it was asked for.
    """
    query = _joined()
    if state == "pending":
        query = query.where(
            Approval.decision.is_(None),
            StepRun.status == "awaiting_approval",
            StepRun.attempt == Approval.attempt,
        ).order_by(Approval.requested_at, Approval.id)
    elif state == "decided":
        query = query.where(Approval.decision.is_not(None)).order_by(Approval.decided_at.desc())
    else:
        query = query.order_by(Approval.requested_at.desc())
    if run_id is not None:
        query = query.where(Approval.run_id == run_id)
    rows = (await session.execute(query.limit(limit))).all()
    return [ApprovalRow(*row) for row in rows]


async def read_approval(session: AsyncSession, *, ref: uuid.UUID) -> ApprovalRow | None:
    """The approval ``ref`` names (its id or its step run's), or ``None``."""
    row = (await session.execute(_by_ref(ref))).first()
    return None if row is None else ApprovalRow(*row)


def find_approval_id(session: Session, *, ref: uuid.UUID) -> uuid.UUID | None:
    """The id of the approval ``ref`` names (its id or its step run's), or ``None``."""
    return session.execute(_by_ref(ref).with_only_columns(Approval.id)).scalar()


def lock_for_decision(session: Session, *, approval_id: uuid.UUID) -> tuple[Approval, StepRun]:
    """The approval and its step run, fresh from the database and locked until commit."""
    lock: dict[str, Any] = {"with_for_update": True, "populate_existing": True}
    approval = session.get(Approval, approval_id, **lock)
    assert approval is not None  # found by id in this transaction; approvals are never deleted
    step = session.get(StepRun, approval.step_run_id, **lock)
    assert step is not None  # approvals keep a foreign key to their step run
    return approval, step


def record_decision(
    session: Session,
    *,
    approval_id: uuid.UUID,
    decision: Literal["approved", "rejected"],
    decided_by: str,
    decided_by_user: str | None,
    decided_at: datetime,
    reason: str | None,
) -> bool:
    """Decide the approval if it is still undecided; whether this call did.

    ``decided_by`` is the actor (``token:NAME`` for an API token) and ``decided_by_user`` the
    person behind it (the token's owner), both kept.

    One conditional UPDATE: of two decisions racing past their reads, exactly one is written.
    """
    statement = (
        update(Approval)
        .where(Approval.id == approval_id, Approval.decision.is_(None))
        .values(
            decision=decision,
            decided_by=decided_by,
            decided_by_user=decided_by_user,
            decided_at=decided_at,
            reason=reason,
        )
    )
    return session.connection().execute(statement).rowcount == 1


def read_work_actors(session: Session, *, run_id: uuid.UUID) -> tuple[str, str]:
    """Who wrote the workflow version run ``run_id`` executes, and who started the run."""
    query = (
        select(Workflow.created_by, Run.created_by)
        .join(Run, Run.workflow_id == Workflow.id)
        .where(Run.id == run_id)
    )
    row = session.execute(query).one()  # step runs keep a foreign key to their run
    return row[0], row[1]


def read_schedule_maker(session: Session, *, run_id: uuid.UUID) -> str | None:
    """Who made the schedule that started run ``run_id`` (an actor), or ``None``."""
    query = (
        select(Schedule.created_by)
        .join(ScheduleRun, ScheduleRun.schedule_id == Schedule.id)
        .where(ScheduleRun.run_id == run_id)
    )
    return session.execute(query).scalar()


def read_token_owner(session: Session, *, token_name: str) -> str | None:
    """The owner's user name of the API token ``token_name`` (revoked too), or ``None``."""
    query = select(User.name).join(ApiToken, ApiToken.user_id == User.id)
    return session.execute(query.where(ApiToken.name == token_name)).scalar()


async def read_overrides(
    session: AsyncSession, *, run_ids: Collection[uuid.UUID]
) -> dict[str, dict[str, Any]]:
    """The four-eyes overrides recorded on the approvals of ``run_ids``, by approval id.

    An override lives in its decision's event (``approval.approved`` with ``four_eyes_override``):
    the approvals table keeps no column for it.
    """
    if not run_ids:
        return {}
    query = select(Event.payload).where(
        Event.type == APPROVAL_APPROVED, Event.run_id.in_(list(run_ids))
    )
    found = {}
    for payload in (await session.execute(query)).scalars():
        override = payload.get("four_eyes_override")
        if isinstance(override, dict) and isinstance(payload.get("approval_id"), str):
            found[payload["approval_id"]] = override
    return found


class StepFacts(NamedTuple):
    """What a merge's approval shows of an upstream step: its agent, status and outputs."""

    agent: str
    status: str
    outputs: dict[str, Any]


async def read_step_facts(
    session: AsyncSession, *, run_id: uuid.UUID, step_ids: Collection[str]
) -> dict[str, StepFacts]:
    """``step_id → StepFacts`` for the named steps of run ``run_id`` (missing ones left out)."""
    if not step_ids:
        return {}
    query = select(StepRun.step_id, StepRun.agent, StepRun.status, StepRun.outputs).where(
        StepRun.run_id == run_id, StepRun.step_id.in_(list(step_ids))
    )
    return {
        row.step_id: StepFacts(row.agent, row.status, dict(row.outputs or {}))
        for row in await session.execute(query)
    }
