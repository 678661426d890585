"""The model level of step risks, from real runs: ``llm:`` steps on a model that fails the role.

The engine runs the real ``llm:`` agent through the ``openai`` SDK against the scripted server on
127.0.0.1, which refuses every call for the cheaper model. The step-risk follower counts each
attempt by the model it ran on; a step of another workflow pinned to that model is then
estimated from that model's record, and one on the configured model is not.
"""

import dataclasses
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from missionctl.db.prediction import StepAttemptDay
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import open_runtime
from missionctl.services.usecases.risks import read_run_risks
from missionctl.settings import LLMSettings
from tests.e2e.test_llm_mission import answer_mission_call
from tests.engine.helpers import running_engine, start, wait_for_run
from tests.support.openai_server import HTTPError, Reply, ScriptedOpenAIServer

DEFAULT = "gpt-4o"
CHEAP = "gpt-4o-mini"


def _refusing_the_cheap_model(body: dict[str, Any]) -> Reply:
    if body.get("model") == CHEAP:
        return HTTPError(400, "this model cannot do that", error_type="invalid_request_error")
    return answer_mission_call(body)


def _notes(model: str) -> list[dict[str, Any]]:
    return [{"id": "notes", "agent": "llm:writer", "model": model}]


async def test_a_step_on_a_model_that_keeps_failing_its_role_is_estimated_from_that_record(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer
) -> None:
    openai_server.default_handler = _refusing_the_cheap_model
    llm = LLMSettings(
        base_url=openai_server.base_url, api_key=SecretStr("sk-test"), model=DEFAULT, timeout_s=5
    )
    mctx = dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={"llm": llm}))
    async with open_runtime(mctx.settings) as runtime, running_engine(mctx, agents=runtime.agents):
        for model, status in ((CHEAP, "failed"), (DEFAULT, "completed")) * 6:
            run = await start(mctx, _notes(model), name=f"drafts-{model}")
            assert (await wait_for_run(mctx, run.id, within_s=30)).status == status
    await mctx.catch_up("risks", quietly=False)
    async with mctx.read() as session:
        rows = (await session.scalars(select(StepAttemptDay))).all()
    counted = {(r.workflow, r.model): (r.attempts, r.failed) for r in rows}
    assert counted == {(f"drafts-{CHEAP}", CHEAP): (6, 6), (f"drafts-{DEFAULT}", DEFAULT): (6, 0)}

    # A new workflow's step: no history of its own, so its model's record decides.
    cheap = await start(mctx, _notes(CHEAP), name="summary")
    default = await start(mctx, _notes(DEFAULT), name="summary-default")
    await mctx.catch_up("risks", quietly=False)
    [on_cheap] = (await read_run_risks(mctx, run_id=cheap.id)).steps
    [on_default] = (await read_run_risks(mctx, run_id=default.id)).steps
    # Everything: 6 of 12 -> (6 + 1) / 22 = 0.3182; llm:writer steps, the same 6 of 12 ->
    # (6 + 3.182) / 22 = 0.4174; on gpt-4o-mini 6 of 6 -> (6 + 4.174) / 16 = 0.6358; on
    # gpt-4o 0 of 6 -> 4.1736 / 16 = 0.2608.
    assert on_cheap.chances["fail"] == pytest.approx(0.6358, abs=1e-4)
    assert on_default.chances["fail"] == pytest.approx(0.2608, abs=1e-4)
    assert "llm:writer steps on gpt-4o-mini failed 6 of 6 attempts (100%)" in on_cheap.reasons[0]
