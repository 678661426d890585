"""A mission planned and executed by a model, through the real openai SDK and a real server.

The server on 127.0.0.1 speaks the OpenAI Chat Completions protocol and answers from a script:
the plan call gets a plan, each specialist call a result naming its task.
"""

import dataclasses
import json
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from missionctl.db.models import Artifact, Event, Plan
from missionctl.errors import ValidationFailed
from missionctl.planning import PlanningInput, build_local_plan
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import open_runtime
from missionctl.services.usecases.missions import create_mission, read_mission
from missionctl.services.usecases.plans import plan_mission, run_mission
from missionctl.settings import LLMSettings
from tests.engine.helpers import running_engine, wait_for_run
from tests.support.openai_server import Content, ScriptedOpenAIServer, Usage

GOAL = "Build a URL shortener with click analytics and custom aliases"
MODEL = "gpt-4o-mini"


def _with_model(ctx: ServiceContext, server: ScriptedOpenAIServer) -> ServiceContext:
    llm = LLMSettings(
        base_url=server.base_url, api_key=SecretStr("sk-e2e-secret"), model=MODEL, timeout_s=5
    )
    return dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={"llm": llm}))


def _schema_name(body: dict[str, Any]) -> str:
    fmt = body.get("response_format") or {}
    return str(fmt.get("json_schema", {}).get("name", ""))


def plan_json(*, cycle: bool = False) -> str:
    plan = build_local_plan(PlanningInput(title="URL shortener", goal=GOAL)).model_dump(mode="json")
    if cycle:  # a schema-valid plan that breaks the DAG rule
        plan["tasks"][0]["depends_on"] = [plan["tasks"][-1]["key"]]
    return json.dumps(plan)


def _specialist_json(body: dict[str, Any]) -> str:
    user = body["messages"][-1]["content"]
    title = user.split("<task>\nTitle: ", 1)[1].split("\n", 1)[0]
    return json.dumps(
        {
            "summary": f"Done: {title}",
            "artifacts": [
                {
                    "name": f"{title[:40]}.md",
                    "kind": "markdown",
                    "content": f"# {title}\n\nFor {GOAL}.",
                }
            ],
            "log": [f"worked on {title}"],
            "risks": [
                {"title": "Alias squatting", "severity": "medium", "mitigation": "Reserve words"}
            ],
            "next_steps": ["Load-test redirects"],
        }
    )


def answer_mission_call(body: dict[str, Any]) -> Content:
    """The script of a whole mission: the plan call gets a plan, each task a specialist result."""
    if _schema_name(body) == "mission_plan":
        return Content(plan_json(), usage=Usage(1200, 800))
    return Content(_specialist_json(body), usage=Usage(500, 250))


async def test_a_mission_planned_and_run_by_a_model(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer
) -> None:
    openai_server.default_handler = answer_mission_call
    mctx = _with_model(ctx, openai_server)
    async with open_runtime(mctx.settings) as runtime:
        mission = await create_mission(mctx, data=MissionCreate(goal=GOAL), actor="user:test")
        plan = await plan_mission(
            mctx, mission_id=mission.id, actor="user:test", planner=runtime.planner
        )
        assert plan.source == MODEL
        run = await run_mission(mctx, mission_id=mission.id, actor="user:test")
        async with running_engine(mctx, agents=runtime.agents):
            done = await wait_for_run(mctx, run.id, within_s=60)
    assert done.status == "completed", [(s.step_id, s.error) for s in done.steps]
    assert all(s.agent.startswith("llm:") and s.status == "succeeded" for s in done.steps)
    tasks = len(done.steps)
    assert done.input_tokens == 500 * tasks and done.output_tokens == 250 * tasks
    assert done.spent_usd > 0
    final = await read_mission(mctx, mission_id=mission.id)
    assert final.status == "completed"
    assert final.input_tokens == 1200 + 500 * tasks  # planning is charged to the mission too
    requests = openai_server.chat_requests
    assert len(requests) == 1 + tasks
    assert all(r.authorization == "Bearer sk-e2e-secret" for r in requests)
    async with ctx.read() as session:
        artifacts = (await session.scalars(select(Artifact).where(Artifact.run_id == run.id))).all()
        events = (await session.scalars(select(Event))).all()
    assert len([a for a in artifacts if a.kind == "markdown"]) >= tasks
    assert "sk-e2e-secret" not in json.dumps([e.payload for e in events])


async def test_a_plan_still_invalid_after_repairs_is_rejected_and_nothing_is_stored(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer
) -> None:
    openai_server.default_handler = lambda body: Content(
        plan_json(cycle=True), usage=Usage(100, 50)
    )
    mctx = _with_model(ctx, openai_server)
    async with open_runtime(mctx.settings) as runtime:
        mission = await create_mission(mctx, data=MissionCreate(goal=GOAL), actor="user:test")
        with pytest.raises(ValidationFailed) as raised:
            await plan_mission(
                mctx, mission_id=mission.id, actor="user:test", planner=runtime.planner
            )
    assert any("cycle" in p.message for p in raised.value.problems)
    assert len(openai_server.chat_requests) == 3  # the first answer and two repairs
    repair = openai_server.chat_requests[1].messages[-1]["content"]
    assert "cycle" in repair
    final = await read_mission(mctx, mission_id=mission.id)
    assert final.status == "failed"
    assert final.input_tokens == 300  # the attempts are still paid for
    async with ctx.read() as session:
        assert await session.scalar(select(func.count()).select_from(Plan)) == 0
        rejected = (await session.scalars(select(Event).where(Event.type == "plan.rejected"))).all()
    assert len(rejected) == 1 and "cycle" in json.dumps(rejected[0].payload)
