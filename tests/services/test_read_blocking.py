"""Blocking reads (ADR 0112): one snapshot, read in a thread while the event loop goes on."""

import asyncio
import threading
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from missionctl.db.models import Mission
from missionctl.services import ServiceContext


async def _add(ctx: ServiceContext, title: str) -> None:
    async with ctx.write() as session:
        session.add(Mission(title=title, goal="a goal", status="draft", created_by="user:test"))


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Mission)) or 0)


async def test_a_blocking_read_leaves_the_loop_free_and_sees_one_snapshot(
    ctx: ServiceContext,
) -> None:
    await _add(ctx, "before")
    started, release = threading.Event(), threading.Event()

    def slow_read(session: Session) -> tuple[int, int, str]:
        first = _count(session)
        started.set()
        release.wait(10)  # a write commits meanwhile
        return first, _count(session), threading.current_thread().name

    reading = asyncio.create_task(ctx.read_blocking(slow_read))
    assert await asyncio.to_thread(started.wait, 10)  # the loop goes on while the read waits
    await _add(ctx, "during")
    release.set()
    first, again, thread = await reading
    assert (first, again) == (1, 1)  # the read's one snapshot: the write is not in it
    assert thread != threading.current_thread().name
    assert await ctx.read_blocking(_count) == 2


async def test_blocking_reads_side_by_side_do_not_wait_for_each_other(
    ctx: ServiceContext,
) -> None:
    def nap(session: Session) -> int:
        time.sleep(0.3)
        return _count(session)

    began = time.perf_counter()
    assert await asyncio.gather(*(ctx.read_blocking(nap) for _ in range(3))) == [0, 0, 0]
    assert time.perf_counter() - began < 0.8  # three 0.3 s reads, not one after another
