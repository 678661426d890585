"""Appending: gapless seq, a valid chain, atomic batches, publication only after commit."""

import asyncio
import copy
import enum
from typing import Any

import pytest

from missionctl.eventlog import GENESIS_HASH, NewEvent, append, read_events
from missionctl.services import ServiceContext
from tests.eventlog.helpers import append_events


async def test_batches_get_gapless_seq_and_a_valid_chain(ctx: ServiceContext) -> None:
    async with ctx.write() as session:
        first = await append(
            session,
            [
                NewEvent("mission.created", "user:alice", {"goal": "ü ∑ 1e20", "n": 1e20})
                for _ in range(3)
            ],
        )
    async with ctx.write() as session:
        second = await append(session, [NewEvent("mission.updated", "system", {"x": [1, 2.5]})])

    assert [e.seq for e in first + second] == [1, 2, 3, 4]
    assert first[0].prev_hash == GENESIS_HASH
    assert all(
        b.prev_hash == a.hash for a, b in zip(first + second, (first + second)[1:], strict=False)
    )
    assert len({e.ts for e in first}) == 1  # one database timestamp per batch
    async with ctx.read() as session:
        stored = await read_events(session)
    assert stored == first + second  # what was hashed is exactly what was stored
    from missionctl.services.usecases.audit import verify_event_chain

    report = await verify_event_chain(ctx)
    assert report.ok and report.count == 4 and str(report) == "OK 4 events"


async def test_subscribers_hear_only_after_commit(ctx: ServiceContext) -> None:
    async with ctx.broadcaster.subscribe() as subscription:
        async with ctx.write() as session:
            await append(session, [NewEvent("test.happened", "system", {"n": 1})])
            assert subscription.empty()  # not yet committed
        received = await asyncio.wait_for(subscription.get(), timeout=5)
        assert received.seq == 1 and received.payload == {"n": 1}


async def test_rolled_back_events_are_neither_stored_nor_published(ctx: ServiceContext) -> None:
    async with ctx.broadcaster.subscribe() as subscription:
        with pytest.raises(RuntimeError, match="boom"):
            async with ctx.write() as session:
                await append(session, [NewEvent("test.happened", "system", {"n": 1})])
                raise RuntimeError("boom")
        assert subscription.empty()
    async with ctx.read() as session:
        assert await read_events(session) == []
    await append_events(ctx, 1)  # the chain continues from the last committed event
    async with ctx.read() as session:
        assert [e.seq for e in await read_events(session)] == [1]


async def test_concurrent_writers_keep_the_chain_whole(ctx: ServiceContext) -> None:
    writers, per_batch = 12, 5

    async def writer(index: int) -> None:
        async with ctx.write() as session:
            await append(
                session,
                [
                    NewEvent("test.happened", "system", {"writer": index, "i": i})
                    for i in range(per_batch)
                ],
            )

    await asyncio.gather(*(writer(i) for i in range(writers)))
    async with ctx.read() as session:
        events = await read_events(session, limit=1000)
    assert [e.seq for e in events] == list(range(1, writers * per_batch + 1))
    # Each transaction's batch is contiguous: no interleaving between writers.
    for start in range(0, len(events), per_batch):
        assert len({e.payload["writer"] for e in events[start : start + per_batch]}) == 1
    from missionctl.services.usecases.audit import verify_event_chain

    assert (await verify_event_chain(ctx)).ok


async def test_read_events_filters_by_cursor_mission_and_run(ctx: ServiceContext) -> None:
    import uuid

    mission_a, mission_b = uuid.uuid4(), uuid.uuid4()
    async with ctx.write() as session:
        await append(
            session,
            [
                NewEvent("mission.created", "system", mission_id=mission_a),
                NewEvent("mission.created", "system", mission_id=mission_b),
                NewEvent("mission.updated", "system", mission_id=mission_a),
            ],
        )
    async with ctx.read() as session:
        assert [e.seq for e in await read_events(session, mission_id=mission_a)] == [1, 3]
        assert [e.seq for e in await read_events(session, after_seq=1)] == [2, 3]
        assert [e.seq for e in await read_events(session, after_seq=1, limit=1)] == [2]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"type": "Created", "actor": "system"}, "dotted lower-case"),
        ({"type": "mission.created", "actor": "alice"}, "actor"),
        ({"type": "mission.created", "actor": "user:"}, "actor"),
        (
            {"type": "mission.created", "actor": "system", "payload": {"x": float("nan")}},
            "not JSON",
        ),
        ({"type": "mission.created", "actor": "system", "payload": {"x": object()}}, "not JSON"),
    ],
)
def test_new_event_rejects_bad_fields(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NewEvent(**kwargs)  # type: ignore[arg-type]


async def test_verify_is_consistent_while_others_append(ctx: ServiceContext) -> None:
    """Verification judges one snapshot: concurrent appends never look like tampering."""
    from missionctl.services.usecases.audit import verify_event_chain

    await append_events(ctx, 20, batch=5)
    done = asyncio.Event()
    appended = asyncio.Event()

    async def writer() -> None:
        while not done.is_set():
            await append_events(ctx, 5, batch=5)
            appended.set()

    task = asyncio.create_task(writer())
    try:
        reports = [await verify_event_chain(ctx) for _ in range(25)]
        # On a busy machine the 25 may all come before the writer's first batch: one more,
        # once it has written, must see it.
        await asyncio.wait_for(appended.wait(), timeout=30)
        reports.append(await verify_event_chain(ctx))
    finally:
        done.set()
        await task
    assert all(r.ok for r in reports), [str(r) for r in reports if not r.ok]
    assert reports[-1].count > 20


class _Colour(enum.StrEnum):
    RED = "red"


@pytest.mark.parametrize(
    "payload",
    [
        {"status": "queued", "attempt": 1, "ratio": 0.1, "ok": True, "error": None},
        {"colour": _Colour.RED},  # an enum reads back as its plain value
        {"steps": ("a", "b")},  # a tuple reads back as a list
        {1: "one"},  # a non-text key reads back as text
        {"nested": {"n": [1, {"m": 2.5}]}},
        {},
    ],
)
async def test_appended_records_hold_the_payload_as_it_reads_back(
    ctx: ServiceContext, payload: dict[Any, Any]
) -> None:
    """What subscribers get equals what a reader of the log gets, to the type of each value."""
    payload = copy.deepcopy(payload)  # the parameter is shared by both backends' runs
    event = NewEvent("test.happened", "system", payload)
    payload["added by the caller afterwards"] = 1  # the event holds what it was made with
    async with ctx.write() as session:
        (record,) = await append(session, [event])
    async with ctx.read() as session:
        (stored,) = await read_events(session)

    def typed(value: Any) -> Any:
        if isinstance(value, dict):
            return {(type(k), k): typed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [typed(v) for v in value]
        return (type(value), value)

    assert typed(record.payload) == typed(stored.payload)
