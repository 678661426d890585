"""``/api/v1/me``: who the caller is."""

from typing import Annotated

from fastapi import APIRouter

from missionctl.api.deps import Identity, P, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.schemas.identity import MeRead
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["identity"], responses=ERROR_RESPONSES)


# Any signed-in identity may ask who it is. Every route must declare a permission, so this one
# declares a read the least role (viewer) holds: only a caller with no identity is refused.
@router.get("/me", response_model=MeRead)
async def read_me(who: Annotated[Identity, requires(P.MISSIONS_READ)]) -> MeRead:
    """The caller's actor, user name, effective role and permissions (401 without identity)."""
    return MeRead(
        actor=who.actor,
        user_name=who.user_name,
        role=who.role,
        permissions=[p for p in P if who.allows(p)],
    )
