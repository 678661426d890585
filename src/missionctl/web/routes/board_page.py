"""The board page: every task of the newest missions in the column of its state, live.

The filters (mission, epic, agent, role, outcome) live in the URL, so a filtered board can be shared
and reloaded. The board stays live through ``/board/stream``: after each event that can move a
card, the columns are rendered again with the same filters (``web/live_lists.py``). A card
opens its task (the step's page once it has a run, else its mission) and offers the actions of
that page that the person's role allows; the engine moves the cards (ADR 0100).
"""

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError
from sse_starlette import EventSourceResponse

from missionctl.domain.outcomes import OUTCOME_LABELS, OUTCOMES
from missionctl.errors import Problem, ValidationFailed
from missionctl.schemas.board import FILTER_CHARS, BoardQuery, BoardRead
from missionctl.schemas.missions import NO_NUL_PATTERN
from missionctl.security.guard import GuardedRoute
from missionctl.services import ServiceContext
from missionctl.services.usecases import board as board_service
from missionctl.services.usecases import dashboard
from missionctl.services.usecases import epics as epic_service
from missionctl.web.deps import MAX_SEQ, Context, Fragment, P, requires
from missionctl.web.live_lists import MISSION_LIST_EVENTS, list_stream
from missionctl.web.templating import render, render_fragment

PAGE = "pages/board.html"
BOARD_EVENTS = (*MISSION_LIST_EVENTS, "approval.", "epic.")
"""Prefixes of the event types that can move a card, or a mission into an epic's board."""
BOARD_URL = "/board"

router = APIRouter(route_class=GuardedRoute)

FilterText = Annotated[str, Query(max_length=FILTER_CHARS, pattern=NO_NUL_PATTERN)]


def _query(mission: str, epic: str, agent: str, role: str, outcome: str) -> BoardQuery:
    """The board's filters from the URL (empty: no filter).

    Raises:
        ValidationFailed: a filter is malformed (a 422 naming its URL parameter).
    """
    try:
        return BoardQuery.model_validate(
            {
                "mission_id": mission or None,
                "epic_id": epic or None,
                "agent": agent or None,
                "role": role or None,
                "outcome": outcome or None,
            }
        )
    except ValidationError as exc:
        raise ValidationFailed(
            [
                Problem(_PARAMETERS.get(str(error["loc"][0]), str(error["loc"][0])), error["msg"])
                for error in exc.errors()
            ]
        ) from None


_PARAMETERS = {"mission_id": "mission", "epic_id": "epic"}
"""The URL parameter of each ``BoardQuery`` field named otherwise."""


def _url(path: str, query: BoardQuery, **extra: object) -> str:
    """``path`` with the filters ``query`` gives, and ``extra``."""
    shown = {
        "mission": query.mission_id,
        "epic": query.epic_id,
        "agent": query.agent,
        "role": query.role,
        "outcome": query.outcome,
        **extra,
    }
    params = {name: str(value) for name, value in shown.items() if value not in (None, "")}
    return f"{path}?{urlencode(params)}" if params else path


def _context(board: BoardRead, query: BoardQuery) -> dict[str, Any]:
    cards = [card for column in board.columns for card in column.cards]
    return {
        "board": board,
        "query": query,
        "cards": len(cards),
        "roles": sorted({c.role for c in cards if c.role}),
        "agents": sorted({c.agent for c in cards if c.agent}),
        "outcomes": [(name, OUTCOME_LABELS[name]) for name in OUTCOMES],
        "outcome_labels": OUTCOME_LABELS,
    }


@router.get(BOARD_URL, dependencies=[requires(P.MISSIONS_READ)])
async def board_page(
    request: Request,
    ctx: Context,
    fragment: Fragment,
    mission: FilterText = "",
    epic: FilterText = "",
    agent: FilterText = "",
    role: FilterText = "",
    outcome: FilterText = "",
) -> Response:
    """The board; for htmx (a filter changed), only the columns and the live element."""
    query = _query(mission, epic, agent, role, outcome)
    after = await dashboard.read_head_seq(ctx)  # before the board: see read_head_seq
    board = await _read(ctx, query)
    context = _context(board, query)
    context["epics"] = await _epic_choices(ctx, query)
    context["stream_url"] = _url(f"{BOARD_URL}/stream", query, after=after)
    return render(request, PAGE, context, block="board_update" if fragment else None)


@router.get(f"{BOARD_URL}/stream", dependencies=[requires(P.MISSIONS_READ)])
async def board_stream(
    request: Request,
    ctx: Context,
    mission: FilterText = "",
    epic: FilterText = "",
    agent: FilterText = "",
    role: FilterText = "",
    outcome: FilterText = "",
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
) -> EventSourceResponse:
    """The board's live stream: the columns (same filters) after each change that moves a card."""
    query = _query(mission, epic, agent, role, outcome)

    async def render_board() -> str:
        board = await _read(ctx, query)
        return render_fragment(PAGE, "board_live", _context(board, query))

    return await list_stream(
        ctx, request, after=after, render_list=render_board, prefixes=BOARD_EVENTS
    )


async def _epic_choices(ctx: ServiceContext, query: BoardQuery) -> list[tuple[str, str]]:
    """The epic filter's choices, ``(id, name)``: the active epics, and the one chosen."""
    epics = await epic_service.list_epics(ctx, state="all")
    return [
        (str(e.id), f"{e.name} (archived)" if e.archived else e.name)
        for e in epics
        if not e.archived or e.id == query.epic_id
    ]


async def _read(ctx: ServiceContext, query: BoardQuery) -> BoardRead:
    return await board_service.read_board(
        ctx,
        mission_id=query.mission_id,
        epic_id=query.epic_id,
        agent=query.agent,
        role=query.role,
        outcome=query.outcome,
    )
