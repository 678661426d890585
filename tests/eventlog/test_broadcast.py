"""The broadcaster: every subscriber gets each published batch in order, or is marked lagged."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from missionctl.eventlog import Broadcaster, EventRecord


def _records(first: int, count: int) -> list[EventRecord]:
    return [
        EventRecord(
            seq=seq,
            ts=datetime(2026, 11, 21, tzinfo=UTC),
            type="test.happened",
            actor="system",
            mission_id=None,
            run_id=uuid.uuid4(),
            step_id=None,
            payload={"n": seq},
            prev_hash="0" * 64,
            hash=f"{seq:064x}",
        )
        for seq in range(first, first + count)
    ]


async def test_every_subscriber_gets_every_batch_in_order() -> None:
    broadcaster = Broadcaster()
    async with broadcaster.subscribe() as one, broadcaster.subscribe() as two:
        assert one.empty() and one.drain() == []
        broadcaster.publish(_records(1, 3))
        broadcaster.publish([])
        broadcaster.publish(_records(4, 2))
        assert [r.seq for r in await one.get_many()] == [1, 2, 3, 4, 5]
        assert [(await two.get()).seq for _ in range(2)] == [1, 2]
        assert [r.seq for r in two.drain()] == [3, 4, 5]
        assert one.empty() and two.empty()
    assert broadcaster.subscriber_count == 0


async def test_a_waiting_subscriber_wakes_on_publish() -> None:
    broadcaster = Broadcaster()
    async with broadcaster.subscribe() as subscription:
        waiting = asyncio.create_task(subscription.get_many())
        await asyncio.sleep(0)
        assert not waiting.done()
        broadcaster.publish(_records(1, 2))
        assert [r.seq for r in await asyncio.wait_for(waiting, 5)] == [1, 2]


async def test_a_cancelled_wait_loses_nothing() -> None:
    broadcaster = Broadcaster()
    async with broadcaster.subscribe() as subscription:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(subscription.get(), timeout=0.01)
        broadcaster.publish(_records(1, 1))
        assert (await asyncio.wait_for(subscription.get(), 5)).seq == 1


async def test_a_subscriber_that_falls_behind_is_marked_lagged_and_dropped() -> None:
    broadcaster = Broadcaster(max_pending=3)
    async with broadcaster.subscribe() as slow, broadcaster.subscribe() as fast:
        broadcaster.publish(_records(1, 2))
        assert [r.seq for r in fast.drain()] == [1, 2]
        broadcaster.publish(_records(3, 2))  # slow now holds 4 > 3: it lags
        assert slow.lagged and not fast.lagged
        assert broadcaster.subscriber_count == 1
        # What fitted is still delivered, in order; it catches up from the log afterwards.
        assert [r.seq for r in slow.drain()] == [1, 2, 3]
        broadcaster.publish(_records(5, 1))
        assert slow.empty()
        assert [r.seq for r in fast.drain()] == [3, 4, 5]


async def test_a_timed_wait_gives_what_came_or_nothing_and_loses_nothing() -> None:
    broadcaster = Broadcaster()
    async with broadcaster.subscribe() as subscription:
        assert await subscription.get_many_within(0.01) == []
        broadcaster.publish(_records(1, 2))
        assert [r.seq for r in await subscription.get_many_within(5)] == [1, 2]


@pytest.mark.parametrize("settle", [0, 1, 2, 3])
async def test_cancelling_a_timed_wait_as_a_batch_arrives_always_cancels_it(settle: int) -> None:
    """Ctrl-C on a follower lands as events arrive: the follower must stop, whatever the order.

    ``settle`` lets the loop run that many rounds between the batch and the cancellation, to
    meet the waiter at each point it can be in.
    """
    broadcaster = Broadcaster()
    async with broadcaster.subscribe() as subscription:
        waiting = asyncio.create_task(subscription.get_many_within(30))
        await asyncio.sleep(0)
        broadcaster.publish(_records(1, 1))
        for _ in range(settle):
            await asyncio.sleep(0)
        if waiting.cancel():  # still waiting: it must end cancelled, the batch left for later
            with pytest.raises(asyncio.CancelledError):
                await waiting
            assert [r.seq for r in subscription.drain()] == [1]
        else:  # it had already ended, with the batch
            assert [r.seq for r in waiting.result()] == [1]
