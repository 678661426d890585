"""The observability figures in one run: feed, audit search and export, log search, costs.

Runs each `bench/observability_*.py` in turn, in a process of its own with this environment
(BENCH_SCALE, MISSIONCTL_BENCH_POSTGRES_URL), and prints one JSON object keyed by part. The
targets, at BENCH_SCALE=1 (1,000,000 events, 10,000 runs, 1,000,000 log lines) on each
database: audit search p95 <= 150 ms, log search p95 <= 200 ms, cost breakdown p95 <= 200 ms,
event feed page p95 <= 100 ms, CSV export of 100,000 events <= 5 s, and 200 live-stream
subscribers each receiving a new event within 1 s (p99). Each part's docstring says what it
seeds and measures; each also runs alone.

Run: `.venv/bin/python bench/observability.py` (BENCH_SCALE=0.02 for a short run).
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _part(script: Path) -> Any:
    """The JSON figures ``script`` printed (an object, or a list of one per database)."""
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=os.environ.copy()
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
    # Its figures are the first line that opens a JSON object or list (lines before are logs).
    lines = done.stdout.splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line[:1] in ("{", "["))
    return json.loads("".join(lines[first:]))


def main() -> None:
    parts = sorted(p for p in HERE.glob("observability_*.py"))
    figures = {
        "scale": float(os.environ.get("BENCH_SCALE", "1")),
        "load_average": os.getloadavg(),
        "parts": {p.stem.removeprefix("observability_"): _part(p) for p in parts},
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
