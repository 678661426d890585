"""The queue in which one event loop's writers wait for SQLite's write lock (ADR 0037)."""

import asyncio
import time
from collections import deque


class WriteTurns:
    """First come, first served turns to write, for the tasks of one event loop.

    SQLite's own wait for its write lock is a busy handler that polls with growing sleeps: a
    connection that has waited a while sleeps longest, and writers that came later take the
    lock before it, so in a burst of requests some wait past the busy timeout and fail. Here
    the loop's writers queue instead, and each asks for the lock when its turn comes.

    A writer waits as long as the queue moves. It gives up (``take`` returns ``False``) only
    when one holder has kept the turn for longer than the writer's patience, which is what
    SQLite's busy timeout bounds too; it then asks SQLite for the lock directly.
    """

    def __init__(self) -> None:
        """No holder, no one waiting."""
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._held = False
        self._holder = 0  # counts the turns given, so a waiter can tell a new holder from an old
        self._since = 0.0  # when the current holder got the turn (monotonic)

    async def take(self, patience_s: float) -> bool:
        """Wait for the turn; whether it was given (``False``: one holder kept it too long)."""
        if not self._held and not self._waiting:
            self._give()
            return True
        ticket: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(ticket)
        try:
            while True:
                holder, since = self._holder, self._since
                left = since + patience_s - time.monotonic()
                await asyncio.wait({ticket}, timeout=max(left, 0.0))
                if ticket.done():
                    return True
                if holder == self._holder:
                    self._waiting.remove(ticket)
                    return False
        except BaseException:
            self._leave(ticket)
            raise

    def give_back(self) -> None:
        """End the holder's turn; the writer waiting longest gets it."""
        self._held = False
        while self._waiting:
            ticket = self._waiting.popleft()
            if not ticket.done():
                self._give()
                ticket.set_result(None)
                return

    def _give(self) -> None:
        self._held = True
        self._holder += 1
        self._since = time.monotonic()

    def _leave(self, ticket: "asyncio.Future[None]") -> None:
        """A waiter was cancelled: pass the turn on if it had just been given to it."""
        if ticket.done() and not ticket.cancelled():
            self.give_back()
        elif ticket in self._waiting:
            self._waiting.remove(ticket)
            ticket.cancel()
