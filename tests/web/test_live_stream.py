"""The live streams of the pages: every event exactly once, across drops and reconnections."""

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, cast

import pytest
from sqlalchemy import text

from missionctl.eventlog import Broadcaster, EventRecord, NewEvent, append, pending_events
from missionctl.schemas.dashboard import EventBatch
from missionctl.services import ServiceContext
from missionctl.services.usecases import dashboard
from missionctl.services.usecases.artifacts import read_artifacts
from missionctl.services.usecases.dashboard import events as events_module
from missionctl.services.usecases.runs import read_run
from tests.web.conftest import LiveApp
from tests.web.support import (
    HTMX,
    Inbox,
    Message,
    event_seqs,
    last_seq,
    planned_mission,
    run_event_seqs,
    start_steps,
    wait_for_run,
)

# The second step outlasts the first three messages on a busy machine: the stream is dropped
# while the run is still going.
SLOW_STEPS = [
    {"id": "first", "agent": "builtin:sleep", "inputs": {"seconds": 0.3}},
    {"id": "second", "agent": "builtin:sleep", "inputs": {"seconds": 2.0}, "depends_on": ["first"]},
    {"id": "third", "agent": "builtin:noop", "depends_on": ["second"]},
]


async def _reports_written(ctx: ServiceContext, run_id: uuid.UUID) -> bool:
    artifacts = await read_artifacts(ctx, run_id=run_id)
    return sum(1 for a in artifacts if a.kind == "report") == 2


async def test_a_dropped_stream_resumes_from_last_event_id_with_every_event_once(
    live_app: LiveApp,
) -> None:
    ctx = live_app.ctx
    mission = await planned_mission(ctx)
    page = await live_app.http.get(f"/missions/{mission.id}")
    start = await last_seq(ctx, mission_id=mission.id)
    assert f"/missions/{mission.id}/stream?after={start}" in page.text  # the page's cursor
    run = await start_steps(ctx, mission.id, SLOW_STEPS)
    url = f"/missions/{mission.id}/stream?after={start}"
    received: list[Message] = []

    async with live_app.http.stream("GET", url, headers=HTMX) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async with Inbox(response) as inbox:
            while len(received) < 3:
                message = await inbox.next(10)
                assert message is not None, "the stream sent nothing"
                received.append(message)
    # Dropped mid-run; the run goes on without anyone listening for a while.
    assert (await read_run(ctx, run_id=run.id)).status == "running"
    await asyncio.sleep(0.4)

    resume = {**HTMX, "Last-Event-ID": received[-1].id or ""}
    async with (
        live_app.http.stream("GET", url, headers=resume) as response,
        Inbox(response) as inbox,
    ):
        while True:
            message = await inbox.next(1.5)
            if message is not None:
                received.append(message)
                continue
            finished = (await read_run(ctx, run_id=run.id)).status == "completed"
            if finished and await _reports_written(ctx, run.id):
                newest = await last_seq(ctx, mission_id=mission.id)
                if max(int(m.id) for m in received if m.id) >= newest:
                    break

    # A message per event, with its seq as id; the state held back to bound the rate of
    # re-renders comes in messages without one.
    events = [m for m in received if m.id is not None]
    ids = [int(m.id or 0) for m in events]
    assert ids == await event_seqs(ctx, mission_id=mission.id, after=start)
    assert len(ids) == len(set(ids))
    # The data are rendered fragments: audit lines for every event, state blocks per batch.
    assert all(
        '<hx-partial hx-target="#audit-list" hx-swap="afterbegin">' in m.text for m in events
    )
    assert all('hx-target="#audit-list"' not in m.text for m in received if m.id is None)
    states = [m.text for m in received if 'hx-target="#stepper"' in m.text]
    assert states and 'data-status="succeeded"' in states[-1]
    assert 'data-task="third" data-status="succeeded"' in states[-1]
    assert "Run completed" in "".join(m.text for m in received)


async def test_the_run_page_stream_replays_a_finished_run(live_app: LiveApp) -> None:
    ctx = live_app.ctx
    run = await start_steps(ctx, None, [{"id": "first", "agent": "builtin:noop"}])
    await wait_for_run(ctx, run.id)
    received: list[Message] = []
    async with (
        live_app.http.stream("GET", f"/runs/{run.id}/stream", headers=HTMX) as response,
        Inbox(response) as inbox,
        asyncio.timeout(30),
    ):
        while True:
            message = await inbox.next(1)
            if message is not None:
                received.append(message)
            elif [int(m.id) for m in received if m.id] == await run_event_seqs(ctx, run.id):
                break  # a pause found the stream level with the log (a report may come late)

    assert [int(m.id) for m in received if m.id] == await run_event_seqs(ctx, run.id)
    # The page's state comes with the last event, or after it on its own; the run's report,
    # written once the run has ended, may add its artifacts' part after that.
    last_event = max(i for i, m in enumerate(received) if m.id)
    after = "".join(m.text for m in received[last_event:])
    assert 'hx-target="#step-row-first"' in after
    assert 'hx-target="#run-status"' in after
    assert 'hx-target="#run-cost"' in after


@pytest.mark.parametrize("page", ["runs", "missions"])
async def test_a_reconnection_that_missed_no_event_still_gets_the_state_first(
    live_app: LiveApp, page: str
) -> None:
    # The events before the break reached the browser, the state they changed was still held
    # back (at most two renders a second), and no event will ever come to carry it: a page
    # that showed "running" would show it for good.
    ctx = live_app.ctx
    mission = await planned_mission(ctx)
    run = await start_steps(ctx, mission.id, [{"id": "first", "agent": "builtin:noop"}])
    await wait_for_run(ctx, run.id)
    subject = run.id if page == "runs" else mission.id
    newest = await last_seq(ctx, mission_id=mission.id)
    resume = {**HTMX, "Last-Event-ID": str(newest)}
    async with (
        live_app.http.stream("GET", f"/{page}/{subject}/stream", headers=resume) as response,
        Inbox(response) as inbox,
    ):
        first = await inbox.next(5)
    assert first is not None, "a reconnection was sent nothing"
    assert first.id is None  # the state, not an event sent twice
    target = "#run-status" if page == "runs" else "#stepper"
    assert f'hx-target="{target}"' in first.text
    assert 'data-status="succeeded"' in first.text or "Completed" in first.text


async def test_an_unknown_mission_has_no_stream(live_app: LiveApp) -> None:
    response = await live_app.http.get(f"/missions/{uuid.uuid4()}/stream")
    assert response.status_code == 404


# --- follow_events, the service under the streams ---------------------------------------------


async def _append(ctx: ServiceContext, mission_id: uuid.UUID, n: int) -> list[EventRecord]:
    """Append ``n`` events in one transaction without publishing them (another process)."""
    async with ctx.db.write() as session:
        await append(
            session,
            [
                NewEvent(type="test.ping", actor="system", mission_id=mission_id, payload={"n": i})
                for i in range(n)
            ],
        )
    return pending_events(session)


async def _take(follower: AsyncIterator[EventBatch], count: int, within_s: float = 5) -> list[int]:
    seqs: list[int] = []
    while len(seqs) < count:
        batch = await asyncio.wait_for(anext(follower), within_s)
        seqs += [item.seq for item in batch.items]
    return seqs


async def _follower(
    ctx: ServiceContext, mission_id: uuid.UUID, **kwargs: Any
) -> AsyncIterator[EventBatch]:
    after = await last_seq(ctx, mission_id=mission_id)
    return dashboard.follow_events(ctx, after_seq=after, mission_id=mission_id, **kwargs)


@pytest.mark.both_databases
async def test_events_published_out_of_commit_order_are_each_yielded_once_in_order(
    ctx: ServiceContext,
) -> None:
    mission = await planned_mission(ctx)
    follower = await _follower(ctx, mission.id, poll_s=30)  # never rescued by polling
    first = await _append(ctx, mission.id, 1)
    ctx.broadcaster.publish(first)
    assert await _take(follower, 1) == [first[0].seq]

    older, newer = await _append(ctx, mission.id, 1), await _append(ctx, mission.id, 1)
    ctx.broadcaster.publish(newer)  # a later commit published first: a hole in the global log
    ctx.broadcaster.publish(older)
    assert await _take(follower, 2) == [older[0].seq, newer[0].seq]

    later = await _append(ctx, mission.id, 2)
    ctx.broadcaster.publish(later)
    assert await _take(follower, 2) == [r.seq for r in later]
    await follower.aclose()  # type: ignore[attr-defined]


async def test_events_appended_by_another_process_arrive_by_polling(ctx: ServiceContext) -> None:
    mission = await planned_mission(ctx)
    follower = await _follower(ctx, mission.id, poll_s=0.05)
    silent = await _append(ctx, mission.id, 3)  # never published in this process
    assert await _take(follower, 3) == [r.seq for r in silent]
    await follower.aclose()  # type: ignore[attr-defined]


@pytest.mark.both_databases
async def test_a_follower_that_lags_catches_up_from_the_database(ctx: ServiceContext) -> None:
    small = dataclasses.replace(ctx, broadcaster=Broadcaster(max_pending=2))
    mission = await planned_mission(small)
    follower = await _follower(small, mission.id, poll_s=30)
    first = await _append(small, mission.id, 1)
    small.broadcaster.publish(first)
    assert await _take(follower, 1) == [first[0].seq]

    burst = await _append(small, mission.id, 6)
    small.broadcaster.publish(burst)  # more than it may hold: it is dropped as lagged
    assert small.broadcaster.subscriber_count == 0
    assert await _take(follower, 6) == [r.seq for r in burst]
    assert small.broadcaster.subscriber_count == 1  # subscribed again
    await follower.aclose()  # type: ignore[attr-defined]


@pytest.mark.parametrize("header", ["", "not-a-number"])
async def test_without_a_usable_last_event_id_the_stream_starts_after_the_page_cursor(
    live_app: LiveApp, header: str
) -> None:
    ctx = live_app.ctx
    mission = await planned_mission(ctx)
    start = await last_seq(ctx, mission_id=mission.id)
    events = await _append(ctx, mission.id, 2)
    headers = {**HTMX, "Last-Event-ID": header} if header else HTMX
    url = f"/missions/{mission.id}/stream?after={start}"
    async with (
        live_app.http.stream("GET", url, headers=headers) as response,
        Inbox(response) as inbox,
    ):
        got = [await inbox.next(5), await inbox.next(5)]
    assert [int(m.id or 0) for m in got if m] == [e.seq for e in events]


@pytest.mark.both_databases
async def test_leaving_a_live_page_during_a_database_read_logs_no_error(
    live_app: LiveApp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = live_app.ctx
    mission = await planned_mission(ctx)
    reading, read = asyncio.Event(), asyncio.Event()
    read_page = events_module._Cursor.read_page

    async def slow_read_page(self: Any, session: Any) -> Any:
        # The browser leaves while the stream's query is in flight, inside its transaction.
        await session.execute(text("SELECT 1"))
        reading.set()
        await asyncio.sleep(0.3)
        items = await read_page(self, session)
        read.set()
        return items

    monkeypatch.setattr(events_module._Cursor, "read_page", slow_read_page)
    caplog.set_level(logging.DEBUG)
    url = f"/missions/{mission.id}/stream"
    async with live_app.http.stream("GET", url, headers=HTMX) as response:
        assert response.status_code == 200
        await asyncio.wait_for(reading.wait(), 5)
    await asyncio.wait_for(read.wait(), 5)  # the read finishes although nobody waits for it
    await asyncio.sleep(0.1)  # and returns its connection

    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert noisy == [], [r.getMessage() for r in noisy]


@pytest.mark.both_databases
async def test_followers_of_one_process_share_their_database_reads(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    mission = await planned_mission(ctx)
    reads = 0
    read_log_after = events_module.event_repo.read_log_after

    async def counted(session: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        return await read_log_after(session, **kwargs)

    monkeypatch.setattr(events_module.event_repo, "read_log_after", counted)
    followers = [await _follower(ctx, mission.id, poll_s=0.5) for _ in range(20)]
    takers = [asyncio.create_task(_take(follower, 3, within_s=10)) for follower in followers]
    # The broadcaster signals nothing on subscription: watch its count.
    while ctx.broadcaster.subscriber_count < len(followers):  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    silent = await _append(ctx, mission.id, 3)  # never published: only polling finds them
    assert await asyncio.gather(*takers) == [[r.seq for r in silent]] * len(followers)
    # Each follower polling on its own would read at least 20 times; they wait for shared reads
    # (a few followers' first reads of their own come on top, more on a busy machine).
    assert 1 <= reads < len(followers), reads
    for follower in followers:
        await cast(AsyncGenerator[EventBatch, None], follower).aclose()
