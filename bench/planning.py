"""Local planning time: the 22 goals of the planner tests, each planned many times.

The local planner runs inside a request (a mission's "plan" button, the API, the CLI), so its
time per goal is user-visible. Each goal of ``tests/planning/goals.txt`` is planned ``--runs``
times after one warm-up (which loads the vocabularies); each run titles the mission anew, so
that no run reuses the reading of another (a reading is cached per mission). The figures are
over all calls, in CPU time (``time.process_time``): the planner does no I/O, and CPU time is
what a busy machine does not inflate.

Run: ``.venv/bin/python bench/planning.py [--runs N]`` — prints one JSON line: the median and
95th percentile CPU milliseconds per plan, and the slowest goal's median.
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
    for goal in goals():
        build_local_plan(PlanningInput(title="warm-up", goal=goal))  # vocabularies loaded
    per_goal: dict[str, list[float]] = {goal: [] for goal in goals()}
    for run in range(args.runs):
        for goal in per_goal:
            mission = PlanningInput(title=f"{goal[:60]} (run {run})", goal=goal)
            started = time.process_time()
            build_local_plan(mission)
            per_goal[goal].append((time.process_time() - started) * 1000)
    every = sorted(t for times in per_goal.values() for t in times)
    slowest = max(per_goal, key=lambda goal: statistics.median(per_goal[goal]))
    print(
        json.dumps(
            {
                "goals": len(per_goal),
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
