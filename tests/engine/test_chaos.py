"""The crash test, short: five SIGKILLs of real ``serve`` and ``worker`` processes lose nothing.

The same code as ``bench/chaos.py`` (which runs hundreds of cycles and prints the figures):
one worker on SQLite, two on PostgreSQL, and at the end every run completed, every step
succeeded exactly once by the event log, nothing was recorded after a run's end, and
``missionctl audit verify`` passes.
"""

from pathlib import Path

import pytest
from bench.chaos import ChaosConfig, run_chaos

pytestmark = pytest.mark.timeout(300)  # start-ups are slow on a busy machine


def test_five_kills_lose_no_step_and_duplicate_no_completion(
    database_url: str, tmp_path: Path
) -> None:
    workers = 1 if database_url.startswith("sqlite") else 2
    config = ChaosConfig(cycles=5, workers=workers, seed=20, max_delay_s=0.5, drain_s=60)

    figures = run_chaos(database_url, tmp_path / "home", config)

    assert figures["cycles"] == 5
    problems = (
        "not_completed_runs",
        "stuck_runs",
        "lost_steps",
        "duplicate_completions",
        "events_after_end",
        "repeated_run_ends",
    )
    assert {name: figures[name] for name in problems} == dict.fromkeys(problems, 0), figures
    assert figures["runs"] == figures["completed_runs"] > 0
    assert figures["audit_verify"], figures["audit_verify_says"]
