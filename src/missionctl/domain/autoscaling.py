"""How a worker that scales itself picks how many steps to run at once (ADR 0115).

A worker given a range (``Autoscale``: at least ``minimum``, at most ``maximum`` steps at once)
is re-sized at each heartbeat from the queue every worker takes from (``QueueFigures``):

- **Up, at once**, when the queue holds more than its free slots take: enough slots for the
  steps it runs plus its share of the queue (the queue split evenly across the live workers);
  twice its size when a ready step has waited ``WAIT_UP_S`` or more (the queue is not
  draining, so waiting for its share is too slow).
- **Down, slowly**, when nothing is queued and its size last changed ``COOL_DOWN_S`` or more
  ago: halved, never below the steps it runs. So a burst does not make it shrink and grow
  every few seconds.

Always within the range. Pure: the caller reads the figures and records the decision.
"""

import math
from dataclasses import dataclass
from typing import Final

WAIT_UP_S: Final = 10.0
"""A ready step that has waited this long: the queue is not draining; grow by doubling."""
COOL_DOWN_S: Final = 60.0
"""Seconds an empty queue must follow the last change before a worker shrinks."""


@dataclass(frozen=True, slots=True)
class Autoscale:
    """The range a worker sizes itself within: ``1 <= minimum <= maximum``."""

    minimum: int
    maximum: int

    def clamp(self, concurrency: int) -> int:
        """``concurrency`` moved into the range."""
        return max(self.minimum, min(self.maximum, concurrency))


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """The queue every worker takes from, as one heartbeat reads it.

    Attributes:
        queued: steps ready to be claimed now (not held by a cap, not waiting for a retry).
        oldest_wait_s: how long the longest-waiting of them has waited; 0 when none is.
        workers: live workers taking from the queue (at least 1: the one asking).
        capped: ``queued`` is where the count stopped: at least that many are ready.
    """

    queued: int
    oldest_wait_s: float
    workers: int
    capped: bool = False


@dataclass(frozen=True, slots=True)
class Resize:
    """A new size and why, for the worker's row and its ``worker.autoscaled`` event."""

    concurrency: int
    reason: str


def resize(
    policy: Autoscale,
    *,
    concurrency: int,
    running: int,
    queue: QueueFigures,
    since_change_s: float,
) -> Resize | None:
    """The size a worker running ``running`` of ``concurrency`` slots should take, or ``None``.

    ``since_change_s``: seconds since its size last changed (or since it began to scale
    itself). ``None`` when the size stays.
    """
    inside = policy.clamp(concurrency)
    share = math.ceil(queue.queued / max(1, queue.workers))
    if queue.queued > 0 and share > inside - running:  # more than its free slots take
        wanted = running + share
        if queue.oldest_wait_s >= WAIT_UP_S:
            wanted = max(wanted, inside * 2)
        wanted = max(inside, wanted)
    elif queue.queued == 0 and since_change_s >= COOL_DOWN_S:
        # Halve, never below what it runs, and never grow: it may run more than its range
        # allows (its range was just narrowed).
        wanted = min(inside, max(running, math.ceil(inside / 2)))
    else:
        wanted = inside
    target = policy.clamp(wanted)
    if target == concurrency:
        return None
    return Resize(target, _reason(concurrency, target, running=running, queue=queue, policy=policy))


def _reason(
    before: int, after: int, *, running: int, queue: QueueFigures, policy: Autoscale
) -> str:
    """One sentence: the figures that moved it, and the range."""
    bounds = f"range {policy.minimum} to {policy.maximum}"
    if not policy.minimum <= before <= policy.maximum:
        return f"{before} → {after} steps at once: brought within its {bounds}"
    if after > before:
        workers = "worker" if queue.workers == 1 else "workers"
        queued = f"{queue.queued}+" if queue.capped else str(queue.queued)
        return (
            f"{before} → {after} steps at once: {queued} queued (the oldest waiting "
            f"{queue.oldest_wait_s:.0f} s) for {queue.workers} {workers}, {running} running; "
            f"{bounds}"
        )
    return f"{before} → {after} steps at once: nothing queued, {running} running; {bounds}"
