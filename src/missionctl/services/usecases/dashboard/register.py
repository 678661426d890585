"""The mission page's decision log and risk register, with each item's history."""

import uuid
from dataclasses import dataclass

from missionctl.domain.events import DECISION_ADDED, DECISION_CHANGED, RISK_ADDED, RISK_CHANGED
from missionctl.repositories import register as register_repo
from missionctl.schemas.dashboard import EventItem
from missionctl.schemas.register import DecisionRead, RiskRegister
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.dashboard.events import to_event_item
from missionctl.services.usecases.decision_log import list_decisions
from missionctl.services.usecases.risk_register import read_register

HISTORY_LIMIT = 1000
"""The newest register events the page reads for the items' histories (older ones: audit)."""
_TYPES = (DECISION_ADDED, DECISION_CHANGED, RISK_ADDED, RISK_CHANGED)


@dataclass(frozen=True, slots=True)
class RegisterView:
    """What the mission page shows of the log and register."""

    decisions: list[DecisionRead]
    register: RiskRegister
    history: dict[str, list[EventItem]]


async def read_register_view(ctx: ServiceContext, *, mission_id: uuid.UUID) -> RegisterView:
    """The mission's decision log, risk register and each item's events (by item id).

    The event filters cannot select one item's events, so the page shows them under the item.

    Raises:
        NotFound: no such mission.
    """
    decisions = await list_decisions(ctx, mission_id=mission_id)
    register = await read_register(ctx, mission_id=mission_id)
    async with ctx.read() as session:
        rows = await register_repo.read_item_events(
            session, mission_id=mission_id, types=_TYPES, limit=HISTORY_LIMIT
        )
    history: dict[str, list[EventItem]] = {}
    for row in rows:
        item = row.payload.get("decision_id") or row.payload.get("risk_id")
        if isinstance(item, str):
            history.setdefault(item, []).append(to_event_item(row))
    return RegisterView(decisions, register, history)
