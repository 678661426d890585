"""How far the followers of the log fall behind a burst of 100,000 events, and how fast they
catch up (ADR 0086).

Appends ``100,000 x BENCH_SCALE`` events (BENCH_SCALE=0.1 for 10,000) through the real appender,
as fast as it goes, in transactions of ``EVENTS_PER_COMMIT``: runs shaped like the engine's
(``run.created``, ``run.started``, per step ``step.started``, two ``step.log`` and
``step.succeeded`` with its usage, then ``run.completed``), each under a mission. Meanwhile every
follower runs as ``missionctl serve`` runs it (``services.followers.log_followers``: a pass
every second, batches of 5,000 events), with one webhook subscription to ``run.completed`` so
that the outbox has deliveries to write. A sampler reads ``follower_lags`` (what
``missionctl followers`` prints) every ``SAMPLE_S``.

Run: `.venv/bin/python bench/followers.py` (SQLite in a temporary directory); set
MISSIONCTL_BENCH_POSTGRES_URL to measure PostgreSQL too. Prints one JSON object: per database
the append rate, and per follower its peak lag (events and seconds) during the burst and the
seconds it took after the burst's last commit to be current again (sampled: to within
``SAMPLE_S``).
"""

import asyncio
import json
import os
import time
import uuid
from typing import Any

from _databases import backends
from missionctl.eventlog import NewEvent, append
from missionctl.schemas.webhooks import WebhookCreate
from missionctl.services import ServiceContext, open_context
from missionctl.services.followers import FOLLOWERS, follower_lags, log_followers
from missionctl.services.usecases.webhooks import create_webhook
from missionctl.settings import EngineSettings, HttpAgentSettings, Settings

FULL_EVENTS = 100_000
EVENTS_PER_COMMIT = 100
STEPS_PER_RUN = 8
SAMPLE_S = 0.25
DRAIN_TIMEOUT_S = 600.0


def _run(mission: uuid.UUID) -> list[NewEvent]:
    """The events of one run of ``STEPS_PER_RUN`` steps, as the engine appends them."""
    run, ids = uuid.uuid4(), {"mission_id": mission}
    events = [
        NewEvent("run.created", "user:ada", {"workflow": "nightly-build"}, run_id=run, **ids),
        NewEvent("run.started", "system", {"status": "running"}, run_id=run, **ids),
    ]
    for n in range(STEPS_PER_RUN):
        step = {"run_id": run, "step_id": f"step-{n}"}
        usage = {"status": "succeeded", "input_tokens": 900, "output_tokens": 300, "cost_usd": 0.01}
        events += [
            NewEvent("step.started", "system", {"attempt": 1}, **step),
            NewEvent("step.log", "system", {"line": f"compiling module {n} of the build"}, **step),
            NewEvent("step.log", "system", {"line": f"request {n:04x} completed in 12 ms"}, **step),
            NewEvent("step.succeeded", "system", usage, **step),
        ]
    events.append(NewEvent("run.completed", "system", {"status": "completed"}, run_id=run, **ids))
    return events


async def _burst(ctx: ServiceContext, total: int) -> float:
    """Append ``total`` events; returns events appended per second."""
    started = time.perf_counter()
    pending: list[NewEvent] = []
    written = 0
    while written < total:
        if not pending:
            mission = uuid.uuid4()
            pending = [NewEvent("mission.created", "user:ada", {"title": "m"}, mission_id=mission)]
            pending += _run(mission)
        batch, pending = pending[:EVENTS_PER_COMMIT], pending[EVENTS_PER_COMMIT:]
        batch = batch[: total - written]
        async with ctx.write() as session:
            await append(session, batch)
        written += len(batch)
        await asyncio.sleep(0)  # let the followers' tasks take their turns, as a server would
    return total / (time.perf_counter() - started)


class Sampler:
    """Reads every follower's lag every ``SAMPLE_S``; keeps the peaks and when each was current."""

    def __init__(self) -> None:
        self.peak_events = {f.name: 0 for f in FOLLOWERS}
        self.peak_s = {f.name: 0.0 for f in FOLLOWERS}
        self.current_at: dict[str, float] = {}
        self.burst_done_at: float | None = None

    async def run(self, ctx: ServiceContext, stop: asyncio.Event) -> None:
        while not stop.is_set():
            now = time.perf_counter()
            for lag in await follower_lags(ctx):
                self.peak_events[lag.name] = max(self.peak_events[lag.name], lag.lag_events)
                self.peak_s[lag.name] = max(self.peak_s[lag.name], lag.lag_s)
                if self.burst_done_at is not None and lag.lag_events == 0:
                    self.current_at.setdefault(lag.name, now)
            if self.burst_done_at is not None and len(self.current_at) == len(FOLLOWERS):
                return
            await asyncio.sleep(SAMPLE_S)


async def _measure(settings: Settings, total: int) -> dict[str, Any]:
    quiet = settings.model_copy(
        update={
            "engine": EngineSettings(embedded=False),
            "http_agent": HttpAgentSettings(allowed_networks=["127.0.0.0/8"]),
        }
    )
    async with open_context(quiet) as ctx:
        await create_webhook(
            ctx,
            data=WebhookCreate(url="http://127.0.0.1:9/hook", events=["run.completed"]),
            actor="user:ada",
        )
        sampler, stop = Sampler(), asyncio.Event()
        started = time.perf_counter()
        async with log_followers(ctx, sends_webhooks=True):
            sampling = asyncio.create_task(sampler.run(ctx, stop))
            rate = await _burst(ctx, total)
            sampler.burst_done_at = time.perf_counter()
            try:
                await asyncio.wait_for(asyncio.shield(sampling), DRAIN_TIMEOUT_S)
            finally:
                stop.set()
                await sampling
    done = sampler.burst_done_at
    return {
        "append_events_per_s": round(rate),
        "burst_s": round(done - started, 1),
        "followers": {
            name: {
                "peak_lag_events": sampler.peak_events[name],
                "peak_lag_s": round(sampler.peak_s[name], 2),
                "current_after_burst_s": round(sampler.current_at[name] - done, 2),
            }
            for name in sampler.peak_events
        },
    }


def main() -> None:
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    total = max(1_000, int(FULL_EVENTS * scale))
    figures: dict[str, Any] = {"events": total, "sample_s": SAMPLE_S}
    for name, settings in backends():
        figures[name] = asyncio.run(_measure(settings, total))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
