"""A run that ends leaves no step unfinished, in the store and in its replay.

Every way a run ends before its steps do is here: refused by its budget before it starts,
canceled by a person, aborted by the emergency stop, halted by its budget during dispatch, and
failed by a step. Each test reads the run as a user would (the API or the service) and checks
that its replay (what ``missionctl replay`` folds from the events) agrees with the store.
"""

import dataclasses
import uuid
from collections.abc import AsyncIterator

import httpx2
import pytest

from missionctl.app import create_app
from missionctl.repositories.execution import ACTIVE_STEP_STATUSES
from missionctl.services import ServiceContext
from missionctl.services.usecases.controls import engage_emergency_stop, release_emergency_stop
from missionctl.services.usecases.runs import cancel_run, replay_run
from missionctl.settings import LLMSettings, Settings
from tests.engine.helpers import (
    run_events,
    running_engine,
    start,
    step,
    wait_for_run,
    wait_for_step,
)
from tests.support.auth import bearer_headers

MODEL = "gpt-4o-mini"  # priced from the bundled public price list


def _priced(ctx: ServiceContext) -> ServiceContext:
    return dataclasses.replace(
        ctx, settings=ctx.settings.model_copy(update={"llm": LLMSettings(model=MODEL)})
    )


@pytest.fixture
async def priced_client(settings: Settings) -> AsyncIterator[httpx2.AsyncClient]:
    """The API, with a priced model configured (the client fixture has none)."""
    app = create_app(settings.model_copy(update={"llm": LLMSettings(model=MODEL)}))
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        headers = await bearer_headers(app.state.ctx)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as http:
            yield http


async def _assert_replay_agrees_and_nothing_is_left(ctx: ServiceContext, run_id: uuid.UUID) -> None:
    replayed, stored = await replay_run(ctx, run_id=run_id)
    assert replayed == stored
    left = {s: v.status for s, v in stored.steps.items() if v.status in ACTIVE_STEP_STATUSES}
    assert not left, f"run {stored.status} left steps unfinished: {left}"


async def test_a_run_refused_by_its_budget_ends_its_steps_with_the_reason(
    priced_client: httpx2.AsyncClient,
) -> None:
    ctx: ServiceContext = priced_client._transport.app.state.ctx  # type: ignore[attr-defined]
    spec = {
        "name": "refused",
        "steps": [
            {"id": "design", "agent": "llm:architect", "estimate_tokens": 20_000},
            {"id": "build", "agent": "llm:dev", "depends_on": ["design"], "estimate_tokens": 50},
            {"id": "notes", "agent": "builtin:noop"},
        ],
    }
    saved = await priced_client.post("/api/v1/workflows", json=spec)
    assert saved.status_code == 201, saved.text
    started = await priced_client.post(
        f"/api/v1/workflows/{saved.json()['id']}/runs", json={"budget_usd": 0.001}
    )
    assert started.status_code == 202, started.text
    run_id = uuid.UUID(started.json()["id"])
    run = (await priced_client.get(f"/api/v1/runs/{run_id}")).json()
    assert run["status"] == "failed" and "exceeds the budget cap $0.001" in run["error"]
    assert [s["status"] for s in run["steps"]] == ["canceled"] * 3
    assert all("exceeds the budget cap" in s["error"] for s in run["steps"])
    assert started.json()["steps"] == run["steps"]  # the answer to the start says the same
    events = await run_events(ctx, run_id)
    # The engine writes the run's report (two artifacts) when it hears the run end, in a task
    # of its own: whether that is before or after this read is the engine's timing.
    assert [e.type for e in events if e.type != "artifact.created"] == [
        "run.created",
        "budget.exceeded",
        "step.canceled",
        "step.canceled",
        "step.canceled",
        "run.failed",
    ]
    assert {e.payload["reason"] for e in events if e.type == "step.canceled"} == {"budget"}
    await _assert_replay_agrees_and_nothing_is_left(ctx, run_id)


async def test_a_refused_rerun_ends_the_steps_it_would_have_run(ctx: ServiceContext) -> None:
    from missionctl.services.usecases.runs import rerun_from_failure

    priced = _priced(ctx)
    first = await start(
        priced,
        [step("a", "builtin:fail"), step("b", "llm:dev", "a", estimate_tokens=1_000)],
        run_budget_micros=1_000,
    )
    async with running_engine(priced):
        failed = await wait_for_run(priced, first.id)
    assert [s.status for s in failed.steps] == ["failed", "blocked"]
    # The price of the model doubles meanwhile: the rerun no longer fits the same cap.
    from decimal import Decimal

    from missionctl.schemas.prices import PriceSet
    from missionctl.services.usecases.pricing import set_price

    await set_price(
        priced,
        data=PriceSet(model=MODEL, input_usd_per_mtok=Decimal(10), output_usd_per_mtok=Decimal(10)),
        actor="user:admin",
    )
    rerun = await rerun_from_failure(priced, run_id=first.id, actor="user:test")
    assert rerun.status == "failed"
    assert [s.status for s in rerun.steps] == ["canceled", "canceled"]
    await _assert_replay_agrees_and_nothing_is_left(ctx, rerun.id)


async def test_canceling_ends_waiting_queued_and_blocked_steps(ctx: ServiceContext) -> None:
    run = await start(
        ctx,
        [
            step("slow", "builtin:sleep", inputs={"seconds": 30}),
            step("after", "builtin:noop", "slow"),
            step("broken", "builtin:fail", inputs={"retryable": False}),
            step("downstream", "builtin:noop", "broken"),
        ],
    )
    async with running_engine(ctx):
        await wait_for_step(ctx, run.id, "downstream", "blocked")
        canceled = await cancel_run(ctx, run_id=run.id, actor="user:test")
    assert canceled.status == "canceled"
    assert [s.status for s in canceled.steps] == ["canceled", "canceled", "failed", "canceled"]
    await _assert_replay_agrees_and_nothing_is_left(ctx, run.id)


async def test_the_emergency_stop_ends_every_step_of_the_runs_it_aborts(
    ctx: ServiceContext,
) -> None:
    run = await start(
        ctx,
        [
            step("slow", "builtin:sleep", inputs={"seconds": 30}),
            step("after", "builtin:noop", "slow"),
        ],
    )
    async with running_engine(ctx):
        await wait_for_step(ctx, run.id, "slow", "running")
        await engage_emergency_stop(ctx, actor="user:admin", reason="drill")
        aborted = await wait_for_run(ctx, run.id)
    await release_emergency_stop(ctx, actor="user:admin")
    assert aborted.status == "aborted"
    assert [s.status for s in aborted.steps] == ["canceled", "canceled"]
    await _assert_replay_agrees_and_nothing_is_left(ctx, run.id)


async def test_a_failed_step_blocks_what_waits_on_it_and_the_run_fails(
    ctx: ServiceContext,
) -> None:
    run = await start(
        ctx,
        [
            step("broken", "builtin:fail", inputs={"retryable": False}),
            step("next", "builtin:noop", "broken"),
            step("last", "builtin:noop", "next"),
            step("aside", "builtin:noop"),
        ],
    )
    async with running_engine(ctx):
        failed = await wait_for_run(ctx, run.id)
    assert failed.status == "failed"
    assert [s.status for s in failed.steps] == ["failed", "blocked", "blocked", "succeeded"]
    await _assert_replay_agrees_and_nothing_is_left(ctx, run.id)
