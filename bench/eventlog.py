"""Event-log throughput: appends per second by batch size, and chain verification speed.

Run: `.venv/bin/python bench/eventlog.py` (SQLite in a temporary directory). Set
MISSIONCTL_BENCH_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to
measure PostgreSQL too; the benchmark works in a schema of its own and drops it afterwards.
Prints one JSON object; each figure is the median of several rounds.
"""

import asyncio
import json
import statistics
import time

from _databases import backends
from missionctl.eventlog import NewEvent, append
from missionctl.services import open_context
from missionctl.services.usecases.audit import verify_event_chain
from missionctl.settings import Settings

EVENTS_PER_ROUND = 2000
ROUNDS = 5
BATCH_SIZES = (1, 10, 100)


async def _measure(settings: Settings) -> dict[str, object]:
    results: dict[str, object] = {}
    async with open_context(settings) as ctx:
        for batch in BATCH_SIZES:
            rates = []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                for start in range(0, EVENTS_PER_ROUND, batch):
                    async with ctx.write() as session:
                        await append(
                            session,
                            [
                                NewEvent("bench.tick", "system", {"i": start + i, "text": "x" * 64})
                                for i in range(batch)
                            ],
                        )
                rates.append(EVENTS_PER_ROUND / (time.perf_counter() - started))
            results[f"append_events_per_s_batch_{batch}"] = round(statistics.median(rates))
        timings = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            report = await verify_event_chain(ctx)
            timings.append(time.perf_counter() - started)
            assert report.ok
        results["verify_events"] = report.count
        results["verify_events_per_s"] = round(report.count / statistics.median(timings))
    ratio = results["append_events_per_s_batch_100"] / results["append_events_per_s_batch_1"]  # type: ignore[operator]
    results["batch_100_vs_1_ratio"] = round(ratio, 1)
    return results


def main() -> None:
    figures: dict[str, object] = {"events_per_round": EVENTS_PER_ROUND, "rounds": ROUNDS}
    for name, settings in backends():
        figures[name] = asyncio.run(_measure(settings))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
