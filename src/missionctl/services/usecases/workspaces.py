"""Removing the step workspaces of runs that ended (``missionctl.agents.workspaces``).

An engine removes a run's workspaces when it hears that the run ended; :func:`sweep_workspaces`
(soon after the engine starts, every 30 s, and when it stops) catches the rest — runs ended by
another process (a cancel through the server while a separate worker ran the steps, an
emergency stop), while no engine ran here, or just before the engine was stopped — by asking
the database which of the runs that still have a directory have ended.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Collection, Coroutine
from typing import Any

from missionctl.agents.workspaces import Workspaces
from missionctl.repositories import runs as repo
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.reports import ENDED_STATUSES

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 30.0


def _idle(_run_id: uuid.UUID) -> bool:
    return False


def workspaces_of(ctx: ServiceContext) -> Workspaces:
    """The workspaces of this data directory, kept or not as the settings say."""
    settings = ctx.settings
    return Workspaces(settings.home / "workspaces", keep=settings.keep_workspaces)


async def ended_runs(ctx: ServiceContext, run_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``run_ids`` have ended (completed, failed, canceled or aborted)."""
    if not run_ids:
        return set()
    async with ctx.read() as session:
        return await repo.read_runs_in_status(session, run_ids=run_ids, statuses=ENDED_STATUSES)


async def sweep_workspaces(
    ctx: ServiceContext, workspaces: Workspaces, *, busy: Callable[[uuid.UUID], bool] = _idle
) -> int:
    """Remove the workspaces of every ended run, and finish removals cut short.

    ``busy(run_id)`` says whether a step of that run is running in the caller's engine: such a
    run is left alone (a failed run resumed meanwhile, or a canceled one still killing its
    program). Returns how many run directories were removed. Nothing happens with ``keep``.
    """
    if workspaces.keep:
        return 0
    ended = await ended_runs(ctx, workspaces.present_runs())
    # Checked and detached with no await in between: no step of these runs can start here
    # between the two (see the module docstring of ``agents.workspaces``).
    detached = workspaces.detach(run_id for run_id in ended if not busy(run_id))
    await asyncio.to_thread(workspaces.delete, detached + workspaces.leftovers())
    return len(detached)


async def remove_run_workspaces(
    ctx: ServiceContext,
    workspaces: Workspaces,
    run_id: uuid.UUID,
    *,
    busy: Callable[[uuid.UUID], bool] = _idle,
) -> bool:
    """Remove the workspaces of ``run_id`` if it has ended; whether they were removed.

    The run is looked up first: it may have been resumed since it was heard to end.
    """
    if workspaces.keep or run_id not in await ended_runs(ctx, [run_id]) or busy(run_id):
        return False
    detached = workspaces.detach([run_id])
    await asyncio.to_thread(workspaces.delete, detached)
    return bool(detached)


class WorkspaceCleaner:
    """An engine's removal of workspaces: when it hears a run end, and by a periodic sweep.

    Its work runs in tasks of its own, so the engine's loop never waits for a deletion;
    failures are logged, never raised (the next sweep tries again).
    """

    def __init__(self, ctx: ServiceContext, *, sweep_every_s: float = SWEEP_EVERY_S) -> None:
        """Clean the workspaces of ``ctx``'s data directory."""
        self.ctx = ctx
        self.workspaces = workspaces_of(ctx)
        self._sweep_every_s = sweep_every_s
        self._next_sweep = 0.0  # the first sweep is due at once
        self._tasks: set[asyncio.Task[None]] = set()

    def run_ended(
        self,
        run_id: uuid.UUID,
        running: Collection["asyncio.Task[None]"],
        busy: Callable[[uuid.UUID], bool],
    ) -> None:
        """Remove the run's workspaces once ``running`` (its steps' tasks here) are done."""
        if self.workspaces.keep:
            return

        async def remove() -> None:
            # A canceled step's program is killed before its task ends: wait, so nothing
            # writes into the directory while it is deleted.
            await asyncio.gather(*running, return_exceptions=True)
            await remove_run_workspaces(self.ctx, self.workspaces, run_id, busy=busy)

        self._spawn(remove(), f"removing the workspaces of run {run_id}")

    def sweep_when_due(self, busy: Callable[[uuid.UUID], bool]) -> None:
        """Start a sweep (:func:`sweep_workspaces`) if the last one is old enough."""
        if self.workspaces.keep or time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + self._sweep_every_s

        async def sweep() -> None:
            await sweep_workspaces(self.ctx, self.workspaces, busy=busy)

        self._spawn(sweep(), "sweeping the workspaces of ended runs")

    async def close(self) -> None:
        """Wait for the removals under way, then sweep once more (call it with no step running).

        The last sweep catches a run whose end the engine was stopped too soon to hear (a
        command that stops its engine as soon as it sees the run end).
        """
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.workspaces.keep:
            return
        try:
            await sweep_workspaces(self.ctx, self.workspaces)
        except Exception:
            log.exception("sweeping the workspaces of ended runs failed; the next engine retries")

    def _spawn(self, work: Coroutine[Any, Any, None], what: str) -> None:
        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("%s failed; the next sweep tries again", what)

        task = asyncio.create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


__all__ = [
    "WorkspaceCleaner",
    "ended_runs",
    "remove_run_workspaces",
    "sweep_workspaces",
    "workspaces_of",
]
