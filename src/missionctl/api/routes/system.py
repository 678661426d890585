"""How the system is doing: ``GET /api/v1/health/summary`` and ``GET /api/v1/followers``.

The followers' route is made from its declaration in ``missionctl.operations.system``; the
summary, read from the app's cache, is written here. The workers are ``routes.workers``.
"""

from fastapi import APIRouter, Request

from missionctl.api.declared import add_route
from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.system import OPERATIONS
from missionctl.schemas.health import HealthSummaryRead
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases.health import HealthSummaryCache

# Both routes need an identity: their 401 and 403 are documented with the shared error body.
router = APIRouter(route_class=GuardedRoute, tags=["health"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)


def summary_cache(request: Request) -> HealthSummaryCache:
    """The app's one cache of the figures, shared with the pages.

    ``create_app`` makes it; an app in a command's process makes it on first use.
    """
    cache: HealthSummaryCache | None = getattr(request.app.state, "health_summary", None)
    if cache is None:
        cache = request.app.state.health_summary = HealthSummaryCache()
    return cache


@router.get(
    "/health/summary",
    response_model=HealthSummaryRead,
    dependencies=[requires(P.RUNS_READ)],
)
async def health_summary(request: Request, ctx: Context) -> HealthSummaryRead:
    """Queue depth, running and recently failed steps, the burn rate, approvals, live workers.

    The figures are read at most once a second for every caller together.
    """
    return await summary_cache(request).get(ctx)
