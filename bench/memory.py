"""Mission memory latency over 10,000 remembered missions: p50/p95 of varied searches (ADR 0055).

Seeds ``10,000 x BENCH_SCALE`` finished missions in bulk: the missions' rows and their memory
entries (a summary, three to six decisions, two to five risks, one to four lessons each, about
80,000 entries at full scale), written with multi-row inserts in transactions of 500 missions.
The texts are varied: each mission combines a kind of software, a subject, features, a stack,
constraints and outcomes drawn from vocabularies, so no two missions read alike and word
frequencies range from rare to common. Then times ``services.usecases.memory.search_memory`` (the
API's, the page's and the CLI's path: catching up, ranking, snippets, the missions' outcome, cost
and lessons), first page of 20, for varied queries (a rare word, common words, a phrase, a prefix,
a kind filter, several words, no match), and ``services.usecases.memory_recall`` ranking the
missions similar to a new one (what a mission's page and the planners do).

Run: `.venv/bin/python bench/memory.py` (SQLite in a temporary directory); set
MISSIONCTL_BENCH_POSTGRES_URL to measure PostgreSQL too (a schema of its own, dropped after).
BENCH_SCALE=0.1 seeds 1,000 missions. Prints one JSON object: per database the seeding rate
and, per query, p50/p95 in milliseconds and the missions on the first page.
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

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from _databases import backends
from missionctl.db.models import Mission
from missionctl.domain.memory import MemoryKind
from missionctl.domain.states import MissionStatus
from missionctl.repositories import memory as memory_repo
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.memory import search_memory
from missionctl.services.usecases.memory_recall import similar_missions
from missionctl.settings import Settings

FULL_MISSIONS = 10_000
MISSIONS_PER_COMMIT = 500
REPEATS = 30
RARE_WORD = "quokkadb"  # in about one mission in 2,000

KINDS = (
    "web shop", "booking system", "REST API", "mobile app", "data pipeline", "dashboard",
    "chat bot", "CLI tool", "payment service", "recommendation engine", "CMS", "ETL job",
    "inventory tracker", "learning platform", "IoT gateway", "search service",
)  # fmt: skip
SUBJECTS = (
    "handmade candles", "vintage bikes", "loose-leaf tea", "dental clinics", "yoga classes",
    "car rentals", "city libraries", "warehouse robots", "farm sensors", "hotel rooms",
    "concert tickets", "invoices", "job applications", "pet adoption", "solar panels",
    "freight containers", "museum tours", "school timetables", "coffee roasting", "bike repairs",
)  # fmt: skip
FEATURES = (
    "a product catalog", "a shopping cart", "card payments", "user accounts", "email alerts",
    "an admin panel", "full-text search", "CSV export", "offline sync", "push notifications",
    "role-based access", "audit logs", "multi-currency prices", "a public API", "webhooks",
    "analytics charts", "PDF reports", "two-factor login", "image uploads", "a calendar view",
)  # fmt: skip
STACKS = (
    "Django and PostgreSQL", "FastAPI and SQLite", "Rails and MySQL", "Next.js and Prisma",
    "Spring Boot and Oracle", "Go and Redis", "Flutter and Firebase", "Kotlin and Room",
    "Node.js and MongoDB", "Phoenix and PostgreSQL", "Laravel and MariaDB", "Rust and Kafka",
)  # fmt: skip
CONSTRAINTS = (
    "GDPR compliant", "no downtime during releases", "budget under $5k", "must run on-prem",
    "launch in six weeks", "WCAG 2.1 AA", "PCI DSS", "HIPAA", "99.9% uptime",
    "works on slow networks", "EU data residency", "single developer team",
)  # fmt: skip
DECISIONS = (
    ("Storage", "Keep the {subject} data in {stack}; one schema per tenant"),
    ("Payments", "Card payments through a hosted checkout so no card data is stored"),
    ("Architecture", "A modular monolith with a job queue for {feature}"),
    ("Authentication", "Sessions with two-factor login for admins, magic links for customers"),
    ("Search", "Use the database's full-text index for {feature} before a search engine"),
    ("Deployment", "Containers on a managed platform with blue-green releases"),
    ("API style", "REST with JSON and cursor pagination for {feature}"),
    ("Caching", "Cache {subject} listings for five minutes behind the API"),
)
RISKS = (
    ("Abandoned carts", "Customers leave at checkout when {feature} is slow"),
    ("Data loss", "A failed migration of the {subject} records loses orders"),
    ("Fraud", "Stolen cards are used before payments are reviewed"),
    ("Scope creep", "Requests for {feature} grow past the budget"),
    ("Vendor lock-in", "The hosted {stack} services are hard to leave"),
    ("Compliance gap", "The {constraint} rules are missed in the first release"),
    ("Slow pages", "Listing thousands of {subject} makes pages slow"),
)
LESSONS = (
    "Step {step} failed after {n} attempts: connection refused by db:5432",
    "Step {step} succeeded on attempt {n} ({k} retries; it cost ${cost})",
    "A run ended failed: timeout waiting for the {subject} importer",
    "Step {step} failed after 1 attempt: schema validation rejected the {feature} payload",
)
STEPS = ("design", "api-contract", "data-model", "build", "tests", "deploy", "docs", "review")


def _mission(rng: random.Random, index: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A finished mission's row and its memory entries' rows."""
    kind, subject, stack = rng.choice(KINDS), rng.choice(SUBJECTS), rng.choice(STACKS)
    features = rng.sample(FEATURES, rng.randint(2, 4))
    constraints = rng.sample(CONSTRAINTS, rng.randint(0, 3))
    title = f"{subject.title()} {kind} #{index}"
    goal = f"Build a {kind} for {subject} with {', '.join(features)}, on {stack}"
    if rng.random() < 1 / 2_000:
        goal += f", storing history in {RARE_WORD}"
    status = rng.choice(
        (MissionStatus.completed,) * 3 + (MissionStatus.failed, MissionStatus.canceled)
    )
    spent = rng.randint(0, 5_000_000)
    mission_id = uuid.UUID(int=rng.getrandbits(128))
    now = datetime.now(UTC)
    row = {
        "id": mission_id, "title": title, "goal": goal, "constraints": constraints,
        "repo_context": "", "budget_micros": None, "spent_micros": spent, "input_tokens": 0,
        "output_tokens": 0, "status": status, "clarifications": [], "created_by": "user:bench",
        "created_at": now, "updated_at": now,
    }  # fmt: skip
    fill = {
        "subject": subject,
        "stack": stack,
        "feature": rng.choice(features),
        "constraint": constraints[0] if constraints else "privacy",
        "step": rng.choice(STEPS),
        "n": rng.randint(1, 4),
        "k": rng.randint(1, 3),
        "cost": f"{rng.random():.4f}",
    }
    summary = f"{title}. {goal}\nConstraints: {'; '.join(constraints)}\nOutcome: {status}"
    texts = [(MemoryKind.summary, title, summary)]
    texts += [
        (MemoryKind.decision, t, c.format(**fill))
        for t, c in rng.sample(DECISIONS, rng.randint(3, 6))
    ]
    texts += [
        (MemoryKind.risk, t, d.format(**fill)) for t, d in rng.sample(RISKS, rng.randint(2, 5))
    ]
    texts += [
        (MemoryKind.lesson, "Lesson", lesson.format(**fill))
        for lesson in rng.sample(LESSONS, rng.randint(1, 4))
    ]
    entries = [
        {
            "mission_id": mission_id, "kind": kind.value, "ref_id": None, "title": t,
            "body": body, "scope": f"k{kind.value} m{mission_id.hex}", "embedding": None,
        }
        for kind, t, body in texts
    ]  # fmt: skip
    return row, entries


def seed_missions(ctx_session: Session, rng: random.Random, first: int, count: int) -> int:
    """Insert ``count`` finished missions and their entries; returns the entries written."""
    missions, entries = [], []
    for index in range(first, first + count):
        row, rows = _mission(rng, index)
        missions.append(row)
        entries.extend(rows)
    ctx_session.execute(insert(Mission), missions)
    memory_repo.insert_entries(ctx_session, entries)
    return len(entries)


async def seed(ctx: ServiceContext, missions: int) -> tuple[float, int]:
    """Seed ``missions`` remembered missions; returns missions per second and entries."""
    rng = random.Random(55)
    started = time.perf_counter()
    entries = 0
    for first in range(0, missions, MISSIONS_PER_COMMIT):
        count = min(MISSIONS_PER_COMMIT, missions - first)
        entries += await ctx.write_blocking(
            lambda session, first=first, count=count: seed_missions(session, rng, first, count)
        )
    rate = missions / (time.perf_counter() - started)
    async with ctx.write() as session:
        # Nothing in the log names them: the indexer has nothing to catch up.
        await session.execute(
            text(
                "UPDATE follower_cursors SET last_seq = (SELECT coalesce(max(seq), 0) "
                "FROM events) WHERE name = 'memory'"
            )
        )
    if ctx.db.engine.dialect.name == "postgresql":
        # What autovacuum does after a bulk load: the GIN index's pending entries merged (a
        # search would read them one by one) and the planner's statistics.
        async with ctx.db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE memory_entries"))
    return rate, entries


async def _time(call: Any) -> dict[str, float]:
    timings, found = [], 0
    for _ in range(REPEATS):
        started = time.perf_counter()
        found = len(await call())
        timings.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(timings, n=20)
    return {
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(cuts[18], 1),
        "found": found,
    }


async def _new_mission(ctx: ServiceContext) -> uuid.UUID:
    async with ctx.write() as session:
        mission = Mission(
            title="Ceramic mugs web shop",
            goal="Build a web shop for ceramic mugs with a product catalog, a shopping cart and "
            "card payments, on Django and PostgreSQL",
            constraints=["GDPR compliant"],
            status=MissionStatus.draft,
            created_by="user:bench",
        )
        session.add(mission)
        await session.flush()
        return mission.id


async def _measure(settings: Settings, missions: int) -> dict[str, object]:
    async with open_context(settings) as ctx:
        rate, entries = await seed(ctx, missions)
        new = await _new_mission(ctx)
        queries: dict[str, dict[str, Any]] = {
            "rare_word": {"q": RARE_WORD},
            "common_word": {"q": "payments"},
            "two_words": {"q": "tea shopping"},
            "phrase": {"q": '"shopping cart"'},
            "prefix": {"q": "invoic*"},
            "decisions_only": {"q": "postgresql", "kind": MemoryKind.decision},
            "lessons_only": {"q": "connection refused", "kind": MemoryKind.lesson},
            "many_words": {"q": "web shop candles card payments gdpr"},
            "no_match": {"q": "nonexistentword"},
        }
        figures: dict[str, object] = {"seed_missions_per_s": round(rate), "entries": entries}
        for name, query in queries.items():
            figures[name] = await _time(
                lambda query=query: _items(ctx, query)  # type: ignore[misc]
            )
        figures["similar_missions"] = await _time(lambda: similar_missions(ctx, mission_id=new))
    return figures


async def _items(ctx: ServiceContext, query: dict[str, Any]) -> list[Any]:
    return (await search_memory(ctx, limit=20, **query)).items


def main() -> None:
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    missions = max(100, int(FULL_MISSIONS * scale))
    figures: dict[str, object] = {"missions": missions, "repeats": REPEATS}
    for name, settings in backends():
        figures[name] = asyncio.run(_measure(settings, missions))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
