"""The system-health strip's refresh (``GET /health/strip``) and the workers page.

``/workers`` lists the engines of the last day with their status, capabilities, held steps,
utilisation and last heartbeat, and below them how far behind the log each of its followers is.
Operators (``workers:control``) see a worker's controls: drain,
resume, stop, a new concurrency, and a range to size itself within from the queue (or an end to
that), posted to ``/workers/{id}/…``; htmx is told to reload the page (the command changes its
row), a plain form post comes back with a 303. The command is obeyed at the worker's next
heartbeat (ADRs 0058, 0115).
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from missionctl.domain.workers import MAX_CONCURRENCY, OFFLINE_S, STALE_S, WorkerCommand
from missionctl.security.guard import GuardedRoute
from missionctl.services.followers import follower_lags
from missionctl.services.usecases import workers as worker_service
from missionctl.web.deps import Context, Fragment, Identity, P, WorkerId, requires
from missionctl.web.page_reload import reload_or_redirect
from missionctl.web.templating import load_health, render

router = APIRouter(route_class=GuardedRoute)

HEALTH_FRAGMENTS = "pages/health.html"
WORKERS_PAGE = "pages/workers.html"
WORKERS_URL = "/workers"
Controller = Annotated[Identity, requires(P.WORKERS_CONTROL)]
Concurrency = Annotated[int, Form(ge=1, le=MAX_CONCURRENCY)]


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


@router.get(WORKERS_URL, dependencies=[requires(P.AGENTS_READ)])
async def workers_page(request: Request, ctx: Context) -> Response:
    """The engines seen in the last day: status, capabilities, held steps, utilisation."""
    return render(
        request,
        WORKERS_PAGE,
        {
            "workers": await worker_service.list_worker_details(ctx),
            "followers": await follower_lags(ctx),
            "stale_s": STALE_S,
            "offline_s": OFFLINE_S,
            "max_concurrency": MAX_CONCURRENCY,
        },
    )


@router.post(WORKERS_URL + "/{worker_id}/drain")
async def drain_worker(
    ctx: Context, who: Controller, fragment: Fragment, worker_id: WorkerId
) -> Response:
    """Let the worker finish what it holds and claim nothing new (409: stopped or offline)."""
    return await _command(ctx, who, fragment, worker_id, WorkerCommand.drain)


@router.post(WORKERS_URL + "/{worker_id}/resume")
async def resume_worker(
    ctx: Context, who: Controller, fragment: Fragment, worker_id: WorkerId
) -> Response:
    """Let a draining worker claim work again."""
    return await _command(ctx, who, fragment, worker_id, WorkerCommand.resume)


@router.post(WORKERS_URL + "/{worker_id}/stop")
async def stop_worker(
    ctx: Context, who: Controller, fragment: Fragment, worker_id: WorkerId
) -> Response:
    """Drain the worker, then end it (the server's own engine only stops claiming)."""
    return await _command(ctx, who, fragment, worker_id, WorkerCommand.stop)


@router.post(WORKERS_URL + "/{worker_id}/concurrency")
async def scale_worker(
    ctx: Context,
    who: Controller,
    fragment: Fragment,
    worker_id: WorkerId,
    concurrency: Concurrency,
) -> Response:
    """Change how many steps the worker runs at once (422 outside 1..1000, naming the field)."""
    await worker_service.set_concurrency(
        ctx, worker_id=worker_id, concurrency=concurrency, actor=who.actor
    )
    return _done(fragment)


@router.post(WORKERS_URL + "/{worker_id}/autoscale")
async def autoscale_worker(
    ctx: Context,
    who: Controller,
    fragment: Fragment,
    worker_id: WorkerId,
    minimum: Concurrency,
    maximum: Concurrency,
) -> Response:
    """Let the worker size itself from the queue in a range (422 naming the bound at fault)."""
    await worker_service.set_autoscale(
        ctx, worker_id=worker_id, minimum=minimum, maximum=maximum, actor=who.actor
    )
    return _done(fragment)


@router.post(WORKERS_URL + "/{worker_id}/autoscale/off")
async def stop_autoscaling_worker(
    ctx: Context, who: Controller, fragment: Fragment, worker_id: WorkerId
) -> Response:
    """Stop the worker sizing itself; it keeps the size it has (409 when it does not)."""
    await worker_service.clear_autoscale(ctx, worker_id=worker_id, actor=who.actor)
    return _done(fragment)


async def _command(
    ctx: Context, who: Identity, fragment: bool, worker_id: uuid.UUID, command: WorkerCommand
) -> Response:
    await worker_service.command_worker(ctx, worker_id=worker_id, command=command, actor=who.actor)
    return _done(fragment)


def _done(fragment: bool) -> Response:
    """Reload the page under htmx (the worker's row changed); send a plain post back to it."""
    return reload_or_redirect(WORKERS_URL, fragment=fragment)
