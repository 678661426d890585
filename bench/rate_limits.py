"""What an API request pays for a rate limit: counted in memory, or in the database (ADR 0113).

For each backend (SQLite; PostgreSQL too with MISSIONCTL_BENCH_POSTGRES_URL), 1,000 attempts
in a row over 50 keys (tokens), each a ``hit`` of the API-token limiter as the guard makes it:
a ``ProcessLimiter`` (this process's memory) and a ``SharedLimiter`` (a row per attempt that
every server process of the database counts). Prints one JSON line per backend: the median
and p95 of one attempt, in microseconds.

Run: ``PYTHONPATH=src:. .venv/bin/python bench/rate_limits.py``
"""

import asyncio
import json
import statistics
import time

try:  # imported as bench.rate_limits, or run as a script from bench/
    from bench._databases import backends
except ModuleNotFoundError:
    from _databases import backends  # type: ignore[no-redef]

from missionctl.domain.access import RateLimiter
from missionctl.security.limits import Limiter, ProcessLimiter, SharedCounts, SharedLimiter
from missionctl.services import open_context
from missionctl.settings import Settings

ATTEMPTS = 1_000
KEYS = 50
PER_MINUTE = 1_200  # the default MISSIONCTL_SERVER_API_REQUESTS_PER_MINUTE: none is refused


async def _timed(limiter: Limiter) -> dict[str, float]:
    times = []
    for attempt in range(ATTEMPTS):
        started = time.perf_counter()
        await limiter.hit(f"token:bench-{attempt % KEYS}")
        times.append(time.perf_counter() - started)
    times.sort()
    return {
        "median_us": round(statistics.median(times) * 1e6, 1),
        "p95_us": round(times[int(0.95 * len(times))] * 1e6, 1),
    }


async def measure(database: str, settings: Settings) -> dict[str, object]:
    """Both limiters on ``settings``' database."""
    async with open_context(settings) as ctx:
        shared = SharedLimiter(
            SharedCounts(lambda: ctx), "api_token", limit=PER_MINUTE, window_s=60.0
        )
        in_memory = ProcessLimiter(RateLimiter(limit=PER_MINUTE, window_s=60.0))
        return {
            "benchmark": "rate_limits",
            "database": database,
            "attempts": ATTEMPTS,
            "process": await _timed(in_memory),
            "database_shared": await _timed(shared),
        }


def main() -> None:
    for database, settings in backends():
        print(json.dumps(asyncio.run(measure(database, settings))), flush=True)


if __name__ == "__main__":
    main()
