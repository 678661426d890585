"""The messages an LLM step sends are recorded (``step.input``), redacted, for its failure detail.

Through the real openai SDK against the scripted server: the step is given a secret and a
mission whose text holds something that looks like a key; the model gets both, the record
holds neither.
"""

import json

import pytest

from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import open_runtime
from missionctl.services.usecases.dashboard import read_step_detail
from missionctl.services.usecases.execution.ticks import (
    MAX_INPUT_MESSAGE_CHARS,
    MAX_INPUT_MESSAGES,
    step_input_payload,
)
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workflows import create_workflow
from tests.e2e.test_llm_mission import _with_model
from tests.engine.helpers import run_events, running_engine, wait_for_run
from tests.support.openai_server import Content, ScriptedOpenAIServer, Usage

SECRET = "hunter2-the-deploy-password-42"
LOOKS_LIKE_A_KEY = "sk-proj-abcdefghijklmnop1234"


async def test_an_llm_steps_input_is_recorded_redacted_and_shown_on_its_failure(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISSIONCTL_SECRET_DEPLOY_PASSWORD", SECRET)
    # The model answers nonsense every time: the step fails after its repairs.
    openai_server.default_handler = lambda body: Content("not json", usage=Usage(40, 10))
    mctx = _with_model(ctx, openai_server)
    goal = f"Build a CLI that rotates the key {LOOKS_LIKE_A_KEY} every night"
    mission = await create_mission(mctx, data=MissionCreate(goal=goal), actor="user:test")
    spec = WorkflowSpec.model_validate(
        {
            "name": "one-llm-step",
            "steps": [
                {
                    "id": "write",
                    "agent": "llm:writer",
                    "inputs": {"title": "Rotate keys", "secrets": {"password": "deploy_password"}},
                }
            ],
        }
    )
    workflow = await create_workflow(mctx, spec=spec, actor="user:test", mission_id=mission.id)
    async with open_runtime(mctx.settings) as runtime:
        run = await start_run(
            mctx, workflow_id=workflow.id, actor="user:test", mission_id=mission.id
        )
        async with running_engine(mctx, agents=runtime.agents):
            done = await wait_for_run(mctx, run.id, within_s=60)
    assert done.status == "failed" and "model output invalid" in (done.steps[0].error or "")

    sent = openai_server.chat_requests[0].body["messages"]
    assert SECRET in sent[-1]["content"] and LOOKS_LIKE_A_KEY in sent[-1]["content"]

    events = await run_events(ctx, run.id)
    (recorded,) = [e for e in events if e.type == "step.input"]
    text = json.dumps(recorded.payload)
    assert SECRET not in text and LOOKS_LIKE_A_KEY not in text and "[REDACTED]" in text
    assert recorded.payload["attempt"] == 1 and recorded.payload["truncated"] is False
    system, user = recorded.payload["messages"]
    assert system == {"role": "system", "content": sent[0]["content"]}
    hidden = sent[-1]["content"].replace(SECRET, "[REDACTED]")
    assert user == {"role": "user", "content": hidden.replace(LOOKS_LIKE_A_KEY, "[REDACTED]")}
    started = next(e.seq for e in events if e.type == "step.started")
    failed = next(e.seq for e in events if e.type == "step.failed")
    assert started < recorded.seq < failed

    detail = await read_step_detail(ctx, run_id=run.id, step_id="write")
    (attempt,) = detail.attempts
    assert attempt.outcome == "failed" and "model output invalid" in (attempt.error or "")
    assert detail.model_inputs[0].payload["messages"][0]["role"] == "system"


def test_a_recorded_input_is_redacted_before_it_is_cut_to_its_bounds() -> None:
    long = "x" * (MAX_INPUT_MESSAGE_CHARS - 6) + " " + LOOKS_LIKE_A_KEY
    many = [{"role": "user", "content": "hi"}] * (MAX_INPUT_MESSAGES + 3)
    payload = step_input_payload(
        2, {"model": "m", "prompt_version": "v", "messages": [{"role": "user", "content": long}]}
    )
    (message,) = payload["messages"]
    # Cut first, the key's head "sk-pr" would be left; redacted first, none of it is.
    assert len(message["content"]) == MAX_INPUT_MESSAGE_CHARS and "sk-" not in message["content"]
    assert payload["truncated"] is True and payload["attempt"] == 2
    capped = step_input_payload(1, {"messages": many})
    assert len(capped["messages"]) == MAX_INPUT_MESSAGES and capped["truncated"] is True
    assert step_input_payload(1, {"messages": many[:2]})["truncated"] is False
