"""Epics: their rows, their missions, and the figures their roll-ups read (ADR 0102).

Each function takes a blocking session keyword-only and never commits: the use cases write in
blocking transactions (``ServiceContext.write_blocking``) and read through
``AsyncSession.run_sync``. Figures for many epics are read in one query, so a list of epics
costs a few queries, not a few per epic.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from missionctl.db.accounts import User
from missionctl.db.models import Approval, Epic, EpicMission, Mission, Risk, StepRun
from missionctl.schemas.epics import EpicState


class StatusFigures(NamedTuple):
    """An epic's missions in one status: how many, and what they spent (micro-USD)."""

    status: str
    missions: int
    spent_micros: int


class Member(NamedTuple):
    """A mission of an epic, and when and by whom it was put there."""

    mission: Mission
    link: EpicMission


_STEP_RUN = StepRun.id == Approval.step_run_id
"""An approval's step run, which says whether it still waits."""


def read_epic(session: Session, *, epic_id: uuid.UUID, for_update: bool = False) -> Epic | None:
    """The epic with ``epic_id``, archived or not; ``for_update`` locks its row."""
    return session.get(Epic, epic_id, with_for_update=for_update)


def read_live_by_name(session: Session, *, name: str) -> Epic | None:
    """The epic called ``name`` that is not archived, or ``None``."""
    query = select(Epic).where(Epic.name == name, Epic.archived_at.is_(None))
    return session.scalars(query).first()


def list_epics(session: Session, *, state: EpicState) -> Sequence[Epic]:
    """The epics in ``state`` (``active``: not archived), by name."""
    query = select(Epic).order_by(Epic.name, Epic.created_at)
    if state == "active":
        query = query.where(Epic.archived_at.is_(None))
    elif state == "archived":
        query = query.where(Epic.archived_at.is_not(None))
    return session.scalars(query).all()


def status_figures(
    session: Session, *, epic_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[StatusFigures]]:
    """Each epic's missions by status, with their count and spending (one query)."""
    query = (
        select(
            EpicMission.epic_id,
            Mission.status,
            func.count(),
            func.coalesce(func.sum(Mission.spent_micros), 0),
        )
        .join(Mission, Mission.id == EpicMission.mission_id)
        .where(EpicMission.epic_id.in_(epic_ids))
        .group_by(EpicMission.epic_id, Mission.status)
    )
    figures: dict[uuid.UUID, list[StatusFigures]] = defaultdict(list)
    for epic_id, status, count, spent in session.execute(query):
        figures[epic_id].append(StatusFigures(str(status), int(count), int(spent)))
    return figures


def members(session: Session, *, epic_id: uuid.UUID) -> list[Member]:
    """The epic's missions, newest added first."""
    query = (
        select(Mission, EpicMission)
        .join(EpicMission, EpicMission.mission_id == Mission.id)
        .where(EpicMission.epic_id == epic_id)
        .order_by(EpicMission.added_at.desc(), Mission.created_at.desc())
    )
    return [Member(mission, link) for mission, link in session.execute(query)]


def member_count(session: Session, *, epic_id: uuid.UUID) -> int:
    """How many missions the epic holds."""
    query = select(func.count()).select_from(EpicMission).where(EpicMission.epic_id == epic_id)
    return int(session.scalar(query) or 0)


def member_ids_newest_first(session: Session, *, epic_id: uuid.UUID, limit: int) -> list[uuid.UUID]:
    """The ids of the epic's newest ``limit`` missions (by when they were made), newest first."""
    query = (
        select(Mission.id)
        .join(EpicMission, EpicMission.mission_id == Mission.id)
        .where(EpicMission.epic_id == epic_id)
        .order_by(Mission.created_at.desc(), Mission.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def epics_of(session: Session, *, mission_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Epic]:
    """The epic each of ``mission_ids`` is in (missions in none are left out)."""
    query = (
        select(EpicMission.mission_id, Epic)
        .join(Epic, Epic.id == EpicMission.epic_id)
        .where(EpicMission.mission_id.in_(mission_ids))
    )
    return {row.mission_id: row.Epic for row in session.execute(query)}


def existing_missions(session: Session, *, mission_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``mission_ids`` are missions."""
    return set(session.scalars(select(Mission.id).where(Mission.id.in_(mission_ids))))


def add_members(
    session: Session, *, epic_id: uuid.UUID, mission_ids: Sequence[uuid.UUID], actor: str
) -> None:
    """Put ``mission_ids`` in the epic (flushed with the transaction)."""
    session.add_all(
        EpicMission(mission_id=mission_id, epic_id=epic_id, added_by=actor)
        for mission_id in mission_ids
    )


def member_links(
    session: Session, *, epic_id: uuid.UUID, mission_ids: Sequence[uuid.UUID]
) -> list[EpicMission]:
    """The links of those of ``mission_ids`` that are in the epic, locked."""
    query = (
        select(EpicMission)
        .where(EpicMission.epic_id == epic_id, EpicMission.mission_id.in_(mission_ids))
        .with_for_update()
    )
    return list(session.scalars(query))


def open_risks(session: Session, *, mission_ids: Sequence[uuid.UUID]) -> list[tuple[Risk, str]]:
    """The open or mitigating risks of ``mission_ids``, each with its mission's title."""
    query = (
        select(Risk, Mission.title)
        .join(Mission, Mission.id == Risk.mission_id)
        .where(Risk.mission_id.in_(mission_ids), Risk.status != "closed")
    )
    return [(risk, title) for risk, title in session.execute(query)]


def waiting_approvals(
    session: Session, *, mission_ids: Sequence[uuid.UUID], limit: int
) -> tuple[int, list[tuple[Approval, str]]]:
    """How many approvals of ``mission_ids`` wait for a decision, and the ``limit`` oldest.

    Waiting means as the approvals queue says: undecided while its step run still waits at
    the attempt it was asked for (a canceled run's request waits for no one).
    """
    waiting = (
        Approval.mission_id.in_(mission_ids),
        Approval.decision.is_(None),
        StepRun.status == "awaiting_approval",
        StepRun.attempt == Approval.attempt,
    )
    pending = select(func.count()).select_from(Approval).join(StepRun, _STEP_RUN)
    count = int(session.scalar(pending.where(*waiting)) or 0)
    query = (
        select(Approval, Mission.title)
        .join(StepRun, _STEP_RUN)
        .join(Mission, Mission.id == Approval.mission_id)
        .where(*waiting)
        .order_by(Approval.requested_at, Approval.id)
        .limit(limit)
    )
    return count, [(approval, title) for approval, title in session.execute(query)]


def active_user(session: Session, *, name: str) -> User | None:
    """The user called ``name`` unless they are disabled."""
    user = session.scalars(select(User).where(User.name == name)).first()
    return None if user is None or user.disabled else user


def missions_without_epic(session: Session, *, limit: int) -> list[Mission]:
    """The newest ``limit`` missions (by when they were made) that are in no epic, newest first."""
    in_an_epic = select(EpicMission.mission_id).where(EpicMission.mission_id == Mission.id)
    query = (
        select(Mission)
        .where(~in_an_epic.exists())
        .order_by(Mission.created_at.desc(), Mission.id)
        .limit(limit)
    )
    return list(session.scalars(query))
