"""An engine's row in the registry of workers: registered at start, heartbeating, stopped.

``Presence.run`` is a task of its own beside the engine's loop, so the loop never waits for a
heartbeat: it costs one short write every ``domain.workers.heartbeat_interval`` seconds. A
failed write is logged and tried again at the next beat; a worker whose row went missing or was
marked stopped registers again. Only a clean stop (the engine's ``stop`` event) marks the row
stopped; an engine that dies simply stops heartbeating, and stops counting as alive after
``domain.workers.ALIVE_S``.
"""

import asyncio
import contextlib
import logging
import uuid

from missionctl.domain.workers import WorkerKind
from missionctl.services import ServiceContext
from missionctl.services import workers as worker_service

log = logging.getLogger(__name__)


class Presence:
    """Keeps one engine's row in the registry of workers."""

    def __init__(
        self,
        ctx: ServiceContext,
        *,
        name: str,
        kind: WorkerKind,
        concurrency: int,
        interval_s: float,
    ) -> None:
        """Nothing is written until ``run``."""
        self.ctx = ctx
        self.name = name
        self.kind = kind
        self.concurrency = concurrency
        self.interval_s = interval_s
        self.worker_id: uuid.UUID | None = None
        self._failing = False

    async def run(self, stop: asyncio.Event) -> None:
        """Register, heartbeat until ``stop`` is set, then mark the worker stopped."""
        while not stop.is_set():
            await self._beat()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval_s):
                    await stop.wait()
        if self.worker_id is not None:
            try:
                await worker_service.mark_stopped(self.ctx, worker_id=self.worker_id)
            except Exception:
                log.exception("could not record that worker %s stopped", self.name)

    async def _beat(self) -> None:
        try:
            if self.worker_id is None or not await worker_service.heartbeat(
                self.ctx, worker_id=self.worker_id
            ):
                self.worker_id = await worker_service.register_worker(
                    self.ctx, name=self.name, kind=self.kind, concurrency=self.concurrency
                )
        except Exception:
            if not self._failing:  # once per streak of failures, not every few seconds
                log.exception("worker %s could not heartbeat; will retry", self.name)
            self._failing = True
        else:
            self._failing = False
