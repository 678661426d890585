"""`/api/v1/analytics` over a year of history: p50 and p95 of each endpoint, per database.

Run: `.venv/bin/python bench/analytics.py` (SQLite in a temporary directory; PostgreSQL too when
MISSIONCTL_BENCH_POSTGRES_URL names a server, see bench/_databases.py). `BENCH_SCALE` scales the
people, missions, runs and steps (default 1: 1,000 people, 20,000 missions, 100,000 runs of 10
steps, over the last 365 days); `BENCH_SCALE=0.1` takes a tenth.

The history is appended to the event log in bulk, each event dated in the past, through the
log's own chain (every event hashed after the one before, at the head, as the database demands):
per person `user.created`, `user.signed_in` on their first day and on each day they create a
mission; per mission `mission.created` and `plan.created` (one in three by a model); per run
`run.created` (one in ten by a schedule), `run.started`, a `step.succeeded` (one in twenty
`step.failed`) with tokens and spend per step, and its end (85 % completed); a
`report.downloaded` for one completed run in five. The facts are then built by following the
whole log once (`followed_s`), as a server meeting an old log would, and the tables analysed.

Then it serves the app in-process (httpx2 ASGITransport; no engine) as a viewer's API token and
times, after a warm-up, each endpoint over the whole year: the funnel by week (and for one
workflow), the trends by day and by week (and by day for one workflow and for one role), the
retention (and for one role), the anomalies (as of yesterday, and for one workflow), the insights
(no model configured: the deterministic writer; and for one role and one workflow), the
definitions; and each panel of the insights cockpit (`/insights/panels/NAME?range=1y`, the
fragment the page loads, with the same viewer's token).
"""

import asyncio
import json
import logging
import os
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from _databases import backends
from missionctl.app import create_app
from missionctl.db.prepared import driver_connection
from missionctl.domain.access import Role
from missionctl.eventlog import NewEvent
from missionctl.eventlog.store import (
    _HEAD_QUERY,
    _INSERT_EVENT_ARRAYS,
    _INSERT_EVENTS,
    _chain,
    _insert_columns,
    _insert_rows,
)
from missionctl.schemas.identity import UserCreate
from missionctl.services import ServiceContext, open_context
from missionctl.services.followers import ANALYTICS_FACTS, FOLLOWERS, catch_up
from missionctl.services.usecases import identity
from missionctl.settings import EngineSettings, Settings
from missionctl.web.insights import PANELS

logging.getLogger("httpx2").setLevel(logging.WARNING)
logging.getLogger("alembic").setLevel(logging.WARNING)

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
PEOPLE = max(int(1_000 * SCALE), 10)
MISSIONS = max(int(20_000 * SCALE), 20)
RUNS = max(int(100_000 * SCALE), 50)
STEPS = 10
DAYS = 365
WORKFLOWS = 20
BATCH = 5_000
REQUESTS = 30
WARM_UP = 3

Dated = tuple[datetime, NewEvent]


def _history(now: datetime) -> list[Dated]:
    """Every event of the year, dated, in time order."""
    rng = random.Random(68)
    start = now - timedelta(days=DAYS)
    firsts = sorted(start + timedelta(minutes=rng.randrange(DAYS * 1440)) for _ in range(PEOPLE))
    names = [f"person{n:05d}" for n in range(PEOPLE)]
    out: list[Dated] = []
    for name, first in zip(names, firsts, strict=True):
        role = "operator" if rng.random() < 0.8 else "viewer"
        out.append((first, NewEvent("user.created", "system", {"name": name, "role": role})))
        out.append((first, NewEvent("user.signed_in", f"user:{name}", {"name": name})))
    missions = []
    for _ in range(MISSIONS):
        who = rng.randrange(PEOPLE)
        at = firsts[who] + (now - firsts[who]) * rng.random() ** 2
        mission, actor = uuid.uuid4(), f"user:{names[who]}"
        source = "gpt-4o-mini" if rng.random() < 1 / 3 else "local"
        out.append((at, NewEvent("user.signed_in", actor, {"name": names[who]})))
        out.append((at, NewEvent("mission.created", actor, {"title": "m"}, mission_id=mission)))
        plan_at = at + timedelta(minutes=2)
        out.append(
            (plan_at, NewEvent("plan.created", actor, {"source": source}, mission_id=mission))
        )
        missions.append((plan_at, mission, actor))
    for n in range(RUNS):
        out += _run(rng, n, *missions[rng.randrange(MISSIONS)], now)
    out.sort(key=lambda dated: dated[0])
    return out


def _run(
    rng: random.Random, n: int, after: datetime, mission: uuid.UUID, owner: str, now: datetime
) -> list[Dated]:
    """One run of ``mission``: created, started, its steps' spend, its end, maybe a download."""
    at = after + (now - after) * rng.random()
    run, ids = uuid.uuid4(), {"mission_id": mission}
    actor = "schedule:nightly" if n % 10 == 0 else owner
    workflow = f"wf-{n % WORKFLOWS:02d}"
    events: list[Dated] = [
        (at, NewEvent("run.created", actor, {"workflow": workflow}, run_id=run, **ids)),
        (at, NewEvent("run.started", "system", {"status": "running"}, run_id=run, **ids)),
    ]
    step_at = at
    for i in range(STEPS):
        step_at += timedelta(seconds=rng.randrange(5, 120))
        kind = "step.failed" if rng.random() < 0.05 else "step.succeeded"
        cost = rng.randrange(0, 20_000)
        usage = {"cost_micros": cost, "input_tokens": cost // 4, "output_tokens": cost // 20}
        events.append((step_at, NewEvent(kind, "system", usage, run_id=run, step_id=f"s{i}")))
    end = "run.completed" if rng.random() < 0.85 else "run.failed"
    events.append((step_at, NewEvent(end, "system", {"status": end[4:]}, run_id=run, **ids)))
    if end == "run.completed" and rng.random() < 0.2:
        later = step_at + timedelta(hours=1)
        events.append((later, NewEvent("report.downloaded", owner, {}, run_id=run, **ids)))
    return events


def _chunks(history: list[Dated]) -> Iterator[list[Dated]]:
    for first in range(0, len(history), BATCH):
        yield history[first : first + BATCH]


def _append_dated(session: Session, chunk: list[Dated]) -> None:
    """Append ``chunk`` at the head as ``append_sync`` does, but each event at its own date."""
    head = _HEAD_QUERY.first(session)
    assert head is not None
    seq, prev_hash, _ = head
    records = []
    for at, event in chunk:
        (record,) = _chain([event], seq, prev_hash, at)
        records.append(record)
        seq, prev_hash = record.seq, record.hash
    events = [event for _, event in chunk]
    dialect, _ = driver_connection(session)
    if dialect.name == "postgresql":
        _INSERT_EVENT_ARRAYS.run(session, _insert_columns(records, events))
    else:
        _INSERT_EVENTS.run_many(session, _insert_rows(records, events))


async def _seed(ctx: ServiceContext) -> int:
    history = _history(datetime.now(UTC))
    for chunk in _chunks(history):
        await ctx.write_blocking(lambda session, c=chunk: _append_dated(session, c))  # type: ignore[misc]
    return len(history)


def _settle(settings: Settings) -> None:
    """Gather the planner statistics a live database would have after bulk inserts."""
    engine = create_engine(
        settings.database_url.replace("+aiosqlite", ""), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("VACUUM ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
    engine.dispose()


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[max(int(len(ordered) * 0.95) - 1, 0)], 2),
    }


async def _time(http: httpx2.AsyncClient, path: str, params: dict[str, Any]) -> dict[str, float]:
    """``GET /api/v1/analytics/PATH`` timed; see :func:`_time_url`."""
    return await _time_url(http, f"/api/v1/analytics/{path}", params)


async def _time_url(http: httpx2.AsyncClient, url: str, params: dict[str, Any]) -> dict[str, float]:
    """p50 and p95 of ``GET url`` after a warm-up; every answer must be a 200."""
    for _ in range(WARM_UP):
        warm = await http.get(url, params=params)
        assert warm.status_code == 200, warm.text[:500]
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = await http.get(url, params=params)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return _summary(samples)


async def _time_insights(http: httpx2.AsyncClient, params: dict[str, Any]) -> dict[str, float]:
    """The insights, after checking that the deterministic writer answers (no model is set)."""
    answer = await http.get("/api/v1/analytics/insights", params=params)
    assert answer.status_code == 200, answer.text[:500]
    assert answer.json()["source"] == "deterministic", "unset the model to time the writer"
    return await _time(http, "insights", params)


async def _time_panels(http: httpx2.AsyncClient) -> dict[str, dict[str, float]]:
    """Each panel of the cockpit over the last year, as the page's fragments load it."""
    year = {"range": "1y"}
    return {
        f"panel_{name}": await _time_url(http, f"/insights/panels/{name}", year) for name in PANELS
    }


async def measure(name: str, settings: Settings) -> dict[str, Any]:
    """Seed ``settings``' database, follow its log, and time the endpoints on it."""
    quiet = settings.model_copy(update={"engine": EngineSettings(embedded=False)})
    async with open_context(quiet) as ctx:
        started = time.perf_counter()
        events = await _seed(ctx)
        seeded_s = time.perf_counter() - started
        started = time.perf_counter()
        await catch_up(ctx, ANALYTICS_FACTS)
        followed_s = time.perf_counter() - started
        # The server's other followers of the log catch up too, before any timing: a live
        # server has long since done so, and they would otherwise compete with the requests.
        for follower in FOLLOWERS:
            await catch_up(ctx, follower)
        await identity.create_user(
            ctx, data=UserCreate(name="bench", role=Role.VIEWER), actor="system"
        )
        _, token = await identity.create_token(ctx, user_name="bench", name="bench", actor="system")
    _settle(quiet)
    year = {"since": (datetime.now(UTC) - timedelta(days=DAYS)).date().isoformat()}
    app = create_app(quiet)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers
        ) as http:
            timings = {
                "funnel_week": await _time(http, "funnel", {**year, "grain": "week"}),
                "trends_day": await _time(http, "trends", year),
                "trends_week": await _time(http, "trends", {**year, "grain": "week"}),
                "trends_workflow": await _time(
                    http, "trends", {**year, "segment": "workflow:wf-03"}
                ),
                "trends_role": await _time(http, "trends", {**year, "segment": "role:viewer"}),
                "funnel_workflow": await _time(
                    http, "funnel", {**year, "grain": "week", "segment": "workflow:wf-03"}
                ),
                "retention": await _time(http, "retention", year),
                "retention_role": await _time(
                    http, "retention", {**year, "segment": "role:viewer"}
                ),
                "anomalies": await _time(http, "anomalies", {}),
                "anomalies_workflow": await _time(http, "anomalies", {"segment": "workflow:wf-03"}),
                "insights": await _time_insights(http, year),
                "insights_role": await _time_insights(http, {**year, "segment": "role:viewer"}),
                "insights_workflow": await _time_insights(
                    http, {**year, "segment": "workflow:wf-03"}
                ),
                "definitions": await _time(http, "definitions", {}),
                **await _time_panels(http),
            }
    return {
        "database": name,
        "scale": SCALE,
        "people": PEOPLE,
        "missions": MISSIONS,
        "runs": RUNS,
        "steps": RUNS * STEPS,
        "events": events,
        "seeded_s": round(seeded_s, 1),
        "followed_s": round(followed_s, 1),
        **timings,
    }


async def main() -> None:
    """Measure every database and print one JSON object per database."""
    for name, settings in backends():
        print(json.dumps(await measure(name, settings)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
