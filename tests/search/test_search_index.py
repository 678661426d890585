"""The search index follows the log (ADR 0047): appends write no entry; the indexer does, in
batches, once per event however many indexers run; every search catches up first."""

import asyncio
import dataclasses
import logging
import uuid

import pytest
from sqlalchemy import text

from missionctl.eventlog import NewEvent, append
from missionctl.services import ServiceContext
from missionctl.services.followers import SEARCH_INDEX, catch_up, following
from missionctl.services.followers import follower as follower_loop
from missionctl.services.usecases.search import search
from tests.search.helpers import indexed_texts


async def _append_errors(ctx: ServiceContext, word: str, count: int) -> uuid.UUID:
    run_id = uuid.uuid4()
    async with ctx.write() as session:
        await append(
            session,
            [
                NewEvent("step.failed", "system", {"error": f"{word} {i}"}, run_id=run_id)
                for i in range(count)
            ],
        )
    return run_id


async def _indexed(ctx: ServiceContext, word: str) -> list[str]:
    """What the index holds for ``word`` right now, without catching up."""
    async with ctx.read() as session:
        return await indexed_texts(session, word)


async def _entry_count(ctx: ServiceContext) -> int:
    async with ctx.read() as session:
        return int((await session.execute(text("SELECT count(*) FROM search_entries"))).scalar())


async def test_an_append_writes_no_entry_and_a_search_finds_it_all_the_same(
    ctx: ServiceContext,
) -> None:
    await _append_errors(ctx, "nebula", 3)
    assert await _indexed(ctx, "nebula") == []  # nothing on the appending path
    assert len((await search(ctx, q="nebula")).items) == 3  # the search caught up first
    assert len(await _indexed(ctx, "nebula")) == 3


async def test_catching_up_goes_in_batches_and_indexes_each_event_once(ctx: ServiceContext) -> None:
    small = dataclasses.replace(SEARCH_INDEX, batch_events=7)
    await _append_errors(ctx, "quasar", 50)
    head = await catch_up(ctx, small)
    assert len(await _indexed(ctx, "quasar")) == 50
    assert await catch_up(ctx, small) == head  # nothing new: nothing indexed twice
    assert await _entry_count(ctx) == 50


async def test_concurrent_indexers_take_turns_and_write_each_entry_once(
    ctx: ServiceContext,
) -> None:
    small = dataclasses.replace(SEARCH_INDEX, batch_events=5)
    await _append_errors(ctx, "pulsar", 60)
    await asyncio.gather(*(catch_up(ctx, small) for _ in range(4)), search(ctx, q="pulsar"))
    assert sorted(await _indexed(ctx, "pulsar")) == sorted(f"pulsar {i}" for i in range(60))
    assert await _entry_count(ctx) == 60


async def test_the_servers_indexer_keeps_up_without_any_search(ctx: ServiceContext) -> None:
    async with following(ctx, [dataclasses.replace(SEARCH_INDEX, every_s=0.05)]):
        await _append_errors(ctx, "comet", 2)
        for _ in range(100):
            if len(await _indexed(ctx, "comet")) == 2:
                break
            await asyncio.sleep(0.05)
    assert len(await _indexed(ctx, "comet")) == 2


async def test_a_search_answers_from_the_index_when_it_cannot_catch_up(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await _append_errors(ctx, "meteor", 1)
    await catch_up(ctx, SEARCH_INDEX)
    await _append_errors(ctx, "meteor", 1)

    async def busy(_ctx: ServiceContext, _follower: object) -> int:
        raise TimeoutError("database is locked")

    monkeypatch.setattr(follower_loop, "catch_up", busy)
    with caplog.at_level(logging.WARNING, logger="missionctl.services.followers.follower"):
        page = await search(ctx, q="meteor")
    assert len(page.items) == 1  # what was indexed, not an error
    assert "could not catch up" in caplog.text


async def test_odd_events_never_stop_the_indexer(ctx: ServiceContext) -> None:
    # NUL (which PostgreSQL cannot hold as text), an attempt of any type, lines that are not
    # objects: the indexer indexes what it can (SQLite keeps a text up to its NUL) and moves on.
    run_id = uuid.uuid4()
    lines = [{"level": "info", "message": "binary \x00 garbage"}, "plain", {"message": 7}]
    async with ctx.write() as session:
        await append(
            session,
            [
                NewEvent("step.log", "system", {"attempt": "x", "lines": lines}, run_id=run_id),
                NewEvent("step.log", "system", {"attempt": 1e30, "lines": {}}, run_id=run_id),
                NewEvent("step.failed", "system", {"error": ["not", "text"]}, run_id=run_id),
            ],
        )
    await _append_errors(ctx, "aurora", 1)
    assert len((await search(ctx, q="aurora")).items) == 1
    assert len((await search(ctx, q="binary")).items) == 1  # the text before the NUL, at least
