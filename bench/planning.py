"""Local planning time: the 22 goals of the planner tests, each planned many times.

The local planner runs inside a request (a mission's "plan" button, the API, the CLI), so its
time per goal is user-visible. Each goal of ``tests/planning/goals.txt`` is planned ``--runs``
times after one warm-up (which loads the vocabularies); the figures are over all calls.

Run: ``.venv/bin/python bench/planning.py [--runs N]`` — prints one JSON line: the median and
95th percentile milliseconds per plan, and the slowest goal's median.
"""

import argparse
import json
import statistics
import time
from pathlib import Path

from missionctl.planning import PlanningInput, build_local_plan

GOALS_FILE = Path(__file__).resolve().parent.parent / "tests" / "planning" / "goals.txt"


def goals() -> list[str]:
    """The planner tests' goals, one per line, comments skipped."""
    lines = GOALS_FILE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="plans per goal (default 20)")
    args = parser.parse_args()
    missions = [PlanningInput(title=goal[:80], goal=goal) for goal in goals()]
    for mission in missions:
        build_local_plan(mission)  # warm-up: vocabularies loaded, patterns compiled
    per_goal: dict[str, list[float]] = {m.goal: [] for m in missions}
    for _ in range(args.runs):
        for mission in missions:
            started = time.perf_counter()
            build_local_plan(mission)
            per_goal[mission.goal].append((time.perf_counter() - started) * 1000)
    every = sorted(t for times in per_goal.values() for t in times)
    slowest = max(per_goal, key=lambda goal: statistics.median(per_goal[goal]))
    print(
        json.dumps(
            {
                "goals": len(missions),
                "runs": args.runs,
                "p50_ms": round(statistics.median(every), 3),
                "p95_ms": round(every[int(len(every) * 0.95) - 1], 3),
                "slowest_goal": slowest[:60],
                "slowest_p50_ms": round(statistics.median(per_goal[slowest]), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
