"""What the decision log and the risk register share: locking, cleaning input, event payloads.

Every write to a mission's log or register first locks the mission's row, so writes to one
mission's items take turns (on PostgreSQL; SQLite's writers take turns anyway): a stale
version is then seen as stale, and links between decisions change under no one's feet.
"""

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Mission
from missionctl.domain.register import stale_version
from missionctl.errors import Conflict, NotFound
from missionctl.llm.redaction import redact
from missionctl.repositories import missions as mission_repo
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
