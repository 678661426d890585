"""``/api/v1/missions``."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from missionctl.api.deps import Actor, Context
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.domain.states import MissionStatus
from missionctl.schemas.missions import MissionCreate, MissionPage, MissionRead
from missionctl.services import missions as mission_service

router = APIRouter(prefix="/missions", tags=["missions"], responses=ERROR_RESPONSES)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MissionRead)
async def create_mission(body: MissionCreate, ctx: Context, actor: Actor) -> MissionRead:
    """Create a mission in `draft`; nothing is stored when the body is invalid (422)."""
    return await mission_service.create_mission(ctx, data=body, actor=actor)


@router.get("", response_model=MissionPage)
async def list_missions(
    ctx: Context,
    limit: Annotated[int, Query(ge=1, le=mission_service.MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=64, description="`next_cursor` of the previous page")
    ] = None,
    status: Annotated[MissionStatus | None, Query()] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Text to find in title or goal")
    ] = None,
) -> MissionPage:
    """List missions, newest first, with keyset paging."""
    return await mission_service.read_missions(ctx, limit=limit, cursor=cursor, status=status, q=q)


@router.get("/{mission_id}", response_model=MissionRead)
async def get_mission(mission_id: uuid.UUID, ctx: Context) -> MissionRead:
    """One mission by id (404 when there is none)."""
    return await mission_service.read_mission(ctx, mission_id=mission_id)
