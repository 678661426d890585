"""Step risks: estimates from history, on hand-built counts and on runs made through the product.

Every expected chance is worked out by hand from the shrinking the module documents
(``domain.prediction``): each level's rate is pulled towards the level above by ten attempts
(thirty for the last week).
"""

import uuid

import pytest
from sqlalchemy import func, select

from missionctl.db.models import Event, WebhookDelivery
from missionctl.domain.prediction import (
    PRIOR_RATES,
    Counts,
    Earlier,
    Estimate,
    History,
    Running,
    estimate,
    while_running,
)
from missionctl.errors import NotFound
from missionctl.schemas.webhooks import WebhookCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases.risks import read_run_risks
from missionctl.services.usecases.runs import retry_step
from missionctl.services.usecases.webhooks import create_webhook
from tests.engine.helpers import running_engine, start, step, wait_for_run

NOTHING = History(Counts(), Counts(), Counts(), Counts())


def test_with_no_history_the_prior_rates_stand_and_the_estimate_is_not_sure() -> None:
    found = estimate(NOTHING, step="build of nightly", agent="llm:backend")
    assert found.chances == PRIOR_RATES
    assert not found.sure and found.attempts == 0
    assert found.reasons == [
        "build of nightly has 0 attempts in 60 days: the estimate leans on llm:backend's steps "
        "and on every step"
    ]
    no_estimate = estimate(NOTHING, step="x", agent="a", estimated=False)
    assert set(no_estimate.chances) == {"fail", "timeout"}


def test_each_level_pulls_the_estimate_as_far_as_its_attempts_allow() -> None:
    # Everything: 90 failures in 1,000 (+1 prior of 10 at 10 %) -> 91/1010.
    # Agent llm:backend: 20 of 100 -> (20 + 10 * 0.0901) / 110 = 0.19001.
    # The step before its last week: 30 of 60 -> (30 + 10 * 0.19001) / 70 = 0.45572.
    # Its last week, pulled by thirty: 1 of 2 -> (1 + 30 * 0.45572) / 32 = 0.45848.
    history = History(
        everything=Counts(1000, 90),
        agent=Counts(100, 20),
        earlier=Counts(60, 30),
        recent=Counts(2, 1),
    )
    found = estimate(history, step="build of nightly", agent="llm:backend", estimated=False)
    assert found.chances["fail"] == pytest.approx(0.4585, abs=1e-4)
    assert found.sure and found.attempts == 62
    assert found.reasons[0] == (
        "build of nightly before the last 7 days failed 30 of 60 attempts (50%): 19% → 46%"
    )
    assert "llm:backend steps failed 20 of 100 attempts (20%): 9% → 19%" in found.reasons
    # A second attempt: the step's later attempts failed 9 of 10 -> (9 + 10 * 0.45848) / 20.
    later = History(
        history.everything, history.agent, history.earlier, history.recent, Counts(10, 9)
    )
    again = estimate(later, step="build of nightly", agent="llm:backend", attempt=2)
    assert again.chances["fail"] == pytest.approx(0.6792, abs=1e-4)
    assert any(
        r.startswith("later attempts of build of nightly failed 9 of 10") for r in again.reasons
    )


def test_the_model_a_step_runs_on_weighs_between_its_agent_and_the_step() -> None:
    # Everything: 90 of 1,000 -> 91/1010 = 0.0901. Agent llm:writer: 10 of 100 ->
    # (10 + 0.901) / 110 = 0.0991. On gpt-4o-mini: 30 of 40 -> (30 + 0.991) / 50 = 0.6198.
    # The step has no history of its own: the model's record is what it has.
    history = History(
        everything=Counts(1000, 90),
        agent=Counts(100, 10),
        earlier=Counts(),
        recent=Counts(),
        model=Counts(40, 30),
    )
    found = estimate(history, step="notes of docs", agent="llm:writer", model="gpt-4o-mini")
    assert found.chances["fail"] == pytest.approx(0.6198, abs=1e-4)
    assert found.reasons[0] == (
        "llm:writer steps on gpt-4o-mini failed 30 of 40 attempts (75%): 10% → 62%"
    )
    assert not found.sure  # the model's record is not the step's own
    # Without a model (another agent, or one not known) there is no such level.
    unknown = estimate(history, step="notes of docs", agent="llm:writer")
    assert unknown.chances["fail"] == pytest.approx(0.0991, abs=1e-4)


def test_one_failure_barely_moves_a_step_with_no_other_history() -> None:
    history = History(Counts(500, 25), Counts(500, 25), Counts(), Counts(1, 1))
    found = estimate(history, step="deploy of release", agent="builtin:noop")
    assert found.chances["fail"] < 0.2 and not found.sure


async def test_a_step_that_keeps_failing_is_estimated_at_risk_before_it_runs_and_alerted_once(
    ctx: ServiceContext,
) -> None:
    hook = WebhookCreate(url="https://hooks.example.com/risk", events=["step.at_risk"])
    await create_webhook(ctx, data=hook, actor="user:admin")
    flaky = [step("steady"), step("flaky", "builtin:fail", "steady")]
    async with running_engine(ctx):
        for _ in range(12):
            run = await start(ctx, flaky, name="nightly")
            assert (await wait_for_run(ctx, run.id)).status == "failed"
    # Counted by the follower (which runs every two seconds in a server); the next run is
    # estimated as it starts, before any dispatch.
    await ctx.catch_up("risks")
    nextrun = await start(ctx, flaky, name="nightly")
    risks = {r.step_id: r for r in (await read_run_risks(ctx, run_id=nextrun.id)).steps}
    assert set(risks) == {"steady", "flaky"}
    # Everything: 12 of 24 failed -> (12 + 1) / 34 = 0.3824; builtin:fail steps 12 of 12 ->
    # (12 + 3.824) / 22 = 0.7193; flaky of nightly, all in the last week, 12 of 12 ->
    # (12 + 30 * 0.7193) / 42 = 0.7995.
    assert risks["flaky"].chances["fail"] == pytest.approx(0.7995, abs=1e-4)
    assert risks["flaky"].at_risk and risks["flaky"].sure and risks["flaky"].evidence == 12
    # steady: builtin:noop steps 0 of 12 -> 3.824 / 22 = 0.1738; its week -> 5.214 / 42.
    assert risks["steady"].chances["fail"] == pytest.approx(0.1241, abs=1e-4)
    assert not risks["steady"].at_risk
    told = " / ".join(risks["flaky"].reasons)
    assert "flaky of nightly in the last 7 days failed 12 of 12 attempts (100%)" in told

    await ctx.catch_up("risks")  # again: no second alert for the same attempt
    async with ctx.read() as session:
        alerts = (
            await session.execute(
                select(Event.step_id, Event.payload).where(
                    Event.type == "step.at_risk", Event.run_id == nextrun.id
                )
            )
        ).all()
    assert [(step_id, payload["attempt"]) for step_id, payload in alerts] == [("flaky", 1)]
    assert alerts[0][1]["chances"]["fail"] == risks["flaky"].chances["fail"]
    await ctx.catch_up("webhooks")
    async with ctx.read() as session:
        queued = await session.scalar(select(func.count()).select_from(WebhookDelivery))
    assert queued == 1  # the subscription's delivery of the alert

    # A retry by hand is estimated again, for its own attempt; it failed and its run ended
    # before the follower read it, so no alert follows the run's end.
    async with running_engine(ctx):
        await wait_for_run(ctx, nextrun.id)
        await ctx.catch_up("risks")
        await retry_step(ctx, run_id=nextrun.id, step_id="flaky", actor="user:ops")
        await wait_for_run(ctx, nextrun.id)
    again = {r.step_id: r for r in (await read_run_risks(ctx, run_id=nextrun.id)).steps}
    assert again["flaky"].attempt == 2 and again["steady"].attempt == 1
    # No retry of it ended before this one began: the later-attempts level has nothing yet.
    assert again["flaky"].chances["fail"] >= risks["flaky"].chances["fail"]
    async with ctx.read() as session:
        attempts = await session.scalars(
            select(Event.payload).where(Event.type == "step.at_risk", Event.run_id == nextrun.id)
        )
        assert [payload["attempt"] for payload in attempts] == [1]

    with pytest.raises(NotFound) as missing:
        await read_run_risks(ctx, run_id=uuid.uuid4())
    assert missing.value.field == "run_id"


def test_a_running_attempt_is_narrowed_by_how_long_it_ran_and_its_inputs_size() -> None:
    before = Estimate({"fail": 0.1, "timeout": 0.05}, [], 40)
    earlier = [
        *[Earlier(30.0, False, False, 1_000)] * 20,  # quick ones
        *[Earlier(400.0, False, False, 1_000)] * 5,  # slow, small inputs, made it
        *[Earlier(600.0, True, True, 50_000)] * 5,  # slow, large inputs, ran out of 600 s
        Earlier(100.0, True, True, 50_000),  # stopped by a shorter limit: says nothing
    ]
    # 300 s in, inputs of 60,000 characters: 10 earlier attempts ran that long, 5 of them out
    # of time -> (5 + 10 * 0.05) / 20 = 0.275; of those the 5 with inputs of about this size,
    # all out of time -> (5 + 10 * 0.275) / 15 = 0.5167.
    found = while_running(before, earlier, Running(300.0, 600.0, 60_000), step="build")
    assert found.chances["timeout"] == pytest.approx(0.5167, abs=1e-4)
    # They failed by it: from 10 % -> (5 + 1) / 20 = 0.3 -> (5 + 3) / 15 = 0.5333.
    assert found.chances["fail"] == pytest.approx(0.5333, abs=1e-4)
    assert found.attempts == 40 and found.sure
    assert (
        "those of them with inputs of about this size (60,000 characters) timed out 5 of 5 "
        "attempts (100%): 28% → 52%"
    ) in found.reasons
    assert (
        "build's attempts that ran 5 min or longer timed out 5 of 10 attempts (50%): 5% → 28%"
    ) in found.reasons
    # Just started, small inputs: no level narrows anything it did not already know.
    start = while_running(before, earlier[:25], Running(0.0, 600.0, 1_000), step="build")
    assert start.chances == before.chances and start.reasons == []


async def test_a_backlog_read_at_once_estimates_each_start_from_what_ended_before_it(
    ctx: ServiceContext,
) -> None:
    # The follower never runs between these runs: its first read takes them all in one window.
    flaky = [step("steady"), step("flaky", "builtin:fail", "steady")]
    async with running_engine(ctx):
        for _ in range(12):
            run = await start(ctx, flaky, name="nightly")
            assert (await wait_for_run(ctx, run.id)).status == "failed"
    nextrun = await start(ctx, flaky, name="nightly")
    first = await start(ctx, flaky, name="weekly")

    risks = {r.step_id: r for r in (await read_run_risks(ctx, run_id=nextrun.id)).steps}
    # The same figures as when the follower counted each run as it ended (the test above).
    assert risks["flaky"].chances["fail"] == pytest.approx(0.7995, abs=1e-4)
    assert risks["flaky"].evidence == 12 and risks["steady"].evidence == 12
    assert risks["steady"].chances["fail"] == pytest.approx(0.1241, abs=1e-4)
    # The first of the twelve knew nothing of the others, which ended after it started.
    async with ctx.read() as session:
        earliest = await session.scalar(
            select(Event.run_id).where(Event.type == "run.started").order_by(Event.seq).limit(1)
        )
    assert earliest is not None
    opening = {r.step_id: r for r in (await read_run_risks(ctx, run_id=earliest)).steps}
    assert opening["flaky"].evidence == 0 and opening["steady"].evidence == 0
    # Another workflow's step of the same agent learns from the agent's level, not its own.
    other = {r.step_id: r for r in (await read_run_risks(ctx, run_id=first.id)).steps}
    assert other["flaky"].evidence == 0
    assert other["flaky"].chances["fail"] == pytest.approx(0.7193, abs=1e-4)
