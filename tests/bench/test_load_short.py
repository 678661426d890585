"""The short form of ``bench/load.py`` (the same code), on SQLite with tiny numbers.

It seeds 2,000 events and 200 runs, serves them with ``missionctl serve`` and a busy
``missionctl worker``, and measures 4 clients and 2 SSE streams for one round of a few seconds
against the real server and against the floor. The figures must be sane: every page and API
path answered and measured on both, nothing answered 5xx, the streams received lines, the
CPU and memory figures were read; and no path is more than three times slower against the
floor than its baseline says (``bench/_load_gate.py``). A second check seeds the same data
into a database of its own and holds it to the suite's consistency rules (the hash chain
verifies, every run replays to its stored state, the usage sums match), so the benchmark
measures rows the product would have written.
"""

import asyncio
from pathlib import Path

import pytest
from bench._load_gate import GATE, LEAST_RATIO, SHORT, ratios, read_baseline, regressions
from bench._load_seed import Scale, seed

from bench import load
from missionctl.services import open_context
from missionctl.settings import EngineSettings, Settings
from tests.support.consistency import assert_consistent

# Declared long, so the suite starts it first (tests/conftest.py).
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def figures() -> dict:
    return load.run(SHORT)


def _answered(figures: dict) -> dict:
    return {**figures["pages"], **figures["api"]}


def test_every_page_and_api_path_is_measured_on_the_server_and_the_floor(figures: dict) -> None:
    sqlite = figures["databases"]["sqlite"]
    assert sqlite["not_measured"] == {}
    measured = _answered(sqlite)
    expected = set(load.PAGES + load.APIS)
    assert set(measured) == expected
    for name, path in measured.items():
        assert path["requests"] > 0, name
        assert path["p50_ms"] > 0 and path["p95_ms"] >= path["p50_ms"], name
        assert path["floor_p50_ms"] > 0 and path["ratio_p50"] is not None, name
        assert path["probe_p95_ms"] >= path["probe_min_ms"] > 0, name
        assert path["bytes"] > 0 or name == "/", name


def test_nothing_failed_and_the_totals_are_sane(figures: dict) -> None:
    sqlite = figures["databases"]["sqlite"]
    total = sqlite["total"]
    for side in ("real", "floor"):
        statuses = total[side]["statuses"]
        assert total[side]["requests"] > 0 and total[side]["rps"] > 0
        assert not [s for s in statuses if not s.isdigit() or s.startswith("5")], statuses
    assert total["real"]["cpu_pct"]["server_cpu_pct"] > 0
    assert total["floor"]["rps"] > total["real"]["rps"] > 0  # the floor is a floor
    assert sqlite["connection_failures"] == {}
    assert sqlite["server_log"]["tracebacks"] == 0
    assert figures["machine"]["cpus"] >= 1


def test_streams_memory_and_seeding_are_reported(figures: dict) -> None:
    sqlite = figures["databases"]["sqlite"]
    streams = sqlite["streams"]
    assert streams["streams"] == SHORT.streams
    assert streams["lines"] > 0 and streams["bytes"] > 0
    assert streams["cpu_pct_with_streams_only"]["server_cpu_pct"] >= 0
    assert streams["cpu_pct_opening_streams"]["server_cpu_pct"] >= 0
    rss = sqlite["server_rss_mb"]
    assert rss["start"] > 0 and rss["end"] > 0 and rss["after_idle"] > 0
    seeding = sqlite["seeding"]
    assert seeding["runs"] >= SHORT.runs and seeding["events"] > SHORT.events // 2
    assert seeding["seconds"] > 0


def test_no_path_regressed_against_the_floor(figures: dict) -> None:
    assert regressions(ratios(figures), read_baseline()) == []


def test_the_gate_holds_each_path_to_three_times_its_baseline() -> None:
    baseline = {"/runs": 20.0, "/": 4.0}
    assert regressions({"/runs": GATE * 20.0, "/": GATE * LEAST_RATIO}, baseline) == []
    slower = regressions({"/runs": GATE * 20.0 + 0.1, "/": GATE * LEAST_RATIO + 0.1}, baseline)
    assert [line.split(":")[0] for line in slower] == ["/", "/runs"]
    assert regressions({"/new": 1.0}, baseline) == [
        "/new: no baseline (refresh it: bench/_load_gate.py)"
    ]


def test_the_seeded_data_is_what_the_product_writes(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, engine=EngineSettings(embedded=False))

    async def seed_and_check() -> None:
        await seed(settings, Scale(events=SHORT.events, runs=SHORT.runs, users=2))
        async with open_context(settings, upgrade=False) as ctx:
            await assert_consistent(ctx)

    asyncio.run(seed_and_check())
