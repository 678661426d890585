"""``bench/autoscale.py`` at a small scale, run as a person runs it, on both databases."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import postgres_base_url

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_prints_the_heartbeats_cost_and_the_sizes_a_range_takes() -> None:
    url = postgres_base_url()  # without one, SQLite alone
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIONCTL_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    small = ["--queued", "300", "--run-steps", "100", "--beats", "10"]
    small += [] if url is None else ["--postgres-url", url]
    command = [sys.executable, str(ROOT / "bench" / "autoscale.py"), *small]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stderr[-4000:]
    figures = json.loads(done.stdout)
    assert figures["benchmark"] == "autoscale" and figures["queued"] == 300
    for database in ("sqlite", "postgresql") if url else ("sqlite",):
        part = figures[database]
        assert part["ready"] == 300
        cost = part["heartbeat_ms"]
        assert cost["without_range"]["median"] > 0 and cost["with_range"]["median"] > 0
        assert cost["ratio"] > 0
        # Grown to its maximum at once for the full queue, then halved a minute apart.
        assert [s["size"] for s in part["sizes"]] == [64, 32, 16, 8, 4]
        assert part["sizes"][0]["reason"].startswith("1 → 64 steps at once: 65+ queued")
    if url:
        assert figures["postgresql"]["schema"].startswith("autoscale_")
