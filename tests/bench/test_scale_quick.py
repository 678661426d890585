"""``bench/scale.py --quick``, each part run alone as a person runs it, on the suite's server.

Each part runs the command with ``--quick --part NAME`` against the PostgreSQL server that
``MISSIONCTL_TEST_POSTGRES_URL`` names (skipped without it; CI sets it). Its JSON must have
the documented shape, with every figure positive, and the schemas it worked in must be gone.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bench._scale_support import STATES as STATE_NAMES
from bench.scale import QUICK, parse_args
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_URL_VAR, postgres_base_url

ROOT = Path(__file__).resolve().parents[2]
CPU_KEYS = {"database_pct", "machine_pct", "rest_pct"}
STATES = {*STATE_NAMES, "samples"}


def _scale(part: str) -> dict[str, Any]:
    """The JSON of ``bench/scale.py --quick --part part``, which must exit 0."""
    url = postgres_base_url()
    if url is None:
        pytest.skip(f"{POSTGRES_URL_VAR} is not set")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIONCTL_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    command = [sys.executable, str(ROOT / "bench" / "scale.py"), "--quick", "--part", part]
    done = subprocess.run(
        [*command, "--postgres-url", url], env=env, capture_output=True, text=True, timeout=110
    )
    assert done.returncode == 0, done.stderr[-4000:]
    figures: dict[str, Any] = json.loads(done.stdout)
    assert figures["benchmark"] == "scale" and figures["machine"]["cpus"] >= 1
    assert set(figures) == {"benchmark", "machine", "options", part}
    return figures


def _assert_dropped(schemas: list[str]) -> None:
    engine = create_engine(str(postgres_base_url()))
    try:
        with engine.connect() as conn:
            query = text("SELECT nspname FROM pg_namespace WHERE nspname = ANY(:names)")
            assert conn.execute(query, {"names": schemas}).all() == []
    finally:
        engine.dispose()


def _assert_cpu_and_connections(level: dict[str, Any], processes: str) -> None:
    assert set(level["cpu_pct"]) == CPU_KEYS | {f"{processes}_pct"}
    assert level["cpu_pct"][f"{processes}_pct"] > 0 and level["cpu_pct"]["database_pct"] > 0
    assert level["cpu_pct"]["machine_pct"] > 0
    assert set(level["connections"]) == STATES and level["connections"]["samples"] > 0


def test_workers_part_measures_each_worker_count() -> None:
    part = _scale("workers")["workers"]
    assert [level["workers"] for level in part["levels"]] == list(QUICK["workers"])
    for level in part["levels"]:
        assert level["steps_per_s"] > 0 and level["scaling"] > 0
        assert len(level["steps_per_s_windows"]) == QUICK["repeats"]
        assert min(level["steps_per_s_windows"]) > 0 and min(level["queued_at_end"]) > 0
        _assert_cpu_and_connections(level, "workers")
        assert level["worker_logs"]["tracebacks"] == 0
    assert part["levels"][0]["scaling"] == 1.0
    _assert_dropped([level["schema"] for level in part["levels"]])


def test_claim_part_times_claims_and_reads_with_the_queue_full() -> None:
    part = _scale("claim")["claim"]
    assert [shape["run_steps"] for shape in part["shapes"]] == list(QUICK["claim_run_steps"])
    for shape in part["shapes"]:
        assert shape["queued_before"] >= QUICK["queued"] > shape["queued_after"] > 0
        assert set(shape["claim_ms"]) == {"capacity_1", "capacity_32"}
        timings = [*shape["claim_ms"].values(), *shape["reads_us"].values()]
        assert len(timings) == 4
        for timing in timings:
            assert timing["p95"] >= timing["median"] > 0
    _assert_dropped([shape["schema"] for shape in part["shapes"]])


def test_append_part_measures_the_chain_and_the_reference() -> None:
    part = _scale("append")["append"]
    assert [level["appenders"] for level in part["levels"]] == list(QUICK["appenders"])
    for level in part["levels"]:
        for figures in (level, level["without_chain"]):
            assert figures["appends_per_s"] > 0 and figures["events_per_s"] > 0
            assert figures["p95_ms"] >= figures["p50_ms"] > 0
            _assert_cpu_and_connections(figures, "appenders")
    assert part["chain_verified"] is True and part["events"] > 0
    _assert_dropped([part["schema"]])


def test_quick_sets_the_small_scale_and_flags_override_it() -> None:
    options = parse_args(["--quick", "--workers", "1,4", "--postgres-url", "postgresql://x"])
    assert options.workers == (1, 4) and options.seconds == QUICK["seconds"]
    assert parse_args(["--postgres-url", "postgresql://x"]).queued == 100_000
