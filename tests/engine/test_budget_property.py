"""Property: a capped run never spends past its cap.

Hypothesis draws random DAGs, per-step token limits (``estimate_tokens``), the tokens each step
would use, a cap and a concurrency limit; each example runs through the real engine on SQLite
with a fake LLM agent that keeps its step's token limit as the real one does (a reply is cut at
the limit, and the step then fails having spent it). After the run ends, the event log must
show:

- no ``step.started`` after ``budget.exceeded``;
- when the estimate exceeds the cap, nothing was dispatched at all;
- spent ≤ cap: each dispatch reserved the most its step may cost (its token limit at the
  model's highest token price), so steps running together share the cap instead of each
  spending the whole remainder.
"""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from missionctl.agents.base import AgentError, AgentResult, StepContext
from missionctl.agents.registry import AgentRegistry
from missionctl.db.models import StepRun
from missionctl.llm import LLMUsage
from missionctl.services import ServiceContext, open_context
from missionctl.settings import LLMSettings, Settings
from tests.engine.helpers import run_events, running_engine, start, wait_for_run
from tests.support.consistency import assert_consistent

MODEL = "gpt-4o-mini"  # priced from the bundled public price list


class SpendingAgent:
    """Uses the tokens its inputs ask for, as an LLM call would, within its step's limit.

    Past the limit it stops as the real agent does: the request is cut at the limit (a server
    honours ``max_tokens``), and the step fails having spent what the limit allowed.
    """

    async def run(self, step: StepContext) -> AgentResult:
        await asyncio.sleep(0.005 * int(step.inputs["pause"]))
        tokens_in, tokens_out = int(step.inputs["in"]), int(step.inputs["out"])
        limit = step.token_limit
        if limit is not None and tokens_in + tokens_out > limit:
            tokens_in = min(tokens_in, limit)
            cut = LLMUsage(input_tokens=tokens_in, output_tokens=limit - tokens_in)
            raise AgentError("token limit reached", retryable=False, usage=cut)
        usage = LLMUsage(input_tokens=tokens_in, output_tokens=tokens_out)
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
                # A capped run's LLM steps need a limit: the run is refused without one.
                "estimate_tokens": draw(st.integers(min_value=1, max_value=100_000)),
                "inputs": {
                    "in": draw(st.integers(min_value=0, max_value=60_000)),
                    "out": draw(st.integers(min_value=0, max_value=30_000)),
                    "pause": draw(st.integers(min_value=0, max_value=3)),
                },
            }
        )
    return {
        "steps": steps,
        # A share of the summed estimates (gpt-4o-mini: $0.2625 per million estimated tokens),
        # so that runs are refused, halted and let through alike.
        "cap": sum(s["estimate_tokens"] for s in steps)
        * 2625
        // 10_000
        * draw(st.integers(min_value=80, max_value=260))
        // 100,
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
    assert spent <= scenario["cap"], (spent, scenario["cap"], [e.step_id for e in started])
    await assert_consistent(ctx)
    return "halted by the budget" if "budget.exceeded" in types else "ran within the budget"


def test_spending_stays_within_the_cap(tmp_path: Path) -> None:
    with service_context(tmp_path) as (loop, ctx):
        # Many draws are refused up front (a cap below the estimate): 90 leave enough halted
        # and let-through runs whatever mix of examples this Hypothesis version favours.
        @settings(
            max_examples=90,
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
    from missionctl.services.usecases.execution import claiming

    def without_reservations(**kwargs: Any) -> bool:
        return fits_budget(**{**kwargs, "reserved_micros": 0})

    monkeypatch.setattr(claiming, "fits_budget", without_reservations)

    # Four independent steps each use their whole limit of 100,000 output tokens ($0.06 at
    # gpt-4o-mini's output price, their reserve). A cap of $0.13 has room for two reserves:
    # with reservations two run and the run halts; without, all four run at once.
    def spend(step_id: str) -> dict[str, Any]:
        return {
            "id": step_id,
            "agent": "llm:spend",
            "estimate_tokens": 100_000,
            "inputs": {"in": 0, "out": 100_000, "pause": 3},
        }

    scenario = {"steps": [spend(f"s{i}") for i in range(4)], "cap": 130_000, "max_concurrency": 4}
    with service_context(tmp_path) as (loop, ctx):
        try:
            loop.run_until_complete(check(ctx, scenario))
        except AssertionError:
            return
    raise AssertionError("four concurrent steps fit a cap meant for two, yet nothing overshot")


def test_with_reservations_the_same_four_steps_stay_within_the_cap(tmp_path: Path) -> None:
    """The scenario above, with reservations: two steps run, the run halts within its cap."""

    def spend(step_id: str) -> dict[str, Any]:
        return {
            "id": step_id,
            "agent": "llm:spend",
            "estimate_tokens": 100_000,
            "inputs": {"in": 0, "out": 100_000, "pause": 3},
        }

    scenario = {"steps": [spend(f"s{i}") for i in range(4)], "cap": 130_000, "max_concurrency": 4}
    with service_context(tmp_path) as (loop, ctx):
        assert loop.run_until_complete(check(ctx, scenario)) == "halted by the budget"
