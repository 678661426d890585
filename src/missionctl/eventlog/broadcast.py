"""In-process fan-out of committed events to live subscribers (SSE streams, the engine).

The database stays the source of truth: a subscriber that falls behind is marked ``lagged`` and
dropped rather than allowed to grow memory without bound; it then catches up from the log by
``seq`` (``read_events``) and subscribes again. ``publish`` never blocks and never raises.
"""

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from missionctl.eventlog.store import EventRecord


class Subscription:
    """One subscriber's queue of committed events, in ``seq`` order."""

    def __init__(self, max_pending: int) -> None:
        self.queue: asyncio.Queue[EventRecord] = asyncio.Queue(maxsize=max_pending)
        self.lagged = False

    async def get(self) -> "EventRecord":
        """Wait for the next event."""
        return await self.queue.get()


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
        for subscription in list(self._subscriptions):
            for record in events:
                try:
                    subscription.queue.put_nowait(record)
                except asyncio.QueueFull:
                    subscription.lagged = True
                    self._subscriptions.discard(subscription)
                    break

    @property
    def subscriber_count(self) -> int:
        """How many subscribers are attached now."""
        return len(self._subscriptions)
