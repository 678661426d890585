"""Log search latency over a large log: p50/p95 of realistic queries (ADRs 0041, 0047).

Seeds ``1,000,000 x BENCH_SCALE`` step log lines (BENCH_SCALE=0.02 for 20,000) through the
real appender: ``step.log`` events of 100 lines, 50 events per transaction, so the chain's
triggers check every event, as in production. Then indexes them all with the indexer that
follows the log (``services.followers.search_index``, as the server does every second), and
times ``services.usecases.search.search`` (the API's and the page's path: catching up, query,
headlines, snippets), first page of 50, for a rare word, a common word, a phrase, a prefix, a common
word in one run, and an error.

Run: `.venv/bin/python bench/observability_search.py` (SQLite in a temporary directory); set
MISSIONCTL_BENCH_POSTGRES_URL to measure PostgreSQL too (a schema of its own, dropped after).
Prints one JSON object: per database the seeding and indexing rates and, per query, p50/p95 in
milliseconds and the number of hits on the first page.
"""

import asyncio
import json
import os
import random
import statistics
import time
import uuid
from typing import Any

from sqlalchemy import text

from _databases import backends
from missionctl.domain.search import SearchKind
from missionctl.eventlog import NewEvent, append
from missionctl.services import ServiceContext, open_context
from missionctl.services.followers import SEARCH_INDEX, catch_up
from missionctl.services.usecases.search import search
from missionctl.settings import Settings

FULL_LINES = 1_000_000
LINES_PER_EVENT = 100
EVENTS_PER_COMMIT = 50
RUNS = 500
REPEATS = 40
RARE_WORD = "zephyrite"  # one line in 20,000

TEMPLATES = (
    "request {hex} completed in {ms} ms with status 200",
    "request {hex} failed: connection refused by db-{n}.internal:5432",
    "cache miss for key user:{n}; loading from the primary",
    "timeout waiting for lock on table orders after {ms} ms",
    "worker {n} picked up job {hex} from queue default",
    "retrying upload of artifact build-{n}.tar.gz (attempt {k})",
    "GET /api/v1/items/{n} 200 {ms}ms",
    "compiling module services.billing.invoice_{n}",
)


def _line(rng: random.Random) -> str:
    text = rng.choice(TEMPLATES).format(
        hex=f"{rng.getrandbits(48):012x}",
        ms=rng.randint(1, 9000),
        n=rng.randint(1, 999),
        k=rng.randint(1, 5),
    )
    if rng.random() < 1 / 20_000:
        text += f" {RARE_WORD} detected"
    return text


async def _seed(ctx: ServiceContext, lines: int) -> tuple[float, uuid.UUID]:
    """Append ``lines`` log lines; returns lines per second and one run's id."""
    rng = random.Random(41)
    runs = [
        (uuid.UUID(int=rng.getrandbits(128)), uuid.UUID(int=rng.getrandbits(128)))
        for _ in range(RUNS)
    ]
    started = time.perf_counter()
    written = 0
    while written < lines:
        batch = []
        for _ in range(EVENTS_PER_COMMIT):
            if written >= lines:
                break
            count = min(LINES_PER_EVENT, lines - written)
            run_id, mission_id = rng.choice(runs)
            payload = {
                "attempt": 1,
                "lines": [{"level": "info", "message": _line(rng)} for _ in range(count)],
            }
            batch.append(
                NewEvent(
                    "step.log",
                    "agent:bench",
                    payload,
                    mission_id=mission_id,
                    run_id=run_id,
                    step_id="work",
                )
            )
            written += count
        if rng.random() < 0.5:  # now and then a step fails
            run_id, mission_id = rng.choice(runs)
            error = {"status": "failed", "attempt": 1, "error": "timeout waiting for the reply"}
            batch.append(NewEvent("step.failed", "system", error, run_id=run_id, step_id="work"))
        async with ctx.write() as session:
            await append(session, batch)
    rate = written / (time.perf_counter() - started)
    return rate, batch[0].run_id


async def _index(ctx: ServiceContext, lines: int) -> float:
    """Index the seeded log; returns lines indexed per second."""
    started = time.perf_counter()
    await catch_up(ctx, SEARCH_INDEX)
    rate = lines / (time.perf_counter() - started)
    async with ctx.write() as session:
        if session.get_bind().dialect.name == "postgresql":
            # What autovacuum does after a bulk load: the planner's word frequencies.
            await session.execute(text("ANALYZE search_entries"))
    return rate


async def _time(ctx: ServiceContext, **query: Any) -> dict[str, float]:
    timings = []
    hits = 0
    for _ in range(REPEATS):
        started = time.perf_counter()
        page = await search(ctx, limit=50, **query)
        timings.append((time.perf_counter() - started) * 1000)
        hits = len(page.items)
    cuts = statistics.quantiles(timings, n=20)
    return {
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(cuts[18], 1),
        "hits": hits,
    }


async def _measure(settings: Settings, lines: int) -> dict[str, object]:
    async with open_context(settings) as ctx:
        rate, run_id = await _seed(ctx, lines)
        index_rate = await _index(ctx, lines)
        queries = {
            "rare_word": {"q": RARE_WORD},
            "common_word": {"q": "request"},
            "phrase": {"q": '"connection refused"'},
            "prefix": {"q": "timeo*"},
            "common_word_in_one_run": {"q": "request", "run_id": run_id},
            "error": {"q": "timeout", "kind": SearchKind.error},
            "no_match": {"q": "nonexistentword"},
        }
        figures: dict[str, object] = {
            "seed_lines_per_s": round(rate),
            "index_lines_per_s": round(index_rate),
        }
        for name, query in queries.items():
            figures[name] = await _time(ctx, **query)
    return figures


def main() -> None:
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    lines = max(1000, int(FULL_LINES * scale))
    figures: dict[str, object] = {"log_lines": lines, "repeats": REPEATS}
    for name, settings in backends():
        figures[name] = asyncio.run(_measure(settings, lines))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
