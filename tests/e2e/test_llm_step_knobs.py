"""Temperature and seed in a run: the settings' for every call, a step's own for its calls.

Through the real openai SDK against the scripted server on 127.0.0.1. Two ``llm:`` steps run
side by side, one with knobs of its own: each request carries its step's knobs, and the run
record (``step.input``, the step's outputs) says what each answer was asked with.
"""

import dataclasses
import json
from typing import Any

from pydantic import SecretStr

from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import open_runtime
from missionctl.settings import LLMSettings
from tests.engine.helpers import run_events, running_engine, start, step, wait_for_run
from tests.support.openai_server import Content, ScriptedOpenAIServer


def _with_knobs(ctx: ServiceContext, server: ScriptedOpenAIServer, **knobs: Any) -> ServiceContext:
    llm = LLMSettings(
        base_url=server.base_url,
        api_key=SecretStr("sk-knobs-secret"),
        model="knob-model",
        timeout_s=5,
        **knobs,
    )
    return dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={"llm": llm}))


def _title(body: dict[str, Any]) -> str:
    """The task title of a specialist request (the step's ``inputs.title``)."""
    user = str(body["messages"][-1]["content"])
    return user.split("<task>\nTitle: ", 1)[1].split("\n", 1)[0]


def _answer(body: dict[str, Any]) -> Content:
    return Content(json.dumps({"summary": f"Done: {_title(body)}"}))


async def _run_two_steps(
    mctx: ServiceContext, server: ScriptedOpenAIServer, hot: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Run ``hot`` (with ``hot``'s inputs) and ``plain`` at once; what each sent and recorded.

    Returns each step's request body (by step), ``step.input`` payload and outputs.
    """
    server.default_handler = _answer
    steps = [
        step("hot", "llm:writer", inputs={"title": "hot", **hot}),
        step("plain", "llm:writer", inputs={"title": "plain"}),
    ]
    async with open_runtime(mctx.settings) as runtime:
        run = await start(mctx, steps)
        async with running_engine(mctx, agents=runtime.agents):
            done = await wait_for_run(mctx, run.id, within_s=60)
    assert done.status == "completed", [s.error for s in done.steps]
    bodies = {_title(r.body or {}): r.body or {} for r in server.chat_requests}
    assert len(server.chat_requests) == 2
    recorded = {
        e.step_id: e.payload for e in await run_events(mctx, run.id) if e.type == "step.input"
    }
    outputs = {s.step_id: s.outputs for s in done.steps}
    return bodies, recorded, outputs


async def test_each_step_sends_and_records_its_own_knobs_over_the_settings(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer
) -> None:
    mctx = _with_knobs(ctx, openai_server, temperature=0.2, seed=11)
    bodies, recorded, outputs = await _run_two_steps(
        mctx, openai_server, {"temperature": 1.3, "seed": 5}
    )
    assert (bodies["hot"]["temperature"], bodies["hot"]["seed"]) == (1.3, 5)
    assert (bodies["plain"]["temperature"], bodies["plain"]["seed"]) == (0.2, 11)
    for step_id, knobs in {"hot": (1.3, 5), "plain": (0.2, 11)}.items():
        assert (recorded[step_id]["temperature"], recorded[step_id]["seed"]) == knobs
        assert recorded[step_id]["model"] == "knob-model"
        assert (outputs[step_id]["temperature"], outputs[step_id]["seed"]) == knobs
    assert "sk-knobs-secret" not in json.dumps([recorded, outputs])


async def test_unset_knobs_are_absent_from_the_request_and_null_in_the_record(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer
) -> None:
    mctx = _with_knobs(ctx, openai_server)
    bodies, recorded, outputs = await _run_two_steps(mctx, openai_server, {"temperature": 0})
    assert bodies["hot"]["temperature"] == 0 and "seed" not in bodies["hot"]
    assert "temperature" not in bodies["plain"] and "seed" not in bodies["plain"]
    assert (recorded["hot"]["temperature"], recorded["hot"]["seed"]) == (0.0, None)
    assert (recorded["plain"]["temperature"], recorded["plain"]["seed"]) == (None, None)
    assert (outputs["plain"]["temperature"], outputs["plain"]["seed"]) == (None, None)
