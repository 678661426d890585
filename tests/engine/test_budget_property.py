"""Property: a capped run never overshoots by more than its in-flight steps' overruns.

Hypothesis draws random DAGs, per-step token estimates, the tokens each step really uses, a cap
and a concurrency limit; each example runs through the real engine on SQLite with a fake LLM
agent that reports the drawn usage. After the run ends, the event log must show:

- no ``step.started`` after ``budget.exceeded``;
- when the estimate exceeds the cap, nothing was dispatched at all;
- ``spent - cap`` is at most the summed overruns (actual minus estimate) of the steps that were
  running when the last step was dispatched — with a concurrency of one, at most the largest
  single step's overrun. Reservations make concurrent steps share the cap: without them two
  steps dispatched together could each spend the whole remainder.
"""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from missionctl.agents.base import AgentResult, StepContext
from missionctl.agents.registry import AgentRegistry
from missionctl.db.models import StepRun
from missionctl.llm import LLMUsage
from missionctl.services import ServiceContext, open_context
from missionctl.settings import LLMSettings, Settings
from tests.engine.helpers import run_events, running_engine, start, wait_for_run
from tests.support.consistency import assert_consistent

MODEL = "gpt-4o-mini"  # priced from the bundled public price list


class SpendingAgent:
    """Reports the usage its inputs ask for, as an LLM call would."""

    async def run(self, step: StepContext) -> AgentResult:
        await asyncio.sleep(0.005 * int(step.inputs["pause"]))
        usage = LLMUsage(input_tokens=int(step.inputs["in"]), output_tokens=int(step.inputs["out"]))
        return AgentResult(outputs={"ok": True}, usage=usage, model=MODEL)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(min_value=1, max_value=7))
    steps = []
    for index in range(count):
        deps = (
            draw(st.sets(st.integers(min_value=0, max_value=index - 1), max_size=2))
            if index
            else set()
        )
        steps.append(
            {
                "id": f"s{index}",
                "agent": "llm:spend",
                "depends_on": [f"s{d}" for d in sorted(deps)],
                "estimate_tokens": draw(st.integers(min_value=0, max_value=80_000)),
                "inputs": {
                    "in": draw(st.integers(min_value=0, max_value=300_000)),
                    "out": draw(st.integers(min_value=0, max_value=60_000)),
                    "pause": draw(st.integers(min_value=0, max_value=3)),
                },
            }
        )
    return {
        "steps": steps,
        "cap": draw(st.integers(min_value=0, max_value=400_000)),  # micro-dollars
        "max_concurrency": draw(st.sampled_from([1, 2, 4])),
    }


@contextmanager
def service_context(home: Path) -> Iterator[tuple[asyncio.AbstractEventLoop, ServiceContext]]:
    """A context on a fresh SQLite database, with a model configured, on its own event loop."""
    base = Settings(home=home)
    configured = base.model_copy(update={"llm": LLMSettings(model=MODEL)})
    loop = asyncio.new_event_loop()
    manager = open_context(configured)
    ctx = loop.run_until_complete(manager.__aenter__())
    try:
        yield loop, ctx
    finally:
        loop.run_until_complete(manager.__aexit__(None, None, None))
        loop.close()


async def check(ctx: ServiceContext, scenario: dict[str, Any]) -> str:
    """Run the scenario and check the property; returns which way the run went."""
    run = await start(
        ctx,
        scenario["steps"],
        max_concurrency=scenario["max_concurrency"],
        run_budget_micros=scenario["cap"],
    )
    registry = AgentRegistry()
    registry.register("llm:spend", SpendingAgent())
    if run.status == "running":
        async with running_engine(ctx, agents=registry):
            run = await wait_for_run(ctx, run.id, within_s=30)
    events = await run_events(ctx, run.id)
    types = [e.type for e in events]
    started = [e for e in events if e.type == "step.started"]
    if "budget.exceeded" in types:
        cut = types.index("budget.exceeded")
        assert "step.started" not in types[cut:], "a step was dispatched after budget.exceeded"
    async with ctx.read() as session:
        rows = {
            row.step_id: row
            for row in (await session.scalars(select(StepRun).where(StepRun.run_id == run.id)))
        }
    total_estimate = sum(row.estimate_micros for row in rows.values())
    if total_estimate > scenario["cap"]:
        assert started == [] and run.status == "failed"
        return "refused before dispatch"
    spent = sum(row.cost_micros for row in rows.values())
    assert abs(spent - round(run.spent_usd * 1_000_000)) <= 1
    if not started:
        return "nothing to dispatch"
    last = started[-1].seq
    finished = {e.step_id: e.seq for e in events if e.type in ("step.succeeded", "step.failed")}
    in_flight = [
        e.step_id for e in started if e.seq <= last and finished.get(e.step_id, last + 1) > last
    ]
    overruns = {
        step_id: max(0, rows[step_id].cost_micros - rows[step_id].estimate_micros)
        for step_id in rows
    }
    allowed = sum(overruns[step_id] for step_id in in_flight)
    assert spent - scenario["cap"] <= allowed, (spent, scenario["cap"], in_flight, overruns)
    if scenario["max_concurrency"] == 1:
        assert spent - scenario["cap"] <= max(overruns.values())
    await assert_consistent(ctx)
    return "halted by the budget" if "budget.exceeded" in types else "ran within the budget"


def test_spending_stays_within_the_cap_plus_in_flight_overruns(tmp_path: Path) -> None:
    with service_context(tmp_path) as (loop, ctx):

        @settings(
            max_examples=60,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(scenarios())
        def property_holds(scenario: dict[str, Any]) -> None:
            outcomes.append(loop.run_until_complete(check(ctx, scenario)))

        outcomes: list[str] = []
        property_holds()
    # The draws must exercise the interesting cases, not only runs refused up front.
    assert outcomes.count("halted by the budget") >= 5, outcomes
    assert outcomes.count("ran within the budget") >= 5, outcomes


def test_the_property_can_fail_without_reservations(tmp_path: Path, monkeypatch: Any) -> None:
    """The check above is not vacuous: with reservations ignored, concurrent steps overshoot."""
    from missionctl.domain.budget import fits_budget
    from missionctl.services.execution import claiming

    def without_reservations(**kwargs: Any) -> bool:
        return fits_budget(**{**kwargs, "reserved_micros": 0})

    monkeypatch.setattr(claiming, "fits_budget", without_reservations)

    # Each step is estimated at E; s0 really costs 3E, leaving 2E of a 5E cap: room for two
    # of the three steps that wait on it, not three.
    def spend(step_id: str, deps: list[str], tokens_in: int, tokens_out: int) -> dict[str, Any]:
        return {
            "id": step_id,
            "agent": "llm:spend",
            "depends_on": deps,
            "estimate_tokens": 100_000,
            "inputs": {"in": tokens_in, "out": tokens_out, "pause": 3},
        }

    estimate = 26_250  # 100,000 tokens at the bundled gpt-4o-mini price, split 3:1
    scenario = {
        "steps": [
            spend("s0", [], 225_000, 75_000),
            *(spend(f"s{i}", ["s0"], 75_000, 25_000) for i in (1, 2, 3)),
        ],
        "cap": 5 * estimate,
        "max_concurrency": 4,
    }
    with service_context(tmp_path) as (loop, ctx):
        try:
            loop.run_until_complete(check(ctx, scenario))
        except AssertionError:
            return
    raise AssertionError("four concurrent steps fit a cap meant for two, yet nothing overshot")
