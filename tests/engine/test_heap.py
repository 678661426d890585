"""A program that runs an engine freezes the start-up heap; later garbage is still collected."""

import gc
import weakref

from missionctl.engine import heap
from missionctl.services import ServiceContext
from tests.engine.helpers import running_engine, start, step, wait_for_run


async def test_running_an_engine_freezes_the_heap_once_and_later_garbage_is_still_collected(
    ctx: ServiceContext,
) -> None:
    async with running_engine(ctx):
        run = await start(ctx, [step("a")])
        assert (await wait_for_run(ctx, run.id)).status == "completed"
    assert gc.get_freeze_count() > 0  # start-up objects sit in the permanent generation
    assert gc.get_threshold()[0] >= heap.YOUNG_GENERATION_THRESHOLD  # fewer young collections
    assert heap.freeze_startup_heap() is False  # once per process: later engines leave it be

    class Node:
        other: "Node | None" = None

    first, second = Node(), Node()
    first.other, second.other = second, first  # a cycle: only the collector can free it
    gone = weakref.ref(first)
    del first, second
    gc.collect()
    assert gone() is None
