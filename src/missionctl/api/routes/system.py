"""``GET /api/v1/health/summary`` and ``GET /api/v1/workers``: how the system is doing."""

from fastapi import APIRouter, Request

from missionctl.api.deps import Context, P, requires
from missionctl.schemas.health import HealthSummaryRead, WorkerRead
from missionctl.services.health import HealthSummaryCache
from missionctl.services.workers import list_workers

router = APIRouter(tags=["health"])


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


@router.get("/workers", response_model=list[WorkerRead], dependencies=[requires(P.AGENTS_READ)])
async def workers(ctx: Context) -> list[WorkerRead]:
    """The engines seen in the last day, newest start first, each saying whether it is alive."""
    return await list_workers(ctx)
