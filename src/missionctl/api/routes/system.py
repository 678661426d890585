"""``GET /api/v1/health/summary``: how the system is doing (the workers: ``routes.workers``)."""

from fastapi import APIRouter, Request

from missionctl.api.deps import Context, P, requires
from missionctl.schemas.health import HealthSummaryRead
from missionctl.security.guard import GuardedRoute
from missionctl.services.health import HealthSummaryCache

router = APIRouter(route_class=GuardedRoute, tags=["health"])


def summary_cache(request: Request) -> HealthSummaryCache:
    """The app's one cache of the figures (``create_app`` makes it), shared with the pages."""
    cache: HealthSummaryCache = request.app.state.health_summary
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
