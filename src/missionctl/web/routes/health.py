"""The system-health strip's refresh (``GET /health/strip``) and the workers page."""

from fastapi import APIRouter, Request, Response

from missionctl.services.workers import list_workers
from missionctl.web.deps import Context, P, requires
from missionctl.web.templating import load_health, render

router = APIRouter()

HEALTH_FRAGMENTS = "pages/health.html"
WORKERS_PAGE = "pages/workers.html"


@router.get("/health/strip", dependencies=[requires(P.RUNS_READ)])
async def health_strip(request: Request) -> Response:
    """The strip and the approvals badge, as ``<hx-partial>``s (figures kept a second)."""
    health = await load_health(request)
    return render(
        request,
        HEALTH_FRAGMENTS,
        {"health": health},
        block="health_update",
        headers={"Cache-Control": "no-store"},
    )


@router.get("/workers", dependencies=[requires(P.AGENTS_READ)])
async def workers_page(request: Request, ctx: Context) -> Response:
    """The engines seen in the last day: where they run, their heartbeat, alive or gone."""
    return render(request, WORKERS_PAGE, {"workers": await list_workers(ctx)})
