"""Reads shared by the viewers of a page: one read for callers it is new enough for, never older."""

import asyncio
import contextlib
import re
from typing import Any

import pytest

from missionctl.services.usecases import dashboard
from missionctl.web.page_reads import PageReads
from tests.web.conftest import LiveApp
from tests.web.support import HTMX, Inbox, Message, shown_parts, start_steps, wait_for_run


class _Counter:
    """A read that counts its calls, answers its call number, and waits for ``release``."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()

    async def __call__(self) -> int:
        self.calls += 1
        number = self.calls
        await self.release.wait()
        return number


async def test_callers_who_know_the_same_events_share_one_read() -> None:
    reads, read = PageReads(), _Counter()
    first = asyncio.create_task(reads.read("mission", read, seen=7))
    await asyncio.sleep(0)
    second = asyncio.create_task(reads.read("mission", read, seen=7))
    older = asyncio.create_task(reads.read("mission", read, seen=3))
    await asyncio.sleep(0)
    read.release.set()
    assert await asyncio.gather(first, second, older) == [1, 1, 1]
    assert read.calls == 1
    # Finished, it still serves a caller whose event it covered.
    assert await reads.read("mission", read, seen=7) == 1


async def test_a_caller_who_knows_a_newer_event_than_a_read_gets_a_new_read() -> None:
    reads, read = PageReads(), _Counter()
    first = asyncio.create_task(reads.read("run", read, seen=7))
    await asyncio.sleep(0)
    newer = asyncio.create_task(reads.read("run", read, seen=8))
    await asyncio.sleep(0)
    read.release.set()
    assert await asyncio.gather(first, newer) == [1, 2]
    # A read started after event 8 was reported covers it, for any key that asks later.
    assert await reads.read("run", read, seen=8) == 2
    assert await reads.read("other", read, seen=0) == 3


async def test_a_caller_that_leaves_does_not_cut_the_read_short_for_the_others() -> None:
    reads, read = PageReads(), _Counter()
    leaving = asyncio.create_task(reads.read("mission", read, seen=1))
    staying = asyncio.create_task(reads.read("mission", read, seen=1))
    await asyncio.sleep(0)
    leaving.cancel()
    read.release.set()
    assert await staying == 1
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_a_failed_read_fails_every_caller_sharing_it_and_is_not_reused() -> None:
    reads = PageReads()
    calls = 0

    async def failing() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        if calls == 1:
            raise LookupError("no such mission")
        return calls

    both = [asyncio.create_task(reads.read("m", failing, seen=1)) for _ in range(2)]
    outcomes = await asyncio.gather(*both, return_exceptions=True)
    assert [type(o) for o in outcomes] == [LookupError, LookupError]
    assert await reads.read("m", failing, seen=1) == 2


async def test_viewers_of_one_run_page_share_its_state_reads(
    live_app: LiveApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four streams of one run's page while its steps change it: they read its state together."""
    ctx = live_app.ctx
    reads = 0
    read_run_view = dashboard.read_run_view

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        return await read_run_view(*args, **kwargs)

    monkeypatch.setattr(dashboard, "read_run_view", counted)
    steps: list[dict[str, Any]] = [
        {"id": f"s{i}", "agent": "builtin:sleep", "inputs": {"seconds": 0.3}} for i in range(6)
    ]
    for i in range(1, 6):
        steps[i]["depends_on"] = [f"s{i - 1}"]
    run = await start_steps(ctx, None, steps)
    url = f"/runs/{run.id}/stream"
    async with contextlib.AsyncExitStack() as stack:
        inboxes = []
        for _ in range(4):
            response = await stack.enter_async_context(
                live_app.http.stream("GET", url, headers=HTMX)
            )
            inboxes.append(await stack.enter_async_context(Inbox(response)))
        await wait_for_run(ctx, run.id)
        received = [await _received(inbox) for inbox in inboxes]
    # Every viewer ends on the finished run's state...
    shown = [shown_parts(r).get("#run-status", "") for r in received]
    assert all("badge--completed" in s for s in shown), shown
    states = [[m for m in r if STATE_PART.search(m.text)] for r in received]
    # ...and the reads behind the states the four streams sent (and their first ones) were
    # shared: each stream reading for itself would make at least one read per state sent.
    sent = sum(len(s) for s in states) + len(states)
    assert reads <= sent / 2, (reads, sent)


STATE_PART = re.compile(r'hx-target="#(?!run-activity"|step-log-)')
"""A part of the run page's state (not an event's line in the activity or a step's log)."""


async def _received(inbox: Inbox) -> list[Message]:
    """The messages the stream sends until it has been quiet for two seconds."""
    received = []
    while (message := await inbox.next(2)) is not None:
        received.append(message)
    return received
