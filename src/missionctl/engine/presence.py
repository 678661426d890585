"""An engine's row in the registry of workers: registered, heartbeating, obeying, stopped.

``Presence.run`` is a task of its own beside the engine's loop, so the loop never waits for a
heartbeat: it costs one short write every ``domain.workers.heartbeat_interval`` seconds. Each
heartbeat writes what the engine reports (``report``: its state, concurrency, held steps and
utilisation) and hands what the row asks of it back to the engine (``obey``); when obeying
changed something, a second heartbeat says so at once. After each heartbeat it sweeps for
workers gone offline (``services.usecases.workers.report_offline_workers``), so any live engine
notices a dead one. A failed write is logged and tried again at the next beat; a worker whose row
went missing, was marked stopped, or was reported offline registers again. Only a clean stop (the
engine's ``stop`` event) marks the row stopped; an engine that dies simply stops heartbeating.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from missionctl.db.faults import OutageLog, database_fault
from missionctl.db.types import utcnow
from missionctl.domain.autoscaling import Autoscale
from missionctl.domain.workers import DesiredState, HeartbeatReport, Orders, WorkerKind
from missionctl.services import ServiceContext
from missionctl.services.usecases import workers as worker_service

log = logging.getLogger(__name__)

Report = Callable[[], HeartbeatReport]
Obey = Callable[[Orders], bool]  # True: what the engine does changed


class Presence:
    """Keeps one engine's row in the registry of workers, and hands it the row's orders."""

    def __init__(
        self,
        ctx: ServiceContext,
        *,
        name: str,
        kind: WorkerKind,
        concurrency: int,
        interval_s: float,
        capabilities: Sequence[str] = (),
        autoscale: Autoscale | None = None,
        report: Report | None = None,
        obey: Obey | None = None,
    ) -> None:
        """Nothing is written until ``run``; ``autoscale`` is the range each row it registers has.

        ``clock`` (an attribute, ``utcnow`` by default) dates the heartbeats and the sweeps;
        tests move it forward instead of sleeping.
        """
        self.ctx = ctx
        self.name = name
        self.kind = kind
        self.concurrency = concurrency
        self.interval_s = interval_s
        self.capabilities = tuple(capabilities)
        self.autoscale = autoscale
        self.clock: Callable[[], datetime] = utcnow
        self.worker_id: uuid.UUID | None = None
        self._report = report
        self._obey = obey
        self._failing = False
        self._sweep_failing = False
        self._outages = OutageLog(log, "heartbeats and sweeps failed")

    async def run(self, stop: asyncio.Event) -> None:
        """Register, heartbeat and sweep until ``stop`` is set, then mark the worker stopped."""
        while not stop.is_set():
            await self._beat()
            await self._sweep()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval_s):
                    await stop.wait()
        if self.worker_id is not None:
            try:
                await worker_service.mark_stopped(self.ctx, worker_id=self.worker_id)
            except Exception as failure:
                if database_fault(failure) is None:
                    log.exception("could not record that worker %s stopped", self.name)
                else:  # it goes offline by its silence instead
                    log.warning(
                        "could not record that worker %s stopped: the database is unavailable",
                        self.name,
                    )

    async def _beat(self) -> None:
        try:
            orders = await self._write()
            if self._obey is not None and self._obey(orders):
                await self._write()  # say what changed now, not a heartbeat later
        except Exception as failure:
            if database_fault(failure) is not None:  # an outage: one quiet line per cause
                self._outages.failed(failure, f"worker {self.name} heartbeat")
            elif not self._failing:  # once per streak of failures, not every few seconds
                log.exception("worker %s could not heartbeat; will retry", self.name)
            self._failing = True
        else:
            self._failing = False
            if self._outages.active:
                self._outages.ended()

    async def _write(self) -> Orders:
        """One heartbeat (registering first when needed); the row's orders."""
        report = self._report() if self._report is not None else None
        if self.worker_id is not None:
            orders = await worker_service.heartbeat(
                self.ctx, worker_id=self.worker_id, report=report, now=self.clock()
            )
            if orders is not None:
                return orders
        self.worker_id = await worker_service.register_worker(
            self.ctx,
            name=self.name,
            kind=self.kind,
            concurrency=report.concurrency if report is not None else self.concurrency,
            capabilities=self.capabilities,
            autoscale=self.autoscale,
            now=self.clock(),
        )
        # A new row asks nothing: whatever the old one asked stays with the old one.
        return Orders(desired_state=DesiredState.run, desired_concurrency=None)

    async def _sweep(self) -> None:
        try:
            await worker_service.report_offline_workers(self.ctx, now=self.clock())
        except Exception as failure:
            if database_fault(failure) is not None:
                self._outages.failed(failure, f"worker {self.name} sweep")
            elif not self._sweep_failing:
                log.exception("worker %s could not sweep for offline workers", self.name)
            self._sweep_failing = True
        else:
            self._sweep_failing = False
