"""The orchestration figures over a team's history: a hundred thousand runs, a million events.

Run: ``PYTHONPATH=src:. .venv/bin/python bench/orchestration.py`` (SQLite in a temporary
directory; PostgreSQL too when MISSIONCTL_BENCH_POSTGRES_URL names a server, see
``bench/_databases.py``). ``BENCH_SCALE`` scales the runs and events (default 1: 100,000 runs
over 200 days and about 1,000,000 events, ``bench/_load_seed.py``'s history, the one
``bench/load.py`` serves; ``BENCH_SCALE=0.05`` takes a twentieth).

Then, in the benchmark's process, it times the orchestration follower deriving its facts from
the whole log (``follower_from_empty_s``: what a database upgraded to revision 0044 does once;
``risks_follower_from_empty_s``: the same for the step-risk follower, revision 0045),
then ``services.usecases.orchestration.ask_orchestration``
(``GET /api/v1/analytics/orchestration``'s use case: the runs that ended in the range with their
fix-ups, the missions created with their first run's start, the coding steps' edits and the
implementation work's starts, the figures), after a warm-up, for
the last 30 days by day, the last 90 days by week, a year by week, and a year for one workflow;
median and p95 milliseconds of ``REPEATS`` calls each, and what each answer counted.
"""

import asyncio
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from typing import Any

try:  # imported as bench.orchestration, or run as a script from bench/
    from bench import _databases, _load_seed
except ModuleNotFoundError:
    import _databases  # type: ignore[no-redef]
    import _load_seed  # type: ignore[no-redef]

from missionctl.db.types import utcnow
from missionctl.services import open_context
from missionctl.services.usecases.orchestration import ask_orchestration
from missionctl.settings import Settings

REPEATS = 20
WARMUP = 3


def _queries(workflow: str) -> dict[str, dict[str, Any]]:
    today = utcnow().date()

    def since(days: int) -> str:
        return str(today - timedelta(days=days - 1))

    return {
        "30d_by_day": {"since": since(30), "grain": "day"},
        "90d_by_week": {"since": since(90), "grain": "week"},
        "1y_by_week": {"since": since(365), "grain": "week"},
        "1y_one_workflow": {
            "since": since(365),
            "grain": "week",
            "segment": f"workflow:{workflow}",
        },
    }


async def _measure(settings: Settings) -> dict[str, Any]:
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    sizes = _load_seed.Scale(events=int(1_000_000 * scale), runs=int(100_000 * scale))
    seeded = await _load_seed.seed(settings, sizes)
    print(f"seeded {seeded.counts}", file=sys.stderr, flush=True)
    figures: dict[str, Any] = {"seeded": seeded.counts, "seeding_s": seeded.seconds}
    async with open_context(settings) as ctx:
        started = time.perf_counter()
        await ctx.catch_up("orchestration", quietly=False)
        figures["follower_from_empty_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        await ctx.catch_up("risks", quietly=False)
        figures["risks_follower_from_empty_s"] = round(time.perf_counter() - started, 2)
        first = await ask_orchestration(ctx, since=str(utcnow().date() - timedelta(days=364)))
        workflow = first.clean_runs_by_workflow[0].workflow
        for name, query in _queries(workflow).items():
            times = []
            for n in range(WARMUP + REPEATS):
                started = time.perf_counter()
                answer = await ask_orchestration(ctx, **query)
                if n >= WARMUP:
                    times.append((time.perf_counter() - started) * 1000)
            times.sort()
            figures[name] = {
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
                "runs_ended": answer.clean_runs.ended,
                "clean_share": answer.clean_runs.share,
                "missions": answer.bootstrap.missions,
                "tasks_started": answer.groundwork.started,
                "coding_steps": answer.duplicated_edits.steps,
            }
    return figures


def main() -> None:
    results: dict[str, Any] = {"benchmark": "orchestration", "repeats": REPEATS}
    for name, settings in _databases.backends():
        print(f"{name}: seeding", file=sys.stderr, flush=True)
        results[name] = asyncio.run(_measure(settings))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
