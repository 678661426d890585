"""How the system is doing: ``GET /api/v1/health/summary`` and ``GET /api/v1/followers``.

The workers are ``routes.workers``.
"""

from fastapi import APIRouter, Request

from missionctl.api.deps import Context, P, requires
from missionctl.schemas.health import FollowerRead, HealthSummaryRead
from missionctl.security.guard import GuardedRoute
from missionctl.services.followers import follower_lags
from missionctl.services.usecases.health import HealthSummaryCache

router = APIRouter(route_class=GuardedRoute, tags=["health"])


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


@router.get(
    "/followers",
    response_model=list[FollowerRead],
    dependencies=[requires(P.AGENTS_READ)],
)
async def list_followers(ctx: Context) -> list[FollowerRead]:
    """Each follower of the log (the search index, memory, analytics, the webhook outbox).

    How far it has read and how far behind the log's head it is, in events and in seconds
    since the oldest event it has not read was appended.
    """
    return await follower_lags(ctx)
