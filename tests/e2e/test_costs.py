"""Cost breakdowns add up to what runs and missions were charged, on real engine runs.

The LLM steps reach the scripted server through the real openai SDK, so their usage is priced
at the configured model like in production; a step that fails once with tokens spent and then
succeeds checks that a retry loses nothing.
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from missionctl.agents.base import AgentError, AgentResult, StepContext
from missionctl.db.models import StepRun, Workflow
from missionctl.errors import NotFound, ValidationFailed
from missionctl.llm.protocol import LLMUsage
from missionctl.schemas.costs import NO_MODEL, OUTSIDE_RUNS, CostLine, CostQuery
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.runs import RunRead
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import open_runtime
from missionctl.services.usecases.costs import parse_cost_query, read_costs
from missionctl.services.usecases.health import read_health_summary
from missionctl.services.usecases.missions import create_mission, read_mission
from missionctl.services.usecases.plans import plan_mission, run_mission
from tests.e2e.test_llm_mission import GOAL, MODEL, _with_model, answer_mission_call
from tests.engine.helpers import running_engine, start, step, wait_for_run
from tests.support.openai_server import Content, ScriptedOpenAIServer, Usage

REPLY = '{"summary": "Wrote it", "artifacts": [], "log": [], "risks": [], "next_steps": []}'


class FailsOnceWithTokens:
    """An agent whose first attempt spends tokens and fails; the second succeeds."""

    def __init__(self) -> None:
        self.calls = 0

    async def run(self, step: StepContext) -> AgentResult:
        self.calls += 1
        if self.calls == 1:
            raise AgentError("flaky", retryable=True, usage=LLMUsage(4000, 1000))
        return AgentResult(summary="ok", usage=LLMUsage(2000, 500))


def _sums(lines: list[CostLine]) -> tuple[int, int, int]:
    return (
        sum(line.cost_micros for line in lines),
        sum(line.input_tokens for line in lines),
        sum(line.output_tokens for line in lines),
    )


async def _finished_run(
    ctx: ServiceContext, server: ScriptedOpenAIServer
) -> tuple[ServiceContext, RunRead]:
    server.push(Content(REPLY, usage=Usage(prompt_tokens=3000, completion_tokens=700)))
    mctx = _with_model(ctx, server)
    run = await start(
        mctx,
        [
            step("write", "llm:writer", inputs={"title": "Release notes"}),
            step(
                "check",
                "llm:flaky",
                "write",
                retry={"max_attempts": 2, "backoff_s": 0, "jitter": False},
            ),
            step("tidy", "builtin:noop", "check"),
        ],
    )
    async with open_runtime(mctx.settings) as runtime:
        runtime.agents.register("llm:flaky", FailsOnceWithTokens())
        async with running_engine(mctx, agents=runtime.agents):
            done = await wait_for_run(mctx, run.id, within_s=30)
    assert done.status == "completed", [(s.step_id, s.error) for s in done.steps]
    return mctx, done


async def test_a_runs_breakdowns_add_up_to_its_spend_with_a_retried_and_a_priced_step(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer
) -> None:
    mctx, done = await _finished_run(ctx, openai_server)
    costs = await read_costs(mctx, query=CostQuery(scope="run", id=str(done.id)))
    spent = round(done.spent_usd * 1_000_000)
    assert spent > 0 and costs.cost_micros == spent
    assert (costs.input_tokens, costs.output_tokens) == (done.input_tokens, done.output_tokens)
    # Both attempts of the retried step count: 4000 + 2000 in, 1000 + 500 out.
    assert done.input_tokens == 3000 + 6000 and done.output_tokens == 700 + 1500
    for lines in (costs.by_agent, costs.by_model, costs.by_role, costs.by_requirement):
        assert lines is not None
        assert _sums(lines) == (spent, done.input_tokens, done.output_tokens)
    agents = {line.key: line for line in costs.by_agent}
    assert set(agents) == {"llm:writer", "llm:flaky", "builtin:noop"}
    assert (agents["llm:flaky"].input_tokens, agents["builtin:noop"].cost_micros) == (6000, 0)
    models = {line.key: line for line in costs.by_model}
    assert set(models) == {MODEL, NO_MODEL}
    assert models[MODEL].cost_micros == spent and models[MODEL].steps == 2
    assert {line.key for line in costs.by_role} == {"writer", "flaky", "noop"}
    # Not compiled from a plan: every step traces no requirement.
    assert [line.key for line in costs.by_requirement or []] == ["(no requirement)"]
    async with ctx.read() as session:
        row = (await session.scalars(select(StepRun).where(StepRun.step_id == "check"))).one()
    assert (row.model, row.attempt, row.input_tokens, row.earlier_input_tokens) == (
        MODEL,
        2,
        2000,
        4000,
    )
    # Everything ended a moment ago: the hour's bucket and the burn rates hold it all.
    assert sum(b.cost_micros for b in costs.over_time) == spent
    assert round(costs.burn_rate.last_hour_usd_per_hour * 1e6) == spent
    assert costs.burn_rate.last_day_usd_per_hour == pytest.approx(spent / 1e6 / 24)
    assert costs.budget.cap_usd is None and costs.budget.used is None


async def test_buckets_windows_and_the_system_and_workflow_scopes(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer
) -> None:
    mctx, done = await _finished_run(ctx, openai_server)
    spent = round(done.spent_usd * 1_000_000)
    now = datetime.now(UTC)
    day = await read_costs(mctx, query=CostQuery(scope="system", bucket="day"))
    assert len(day.over_time) == 31  # the default 30 days, and today's
    assert [b.cost_micros for b in day.over_time][-1] == spent
    assert all(b.start.hour == 0 and b.start.tzinfo is not None for b in day.over_time)
    assert day.cost_micros == spent and day.runs == 1
    later = await read_costs(
        mctx, query=CostQuery(since=now + timedelta(hours=1), until=now + timedelta(hours=3))
    )
    assert later.cost_micros == 0 and len(later.over_time) in (2, 3)
    assert all(line.cost_micros == 0 for line in later.by_agent)
    window = await read_costs(
        mctx, query=CostQuery(since=now - timedelta(hours=2), until=now + timedelta(minutes=5))
    )
    assert window.cost_micros == spent
    async with ctx.read() as session:
        name = (await session.get_one(Workflow, done.workflow_id)).name
    workflow = await read_costs(mctx, query=CostQuery(scope="workflow", id=name))
    assert workflow.cost_micros == spent and workflow.by_requirement is None


async def test_the_health_strip_and_the_costs_burn_the_same_spend(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer
) -> None:
    """A step waiting an hour for its retry holds its failed attempt's spend: both count it."""
    mctx = _with_model(ctx, openai_server)
    await start(
        mctx,
        [step("check", "llm:flaky", retry={"max_attempts": 2, "backoff_s": 3600, "jitter": False})],
    )
    async with open_runtime(mctx.settings) as runtime:
        runtime.agents.register("llm:flaky", FailsOnceWithTokens())
        async with running_engine(mctx, agents=runtime.agents):
            for _ in range(300):
                async with ctx.read() as session:
                    row = (await session.scalars(select(StepRun))).one()
                if row.attempt == 2:
                    break
                await asyncio.sleep(0.05)
    # Re-queued for its second attempt, in an hour: the first's usage is still on the row.
    assert (row.attempt, row.status, row.ended_at, row.input_tokens) == (2, "queued", None, 4000)
    spent = row.cost_micros
    health = await read_health_summary(mctx)
    costs = await read_costs(mctx, query=CostQuery())
    assert spent > 0
    assert round(health.burn_usd_per_hour * 1e6) == spent
    assert round(costs.burn_rate.last_hour_usd_per_hour * 1e6) == spent


async def test_a_missions_breakdowns_add_up_to_its_spend_planning_included(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer
) -> None:
    openai_server.default_handler = answer_mission_call
    mctx = _with_model(ctx, openai_server)
    async with open_runtime(mctx.settings) as runtime:
        mission = await create_mission(mctx, data=MissionCreate(goal=GOAL), actor="user:test")
        await plan_mission(mctx, mission_id=mission.id, actor="user:test", planner=runtime.planner)
        run = await run_mission(mctx, mission_id=mission.id, actor="user:test")
        async with running_engine(mctx, agents=runtime.agents):
            done = await wait_for_run(mctx, run.id, within_s=60)
    assert done.status == "completed"
    final = await read_mission(mctx, mission_id=mission.id)
    spent = round(final.spent_usd * 1_000_000)
    costs = await read_costs(mctx, query=CostQuery(scope="mission", id=str(mission.id)))
    assert costs.cost_micros == spent and costs.input_tokens == final.input_tokens
    for lines in (costs.by_agent, costs.by_model, costs.by_role, costs.by_requirement):
        assert lines is not None
        assert _sums(lines) == (spent, final.input_tokens, final.output_tokens)
    outside = {line.key: line for line in costs.by_agent}[OUTSIDE_RUNS]
    assert outside.input_tokens == 1200  # the plan call
    requirements = [line for line in costs.by_requirement or [] if line.key.startswith("R")]
    assert requirements and all(": " in line.label for line in requirements)
    assert costs.budget.spent_usd == final.spent_usd


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"scope": "galaxy"}, "scope"),
        ({"scope": "run"}, "id"),
        ({"scope": "run", "id": "not-a-uuid"}, "id"),
        ({"scope": "system", "id": str(uuid.uuid4())}, "id"),
        ({"bucket": "week"}, "bucket"),
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
        ({"since": "0001-01-01T00:00:00Z", "until": "9999-12-31T00:00:00Z"}, "since"),
        (
            {"since": "2020-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z", "bucket": "hour"},
            "since",
        ),
        ({"since": "1700000000"}, "since"),
        ({"id": "x" * 201, "scope": "workflow"}, "id"),
    ],
)
async def test_a_bad_query_is_refused_naming_its_field(
    ctx: ServiceContext, raw: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await read_costs(ctx, query=parse_cost_query(raw))
    assert raised.value.field == field


@pytest.mark.parametrize("scope", ["run", "mission", "workflow"])
async def test_an_unknown_run_mission_or_workflow_is_not_found(
    ctx: ServiceContext, scope: str
) -> None:
    with pytest.raises(NotFound) as raised:
        await read_costs(ctx, query=parse_cost_query({"scope": scope, "id": str(uuid.uuid4())}))
    assert raised.value.field == "id"
