"""What spending caps cost the claim, with a month of a busy system's spending behind them.

Run: `.venv/bin/python bench/spending_caps.py` (SQLite in a temporary directory; PostgreSQL too
when MISSIONCTL_BENCH_POSTGRES_URL names a server, see bench/_databases.py). Each database gets
a month of daily spending sums as the database keeps them (`usage_days`: 30 days x 40 agents x
3 models, a hundred thousand steps' worth) and 1,000 deltas not folded yet (the server folds
them every second), a priced model,
and 20 runs of one `llm:writer` step each, queued.

Then, inside a writer transaction that is rolled back (so every repetition sees the same
queue), it times the engine's claim of 10 of those steps (`execution.claiming.claim`):

- `claim_no_caps`: no cap set (the claim reads nothing more);
- `claim_day_cap` / `claim_month_cap` / `claim_every_agent_month`: one cap governing the
  steps (`llm:writer` per day, `llm:*` per month, `*` per month);
- `claim_five_caps`: all of those and two that govern other agents.

It prints the median and p95 in microseconds of each, and each median's ratio to
`claim_no_caps` measured in the same run.
"""

import asyncio
import contextlib
import json
import statistics
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from _databases import backends
from missionctl.db.models import UsageDay, UsageDelta
from missionctl.db.types import utcnow
from missionctl.schemas.spending_caps import SpendingCapSet
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases import spending_caps
from missionctl.services.usecases.execution import DagCache
from missionctl.services.usecases.execution.claiming import claim
from missionctl.services.usecases.execution.types import Dispatch, PolicyCache, Tick
from missionctl.services.usecases.pricing import PriceSet, set_price
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import LLMSettings, Settings

MODEL = "gpt-4o-mini"
REPEATS = 60
DELTAS = 1_000  # about a second of a busy engine's steps: the server folds them every second
CAPS = {
    "claim_day_cap": [("llm:writer", "day")],
    "claim_month_cap": [("llm:*", "month")],
    "claim_every_agent_month": [("*", "month")],
    "claim_five_caps": [
        ("llm:writer", "day"),
        ("llm:*", "month"),
        ("*", "month"),
        ("llm:reviewer", "day"),
        ("builtin:docs", "day"),
    ],
}


class _Rollback(Exception):
    """Raised to roll the measured claim back."""


def _seed_usage(session: Session) -> None:
    """A month of daily sums and some unfolded deltas, as the triggers would have left them."""
    today = utcnow().date()
    agents = [f"llm:role{i}" for i in range(38)] + ["llm:writer", "builtin:docs"]
    rows = [
        {
            "day": today - timedelta(days=d),
            "agent": agent,
            "model": model,
            "steps": 80,
            "input_tokens": 40_000,
            "output_tokens": 20_000,
            "cost_micros": 1_000,
        }
        for d in range(30)
        for agent in agents
        for model in ("gpt-4o-mini", "gpt-4o", "")
    ]
    session.execute(insert(UsageDay), rows)
    deltas = [
        {**rows[i % len(rows)], "day": today, "steps": 1, "cost_micros": 10} for i in range(DELTAS)
    ]
    session.execute(insert(UsageDelta), deltas)


async def _prepare(ctx: ServiceContext) -> None:
    await ctx.write_blocking(_seed_usage)
    price = PriceSet(model=MODEL, input_usd_per_mtok=Decimal(1), output_usd_per_mtok=Decimal(2))
    await set_price(ctx, data=price, actor="user:bench")
    spec = WorkflowSpec.model_validate(
        {"name": "caps", "steps": [{"id": "w", "agent": "llm:writer", "estimate_tokens": 1000}]}
    )
    workflow = await create_workflow(ctx, spec=spec, actor="user:bench")
    for _ in range(20):
        await start_run(ctx, workflow_id=workflow.id, actor="user:bench")


async def _time_claim(ctx: ServiceContext) -> list[float]:
    """Microseconds of each of REPEATS claims of up to 10 steps, each rolled back."""
    timings: list[float] = []
    policies, dags = PolicyCache(), DagCache()

    def work(session: Session) -> None:
        state = Tick(now=utcnow(), policy=policies.load(session))
        dispatch = Dispatch(
            worker="bench",
            lease_token=uuid.uuid4(),
            expires=state.now + timedelta(seconds=30),
            capacity=10,
        )
        started = time.perf_counter()
        claim(session, state, dispatch, dags)
        timings.append((time.perf_counter() - started) * 1e6)
        assert len(dispatch.claimed) == 10, len(dispatch.claimed)
        raise _Rollback

    for _ in range(REPEATS):
        with contextlib.suppress(_Rollback):
            await ctx.write_blocking(work)
    return timings[REPEATS // 6 :]  # the first few warm the caches


async def _set_caps(ctx: ServiceContext, caps: list[tuple[str, str]]) -> None:
    for cap in await spending_caps.list_caps(ctx):
        await spending_caps.remove_cap(ctx, cap_id=cap.id, actor="user:bench")
    for agent, period in caps:
        data = SpendingCapSet.model_validate({"agent": agent, "period": period, "cap_usd": 1e5})
        await spending_caps.set_cap(ctx, data=data, actor="user:bench")


async def measure(settings: Settings) -> dict[str, Any]:
    llm = LLMSettings(base_url="http://127.0.0.1:9/v1", model=MODEL)
    async with open_context(settings.model_copy(update={"llm": llm})) as ctx:
        await _prepare(ctx)
        figures: dict[str, Any] = {}
        base = await _time_claim(ctx)
        figures["claim_no_caps"] = _summary(base)
        for name, caps in CAPS.items():
            await _set_caps(ctx, caps)
            timings = await _time_claim(ctx)
            figures[name] = _summary(timings)
            figures[name]["ratio_to_no_caps"] = round(
                statistics.median(timings) / statistics.median(base), 2
            )
        return figures


def _summary(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return {"median_us": round(statistics.median(ordered), 1), "p95_us": round(p95, 1)}


def main() -> None:
    for name, settings in backends():
        figures = asyncio.run(measure(settings))
        print(json.dumps({"database": name, **figures}))


if __name__ == "__main__":
    main()
