"""The decision log of a mission: list, add and edit its decisions, ADR style (ADR 0051).

Each change appends one event per decision it changes, with the actor and the changed fields'
old and new values: ``decision.added`` for a new decision, ``decision.changed`` for an edit.
Superseding is two changes: the decision that now supersedes another records the new link,
and the decision it supersedes records its status moving to ``superseded`` (and back to
``accepted`` when no decision supersedes it any longer), each in its own ``decision.changed``
naming the other, so each decision's history is complete on its own.
"""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Decision
from missionctl.domain.events import DECISION_ADDED, DECISION_CHANGED
from missionctl.domain.ids import new_id
from missionctl.domain.register import (
    DecisionStatus,
    Links,
    changes,
    status_after,
    supersede_problem,
    superseded_ids,
)
from missionctl.errors import NotFound, Problem, StateRefused
from missionctl.eventlog import NewEvent, append
from missionctl.repositories import plans as plan_repo
from missionctl.repositories import register as register_repo
from missionctl.schemas.register import DecisionCreate, DecisionEdit, DecisionRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases import register_common as shared
from missionctl.services.usecases.register_common import check_version, cleaned, lock_mission

FIELDS = (
    "title",
    "status",
    "decided_on",
    "deciders",
    "context",
    "choice",
    "consequences",
    "reasons",
    "trade_offs",
    "alternatives",
    "supersedes_id",
)


async def list_decisions(ctx: ServiceContext, *, mission_id: uuid.UUID) -> list[DecisionRead]:
    """The mission's decision log: its newest plan's decisions and those people added, in order.

    Raises:
        NotFound: no such mission.
    """
    async with ctx.read() as session:
        rows, titles = await shared.read_items(session, model=Decision, mission_id=mission_id)
        links = await register_repo.read_links(session, mission_id=mission_id)
    return [to_read(row, links, titles) for row in rows]


def to_read(
    row: Decision, links: Links, titles: Mapping[uuid.UUID, str] | None = None
) -> DecisionRead:
    """A decision row as clients read it, with the decisions that supersede it.

    ``titles`` names the missions decisions were taken from (mission memory); without it a
    citation has its id alone.
    """
    return DecisionRead(
        **shared.read_fields(row, titles),
        number=row.number,
        title=row.title,
        status=DecisionStatus(row.status),
        decided_on=row.decided_on,
        deciders=list(row.deciders),
        context=row.context,
        choice=row.choice,
        consequences=row.consequences,
        reasons=list(row.reasons),
        trade_offs=list(row.trade_offs),
        alternatives=list(row.alternatives),
        supersedes=row.supersedes_id,
        superseded_by=sorted(d for d, target in links.items() if target == row.id),
    )


async def add_decision(
    ctx: ServiceContext, *, mission_id: uuid.UUID, actor: str, data: DecisionCreate
) -> DecisionRead:
    """Add a decision to the mission's log, numbered after the last one; ``decision.added``.

    Text is redacted before it is stored. A decision that supersedes another marks it
    ``superseded`` (its own ``decision.changed``).

    Raises:
        NotFound: no such mission.
        StateRefused: ``supersedes`` names no decision of this mission.
    """
    async with ctx.write() as session:
        await lock_mission(session, mission_id)
        links = dict(await register_repo.read_links(session, mission_id=mission_id))
        decision_id = new_id()
        if data.supersedes is not None:
            _check_link(decision_id, data.supersedes, links)
        values = cleaned(data.model_dump(exclude={"supersedes", "decided_on"}))
        row = Decision(
            id=decision_id,
            mission_id=mission_id,
            number=await plan_repo.next_decision_number(session, mission_id=mission_id),
            decided_on=data.decided_on or plan_repo.today(),
            supersedes_id=data.supersedes,
            version=1,
            **values,
        )
        session.add(row)
        await session.flush()
        links[decision_id] = data.supersedes
        events = [_event(DECISION_ADDED, row, actor, shared.added_changes(row, FIELDS))]
        events += await _follow_links(session, row, None, links, actor)
        await append(session, events)
        return to_read(row, links)


async def edit_decision(
    ctx: ServiceContext,
    *,
    mission_id: uuid.UUID,
    decision_id: uuid.UUID,
    actor: str,
    edit: DecisionEdit,
) -> DecisionRead:
    """Change a decision; ``decision.changed`` names each changed field's old and new value.

    An edit that changes nothing records nothing and keeps the version.

    Raises:
        NotFound: no such mission, or no such decision in it.
        Conflict: the edit was based on an older version (``field="version"``); nothing changes.
        StateRefused: (409) ``supersedes`` is the decision itself, a decision of another
            mission or one that would close a cycle; ``status`` asks for ``superseded`` while
            no decision supersedes this one, or to leave it while another does.
    """
    async with ctx.write() as session:
        await lock_mission(session, mission_id)
        row = await _decision(session, mission_id, decision_id)
        check_version("decision", row.version, edit.version)
        links = dict(await register_repo.read_links(session, mission_id=mission_id))
        wanted = edit.changed()
        old_target = row.supersedes_id
        if "supersedes" in wanted:
            target = wanted.pop("supersedes")
            if target is not None and target != old_target:
                _check_link(row.id, target, links)
            row.supersedes_id = links[row.id] = target
        if "status" in wanted:
            wanted["status"] = _status(row, DecisionStatus(wanted["status"]), links).value
        # The link is set already: its old value is the one it had before this edit.
        changed = shared.apply_edit(row, wanted, FIELDS, was={"supersedes_id": _text(old_target)})
        if not changed:
            return to_read(row, links)
        events = [_event(DECISION_CHANGED, row, actor, changed)]
        events += await _follow_links(session, row, old_target, links, actor)
        await append(session, events)
        return to_read(row, links)


async def _decision(
    session: AsyncSession, mission_id: uuid.UUID, decision_id: uuid.UUID
) -> Decision:
    """The mission's decision ``decision_id``, or ``NotFound`` (also when another mission's)."""
    row = await register_repo.read_item(session, model=Decision, item_id=decision_id)
    if row is None or row.mission_id != mission_id:
        raise NotFound(f"mission {mission_id} has no decision {decision_id}", field="decision_id")
    return row


def _check_link(decision_id: uuid.UUID, target: uuid.UUID, links: Links) -> None:
    problem = supersede_problem(decision_id, target, links)
    if problem is not None:
        raise StateRefused([Problem("supersedes", problem)])


def _status(row: Decision, requested: DecisionStatus, links: Links) -> DecisionStatus:
    """The status an edit may set, or ``StateRefused`` naming ``status`` and the way."""
    superseded = row.id in superseded_ids({d: t for d, t in links.items() if d != row.id})
    # Both refusals depend on the other decisions' links, not on the request: 409s (ADR 0095).
    if requested == DecisionStatus.superseded and not superseded:
        raise StateRefused(
            [
                Problem(
                    "status",
                    "a decision becomes superseded when another decision supersedes it: set "
                    "`supersedes` on the decision that replaces this one",
                )
            ]
        )
    if requested != DecisionStatus.superseded and superseded:
        raise StateRefused(
            [
                Problem(
                    "status",
                    "another decision supersedes this one, so it stays superseded: remove "
                    "that decision's `supersedes` first",
                )
            ]
        )
    return status_after(superseded, requested)


async def _follow_links(
    session: AsyncSession, row: Decision, old_target: uuid.UUID | None, links: Links, actor: str
) -> list[NewEvent]:
    """Bring the statuses of the decisions ``row`` superseded and supersedes in line.

    The decision it supersedes now becomes ``superseded``; the one it superseded before
    becomes ``accepted`` again when no decision supersedes it any longer. One
    ``decision.changed`` per decision that changes, naming ``row``.
    """
    events: list[NewEvent] = []
    superseded = superseded_ids(links)
    for target_id in dict.fromkeys(t for t in (old_target, row.supersedes_id) if t is not None):
        target = await register_repo.read_item(session, model=Decision, item_id=target_id)
        if target is None:
            continue
        status = status_after(target_id in superseded, DecisionStatus(target.status))
        if status.value == target.status:
            continue
        change = changes({"status": target.status}, {"status": status.value})
        target.status = status.value
        target.version += 1
        key = "superseded_by" if status == DecisionStatus.superseded else "no_longer_superseded_by"
        events.append(_event(DECISION_CHANGED, target, actor, change, {key: str(row.id)}))
    return events


def _event(
    type_: str,
    row: Decision,
    actor: str,
    changed: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> NewEvent:
    """The event of one decision's change: which decision, its new version, what changed."""
    which = {"decision_id": str(row.id), "number": row.number}
    return shared.item_event(type_, row, actor, which, changed, extra)


def _text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)
