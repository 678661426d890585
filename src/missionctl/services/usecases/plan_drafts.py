"""Recording the draft of a plan as the model writes it: ``plan.drafted`` events.

The planner tells a :class:`DraftRecorder` each phase and task the model has written whole
(:mod:`missionctl.planning.drafts`) while its reply streams in. The recorder appends them to
the event log in the background, in small transactions of their own: never the planning's,
and never while the planner waits on it, so a slow write holds up no chunk of the model's
reply, and no write lock is held across the model call. Whatever the notes queue up while a
transaction runs goes in the next one (one event per note, a few notes per transaction at
most), so a burst of small chunks costs a few transactions, not one per chunk.

Drafts are a preview: a note that cannot be recorded (the database unavailable for a moment)
is dropped with a log line, and the planning goes on. :meth:`DraftRecorder.close` waits for
what is queued, so every ``plan.drafted`` of a planning comes before the event that ends it
(``plan.created`` / ``mission.planned``, ``plan.rejected`` or the questions).
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator

from missionctl.domain.events import PLAN_DRAFTED
from missionctl.eventlog import NewEvent, append
from missionctl.planning.drafts import DraftNote
from missionctl.services.runtime.context import ServiceContext

__all__ = ["DraftRecorder", "drafting"]

log = logging.getLogger("missionctl.planning")

MAX_NOTES = 200
"""The most notes one planning records: every phase and task of each of its replies fits (a
plan has at most 30 of them, a planning at most a few replies); past it notes are dropped."""

CLOSE_WAIT_S = 10.0
"""The longest :meth:`DraftRecorder.close` waits for queued notes before dropping them."""


class DraftRecorder:
    """The sink of one planning's draft notes, appending each as a ``plan.drafted`` event.

    Call it from the event loop that runs the planning (it is a plain function: it queues the
    note and returns). Every note is recorded for ``mission_id`` as ``actor``.
    """

    def __init__(self, ctx: ServiceContext, *, mission_id: uuid.UUID, actor: str) -> None:
        self._ctx = ctx
        self._mission_id = mission_id
        self._actor = actor
        self._queue: list[DraftNote] = []
        self._ready = asyncio.Event()
        self._closing = False
        self._taken = 0
        self._task: asyncio.Task[None] | None = None

    def __call__(self, note: DraftNote) -> None:
        """Queue ``note`` for recording; returns at once and never raises."""
        if self._closing or self._taken >= MAX_NOTES:
            return
        self._taken += 1
        self._queue.append(note)
        self._ready.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._record())

    async def close(self) -> None:
        """Record what is queued (for at most :data:`CLOSE_WAIT_S`), then stop.

        Safe to call more than once, and when nothing was ever queued.
        """
        self._closing = True
        self._ready.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), CLOSE_WAIT_S)
        except TimeoutError:
            log.warning("plan drafts of mission %s not recorded in time", self._mission_id)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def abandon(self) -> None:
        """Stop at once, recording nothing more (the planning was cancelled)."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()

    async def _record(self) -> None:
        """Append the queued notes, a batch per transaction, until closed and empty."""
        while True:
            await self._ready.wait()
            self._ready.clear()
            batch, self._queue = self._queue, []
            if batch:
                await self._append(batch)
            if self._closing and not self._queue:
                return

    async def _append(self, batch: list[DraftNote]) -> None:
        """One transaction appending ``batch``; a failure drops it (drafts are a preview)."""
        events = [
            NewEvent(
                type=PLAN_DRAFTED,
                actor=self._actor,
                mission_id=self._mission_id,
                payload=note.payload(),
            )
            for note in batch
        ]
        try:
            async with self._ctx.write() as session:
                await append(session, events)
        except Exception:  # a preview lost is no reason to stop the planning
            log.warning(
                "%d plan draft(s) of mission %s not recorded",
                len(batch),
                self._mission_id,
                exc_info=True,
            )


@contextlib.asynccontextmanager
async def drafting(
    ctx: ServiceContext, *, mission_id: uuid.UUID, actor: str
) -> AsyncIterator[DraftRecorder]:
    """A recorder for the block's planning; its notes are recorded when the block ends.

    On any exit but cancellation the block's notes are all appended (:meth:`close`) before
    the block's exception, if any, goes on; a cancelled block's are abandoned.
    """
    recorder = DraftRecorder(ctx, mission_id=mission_id, actor=actor)
    try:
        yield recorder
    except asyncio.CancelledError:
        recorder.abandon()
        raise
    except BaseException:
        await recorder.close()
        raise
    await recorder.close()
