"""A program that runs an engine freezes the start-up heap; later garbage is still collected."""

import gc
import weakref

import pytest

from missionctl import app as app_module
from missionctl.engine import heap
from missionctl.services import ServiceContext
from missionctl.settings import Settings
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


async def test_the_server_freezes_the_heap_before_its_engine_starts_and_no_engine_does(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The collector is the program's: ``serve`` tunes it, ``Engine.run`` does not (ADR 0022)."""
    calls: list[str] = []
    monkeypatch.setattr(app_module, "freeze_startup_heap", lambda: calls.append("serve"))
    monkeypatch.setattr(heap, "freeze_startup_heap", lambda: calls.append("library"))
    app = app_module.create_app(settings)
    async with app.router.lifespan_context(app):
        assert calls == ["serve"]
    assert calls == ["serve"]
