"""Command palette latency over 10,000 missions and 10,000 runs: p50/p95 per query (ADR 0062).

Seeds ``10,000 x BENCH_SCALE`` missions with varied titles, 200 workflows and one run per
mission (a fifth of them still running), in bulk. Then times
``services.usecases.palette.search_palette`` (the API's path: every source the caller may read,
scoring, ranking) as an admin, who is asked every source, for a blank query (the palette just
opened), a scattered query (letters in order across words), a common word (matches thousands: the
bound is what keeps it fast), a rare word, two words, an action's verb and object, and a query that
matches nothing.

Run: `.venv/bin/python bench/palette.py` (SQLite in a temporary directory); set
MISSIONCTL_BENCH_POSTGRES_URL to measure PostgreSQL too (a schema of its own, dropped after).
BENCH_SCALE=0.1 seeds 1,000 missions. Prints one JSON object: per database and query, p50/p95
in milliseconds and the items returned.
"""

import asyncio
import json
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from _databases import backends
from missionctl.db.models import Mission, Run, Workflow
from missionctl.domain.access import Identity, Role
from missionctl.domain.ids import new_id
from missionctl.domain.states import MissionStatus, RunStatus
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.palette import search_palette
from missionctl.settings import Settings

FULL_MISSIONS = 10_000
WORKFLOWS = 200
PER_COMMIT = 1_000
REPEATS = 30
RARE = "quokkadb"  # in about one title in 2,000
ADMIN = Identity(actor="user:bench", user_name="bench", role=Role.ADMIN)

VERBS = ("Build", "Migrate", "Ship", "Rewrite", "Harden", "Launch", "Port", "Speed up")
THINGS = (
    "the billing page", "the customer database", "a booking system", "the search service",
    "the mobile app", "an invoice exporter", "the payment gateway", "a chat bot",
    "the data pipeline", "the admin dashboard", "the login flow", "a recommendation engine",
)  # fmt: skip
FOR = ("for tea shops", "for dental clinics", "for car rentals", "for city libraries", "")


def _title(rng: random.Random) -> str:
    words = [rng.choice(VERBS), rng.choice(THINGS), rng.choice(FOR)]
    if rng.random() < 0.0005:
        words.append(RARE)
    return " ".join(w for w in words if w)


def _seed_batch(
    session: Session, rng: random.Random, workflows: list[uuid.UUID], count: int
) -> None:
    now = datetime.now(UTC)
    missions, runs = [], []
    for _ in range(count):
        mission_id = new_id()
        title = _title(rng)
        missions.append(
            {
                "id": mission_id, "title": title, "goal": title, "constraints": [],
                "status": MissionStatus.running, "clarifications": [], "created_by": "user:bench",
            }
        )  # fmt: skip
        running = rng.random() < 0.2
        runs.append(
            {
                "id": new_id(), "workflow_id": rng.choice(workflows), "mission_id": mission_id,
                "trigger": "api", "status": RunStatus.running if running else RunStatus.completed,
                "inputs": {}, "created_by": "user:bench", "created_at": now, "updated_at": now,
            }
        )  # fmt: skip
    session.execute(insert(Mission), missions)
    session.execute(insert(Run), runs)


def _seed_workflows(session: Session) -> list[uuid.UUID]:
    rows = [
        {
            "id": new_id(), "name": f"{rng_name}-{n}", "version": 1, "definition": {"steps": []},
            "created_by": "user:bench",
        }
        for n, rng_name in enumerate(["nightly-build", "release", "deploy", "digest"] * 50)
    ]  # fmt: skip
    session.execute(insert(Workflow), rows)
    return [row["id"] for row in rows]


async def seed(ctx: ServiceContext, missions: int) -> None:
    """Seed ``missions`` missions, each with one run of one of the workflows."""
    rng = random.Random(62)
    workflows = await ctx.write_blocking(_seed_workflows)
    for first in range(0, missions, PER_COMMIT):
        count = min(PER_COMMIT, missions - first)
        await ctx.write_blocking(
            lambda session, count=count: _seed_batch(session, rng, workflows, count)
        )


async def _time(ctx: ServiceContext, q: str) -> dict[str, float]:
    timings, found = [], 0
    for _ in range(REPEATS):
        started = time.perf_counter()
        found = len((await search_palette(ctx, who=ADMIN, q=q)).items)
        timings.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(timings, n=20)
    return {
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(cuts[18], 1),
        "found": found,
    }


async def _measure(settings: Settings, missions: int) -> dict[str, object]:
    async with open_context(settings) as ctx:
        await seed(ctx, missions)
        queries: dict[str, Any] = {
            "blank": "",
            "scattered": "custdb",
            "common_word": "the",
            "rare_word": RARE,
            "two_words": "billing tea",
            "action": "cancel billing",
            "no_match": "zzqxj",
        }
        return {name: await _time(ctx, q) for name, q in queries.items()}


def main() -> None:
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    missions = max(100, int(FULL_MISSIONS * scale))
    figures: dict[str, object] = {"missions": missions, "runs": missions, "repeats": REPEATS}
    for name, settings in backends():
        figures[name] = asyncio.run(_measure(settings, missions))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
