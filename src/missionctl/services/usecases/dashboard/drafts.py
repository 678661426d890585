"""The draft of the plan a model is writing, as the mission page shows it while it plans.

Read from the log: the ``plan.drafted`` events since the mission's newest ``mission.planning``,
folded in order. A ``restart`` (a new reply began) forgets what came before it; each item
replaces any earlier one at its index, so an event read twice changes nothing.
"""

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.domain.events import MISSION_PLANNING, PLAN_DRAFTED
from missionctl.repositories import events as event_repo
from missionctl.schemas.dashboard import DraftPhase, DraftTask, PlanDraftView
from missionctl.schemas.events import EventFilters

__all__ = ["fold_drafts", "read_plan_draft"]

MAX_DRAFT_EVENTS = 400
"""The most ``plan.drafted`` events one read folds (a planning records at most 200)."""


async def read_plan_draft(session: AsyncSession, *, mission_id: uuid.UUID) -> PlanDraftView | None:
    """The draft of the mission's current planning; ``None`` when nothing was drafted yet."""
    started = await event_repo.read_newest_event(
        session, mission_id=mission_id, types=(MISSION_PLANNING,)
    )
    if started is None:
        return None
    filters = EventFilters(mission_id=mission_id, type=[PLAN_DRAFTED])
    rows = await event_repo.read_events_after(
        session, after_seq=started.seq, limit=MAX_DRAFT_EVENTS, filters=filters
    )
    return fold_drafts(row.payload for row in rows)


def fold_drafts(payloads: Iterable[Mapping[str, Any]]) -> PlanDraftView | None:
    """The draft that ``plan.drafted`` payloads, oldest first, leave; ``None`` for none.

    A payload that is not one the planner writes (an unknown kind, an item that does not read)
    is skipped.
    """
    attempt = 0
    phases: dict[int, DraftPhase] = {}
    tasks: dict[int, DraftTask] = {}
    for payload in payloads:
        number = payload.get("attempt")
        if not isinstance(number, int) or number < attempt:
            continue  # a reply older than the newest restart: void
        if payload.get("kind") == "restart" or number > attempt:
            phases, tasks, attempt = {}, {}, number
        _add(payload, phases, tasks)
    if not (phases or tasks):
        return None
    return PlanDraftView(
        attempt=attempt,
        phases=[phases[i] for i in sorted(phases)],
        tasks=[tasks[i] for i in sorted(tasks)],
    )


def _add(
    payload: Mapping[str, Any], phases: dict[int, DraftPhase], tasks: dict[int, DraftTask]
) -> None:
    """Put the payload's phase or task at its index (anything else is left out)."""
    index, item = payload.get("index"), payload.get("item")
    if not isinstance(index, int) or not isinstance(item, dict):
        return
    try:
        if payload.get("kind") == "phase":
            phases[index] = DraftPhase.model_validate(item)
        elif payload.get("kind") == "task":
            tasks[index] = DraftTask.model_validate(item)
    except ValidationError:
        return
