"""The task board: every task of the newest missions, in the column of its step's state.

Each mission contributes the tasks its page shows (``dashboard.tasks.merge_tasks``): its newest
plan's tasks, with the state of their steps in the run that runs that plan. The engine owns the
states, so the board only reads; a card's actions are those of the pages it links to.
"""

import uuid

from sqlalchemy.orm import Session

from missionctl.domain.board import COLUMN_LABELS, COLUMNS, column_of
from missionctl.domain.outcomes import Outcome
from missionctl.errors import NotFound
from missionctl.repositories import dashboard as dashboard_repo
from missionctl.repositories import epics as epic_repo
from missionctl.schemas.board import (
    DEFAULT_MISSIONS,
    BoardCard,
    BoardColumn,
    BoardQuery,
    BoardRead,
)
from missionctl.schemas.dashboard import TaskView
from missionctl.schemas.missions import MissionRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import plans as plan_service
from missionctl.services.usecases import runs as run_service
from missionctl.services.usecases.dashboard.tasks import merge_tasks, run_to_show

__all__ = ["mission_cards", "read_board"]


async def read_board(
    ctx: ServiceContext,
    *,
    mission_id: uuid.UUID | None = None,
    epic_id: uuid.UUID | None = None,
    agent: str | None = None,
    role: str | None = None,
    outcome: Outcome | None = None,
    missions: int = DEFAULT_MISSIONS,
) -> BoardRead:
    """The board: every column, empty ones included, with the cards every filter given passes.

    Missions come newest first (``missions`` of them, of the epic ``epic_id`` names if given,
    or the one ``mission_id`` names); a mission's cards keep its plan's order. The filters are
    ``BoardQuery``'s.

    Raises:
        NotFound: ``mission_id`` names no mission, or ``epic_id`` no epic.
    """
    query = BoardQuery(
        mission_id=mission_id,
        epic_id=epic_id,
        agent=agent,
        role=role,
        outcome=outcome,
        missions=missions,
    )
    shown, more = await _missions_shown(ctx, query)
    cards = [card for mission in shown for card in await mission_cards(ctx, mission)]
    kept = [card for card in cards if _matches(card, query)]
    columns = [
        BoardColumn(
            name=name,
            label=COLUMN_LABELS[name],
            cards=[card for card in kept if card.column == name],
        )
        for name in COLUMNS
    ]
    return BoardRead(columns=columns, missions=len(shown), more_missions=more)


async def _missions_shown(ctx: ServiceContext, query: BoardQuery) -> tuple[list[MissionRead], bool]:
    """The missions whose cards the board shows, newest first, and whether more were left out.

    Raises:
        NotFound: ``query.mission_id`` names no mission, or ``query.epic_id`` no epic.
    """
    if query.epic_id is not None:
        ids = await _epic_mission_ids(ctx, query.epic_id, query.missions + 1)
        if query.mission_id is not None:
            ids = [i for i in ids if i == query.mission_id]
        shown = [await mission_service.read_mission(ctx, mission_id=i) for i in ids]
        return shown[: query.missions], len(shown) > query.missions
    if query.mission_id is not None:
        return [await mission_service.read_mission(ctx, mission_id=query.mission_id)], False
    page = await mission_service.read_missions(ctx, limit=query.missions)
    return list(page.items), page.next_cursor is not None


async def _epic_mission_ids(ctx: ServiceContext, epic_id: uuid.UUID, limit: int) -> list[uuid.UUID]:
    """The ids of the epic's newest ``limit`` missions.

    Raises:
        NotFound: no such epic.
    """
    async with ctx.read() as session:

        def read(sync: Session) -> list[uuid.UUID]:
            if epic_repo.read_epic(sync, epic_id=epic_id) is None:
                raise NotFound(f"no epic with id {epic_id}", field="epic_id")
            return epic_repo.member_ids_newest_first(sync, epic_id=epic_id, limit=limit)

        return await session.run_sync(read)


async def mission_cards(ctx: ServiceContext, mission: MissionRead) -> list[BoardCard]:
    """The mission's tasks as cards: as its page lists them (none before it is planned)."""
    try:
        plan = await plan_service.read_plan(ctx, mission_id=mission.id)
    except NotFound:
        plan = None
    async with ctx.read() as session:
        runs = await dashboard_repo.read_mission_runs(session, mission_id=mission.id)
    shown = run_to_show(plan, runs)
    run = await run_service.read_run(ctx, run_id=shown.id) if shown else None
    steps = list(shown.definition.get("steps", [])) if shown else []
    tasks = merge_tasks(plan, run, steps)
    return [_card(mission, run.id if run else None, task) for task in tasks]


def _card(mission: MissionRead, run_id: uuid.UUID | None, task: TaskView) -> BoardCard:
    return BoardCard(
        mission_id=mission.id,
        mission_title=mission.title,
        run_id=run_id,
        key=task.key,
        title=task.title,
        role=task.role,
        agent=task.agent,
        column=column_of(task.status),
        status=task.status,
        outcome=task.outcome,
        attempt=task.attempt,
    )


def _matches(card: BoardCard, query: BoardQuery) -> bool:
    """Whether ``card`` passes every filter ``query`` gives."""
    return (
        (query.agent is None or card.agent == query.agent)
        and (query.role is None or card.role == query.role)
        and (query.outcome is None or card.outcome == query.outcome)
    )
