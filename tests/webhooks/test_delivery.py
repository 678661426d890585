"""The outbox end to end on both databases: follow the log, send signed, retry, redeliver.

Receivers are real HTTP servers on 127.0.0.1 (``receiver.py``); retries are driven by a clock
the test moves, never by waiting.
"""

import asyncio
import dataclasses
import json
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx2

from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.eventlog import NewEvent, append
from missionctl.schemas.webhooks import WebhookCreate, WebhookUpdate
from missionctl.security.signing import SIGNATURE_HEADER, sign, verify
from missionctl.services import ServiceContext
from missionctl.services.followers import WEBHOOK_OUTBOX, catch_up, following
from missionctl.services.usecases import webhook_sender as sender
from missionctl.services.usecases import webhooks as hooks
from missionctl.services.usecases.audit import read_event_page
from missionctl.services.usecases.webhook_sender import (
    dispatch_due,
    redeliver,
    send_test,
    webhook_dispatcher,
)
from missionctl.settings import WebhookSettings
from tests.conftest import free_port
from tests.engine.helpers import running_engine, start, step, wait_for_run
from tests.webhooks.receiver import HANG, receiving

FAST = WebhookSettings(backoff_s=(10.0, 60.0, 300.0), max_attempts=4, timeout_s=2.0)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = utcnow() + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def emit(ctx: ServiceContext, kind: str, **fields: Any) -> int:
    """Append one event as other code would; its seq.

    An event naming a real run carries no ``status``: the run's replay would move it.
    """
    run_id = fields.pop("run_id", None)
    async with ctx.write() as session:
        [record] = await append(
            session, [NewEvent(type=kind, actor="system", payload=fields, run_id=run_id)]
        )
    return record.seq


async def subscribe(ctx: ServiceContext, url: str, *events: str, **more: Any) -> tuple[Any, str]:
    data = WebhookCreate.model_validate({"url": url, "events": list(events), **more})
    created = await hooks.create_webhook(ctx, data=data, actor="user:admin")
    return created.webhook, created.secret


async def test_a_delivery_is_signed_and_the_receiver_verifies_it(ctx: ServiceContext) -> None:
    with receiving() as receiver:
        webhook, secret = await subscribe(ctx, receiver.url, ev.RUN_FAILED)
        seq = await emit(ctx, ev.RUN_FAILED, status="failed", error="step build failed")
        await emit(ctx, ev.RUN_COMPLETED, status="completed")  # not subscribed
        await catch_up(ctx, WEBHOOK_OUTBOX)
        assert await dispatch_due(ctx, FAST, sign=sign) == 1

    [request] = receiver.requests
    verify(secret, request.body, request.headers[SIGNATURE_HEADER])
    sent = json.loads(request.body)
    assert sent["type"] == ev.RUN_FAILED and sent["seq"] == seq
    assert sent["payload"]["error"] == "step build failed"
    assert request.headers["Missionctl-Event"] == ev.RUN_FAILED
    [delivery] = await hooks.list_deliveries(ctx, webhook_id=webhook.id)
    assert delivery.status == "delivered" and delivery.status_code == 200
    # The answer's status line and media type, never its body ("ok").
    assert delivery.response_body == "HTTP 200 OK; no recognised media type"
    assert delivery.attempts == 1
    assert delivery.duration_ms is not None and delivery.next_attempt_at is None
    # The secret is in no event, no read of the subscription.
    events = await read_event_page(ctx, limit=1000)
    assert all(secret not in json.dumps(e.payload) for e in events)
    assert secret not in (await hooks.read_webhook(ctx, webhook_id=webhook.id)).model_dump_json()


async def test_a_receiver_that_fails_twice_gets_the_third_try(ctx: ServiceContext) -> None:
    clock = Clock()
    with receiving([500, 503]) as receiver:
        webhook, secret = await subscribe(ctx, receiver.url, ev.BUDGET_WARNING)
        await emit(ctx, ev.BUDGET_WARNING, share=0.8)
        await catch_up(ctx, WEBHOOK_OUTBOX)
        assert await dispatch_due(ctx, FAST, sign=sign, clock=clock) == 1
        [first] = await hooks.list_deliveries(ctx, webhook_id=webhook.id)
        assert (first.status, first.status_code, first.attempts) == ("pending", 500, 1)
        assert first.next_attempt_at == clock.now + timedelta(seconds=10)
        assert first.error == "the receiver answered 500"

        clock.advance(9)
        assert await dispatch_due(ctx, FAST, sign=sign, clock=clock) == 0  # not due yet
        clock.advance(1)
        assert await dispatch_due(ctx, FAST, sign=sign, clock=clock) == 1
        [second] = await hooks.list_deliveries(ctx, webhook_id=webhook.id)
        assert (second.status, second.status_code, second.attempts) == ("pending", 503, 2)
        assert second.next_attempt_at == clock.now + timedelta(seconds=60)

        clock.advance(60)
        assert await dispatch_due(ctx, FAST, sign=sign, clock=clock) == 1
    [third] = await hooks.list_deliveries(ctx, webhook_id=webhook.id)
    assert (third.status, third.status_code, third.attempts) == ("delivered", 200, 3)
    assert third.error is None and third.delivered_at == clock.now
    assert len(receiver.requests) == 3
    assert len({r.body for r in receiver.requests}) == 1  # the same body each time
    for request in receiver.requests:
        verify(secret, request.body, request.headers[SIGNATURE_HEADER], now=clock.now.timestamp())


async def test_a_dead_receiver_fails_after_the_last_attempt(ctx: ServiceContext) -> None:
    clock = Clock()
    config = FAST.model_copy(update={"max_attempts": 2})
    webhook, _ = await subscribe(ctx, f"http://127.0.0.1:{free_port()}/gone", ev.RUN_FAILED)
    await emit(ctx, ev.RUN_FAILED, status="failed")
    await catch_up(ctx, WEBHOOK_OUTBOX)
    await dispatch_due(ctx, config, sign=sign, clock=clock)
    [first] = await hooks.list_deliveries(ctx, webhook_id=webhook.id)
    assert first.status == "pending" and first.status_code is None
    assert first.error is not None and "ConnectError" in first.error
    clock.advance(10)
    await dispatch_due(ctx, config, sign=sign, clock=clock)
    [last] = await hooks.list_deliveries(ctx, webhook_id=webhook.id)
    assert (last.status, last.attempts, last.next_attempt_at) == ("failed", 2, None)
    clock.advance(10_000)
    assert await dispatch_due(ctx, config, sign=sign, clock=clock) == 0


async def test_a_hanging_receiver_times_out(ctx: ServiceContext) -> None:
    config = FAST.model_copy(update={"timeout_s": 0.3})
    with receiving([HANG]) as receiver:
        webhook, _ = await subscribe(ctx, receiver.url, ev.RUN_FAILED)
        await emit(ctx, ev.RUN_FAILED, status="failed")
        await catch_up(ctx, WEBHOOK_OUTBOX)
        started = time.monotonic()
        await dispatch_due(ctx, config, sign=sign)
        # Stopped by the timeout, not waited for: the receiver holds the request 30 s. (The
        # dispatch's writes around it took 2.9 s once on a saturated machine.)
        assert time.monotonic() - started < 15
    [delivery] = await hooks.list_deliveries(ctx, webhook_id=webhook.id)
    assert delivery.status == "pending" and delivery.error == "no answer within 0.3 s"


async def test_which_subscriptions_receive_an_event(ctx: ServiceContext) -> None:
    with receiving() as receiver:
        early = await emit(ctx, ev.RUN_FAILED, status="failed")  # before any subscription
        every, _ = await subscribe(ctx, receiver.url, ev.RUN_FAILED, ev.EMERGENCY_STOPPED)
        only_a, _ = await subscribe(ctx, receiver.url, ev.RUN_FAILED, workflow="wf-a")
        off, _ = await subscribe(ctx, receiver.url, ev.RUN_FAILED, enabled=False)
        run_a = await start(ctx, [step("s")], name="wf-a")
        run_b = await start(ctx, [step("s")], name="wf-b")
        seq_a = await emit(ctx, ev.RUN_FAILED, run_id=run_a.id, error="x")
        seq_b = await emit(ctx, ev.RUN_FAILED, run_id=run_b.id, error="x")
        stop = await emit(ctx, ev.EMERGENCY_STOPPED, reason="drill")
        await catch_up(ctx, WEBHOOK_OUTBOX)

        def seqs(webhook_id: uuid.UUID, deliveries: list[Any]) -> set[int | None]:
            return {d.event_seq for d in deliveries if d.webhook_id == webhook_id}

        queued = await hooks.list_deliveries(ctx, webhook_id=None, limit=200)
        assert seqs(every.id, queued) == {seq_a, seq_b, stop}
        assert seqs(only_a.id, queued) == {seq_a}  # its workflow's run only
        assert seqs(off.id, queued) == set()
        assert early not in {d.event_seq for d in queued}
        # A subscription switched on later receives what is appended from then on.
        await emit(ctx, ev.RUN_FAILED, status="failed")  # while it is off
        await hooks.update_webhook(
            ctx, webhook_id=off.id, data=WebhookUpdate(enabled=True), actor="user:admin"
        )
        later = await emit(ctx, ev.RUN_FAILED, status="failed")
        await catch_up(ctx, WEBHOOK_OUTBOX)
        queued = await hooks.list_deliveries(ctx, webhook_id=off.id)
        assert {d.event_seq for d in queued} == {later}
        await dispatch_due(ctx, FAST, sign=sign)
    named = [json.loads(r.body)["workflow"] for r in receiver.requests]
    assert named.count("wf-a") == 2 and named.count("wf-b") == 1


async def test_two_followers_and_two_dispatchers_queue_and_send_each_delivery_once(
    ctx: ServiceContext,
) -> None:
    with receiving() as receiver:
        webhook, _ = await subscribe(ctx, receiver.url, ev.RUN_FAILED)
        for _ in range(6):
            await emit(ctx, ev.RUN_FAILED, status="failed")
        await asyncio.gather(catch_up(ctx, WEBHOOK_OUTBOX), catch_up(ctx, WEBHOOK_OUTBOX))
        assert len(await hooks.list_deliveries(ctx, webhook_id=webhook.id)) == 6
        config = FAST.model_copy(update={"concurrency": 2})
        sent = await asyncio.gather(
            dispatch_due(ctx, config, sign=sign), dispatch_due(ctx, config, sign=sign)
        )
    assert sum(sent) == 6 and len(receiver.requests) == 6
    assert len({json.loads(r.body)["seq"] for r in receiver.requests}) == 6


async def test_redelivery_sends_the_same_body_again_as_a_new_delivery(ctx: ServiceContext) -> None:
    with receiving([500]) as receiver:
        webhook, secret = await subscribe(ctx, receiver.url, ev.APPROVAL_REQUESTED)
        await emit(ctx, ev.APPROVAL_REQUESTED, status="awaiting_approval")
        await catch_up(ctx, WEBHOOK_OUTBOX)
        await dispatch_due(ctx, FAST, sign=sign)
        [failed] = await hooks.list_deliveries(ctx, webhook_id=webhook.id)
        assert failed.status_code == 500
        again = await redeliver(ctx, delivery_id=failed.id, actor="user:admin", sign=sign)
    assert again.id != failed.id and again.redelivery_of == failed.id
    assert (again.status, again.status_code, again.created_by) == ("delivered", 200, "user:admin")
    first, second = receiver.requests
    assert first.body == second.body
    verify(secret, second.body, second.headers[SIGNATURE_HEADER])
    assert len(await hooks.list_deliveries(ctx, webhook_id=webhook.id)) == 2


async def test_a_slack_subscription_sends_text_and_a_test_works(ctx: ServiceContext) -> None:
    with receiving() as receiver:
        webhook, _ = await subscribe(ctx, receiver.url, ev.RUN_FAILED, format="slack")
        run = await start(ctx, [step("s")], name="nightly-build")
        # No status in the payload: the run itself stays as it is (replay reads statuses).
        await emit(ctx, ev.RUN_FAILED, run_id=run.id, error="tests failed")
        await catch_up(ctx, WEBHOOK_OUTBOX)
        await dispatch_due(ctx, FAST, sign=sign)
        tested = await send_test(ctx, webhook_id=webhook.id, actor="user:admin", sign=sign)
    failed, test = (json.loads(r.body) for r in receiver.requests)
    assert list(failed) == ["text"] and list(test) == ["text"]
    assert "failed" in failed["text"] and "nightly-build" in failed["text"]
    assert "tests failed" in failed["text"] and str(run.id) in failed["text"]
    assert tested.event_type == "webhook.test" and tested.status == "delivered"
    assert tested.event_seq is None


async def test_a_hanging_receiver_does_not_slow_a_run(ctx: ServiceContext) -> None:
    config = FAST.model_copy(update={"timeout_s": 20.0, "poll_s": 0.05})
    with receiving([HANG, HANG, HANG]) as receiver:
        await subscribe(ctx, receiver.url, ev.RUN_COMPLETED, ev.RUN_FAILED)
        await emit(ctx, ev.RUN_FAILED, status="failed")
        async with (
            following(ctx, [dataclasses.replace(WEBHOOK_OUTBOX, every_s=0.05)]),
            webhook_dispatcher(ctx, config, sign=sign),
            running_engine(ctx),
        ):
            # The dispatcher is now stuck on the receiver.
            assert await asyncio.to_thread(receiver.arrived.wait, 10)
            started = time.monotonic()
            run = await start(ctx, [step("a"), step("b", "builtin:noop", "a")])
            finished = await wait_for_run(ctx, run.id, within_s=10)
            took = time.monotonic() - started
            receiver.released.set()  # let the dispatcher finish so the block can end
        assert finished.status == "completed"
        # The receiver held its request for all that time: the run did not wait for it.
        assert took < 5, f"the run took {took:.1f} s beside a hanging receiver"


async def test_a_lease_that_expired_is_taken_over_and_the_late_answer_is_refused(
    ctx: ServiceContext,
) -> None:
    from missionctl.repositories import webhooks as repo

    clock = Clock()
    with receiving() as receiver:
        webhook, _ = await subscribe(ctx, receiver.url, ev.RUN_FAILED)
        await emit(ctx, ev.RUN_FAILED, status="failed")
        await catch_up(ctx, WEBHOOK_OUTBOX)
        # A sender leases the delivery, then dies before it records anything.
        async with ctx.write() as session:
            [dead] = await repo.claim_due(
                session,
                now=clock.now,
                lease_until=clock.now + timedelta(seconds=35),
                token="dead-sender",
                limit=10,
            )
        assert await dispatch_due(ctx, FAST, sign=sign, clock=clock) == 0  # still leased
        clock.advance(36)
        assert await dispatch_due(ctx, FAST, sign=sign, clock=clock) == 1
        async with ctx.write() as session:
            late = await repo.record_attempt(
                session, delivery_id=dead.id, token="dead-sender", values={"status": "failed"}
            )
    assert late is False
    [delivery] = await hooks.list_deliveries(ctx, webhook_id=webhook.id)
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert len(receiver.requests) == 1


async def test_a_schedule_event_is_matched_by_the_workflow_its_payload_names(
    ctx: ServiceContext,
) -> None:
    run_a = await start(ctx, [step("s")], name="wf-a")
    run_b = await start(ctx, [step("s")], name="wf-b")
    only_a, _ = await subscribe(ctx, "https://x.example/", ev.SCHEDULE_MISFIRED, workflow="wf-a")
    by_name = await emit(ctx, ev.SCHEDULE_MISFIRED, workflow="wf-a")
    by_id = await emit(ctx, ev.SCHEDULE_MISFIRED, workflow_id=str(run_a.workflow_id))
    await emit(ctx, ev.SCHEDULE_MISFIRED, workflow_id=str(run_b.workflow_id))
    await emit(ctx, ev.SCHEDULE_MISFIRED, workflow="wf-b")
    unnamed = await emit(ctx, ev.SCHEDULE_MISFIRED, workflow_id="not-an-id")
    await catch_up(ctx, WEBHOOK_OUTBOX)
    queued = await hooks.list_deliveries(ctx, webhook_id=only_a.id)
    assert {d.event_seq for d in queued} == {by_name, by_id, unnamed}


async def test_any_failure_to_send_is_recorded_on_the_delivery(ctx: ServiceContext) -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.InvalidURL("the address cannot be sent to")

    webhook, _ = await subscribe(ctx, "https://x.example/", ev.RUN_FAILED)
    await emit(ctx, ev.RUN_FAILED, status="failed")
    await catch_up(ctx, WEBHOOK_OUTBOX)

    async def public(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]  # x.example as a public address: the policy lets it through

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(refuse)) as http:
        assert await dispatch_due(ctx, FAST, sign=sign, http=http, resolve=public) == 1
    [delivery] = await hooks.list_deliveries(ctx, webhook_id=webhook.id)
    assert delivery.status == "pending" and delivery.error is not None
    assert "InvalidURL: the address cannot be sent to" in delivery.error


async def test_a_test_that_a_dispatcher_took_first_answers_with_that_attempt(
    ctx: ServiceContext, monkeypatch: Any
) -> None:
    """The server's dispatcher may claim a test delivery before the request that queued it."""
    with receiving([HANG]) as receiver:
        webhook, _ = await subscribe(ctx, receiver.url, ev.RUN_FAILED)
        queue_first = sender.queue_test

        async def queued_then_taken(*args: Any, **kwargs: Any) -> Any:
            queued = await queue_first(*args, **kwargs)
            asyncio.get_running_loop().create_task(dispatch_due(ctx, FAST, sign=sign))
            assert await asyncio.to_thread(receiver.arrived.wait, 5)
            threading.Timer(0.3, receiver.released.set).start()
            return queued

        monkeypatch.setattr(sender, "queue_test", queued_then_taken)
        tested = await send_test(ctx, webhook_id=webhook.id, actor="user:admin", sign=sign)
    assert len(receiver.requests) == 1
    assert tested.status == "pending" and tested.attempts == 1 and tested.error
