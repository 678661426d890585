"""Blocking write transactions: on the writer thread, or inline on the loop if that never waits."""

import asyncio
import threading
from collections.abc import Callable

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from missionctl.db.models import EventLogHead, Mission
from missionctl.eventlog import NewEvent, append_sync
from missionctl.services import ServiceContext

LOOP_THREAD = threading.current_thread().name


def _add_mission(title: str) -> Callable[[Session], str]:
    def work(session: Session) -> str:
        session.add(
            Mission(title=title, goal=f"goal of {title}", status="draft", created_by="user:test")
        )
        append_sync(session, [NewEvent(type="test.written", actor="system", payload={"t": title})])
        return threading.current_thread().name

    return work


async def _titles(ctx: ServiceContext) -> list[str]:
    async with ctx.read() as session:
        return list((await session.scalars(select(Mission.title).order_by(Mission.title))).all())


async def test_inline_work_runs_on_the_loop_when_the_writer_is_idle(ctx: ServiceContext) -> None:
    async with ctx.broadcaster.subscribe() as events:
        where = await ctx.write_blocking(_add_mission("inline"), inline=True)
        published = await asyncio.wait_for(events.get(), 5)
    threaded = await ctx.write_blocking(_add_mission("threaded"))
    assert threaded == "missionctl-writer"
    # SQLite writes inline; PostgreSQL's statements are network round trips: always the thread.
    assert where == (LOOP_THREAD if ctx.db.dialect == "sqlite" else "missionctl-writer")
    assert published.type == "test.written" and published.payload == {"t": "inline"}
    assert await _titles(ctx) == ["inline", "threaded"]


async def test_inline_work_waits_on_the_thread_while_another_connection_writes(
    ctx: ServiceContext,
) -> None:
    """The loop must not wait for a lock that only the loop itself can release."""
    holding = asyncio.Event()
    release = asyncio.Event()

    async def other_writer() -> None:
        async with ctx.db.write() as session:  # the async engine: another connection
            # SQLite: the write lock (BEGIN IMMEDIATE); PostgreSQL: the chain head's row lock.
            await session.execute(select(EventLogHead.last_seq).with_for_update())
            holding.set()
            await release.wait()
            session.add(Mission(title="first", goal="goal", status="draft", created_by="user:test"))

    holder = asyncio.create_task(other_writer())
    await holding.wait()
    pending = asyncio.create_task(ctx.write_blocking(_add_mission("second"), inline=True))
    await asyncio.sleep(0.05)
    assert not pending.done()  # waiting for the lock, and the loop still runs
    release.set()
    await holder
    assert await asyncio.wait_for(pending, 5) == "missionctl-writer"
    assert await _titles(ctx) == ["first", "second"]


async def test_inline_work_queues_behind_work_already_on_the_thread(ctx: ServiceContext) -> None:
    started = threading.Event()
    release = threading.Event()

    def slow(session: Session) -> str:
        started.set()
        release.wait(5)
        session.execute(text("SELECT 1"))
        return _add_mission("slow")(session)

    first = asyncio.create_task(ctx.write_blocking(slow))
    await asyncio.to_thread(started.wait, 5)
    second = asyncio.create_task(ctx.write_blocking(_add_mission("then inline"), inline=True))
    await asyncio.sleep(0.02)
    assert not second.done()
    release.set()
    assert await first == "missionctl-writer"
    assert await second == "missionctl-writer"  # the writer was busy: it went in order
    assert await _titles(ctx) == ["slow", "then inline"]
