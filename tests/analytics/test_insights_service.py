"""``services.usecases.insights.read_insights`` on both databases, with the model behind the real
``openai`` SDK on a loopback server: the model's answer, every way it can fail (each answered
by the deterministic writer with a reason), what the model is sent, and the cache."""

import dataclasses
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest

from missionctl.eventlog import NewEvent, append
from missionctl.llm import OpenAICompatibleClient
from missionctl.schemas.analytics import AnomalyItem
from missionctl.services import ServiceContext
from missionctl.services.usecases.analytics import AnalyticsQuery
from missionctl.services.usecases.anomalies import read_anomalies
from missionctl.services.usecases.insights import MODEL_ANSWERS, QUIET_REASON, read_insights
from missionctl.settings import InsightsSettings
from tests.analytics import history
from tests.analytics.anomaly_facts import write_history
from tests.analytics.history import AS_OF, Injection
from tests.support.fixtures import PINNED_DAY
from tests.support.openai_server import Content, Delay, HTTPError, ScriptedOpenAIServer

TODAY = PINNED_DAY
QUERY = AnalyticsQuery(TODAY - timedelta(days=6), TODAY)
MODEL = "insights-model"
API_KEY = "sk-insights-test-key"
SECRETS = ("alice.secret", "Project Nightingale", "alice@example.com", "mc_live_tok")

REPLY = {
    "summary": "Two runs started in the week, one completed. Success rate was 50%.",
    "sections": {
        "what_changed": ["Runs rose from 0 to 2 against the week before."],
        "why_it_matters": ["Half of the runs failed, so people waited for results."],
        "suggested_actions": ["Open the failed runs of the week in Runs, by failing step."],
        "questions_to_investigate": ["Which step failed?", "Did the workflow change?"],
    },
}


@pytest.fixture(autouse=True)
def _no_cached_answers() -> Iterator[None]:
    MODEL_ANSWERS.clear()
    yield
    MODEL_ANSWERS.clear()


@pytest.fixture
async def llm(openai_server: ScriptedOpenAIServer) -> AsyncIterator[OpenAICompatibleClient]:
    client = OpenAICompatibleClient(
        base_url=openai_server.base_url, api_key=API_KEY, model=MODEL, timeout_s=5, max_retries=0
    )
    yield client
    await client.aclose()


def _journey(name: str, title: str, *, ok: bool) -> list[NewEvent]:
    mission, run = uuid.uuid4(), uuid.uuid4()
    actor, end = f"user:{name}", "run.completed" if ok else "run.failed"
    return [
        NewEvent("user.created", "system", {"name": name, "role": "operator"}),
        NewEvent("token.created", actor, {"name": "mc_live_tok", "user": name}),
        NewEvent("user.signed_in", actor, {"name": name, "email": "alice@example.com"}),
        NewEvent("mission.created", actor, {"title": title}, mission_id=mission),
        NewEvent("plan.created", actor, {"source": "local"}, mission_id=mission),
        NewEvent("run.created", actor, {"workflow": "ship"}, mission_id=mission, run_id=run),
        NewEvent("run.started", "system", {"status": "running"}, mission_id=mission, run_id=run),
        NewEvent(
            "step.succeeded",
            "system",
            {"cost_micros": 250_000, "input_tokens": 400, "output_tokens": 20},
            run_id=run,
            step_id="build",
        ),
        NewEvent(end, "system", {"status": end.split(".")[1]}, mission_id=mission, run_id=run),
    ]


async def _seed(ctx: ServiceContext) -> None:
    """Two people's first day: Alice's mission "Project Nightingale" fails, Bob's completes."""
    async with ctx.write() as session:
        await append(session, _journey("alice.secret", "Project Nightingale", ok=False))
        await append(session, _journey("bob", "Another mission", ok=True))


def _anomaly() -> AnomalyItem:
    week, before = QUERY.since, QUERY.since - timedelta(days=7)
    return AnomalyItem.model_validate(
        {
            "key": f"success_rate:week_over_week:{week}",
            "metric": "success_rate",
            "label": "Success rate",
            "unit": "ratio",
            "comparison": "week_over_week",
            "current_window": {"since": week, "until": TODAY},
            "baseline_window": {"since": before, "until": week - timedelta(days=1)},
            "current": 0.5,
            "baseline": 0.95,
            "delta": -0.45,
            "change_pct": -47.4,
            "direction": "down",
            "severity": "critical",
            "impact": "alice.secret waits for Project Nightingale",
            "explanation": "Runs of Project Nightingale by alice.secret failed",
        }
    )


def _with(ctx: ServiceContext, **insights: Any) -> ServiceContext:
    settings = ctx.settings.model_copy(update={"insights": InsightsSettings(**insights)})
    return dataclasses.replace(ctx, settings=settings)


async def test_the_model_writes_the_insights_from_aggregates_only(
    ctx: ServiceContext, llm: OpenAICompatibleClient, openai_server: ScriptedOpenAIServer
) -> None:
    await _seed(ctx)
    openai_server.push_json(REPLY)
    answer = await read_insights(ctx, query=QUERY, anomalies=[_anomaly()], llm=llm)

    assert (answer.source, answer.model, answer.fallback_reason) == ("model", MODEL, None)
    assert answer.summary == REPLY["summary"]
    assert answer.sections.model_dump() == REPLY["sections"]
    assert answer.meta.range.since == QUERY.since and answer.meta.grain is None
    (request,) = openai_server.chat_requests
    body = json.dumps(request.body)
    for secret in SECRETS:
        assert secret not in body  # no name, email, mission title or token went out
    facts = json.loads(request.messages[-1]["content"])
    assert facts["totals"][0] == {
        "key": "success_rate",
        "label": "success rate",
        "unit": "ratio",
        "current": 0.5,
        "prior": None,
        "current_of": 2,
        "prior_of": 0,
        "change_pct": None,
    }
    assert facts["funnel"]["signed_in_current"] == 2
    assert facts["anomalies"][0]["severity"] == "critical"
    limit = (request.body or {}).get("max_tokens") or (request.body or {})["max_completion_tokens"]
    assert 0 < limit <= InsightsSettings().max_tokens == 2000


async def test_the_same_facts_do_not_call_the_model_twice_and_new_facts_do(
    ctx: ServiceContext, llm: OpenAICompatibleClient, openai_server: ScriptedOpenAIServer
) -> None:
    await _seed(ctx)
    openai_server.default_handler = lambda body: json.dumps(REPLY)
    first = await read_insights(ctx, query=QUERY, anomalies=[], llm=llm)
    again = await read_insights(ctx, query=QUERY, anomalies=[], llm=llm)
    assert again.source == "model" and again.summary == first.summary
    assert len(openai_server.chat_requests) == 1
    await read_insights(ctx, query=QUERY, anomalies=[_anomaly()], llm=llm)
    async with ctx.write() as session:  # a new run changes the facts
        await append(session, _journey("carol", "Third", ok=True))
    await read_insights(ctx, query=QUERY, anomalies=[], llm=llm)
    assert len(openai_server.chat_requests) == 3


async def test_a_model_too_slow_is_replaced_by_the_deterministic_writer(
    ctx: ServiceContext,
    llm: OpenAICompatibleClient,
    openai_server: ScriptedOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _seed(ctx)
    openai_server.push(Delay(10, then=Content(json.dumps(REPLY))))
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="missionctl.services.usecases.insights"):
        answer = await read_insights(
            _with(ctx, timeout_s=0.5), query=QUERY, anomalies=[_anomaly()], llm=llm
        )
    assert time.monotonic() - started < 5
    assert (answer.source, answer.model) == ("deterministic", None)
    assert answer.fallback_reason == "the model did not answer within 0.5 s"
    assert answer.summary.startswith("Critical: Success rate fell from 95%")
    assert "written without the model: the model did not answer" in caplog.text
    # Failures are not cached: the next request asks the model again.
    openai_server.push_json(REPLY)
    assert (await read_insights(ctx, query=QUERY, anomalies=[_anomaly()], llm=llm)).source == (
        "model"
    )


async def test_a_model_answering_garbage_is_replaced_by_the_deterministic_writer(
    ctx: ServiceContext, llm: OpenAICompatibleClient, openai_server: ScriptedOpenAIServer
) -> None:
    await _seed(ctx)
    openai_server.default_handler = lambda body: "Sure! Here are some insights: runs are great."
    answer = await read_insights(ctx, query=QUERY, anomalies=[], llm=llm)
    assert answer.source == "deterministic"
    assert answer.fallback_reason == "the model's reply did not fit the insights' format"
    assert len(openai_server.chat_requests) == 2  # the reply, and its one repair
    assert "runs started" in answer.summary and "great" not in answer.model_dump_json()


async def test_an_http_error_gives_its_status_and_nothing_the_server_said(
    ctx: ServiceContext, llm: OpenAICompatibleClient, openai_server: ScriptedOpenAIServer
) -> None:
    await _seed(ctx)
    openai_server.push(HTTPError(503, "upstream sk-live-abc123 is overloaded"))
    answer = await read_insights(ctx, query=QUERY, anomalies=[], llm=llm)
    assert answer.source == "deterministic"
    assert answer.fallback_reason == "the model could not be reached (HTTP 503)"
    assert "overloaded" not in answer.model_dump_json()


async def test_a_token_limit_too_small_for_the_prompt_sends_nothing(
    ctx: ServiceContext, llm: OpenAICompatibleClient, openai_server: ScriptedOpenAIServer
) -> None:
    await _seed(ctx)
    answer = await read_insights(_with(ctx, max_tokens=256), query=QUERY, anomalies=[], llm=llm)
    assert answer.source == "deterministic"
    assert answer.fallback_reason == "the insights did not fit the model's token limit (256 tokens)"
    assert openai_server.chat_requests == []


async def test_no_model_or_no_activity_is_written_deterministically(
    ctx: ServiceContext, llm: OpenAICompatibleClient, openai_server: ScriptedOpenAIServer
) -> None:
    quiet = await read_insights(ctx, query=QUERY, anomalies=[], llm=llm)
    assert (quiet.source, quiet.fallback_reason) == ("deterministic", QUIET_REASON)
    assert quiet.summary.startswith("Not enough activity to write insights")
    assert openai_server.chat_requests == []  # nothing to write from: the model is not asked

    await _seed(ctx)
    plain = await read_insights(ctx, query=QUERY, anomalies=[], llm=None)
    assert (plain.source, plain.model, plain.fallback_reason) == ("deterministic", None, None)
    window = f"{QUERY.since} to {QUERY.until}"
    prior = f"{QUERY.since - timedelta(days=7)} to {QUERY.since - timedelta(days=1)}"
    assert f"The range before ({prior}) holds no runs against 2 from {window}" in plain.summary
    assert "runs started: 2 (0 before)" in plain.summary
    assert "success rate: 50% (none before)" in plain.summary
    assert any("a range the history covers" in s for s in plain.sections.suggested_actions)
    segment = AnalyticsQuery(QUERY.since, QUERY.until, ("role", "admin"))
    nobody = await read_insights(ctx, query=segment, anomalies=[], llm=None)
    assert "(segment role:admin)" in nobody.summary and "Not enough activity" in nobody.summary


async def test_without_anomalies_given_they_are_read_with_the_figures(ctx: ServiceContext) -> None:
    """The detector's anomalies as of the range's last full day, as if they had been given."""
    await write_history(ctx, history.days(4, injection=Injection(success_rate=0.65)))
    month = AnalyticsQuery(AS_OF - timedelta(days=29), AS_OF)
    found = (await read_anomalies(ctx, query=month)).items
    assert found[0].severity == "critical"
    read = await read_insights(ctx, query=month)
    given = await read_insights(ctx, query=month, anomalies=found)
    assert (read.summary, read.sections) == (given.summary, given.sections)
    assert read.summary.startswith("Critical: Run success rate fell")
    unaware = await read_insights(ctx, query=month, anomalies=[])
    assert "Critical" not in unaware.summary
