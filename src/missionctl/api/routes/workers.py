"""``/api/v1/workers``: the registry of engines, and their lifecycle from the control plane.

Reading needs ``agents:read``; drain, resume, stop and a new concurrency need
``workers:control`` (operators). A command is written on the worker's row and obeyed by the
engine at its next heartbeat, wherever it runs (ADR 0058); each is an event naming who asked.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter

from missionctl.api.deps import Context, Identity, P, requires
from missionctl.api.errors import BODY_RESPONSES, CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.domain.workers import WorkerCommand
from missionctl.schemas.health import WorkerDetail, WorkerRead, WorkerUpdate
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import workers as worker_service

router = APIRouter(route_class=GuardedRoute, tags=["workers"], responses=ERROR_RESPONSES)
WRITE_RESPONSES = {**CONFLICT_RESPONSES, **BODY_RESPONSES}
Controller = Annotated[Identity, requires(P.WORKERS_CONTROL)]


@router.get("/workers", response_model=list[WorkerRead], dependencies=[requires(P.AGENTS_READ)])
async def list_workers(ctx: Context) -> list[WorkerRead]:
    """The engines seen in the last day, newest start first, each with its status."""
    return await worker_service.list_workers(ctx)


@router.get(
    "/workers/{worker_id}",
    response_model=WorkerDetail,
    dependencies=[requires(P.AGENTS_READ)],
)
async def read_worker(ctx: Context, worker_id: uuid.UUID) -> WorkerDetail:
    """One engine, with the steps it held at its last heartbeat."""
    return await worker_service.read_worker(ctx, worker_id=worker_id)


@router.post("/workers/{worker_id}/drain", response_model=WorkerDetail, responses=WRITE_RESPONSES)
async def drain_worker(ctx: Context, who: Controller, worker_id: uuid.UUID) -> WorkerDetail:
    """Let the worker finish the steps it holds and claim no new ones (409: stopped or offline)."""
    return await _command(ctx, who, worker_id, WorkerCommand.drain)


@router.post("/workers/{worker_id}/resume", response_model=WorkerDetail, responses=WRITE_RESPONSES)
async def resume_worker(ctx: Context, who: Controller, worker_id: uuid.UUID) -> WorkerDetail:
    """Let a draining (or stopping, not yet exited) worker claim work again."""
    return await _command(ctx, who, worker_id, WorkerCommand.resume)


@router.post("/workers/{worker_id}/stop", response_model=WorkerDetail, responses=WRITE_RESPONSES)
async def stop_worker(ctx: Context, who: Controller, worker_id: uuid.UUID) -> WorkerDetail:
    """Drain the worker, then end it: a `missionctl worker` process exits 0 once drained.

    The server's own engine cannot end the server: it stops claiming until resumed.
    """
    return await _command(ctx, who, worker_id, WorkerCommand.stop)


@router.patch("/workers/{worker_id}", response_model=WorkerDetail, responses=WRITE_RESPONSES)
async def update_worker(
    ctx: Context, who: Controller, worker_id: uuid.UUID, body: WorkerUpdate
) -> WorkerDetail:
    """Change how many steps the worker runs at once (obeyed at its next heartbeat)."""
    return await worker_service.set_concurrency(
        ctx, worker_id=worker_id, concurrency=body.concurrency, actor=who.actor
    )


async def _command(
    ctx: Context, who: Identity, worker_id: uuid.UUID, command: WorkerCommand
) -> WorkerDetail:
    return await worker_service.command_worker(
        ctx, worker_id=worker_id, command=command, actor=who.actor
    )
