"""The benchmark's seeding at a small scale, checked rather than timed (both databases).

``bench/memory.py`` times memory over 10,000 missions; here 600 missions seeded the same way
(bulk rows of varied texts) must be searched, paged and ranked correctly.
"""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from missionctl.domain.memory import MemoryKind
from missionctl.services import ServiceContext
from missionctl.services.usecases.memory import search_memory

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _bench() -> ModuleType:
    sys.path.insert(0, str(BENCH))  # the bench imports its sibling ``_databases``
    try:
        spec = importlib.util.spec_from_file_location("bench_memory", BENCH / "memory.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


async def test_six_hundred_missions_are_searched_paged_and_ranked(ctx: ServiceContext) -> None:
    bench = _bench()
    _rate, entries = await bench.seed(ctx, 600)
    assert entries > 600 * 7

    first = await search_memory(ctx, q="shopping cart", limit=20)
    second = await search_memory(ctx, q="shopping cart", limit=20, cursor=first.next_cursor)
    decisions = await search_memory(ctx, q="postgresql", kind=MemoryKind.decision, limit=50)
    nothing = await search_memory(ctx, q="nonexistentword")

    assert first.remembered == 600 and first.next_cursor == "20"
    assert len(first.items) == 20 and len(second.items) == 20
    assert not {i.mission_id for i in first.items} & {i.mission_id for i in second.items}
    for item in first.items:
        assert any(p.match for h in item.hits for p in h.snippet)
        assert item.outcome in ("completed", "failed", "canceled") and item.lessons
    assert decisions.items and all(
        h.kind == MemoryKind.decision for i in decisions.items for h in i.hits
    )
    assert nothing.items == [] and nothing.next_cursor is None
