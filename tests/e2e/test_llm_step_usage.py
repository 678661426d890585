"""Tokens of an LLM step are visible while it runs, and exact on every completed step.

The model is reached through the real openai SDK and a scripted server on 127.0.0.1 that holds
its reply for a moment, so the step can be observed while the request is in flight.
"""

import asyncio
import json
import time

from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import open_runtime
from missionctl.services.usecases.runs import read_run
from tests.e2e.test_llm_mission import _with_model
from tests.engine.helpers import run_events, running_engine, start, step, wait_for_run
from tests.support.openai_server import Content, Delay, ScriptedOpenAIServer, Usage

REPLY = json.dumps(
    {
        "summary": "Wrote the release notes",
        "artifacts": [{"name": "notes.md", "kind": "markdown", "content": "# Notes\n"}],
        "log": ["drafted"],
        "risks": [],
        "next_steps": [],
    }
)


async def test_input_tokens_show_on_a_running_step_and_both_counts_on_completion(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer
) -> None:
    openai_server.push(
        Delay(1.5, then=Content(REPLY, usage=Usage(prompt_tokens=321, completion_tokens=45))),
        Content(REPLY, usage=Usage(prompt_tokens=200, completion_tokens=30)),
    )
    mctx = _with_model(ctx, openai_server)
    run = await start(
        mctx,
        [
            step("draft", "llm:writer", inputs={"title": "Release notes for 1.2"}),
            step("polish", "llm:writer", "draft", inputs={"title": "Polish the notes"}),
        ],
    )
    async with open_runtime(mctx.settings) as runtime, running_engine(mctx, agents=runtime.agents):
        deadline = time.monotonic() + 10
        while True:
            current = await read_run(mctx, run_id=run.id)
            draft = current.steps[0]
            if draft.status == "running" and draft.input_tokens > 0:
                break
            assert draft.status in ("queued", "running"), draft
            assert time.monotonic() < deadline, "input tokens never showed on the running step"
            await asyncio.sleep(0.02)
        # The request is in flight: its input is counted (estimated), nothing came out yet.
        assert draft.output_tokens == 0
        assert draft.input_tokens != 321
        done = await wait_for_run(mctx, run.id, within_s=20)
    assert done.status == "completed", [(s.step_id, s.error) for s in done.steps]
    counts = [(s.step_id, s.input_tokens, s.output_tokens) for s in done.steps]
    assert counts == [("draft", 321, 45), ("polish", 200, 30)]
    assert (done.input_tokens, done.output_tokens) == (521, 75)
    usage = [e for e in await run_events(ctx, run.id) if e.type == "step.usage"]
    draft_usage = [e.payload for e in usage if e.step_id == "draft"]
    assert draft_usage[0]["estimated"] is True and draft_usage[0]["input_tokens"] > 0
    # The server's count may also show before the result lands (when it wins the race).
    assert all(
        (p["input_tokens"], p["output_tokens"]) == (321, 45)
        for p in draft_usage
        if not p["estimated"]
    )
