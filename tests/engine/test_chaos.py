"""The crash test, short: ten SIGKILLs of real processes lose nothing and misfile nothing.

The same code as ``bench/chaos.py`` (which runs a thousand cycles and prints the figures): one
worker on SQLite, two on PostgreSQL, ``serve``, the workers and the command steps' programs
killed at random moments, and at the end every run completed, every step succeeded exactly
once by the event log, nothing was recorded after a run's end, every killed program's step
succeeded on a later attempt, every step artifact is in the blob store with its hash and is the
succeeding attempt's (under the one idempotency key of its step), every completed run has a
readable report, and ``missionctl audit verify`` passes. The short leases make the killed
workers' steps expire within the run (``step.lease_expired``).
"""

from pathlib import Path

import pytest
from bench.chaos import ChaosConfig, run_chaos

pytestmark = pytest.mark.timeout(300)  # start-ups are slow on a busy machine

PROBLEMS = (
    "not_completed_runs",
    "stuck_runs",
    "lost_steps",
    "duplicate_completions",
    "events_after_end",
    "repeated_run_ends",
    "unreadable_artifacts",
    "artifacts_of_other_attempts",
    "steps_without_artifact",
    "unstable_idempotency_keys",
    "missing_reports",
    "unreadable_reports",
    "unbuildable_reports",
)


def test_ten_kills_lose_no_step_and_misfile_no_artifact(database_url: str, tmp_path: Path) -> None:
    workers = 1 if database_url.startswith("sqlite") else 2
    # A third of the kills hit a command step's program, so that ten cycles kill a few.
    config = ChaosConfig(
        cycles=10, workers=workers, seed=20, max_delay_s=0.5, drain_s=60, program_share=0.35
    )

    figures = run_chaos(database_url, tmp_path / "home", config)

    assert figures["cycles"] == 10
    assert {name: figures[name] for name in PROBLEMS} == dict.fromkeys(PROBLEMS, 0), figures
    assert figures["runs"] == figures["completed_runs"] > 0
    assert figures["artifacts"] == figures["completed_runs"]  # one per run: its command step's
    assert figures["lease_expired"] > 0, figures  # a killed worker's lease expired and was retaken
    programs = figures["program_kills"]
    assert programs["killed"] + programs["missed"] == figures["kills"].get("program", 0) > 0
    assert programs["retried"] == programs["killed"], programs
    assert figures["audit_verify"], figures["audit_verify_says"]
    assert figures["sound"], figures
