"""The control plane's parts together: a killed worker and a misfired schedule notify.

Two engines share the database, each with a context of its own as two processes would; one is
killed (its task cancelled, no clean stop) and, once time passes the offline threshold, the
survivor's sweep reports it and a webhook subscriber on 127.0.0.1 receives ``worker.offline``,
signed. A schedule paused across ticks misfires on resume and a subscription filtered on its
workflow receives ``schedule.misfired`` as Slack text. Time is moved, never waited for.
"""

import asyncio
import json
from datetime import timedelta

import pytest

from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.workers import OFFLINE_S, WorkerStatus
from missionctl.engine.worker import Engine
from missionctl.security.signing import SIGNATURE_HEADER, sign, verify
from missionctl.services import ServiceContext, open_context
from missionctl.services.followers import WEBHOOK_OUTBOX, catch_up
from missionctl.services.usecases import workers
from missionctl.services.usecases.scheduler import fire_due
from missionctl.services.usecases.schedules import pause_schedule, resume_schedule
from missionctl.services.usecases.webhook_sender import dispatch_due
from missionctl.services.usecases.workflows import read_workflow
from missionctl.settings import HttpAgentSettings, Settings, WebhookSettings
from tests.engine.helpers import start, step, wait_for_run
from tests.engine.test_worker_control import (
    ONE_AT_ONCE,
    Gate,
    _held_count,
    engine_on,
    gated,
    until,
)
from tests.schedules.helpers import every_minute, minute, saved_workflow
from tests.webhooks.receiver import receiving
from tests.webhooks.test_delivery import subscribe

FAST = WebhookSettings(backoff_s=(10.0,), max_attempts=2, timeout_s=2.0)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The subscriber listens on loopback, which webhooks reach only where an admin allowed it."""
    return settings.model_copy(
        update={"http_agent": HttpAgentSettings(allowed_networks=["127.0.0.1/32"])}
    )


async def test_a_killed_worker_is_reported_offline_to_a_webhook_subscriber(
    ctx: ServiceContext,
) -> None:
    gate = Gate()
    run = await start(ctx, [step("held", "builtin:sleep")])
    with receiving() as receiver:
        _, secret = await subscribe(ctx, receiver.url, ev.WORKER_OFFLINE)
        async with open_context(ctx.settings) as own_a:
            a = Engine(own_a, gated(gate), config=ONE_AT_ONCE, worker_id="host-a:1:killed")
            killed = asyncio.create_task(a.run(asyncio.Event()))
            await until(lambda: _held_count(ctx, a, 1), "a's heartbeat reports the step")
            async with engine_on(ctx, gated(gate), "host-b:2:survives") as (b, _, _):
                listed = {w.name: w for w in await workers.list_workers(ctx)}
                assert {"host-a:1:killed", "host-b:2:survives"} <= set(listed)
                assert all(listed[n].status is WorkerStatus.online for n in listed)
                killed.cancel()
                await asyncio.gather(killed, return_exceptions=True)
                later = utcnow() + timedelta(seconds=OFFLINE_S + 5)
                b.presence.clock = lambda: later  # b's sweep runs after its next heartbeat
                await until(lambda: _reported(ctx, "host-a:1:killed", later), "a reported offline")
                gate.release.set()
                assert (await wait_for_run(ctx, run.id, within_s=20)).status == "completed"
        await catch_up(ctx, WEBHOOK_OUTBOX)
        assert await dispatch_due(ctx, FAST, sign=sign) == 1

    [request] = receiver.requests
    verify(secret, request.body, request.headers[SIGNATURE_HEADER])
    sent = json.loads(request.body)
    assert sent["type"] == ev.WORKER_OFFLINE
    assert sent["payload"]["name"] == "host-a:1:killed"
    assert sent["payload"]["held_steps"][0]["run_id"] == str(run.id)


async def test_a_misfire_reaches_a_subscription_filtered_on_the_schedules_workflow(
    ctx: ServiceContext,
) -> None:
    workflow_id = await saved_workflow(ctx)
    other_id = await saved_workflow(ctx)
    name = (await read_workflow(ctx, workflow_id=workflow_id)).name
    other = (await read_workflow(ctx, workflow_id=other_id)).name
    schedule = await every_minute(ctx, workflow_id, misfire_policy="skip")
    with receiving() as receiver:
        await subscribe(ctx, receiver.url, ev.SCHEDULE_MISFIRED, workflow=name, format="slack")
        await subscribe(ctx, receiver.url, ev.SCHEDULE_MISFIRED, workflow=other)
        await pause_schedule(ctx, schedule_id=schedule.id, actor="user:ops")
        await resume_schedule(ctx, schedule_id=schedule.id, actor="user:ops")
        [fired] = await fire_due(ctx, minute(3, 40))
        assert fired.missed == 3
        await catch_up(ctx, WEBHOOK_OUTBOX)
        assert await dispatch_due(ctx, FAST, sign=sign) == 1  # the other workflow's: nothing

    [request] = receiver.requests
    text = json.loads(request.body)["text"]
    assert f"schedule {schedule.name}" in text and "misfired" in text and name in text


async def _reported(ctx: ServiceContext, name: str, now: object) -> bool:
    """Whether a sweep has recorded ``worker.offline`` for ``name``: its status reads offline
    from the heartbeat's age alone, before any sweep ran, so the status cannot say."""
    found = {w.name: w for w in await workers.list_workers(ctx, now=now)}  # type: ignore[arg-type]
    return (
        found[name].status is WorkerStatus.offline and found[name].offline_reported_at is not None
    )
