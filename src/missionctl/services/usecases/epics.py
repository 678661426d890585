"""Epic use cases: make, change, fill, empty, archive and read epics (ADR 0102).

An epic groups missions under an owner, a target date and an optional budget; a mission is in
one epic at most. Every change is one blocking transaction with its event (``epic.saved``,
``.mission_added``, ``.mission_removed``, ``.archived``, ``.restored``); a refused change
changes nothing. An archived epic is read-only until it is restored.

An epic's roll-up reads its missions' tasks as the board shows them (``board.mission_cards``),
their spending, their open risks and the approvals they wait for.
"""

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from missionctl.db.models import Epic
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.board import COLUMNS
from missionctl.domain.states import MissionStatus
from missionctl.errors import Conflict, NotFound, Problem, ValidationFailed
from missionctl.eventlog import NewEvent, append_sync
from missionctl.repositories import epics as repo
from missionctl.schemas.epics import (
    MAX_EPIC_MISSIONS,
    MAX_LISTED,
    EpicApproval,
    EpicCandidate,
    EpicCreate,
    EpicDetail,
    EpicEdit,
    EpicMissionRow,
    EpicMissions,
    EpicRead,
    EpicRisk,
    EpicState,
    TaskRollup,
)
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases import board as board_service
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases.approvals import person_behind
from missionctl.services.usecases.money import micros_to_usd, usd_to_micros

__all__ = [
    "add_missions",
    "archive_epic",
    "create_epic",
    "edit_epic",
    "list_epics",
    "missions_without_epic",
    "read_epic",
    "remove_missions",
    "restore_epic",
]

_SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def board_url(epic_id: uuid.UUID) -> str:
    """The board page filtered to the epic's missions."""
    return f"/board?epic={epic_id}"


def _to_read(epic: Epic, figures: Sequence[repo.StatusFigures], today: date) -> EpicRead:
    spent = sum(f.spent_micros for f in figures)
    unfinished = any(f.status != MissionStatus.completed for f in figures)
    return EpicRead(
        id=epic.id,
        name=epic.name,
        description=epic.description,
        owner=epic.owner,
        target_date=epic.target_date,
        late=epic.target_date is not None and epic.target_date < today and unfinished,
        budget_usd=None if epic.budget_micros is None else micros_to_usd(epic.budget_micros),
        spent_usd=micros_to_usd(spent),
        over_budget=epic.budget_micros is not None and spent > epic.budget_micros,
        missions=sum(f.missions for f in figures),
        missions_by_status={MissionStatus(f.status): f.missions for f in figures},
        archived=epic.archived_at is not None,
        archived_at=epic.archived_at,
        created_by=epic.created_by,
        created_at=epic.created_at,
        updated_at=epic.updated_at,
    )


def _read_one(session: Session, epic: Epic) -> EpicRead:
    figures = repo.status_figures(session, epic_ids=[epic.id]).get(epic.id, [])
    return _to_read(epic, figures, _today())


def _today() -> date:
    return datetime.now(UTC).date()


def _name_taken(name: str) -> Conflict:
    return Conflict(
        f"an epic called {name!r} exists already; pick another name, or archive that one",
        field="name",
    )


def _require_free_name(session: Session, name: str, *, keep: uuid.UUID | None = None) -> None:
    existing = repo.read_live_by_name(session, name=name)
    if existing is not None and existing.id != keep:
        raise _name_taken(name)


def _require_owner(session: Session, name: str) -> None:
    if repo.active_user(session, name=name) is None:
        raise ValidationFailed(
            [Problem("owner", f"no active user is called {name!r}; name one of the users")]
        )


def _owner_of_new(session: Session, data: EpicCreate, actor: str) -> str:
    """The owner sent, else the person behind ``actor``.

    Raises:
        ValidationFailed: no owner was sent and ``actor`` is no person (name one).
    """
    owner = data.owner or person_behind(session, actor)
    if owner is None:
        raise ValidationFailed([Problem("owner", "name the user who owns the epic")])
    _require_owner(session, owner)
    return owner


def _event(kind: str, epic: Epic, actor: str, **payload: Any) -> NewEvent:
    mission_id = payload.pop("mission_id", None)
    return NewEvent(
        type=kind,
        actor=actor,
        mission_id=mission_id,
        payload={
            "epic_id": str(epic.id),
            "name": epic.name,
            **({"mission_id": str(mission_id)} if mission_id else {}),
            **payload,
        },
    )


def _saved_event(epic: Epic, actor: str, changed: list[str]) -> NewEvent:
    return _event(
        ev.EPIC_SAVED,
        epic,
        actor,
        owner=epic.owner,
        target_date=None if epic.target_date is None else epic.target_date.isoformat(),
        budget_micros=epic.budget_micros,
        changed=changed,
    )


def _add_members(
    session: Session, epic: Epic, mission_ids: Sequence[uuid.UUID], actor: str
) -> list[NewEvent]:
    """Put ``mission_ids`` in ``epic``; the events that say so.

    Raises:
        NotFound: a mission does not exist (field ``mission_ids``).
        Conflict: a mission is in an epic already, or the epic would hold too many.
    """
    wanted = list(dict.fromkeys(mission_ids))
    if missing := [
        m for m in wanted if m not in repo.existing_missions(session, mission_ids=wanted)
    ]:
        raise NotFound(f"no mission with id {missing[0]}", field="mission_ids")
    for mission_id, other in repo.epics_of(session, mission_ids=wanted).items():
        where = "this epic" if other.id == epic.id else f"epic {other.name!r}"
        raise Conflict(
            f"mission {mission_id} is in {where} already; a mission is in one epic at most "
            "(take it out of the other first)",
            field="mission_ids",
        )
    if repo.member_count(session, epic_id=epic.id) + len(wanted) > MAX_EPIC_MISSIONS:
        raise Conflict(
            f"an epic holds at most {MAX_EPIC_MISSIONS} missions; make another epic",
            field="mission_ids",
        )
    repo.add_members(session, epic_id=epic.id, mission_ids=wanted, actor=actor)
    return [_event(ev.EPIC_MISSION_ADDED, epic, actor, mission_id=m) for m in wanted]


async def create_epic(ctx: ServiceContext, *, data: EpicCreate, actor: str) -> EpicRead:
    """Make an epic with the missions ``data`` names; its owner is the maker unless named.

    Raises:
        ValidationFailed: the owner is no active user (or none can be told from ``actor``).
        NotFound: a mission does not exist.
        Conflict: the name is taken, or a mission is in another epic.
    """

    def work(session: Session) -> EpicRead:
        owner = _owner_of_new(session, data, actor)
        _require_free_name(session, data.name)
        epic = Epic(
            name=data.name,
            description=data.description,
            owner=owner,
            target_date=data.target_date,
            budget_micros=None if data.budget_usd is None else usd_to_micros(data.budget_usd),
            created_by=actor,
        )
        session.add(epic)
        session.flush()
        events = [_saved_event(epic, actor, [])]
        events += _add_members(session, epic, data.mission_ids, actor)
        session.flush()
        append_sync(session, events)
        return _read_one(session, epic)

    return await _write(ctx, work, data.name)


async def _write(ctx: ServiceContext, work: Callable[[Session], EpicRead], name: str) -> EpicRead:
    """Run ``work`` in a blocking transaction; a lost race for a name or a mission is a 409."""
    try:
        return await ctx.write_blocking(work, side_by_side=True)
    except sa_exc.IntegrityError as exc:
        if "uq_epics_live_name" in str(exc.orig) or "epics.name" in str(exc.orig):
            raise _name_taken(name) from None
        if "epic_missions" in str(exc.orig):
            raise Conflict(
                "a mission was put in an epic at the same time; read the epic and try again",
                field="mission_ids",
            ) from None
        raise


def _open(session: Session, epic_id: uuid.UUID) -> Epic:
    """The epic, locked, refusing an archived one.

    Raises:
        NotFound: no such epic.
        Conflict: it is archived.
    """
    epic = _locked(session, epic_id)
    if epic.archived_at is not None:
        raise Conflict(
            f"epic {epic.name!r} is archived; restore it before changing it", field="epic_id"
        )
    return epic


def _locked(session: Session, epic_id: uuid.UUID) -> Epic:
    epic = repo.read_epic(session, epic_id=epic_id, for_update=True)
    if epic is None:
        raise NotFound(f"no epic with id {epic_id}", field="epic_id")
    return epic


async def edit_epic(
    ctx: ServiceContext, *, epic_id: uuid.UUID, edit: EpicEdit, actor: str
) -> EpicRead:
    """Change the fields ``edit`` sends (renaming it, for one).

    Raises:
        NotFound: no such epic.
        Conflict: it is archived, or the new name is taken.
        ValidationFailed: the new owner is no active user.
    """
    changes = edit.changed()

    def work(session: Session) -> EpicRead:
        epic = _open(session, epic_id)
        if "name" in changes:
            _require_free_name(session, changes["name"], keep=epic.id)
        if "owner" in changes:
            _require_owner(session, changes["owner"])
        for field in ("name", "description", "owner", "target_date"):
            if field in changes:
                setattr(epic, field, changes[field])
        if "budget_usd" in changes:
            budget = changes["budget_usd"]
            epic.budget_micros = None if budget is None else usd_to_micros(budget)
        session.flush()
        append_sync(session, [_saved_event(epic, actor, sorted(changes))])
        return _read_one(session, epic)

    return await _write(ctx, work, str(changes.get("name", "")))


async def add_missions(
    ctx: ServiceContext, *, epic_id: uuid.UUID, data: EpicMissions, actor: str
) -> EpicRead:
    """Put missions in the epic.

    Raises:
        NotFound: no such epic, or a mission does not exist.
        Conflict: the epic is archived, a mission is in an epic already, or it would hold
            more than ``MAX_EPIC_MISSIONS``.
    """

    def work(session: Session) -> EpicRead:
        epic = _open(session, epic_id)
        events = _add_members(session, epic, data.mission_ids, actor)
        session.flush()
        append_sync(session, events)
        return _read_one(session, epic)

    return await _write(ctx, work, "")


async def remove_missions(
    ctx: ServiceContext, *, epic_id: uuid.UUID, data: EpicMissions, actor: str
) -> EpicRead:
    """Take missions out of the epic, all or none; the missions themselves are untouched.

    Raises:
        NotFound: no such epic, or a mission is not in it (field ``mission_ids``).
        Conflict: the epic is archived.
    """
    wanted = list(dict.fromkeys(data.mission_ids))

    def work(session: Session) -> EpicRead:
        epic = _open(session, epic_id)
        links = repo.member_links(session, epic_id=epic.id, mission_ids=wanted)
        held = {link.mission_id for link in links}
        if missing := [m for m in wanted if m not in held]:
            raise NotFound(
                f"mission {missing[0]} is not in epic {epic.name!r}", field="mission_ids"
            )
        for link in links:
            session.delete(link)
        session.flush()
        events = [_event(ev.EPIC_MISSION_REMOVED, epic, actor, mission_id=m) for m in wanted]
        append_sync(session, events)
        return _read_one(session, epic)

    return await _write(ctx, work, "")


async def archive_epic(ctx: ServiceContext, *, epic_id: uuid.UUID, actor: str) -> EpicRead:
    """Archive it: it leaves the list of active epics, keeps its missions and is read-only.

    Raises:
        NotFound: no such epic.
        Conflict: it is archived already.
    """

    def work(session: Session) -> EpicRead:
        epic = _open(session, epic_id)
        epic.archived_at = utcnow()
        session.flush()
        append_sync(session, [_event(ev.EPIC_ARCHIVED, epic, actor)])
        return _read_one(session, epic)

    return await _write(ctx, work, "")


async def restore_epic(ctx: ServiceContext, *, epic_id: uuid.UUID, actor: str) -> EpicRead:
    """Bring an archived epic back.

    Raises:
        NotFound: no such epic.
        Conflict: it is not archived, or an active epic has taken its name since.
    """

    def work(session: Session) -> EpicRead:
        epic = _locked(session, epic_id)
        if epic.archived_at is None:
            raise Conflict(f"epic {epic.name!r} is not archived", field="epic_id")
        _require_free_name(session, epic.name, keep=epic.id)
        epic.archived_at = None
        session.flush()
        append_sync(session, [_event(ev.EPIC_RESTORED, epic, actor)])
        return _read_one(session, epic)

    return await _write(ctx, work, "")


async def list_epics(ctx: ServiceContext, *, state: EpicState = "active") -> list[EpicRead]:
    """The epics in ``state``, by name, each with its missions' figures."""
    async with ctx.read() as session:

        def read(sync: Session) -> list[EpicRead]:
            epics = repo.list_epics(sync, state=state)
            figures = repo.status_figures(sync, epic_ids=[e.id for e in epics])
            today = _today()
            return [_to_read(epic, figures.get(epic.id, []), today) for epic in epics]

        return await session.run_sync(read)


async def missions_without_epic(
    ctx: ServiceContext, *, limit: int = MAX_EPIC_MISSIONS
) -> list[EpicCandidate]:
    """The newest ``limit`` missions in no epic, newest first: those an epic may take."""
    async with ctx.read() as session:

        def read(sync: Session) -> list[EpicCandidate]:
            return [
                EpicCandidate(
                    id=mission.id,
                    title=mission.title,
                    status=mission.status,
                    created_at=mission.created_at,
                )
                for mission in repo.missions_without_epic(sync, limit=limit)
            ]

        return await session.run_sync(read)


async def read_epic(ctx: ServiceContext, *, epic_id: uuid.UUID) -> EpicDetail:
    """An epic's roll-up: its missions, their tasks by column and outcome, cost, risks, approvals.

    Raises:
        NotFound: no such epic.
    """
    async with ctx.read() as session:
        summary, rows, risks, approvals = await session.run_sync(_records, epic_id)
    tasks = await _task_rollup(ctx, [row.id for row in rows])
    return EpicDetail(
        **summary.model_dump(),
        mission_list=rows,
        tasks=tasks,
        open_risks=len(risks),
        risks=risks[:MAX_LISTED],
        approvals_waiting=approvals[0],
        approvals=approvals[1],
        board_url=board_url(epic_id),
    )


def _records(
    session: Session, epic_id: uuid.UUID
) -> tuple[EpicRead, list[EpicMissionRow], list[EpicRisk], tuple[int, list[EpicApproval]]]:
    """The epic's summary, missions, open risks (most severe first) and waiting approvals."""
    epic = repo.read_epic(session, epic_id=epic_id)
    if epic is None:
        raise NotFound(f"no epic with id {epic_id}", field="epic_id")
    members = repo.members(session, epic_id=epic_id)
    ids = [m.mission.id for m in members]
    risks = sorted(
        (_risk(risk, title) for risk, title in repo.open_risks(session, mission_ids=ids)),
        key=lambda r: (_SEVERITY_RANK.get(r.severity, len(_SEVERITY_RANK)), r.title),
    )
    count, waiting = repo.waiting_approvals(session, mission_ids=ids, limit=MAX_LISTED)
    approvals = [_approval(approval, title) for approval, title in waiting]
    return _read_one(session, epic), [_row(m) for m in members], risks, (count, approvals)


def _row(member: repo.Member) -> EpicMissionRow:
    mission = member.mission
    return EpicMissionRow(
        id=mission.id,
        title=mission.title,
        status=mission.status,
        spent_usd=micros_to_usd(mission.spent_micros),
        budget_usd=None if mission.budget_micros is None else micros_to_usd(mission.budget_micros),
        added_at=member.link.added_at,
        added_by=member.link.added_by,
    )


def _risk(risk: Any, mission_title: str) -> EpicRisk:
    return EpicRisk(
        id=risk.id,
        mission_id=risk.mission_id,
        mission_title=mission_title,
        title=risk.title,
        severity=risk.severity,
        likelihood=risk.likelihood,
        status=risk.status,
        owner=risk.owner,
    )


def _approval(approval: Any, mission_title: str) -> EpicApproval:
    return EpicApproval(
        id=approval.id,
        mission_id=approval.mission_id,
        mission_title=mission_title,
        run_id=approval.run_id,
        step_id=approval.step_id,
        agent=approval.agent,
        requested_at=approval.requested_at,
    )


async def _task_rollup(ctx: ServiceContext, mission_ids: Sequence[uuid.UUID]) -> TaskRollup:
    """The missions' tasks counted by board column and by outcome."""
    columns: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    for mission_id in mission_ids:
        mission = await mission_service.read_mission(ctx, mission_id=mission_id)
        for card in await board_service.mission_cards(ctx, mission):
            columns[card.column] += 1
            if card.outcome is not None:
                outcomes[card.outcome] += 1
    return TaskRollup.model_validate(
        {
            "total": sum(columns.values()),
            "by_column": {name: columns[name] for name in COLUMNS},
            "by_outcome": dict(outcomes),
        }
    )
