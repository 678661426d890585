"""Agent utilisation from hand-made step rows: exact figures on both databases, windows refused.

The steps run through the engine first (so their events replay to their statuses), then the
test writes their agents, times and usage by hand: what the figures are computed from.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from sqlalchemy import update

from missionctl.db.models import StepRun
from missionctl.db.types import utcnow
from missionctl.errors import ValidationFailed
from missionctl.services import ServiceContext
from missionctl.services.usecases.runs import cancel_run
from missionctl.services.usecases.utilisation import read_utilisation, resolve_window
from tests.engine.helpers import running_engine, start, step, wait_for_run, wait_for_step
from tests.support.auth import bearer_headers


async def _rewrite(ctx: ServiceContext, run_id: uuid.UUID, step_id: str, **values: Any) -> None:
    async with ctx.write() as session:
        await session.execute(
            update(StepRun)
            .where(StepRun.run_id == run_id, StepRun.step_id == step_id)
            .values(**values)
        )


async def _finished_steps(ctx: ServiceContext) -> tuple[uuid.UUID, datetime]:
    """20 alpha steps, a succeeded and a failed beta step, and an older gamma step."""
    steps = [step(f"a{i}", "builtin:noop") for i in range(20)]
    steps += [
        step("b_ok", "builtin:noop"),
        step("b_fail", "builtin:fail"),
        step("g", "builtin:noop"),
    ]
    run = await start(ctx, steps)
    async with running_engine(ctx):
        await wait_for_run(ctx, run.id)
    now = utcnow()
    for i in range(20):
        began = now - timedelta(minutes=30)
        await _rewrite(
            ctx,
            run.id,
            f"a{i}",
            agent="alpha",
            started_at=began,
            ended_at=began + timedelta(seconds=i + 1),
            input_tokens=100,
            output_tokens=50,
            cost_micros=1000,
        )
    # Began before the window: 150 s long, 50 s of it inside the last hour.
    began = now - timedelta(seconds=3700)
    await _rewrite(
        ctx,
        run.id,
        "b_ok",
        agent="beta",
        started_at=began,
        ended_at=began + timedelta(seconds=150),
        input_tokens=5,
        earlier_input_tokens=10,
        cost_micros=7,
        earlier_cost_micros=3,
    )
    began = now - timedelta(seconds=600)
    await _rewrite(
        ctx,
        run.id,
        "b_fail",
        agent="beta",
        started_at=began,
        ended_at=began + timedelta(seconds=30),
    )
    began = now - timedelta(hours=2)
    await _rewrite(
        ctx, run.id, "g", agent="gamma", started_at=began, ended_at=began + timedelta(seconds=60)
    )
    return run.id, now


async def test_the_figures_of_the_last_hour_are_exact(ctx: ServiceContext) -> None:
    _, now = await _finished_steps(ctx)
    report = await read_utilisation(ctx, window="1h", now=now)
    assert report.window_s == 3600
    assert [line.agent for line in report.agents] == ["alpha", "beta"]  # busiest first
    alpha, beta = report.agents
    assert (alpha.executions, alpha.attempts, alpha.failures, alpha.failure_rate) == (20, 20, 0, 0)
    assert alpha.avg_duration_s == pytest.approx(10.5, abs=0.002)
    assert alpha.p95_duration_s == pytest.approx(19.0, abs=0.002)  # nearest rank: 19th of 20
    assert (alpha.input_tokens, alpha.output_tokens, alpha.tokens) == (2000, 1000, 3000)
    assert alpha.cost_micros == 20_000
    assert alpha.busy_s == pytest.approx(210.0, abs=0.01)
    assert alpha.busy_pct == pytest.approx(5.83, abs=0.01)
    assert (beta.executions, beta.failures, beta.failure_rate) == (2, 1, 0.5)
    assert beta.avg_duration_s == pytest.approx(90.0, abs=0.002)
    assert beta.p95_duration_s == pytest.approx(150.0, abs=0.002)
    assert (beta.input_tokens, beta.cost_micros) == (15, 10)
    assert beta.busy_s == pytest.approx(80.0, abs=0.01)  # 50 s of b_ok inside, and b_fail's 30
    assert beta.busy_pct == pytest.approx(2.22, abs=0.01)


async def test_a_longer_window_and_explicit_bounds(ctx: ServiceContext) -> None:
    _, now = await _finished_steps(ctx)
    day = await read_utilisation(ctx, window="24h", now=now)
    assert {line.agent: line.executions for line in day.agents} == {
        "alpha": 20,
        "beta": 2,
        "gamma": 1,
    }
    past = await read_utilisation(
        ctx, since=now - timedelta(hours=3), until=now - timedelta(minutes=90), now=now
    )
    assert [(line.agent, line.busy_s) for line in past.agents] == [("gamma", pytest.approx(60.0))]


async def test_a_running_step_counts_busy_until_now(ctx: ServiceContext) -> None:
    run = await start(ctx, [step("slow", "builtin:sleep", inputs={"seconds": 60})])
    async with running_engine(ctx):
        await wait_for_step(ctx, run.id, "slow", "running")
        now = utcnow()
        await _rewrite(ctx, run.id, "slow", started_at=now - timedelta(minutes=30))
        report = await read_utilisation(ctx, window="1h", now=now)
        await cancel_run(ctx, run_id=run.id, actor="user:test")
        await wait_for_run(ctx, run.id)
    [line] = report.agents
    assert (line.agent, line.running, line.executions) == ("builtin:sleep", 1, 0)
    assert line.busy_s == pytest.approx(1800.0, abs=0.01)
    assert line.busy_pct == pytest.approx(50.0, abs=0.01)


def test_windows_are_resolved_and_bad_ones_refused_naming_the_field() -> None:
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    assert resolve_window(window="7d", since=None, until=None, now=now) == (
        now - timedelta(days=7),
        now,
    )
    naive = datetime(2026, 11, 24, 11)  # no zone: UTC
    assert resolve_window(window=None, since=naive, until=None, now=now)[0] == naive.replace(
        tzinfo=UTC
    )
    cases = [
        ({"window": "1h", "since": now - timedelta(hours=2)}, "window"),
        ({"window": None, "since": now, "until": now - timedelta(hours=1)}, "since"),
        ({"window": None, "since": now - timedelta(days=400)}, "since"),
        ({"window": None, "since": datetime.min}, "since"),
    ]
    for arguments, field in cases:
        with pytest.raises(ValidationFailed) as raised:
            resolve_window(**{"until": None, **arguments}, now=now)
        assert raised.value.field == field


async def test_the_route_answers_readers_and_refuses_bad_windows(
    client: httpx2.AsyncClient,
) -> None:
    answered = await client.get("/api/v1/agents/utilisation", params={"window": "7d"})
    assert answered.status_code == 200, answered.text
    assert answered.json()["window_s"] == 7 * 86_400
    assert "Busy %" in answered.json()["busy_definition"]
    for params, field in [
        ({"window": "2h"}, "window"),
        ({"window": "1h", "since": "2026-01-01T00:00:00Z"}, "window"),
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"since": "12345"}, "since"),
    ]:
        refused = await client.get("/api/v1/agents/utilisation", params=params)
        assert refused.status_code == 422, (params, refused.text)
        assert refused.json()["error"]["field"] == field, refused.json()


async def test_a_viewer_reads_utilisation_and_an_anonymous_caller_does_not(
    client: httpx2.AsyncClient,
) -> None:
    from missionctl.domain.access import Role

    app_ctx = client._transport.app.state.ctx  # type: ignore[attr-defined]
    viewer = await bearer_headers(app_ctx, user="watcher", role=Role.VIEWER)
    assert (await client.get("/api/v1/agents/utilisation", headers=viewer)).status_code == 200
    anonymous = await client.get("/api/v1/agents/utilisation", headers={"Authorization": ""})
    assert anonymous.status_code == 401
