"""SQLite's writers of one event loop take turns, first come first served (ADR 0037)."""

import asyncio

from missionctl.db.turns import WriteTurns


async def test_writers_get_their_turn_in_the_order_they_asked() -> None:
    turns = WriteTurns()
    order: list[int] = []

    async def writer(n: int) -> None:
        assert await turns.take(5.0)
        order.append(n)
        await asyncio.sleep(0)  # holds the turn across an await, as a transaction does
        turns.give_back()

    assert await turns.take(5.0)
    tasks = [asyncio.create_task(writer(n)) for n in range(5)]
    await asyncio.sleep(0.01)
    assert order == []  # all wait for the first holder
    turns.give_back()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]


async def test_a_writer_waits_as_long_as_the_queue_moves() -> None:
    """Ten holders of 20 ms each: the last waits 200 ms, beyond its 50 ms of patience."""
    turns = WriteTurns()

    async def holder() -> None:
        assert await turns.take(0.05)
        await asyncio.sleep(0.02)
        turns.give_back()

    holders = [asyncio.create_task(holder()) for _ in range(10)]
    await asyncio.sleep(0)
    assert await turns.take(0.05)
    turns.give_back()
    await asyncio.gather(*holders)


async def test_a_writer_gives_up_on_a_holder_that_keeps_the_turn() -> None:
    turns = WriteTurns()
    assert await turns.take(1.0)
    assert not await turns.take(0.05)  # the caller then asks SQLite, whose busy timeout applies
    turns.give_back()
    assert await turns.take(0.05)  # the queue is free again
    turns.give_back()


async def test_a_cancelled_waiter_passes_its_turn_on() -> None:
    turns = WriteTurns()
    assert await turns.take(5.0)
    cancelled = asyncio.create_task(turns.take(5.0))
    after = asyncio.create_task(turns.take(5.0))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    turns.give_back()
    assert await asyncio.wait_for(after, 1)
    turns.give_back()
    assert await turns.take(0.01)
