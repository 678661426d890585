"""What the decision log and the risk register share: locking, cleaning input, event payloads.

Both are items of a mission (its log, its register) with the same ids, plan, provenance
(the finished mission a planner took them from), version and times; an edit of either sets
the changed fields, counts one version up and records each change's old and new value.

Every write to a mission's log or register first locks the mission's row, so writes to one
mission's items take turns (on PostgreSQL; SQLite's writers take turns anyway): a stale
version is then seen as stale, and links between decisions change under no one's feet.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Decision, Mission, Risk
from missionctl.domain.register import changes, stale_version
from missionctl.errors import Conflict, NotFound
from missionctl.eventlog import NewEvent
from missionctl.llm.redaction import redact
from missionctl.repositories import memory as memory_repo
from missionctl.repositories import missions as mission_repo
from missionctl.repositories import register as register_repo
from missionctl.schemas.register import NAME_MAX_CHARS, TEXT_MAX_CHARS, TITLE_MAX_CHARS

# The longest each text field may be once stored; redaction may lengthen a text (a short
# registered secret becomes "[REDACTED]"), so the result is cut back to it.
LIMITS: Mapping[str, int] = {
    "title": TITLE_MAX_CHARS,
    "reasons": TITLE_MAX_CHARS,
    "trade_offs": TITLE_MAX_CHARS,
    "alternatives": TITLE_MAX_CHARS,
    "deciders": NAME_MAX_CHARS,
    "owner": NAME_MAX_CHARS,
}


async def lock_mission(session: AsyncSession, mission_id: uuid.UUID) -> Mission:
    """The mission's row, locked for the rest of the transaction.

    Raises:
        NotFound: no such mission.
    """
    mission = await mission_repo.read_mission(session, mission_id=mission_id, for_update=True)
    if mission is None:
        raise NotFound(f"no mission with id {mission_id}", field="mission_id")
    return mission


async def require_mission(session: AsyncSession, mission_id: uuid.UUID) -> None:
    """Nothing, when the mission exists.

    Raises:
        NotFound: no such mission.
    """
    if await mission_repo.read_mission(session, mission_id=mission_id) is None:
        raise NotFound(f"no mission with id {mission_id}", field="mission_id")


def cleaned(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with every secret redacted, each text cut back to its column's limit."""
    out: dict[str, Any] = {}
    for name, value in redact(dict(values)).items():
        limit = LIMITS.get(name, TEXT_MAX_CHARS)
        if isinstance(value, str):
            value = value[:limit]
        elif isinstance(value, list):
            value = [v[:limit] if isinstance(v, str) else v for v in value]
        out[name] = value
    return out


def check_version(noun: str, current: int, based_on: int) -> None:
    """Nothing, when the edit was based on the stored version.

    Raises:
        Conflict: the item changed since (``field="version"``); the caller changes nothing.
    """
    message = stale_version(noun, current, based_on)
    if message is not None:
        raise Conflict(message, field="version")


def as_json(value: Any) -> Any:
    """A field's value as an event payload holds it: dates and ids as text."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value


def snapshot(row: object, fields: tuple[str, ...]) -> dict[str, Any]:
    """The row's ``fields`` as JSON values (copies: later changes to the row do not leak in)."""
    return {name: as_json(getattr(row, name)) for name in fields}


Item = TypeVar("Item", Decision, Risk)


async def read_items(
    session: AsyncSession, *, model: type[Item], mission_id: uuid.UUID
) -> tuple[Sequence[Item], dict[uuid.UUID, str]]:
    """The mission's current items of ``model``, and the titles of the missions they came from.

    Raises:
        NotFound: no such mission.
    """
    await require_mission(session, mission_id)
    rows = await register_repo.read_current(session, model=model, mission_id=mission_id)
    titles = await memory_repo.mission_titles(
        session, mission_ids=[r.from_mission_id for r in rows if r.from_mission_id]
    )
    return rows, titles


def read_fields(
    row: Decision | Risk, titles: Mapping[uuid.UUID, str] | None = None
) -> dict[str, Any]:
    """The fields every item reads with: ids, plan, provenance, version and times.

    ``titles`` names the missions items were taken from; without it a citation has its id alone.
    """
    origin = row.from_mission_id
    return {
        "id": row.id,
        "mission_id": row.mission_id,
        "plan_id": row.plan_id,
        "from_mission": origin,
        "from_mission_title": (titles or {}).get(origin) if origin else None,
        "version": row.version,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def added_changes(row: Decision | Risk, fields: tuple[str, ...]) -> dict[str, Any]:
    """What an added item records: each of ``fields`` from nothing to its value."""
    return changes({}, snapshot(row, fields))


def apply_edit(
    row: Decision | Risk,
    wanted: Mapping[str, Any],
    fields: tuple[str, ...],
    *,
    was: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Set ``wanted`` (redacted, cut to its limits) on ``row``; what changed of ``fields``.

    ``was`` holds the old values of fields the caller set on ``row`` already. When anything
    changed the row's version goes one up; otherwise the row keeps it (an edit that changes
    nothing records nothing).
    """
    before = snapshot(row, fields) | dict(was or {})
    for name, value in cleaned(wanted).items():
        setattr(row, name, value)
    changed = changes(before, snapshot(row, fields))
    if changed:
        row.version += 1
    return changed


def item_event(
    type_: str,
    row: Decision | Risk,
    actor: str,
    which: Mapping[str, Any],
    changed: dict[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> NewEvent:
    """The event of one item's change: ``which`` item, its title and new version, what changed.

    ``extra`` ends the payload (what else the change is about).
    """
    return NewEvent(
        type=type_,
        actor=actor,
        mission_id=row.mission_id,
        payload={
            **which,
            "title": row.title,
            "version": row.version,
            "changes": changed,
            **(extra or {}),
        },
    )
