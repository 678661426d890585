"""In-process fan-out of committed events to live subscribers (SSE streams, the engine).

The database stays the source of truth: a subscriber that falls behind is marked ``lagged`` and
dropped rather than allowed to grow memory without bound; it then catches up from the log by
``seq`` (``read_events``) and subscribes again. ``publish`` never blocks and never raises; it
counts the events it is handed (``missionctl_events_appended_total``): every committed append
of this process passes through it.
"""

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from missionctl.eventlog.metrics import EVENTS_APPENDED

if TYPE_CHECKING:
    from missionctl.eventlog.store import EventRecord


class Subscription:
    """One subscriber's pending committed events, in ``seq`` order.

    A deque and one wake-up per published batch rather than an ``asyncio.Queue``: the engine
    publishes thousands of events a second, and a queue's per-item bookkeeping (and a wake-up
    per item) cost more than the subscribers' own work on them.
    """

    def __init__(self, max_pending: int) -> None:
        self.max_pending = max_pending
        self.lagged = False
        self._pending: deque[EventRecord] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def empty(self) -> bool:
        """Whether no event is waiting to be taken."""
        return not self._pending

    async def get(self) -> "EventRecord":
        """Wait for the next event."""
        while not self._pending:
            await self._wait()
        return self._pending.popleft()

    async def get_many(self) -> "list[EventRecord]":
        """Wait for at least one event; take every event waiting."""
        while not self._pending:
            await self._wait()
        return self.drain()

    async def get_many_within(self, timeout_s: float) -> "list[EventRecord]":
        """Wait up to ``timeout_s`` for at least one event; take every event waiting (maybe none).

        Cancelling the caller always cancels it. ``asyncio.wait_for`` around ``get_many`` did
        not on Python 3.11: a cancellation (Ctrl-C) that met an arriving batch was swallowed,
        and a follower went on following after it was told to stop.
        """
        try:
            async with asyncio.timeout(timeout_s):
                while not self._pending:
                    await self._wait()
        except TimeoutError:
            pass
        return self.drain()

    def drain(self) -> "list[EventRecord]":
        """Take every event waiting, without waiting (possibly none)."""
        records = list(self._pending)
        self._pending.clear()
        return records

    async def _wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _offer(self, events: "Sequence[EventRecord]") -> bool:
        """Take what fits of ``events``; ``False`` when they did not all fit (lagged)."""
        room = self.max_pending - len(self._pending)
        fits = len(events) <= room
        self._pending.extend(events if fits else events[: max(0, room)])
        if self._pending and self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        return fits


class Broadcaster:
    """Publishes batches of committed events to every current subscriber."""

    def __init__(self, max_pending: int = 10_000) -> None:
        self._max_pending = max_pending
        self._subscriptions: set[Subscription] = set()

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        """Receive every event published while the block runs; unsubscribes on exit."""
        subscription = Subscription(self._max_pending)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    def publish(self, events: Sequence["EventRecord"]) -> None:
        """Hand committed ``events`` to every subscriber; call only after the commit succeeded."""
        if not events:
            return
        EVENTS_APPENDED.inc(len(events))
        for subscription in list(self._subscriptions):
            if not subscription._offer(events):
                subscription.lagged = True
                self._subscriptions.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        """How many subscribers are attached now."""
        return len(self._subscriptions)
