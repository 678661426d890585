"""Anomalies read from the analytics facts, on both databases, and the notifier that announces
each one once as ``analytics.anomaly_detected``, however many servers run a pass at once."""

import asyncio
from datetime import timedelta

from missionctl.domain import events as ev
from missionctl.domain.anomalies import detect
from missionctl.eventlog import EventRecord
from missionctl.schemas.webhooks import WebhookCreate
from missionctl.services import ServiceContext, open_context
from missionctl.services.followers import WEBHOOK_OUTBOX, catch_up
from missionctl.services.usecases import webhooks as webhook_service
from missionctl.services.usecases.analytics import AnalyticsQuery
from missionctl.services.usecases.anomalies import detector_rules, notify_anomalies, read_anomalies
from missionctl.services.usecases.audit import read_event_page
from missionctl.settings import Settings
from tests.analytics import history
from tests.analytics.anomaly_facts import NO_COHORTS, write_history
from tests.analytics.history import AS_OF, Injection

QUERY = AnalyticsQuery(AS_OF - timedelta(days=29), AS_OF)
TODAY = AS_OF + timedelta(days=1)  # the notifier judges yesterday: AS_OF
FAILING = Injection(success_rate=0.65)


async def _anomaly_events(ctx: ServiceContext) -> list[EventRecord]:
    events = await read_event_page(ctx, limit=1000)
    return [e for e in events if e.type == ev.ANALYTICS_ANOMALY_DETECTED]


async def test_the_facts_answer_as_the_detector_does_on_the_same_history(
    ctx: ServiceContext,
) -> None:
    days = history.days(4, injection=FAILING)
    await write_history(ctx, days)
    answer = await read_anomalies(ctx, query=QUERY)
    drop = answer.items[0]
    assert (drop.metric, drop.comparison, drop.severity) == (
        "success_rate",
        "week_over_week",
        "critical",
    )
    assert {item.metric for item in answer.items} == {"success_rate"}
    assert drop.key == f"success_rate:week_over_week:{AS_OF}"
    assert drop.current_window.until == AS_OF and drop.unit == "ratio"
    assert answer.meta.range.until == AS_OF and answer.meta.segment is None
    rules, _ = detector_rules()
    pure = detect(days, NO_COHORTS, as_of=AS_OF, history_start=min(days), rules=rules)
    assert [(a.key, a.severity, a.current, a.baseline) for a in pure] == [
        (item.key, item.severity, item.current, item.baseline) for item in answer.items
    ]


async def test_retention_cohorts_are_read_from_the_facts(ctx: ServiceContext) -> None:
    returns = Injection(retention_factor=0.5)
    await write_history(ctx, history.days(4), history.cohorts(4, injection=returns))
    answer = await read_anomalies(ctx, query=QUERY)
    cohorts = [item for item in answer.items if item.metric == "retention"]
    assert cohorts and {item.severity for item in cohorts} == {"warning"}
    assert all(item.label == "Early retention (weeks 1-2)" for item in cohorts)


async def test_a_segment_narrows_the_figures_and_an_empty_history_flags_nothing(
    ctx: ServiceContext,
) -> None:
    assert (await read_anomalies(ctx, query=QUERY)).items == []
    await write_history(ctx, history.days(4, injection=FAILING))
    elsewhere = AnalyticsQuery(QUERY.since, QUERY.until, ("workflow", "none-such"))
    assert (await read_anomalies(ctx, query=elsewhere)).items == []
    shipping = AnalyticsQuery(QUERY.since, QUERY.until, ("workflow", "ship"))
    found = (await read_anomalies(ctx, query=shipping)).items
    assert found == (await read_anomalies(ctx, query=QUERY)).items


async def test_a_pass_sends_each_new_anomaly_once(ctx: ServiceContext) -> None:
    await write_history(ctx, history.days(4, injection=FAILING))
    sent = await notify_anomalies(ctx, today=TODAY)
    assert [item.key for item in sent] == [
        f"success_rate:week_over_week:{AS_OF}",
        f"success_rate:day_vs_median:{AS_OF}",
    ]
    assert await notify_anomalies(ctx, today=TODAY) == []
    events = await _anomaly_events(ctx)
    assert [e.payload for e in events] == [item.model_dump(mode="json") for item in sent]
    assert {e.actor for e in events} == {"system"}
    assert events[0].payload["severity"] == "critical"
    assert str(events[0].payload["explanation"]).startswith("Run success rate fell from")
    # The next day's judgement is a new anomaly (a new window), announced in its turn.
    later = await notify_anomalies(ctx, today=TODAY + timedelta(days=1))
    assert not {item.key for item in later} & {item.key for item in sent}


async def test_two_servers_passing_at_once_send_it_once(
    ctx: ServiceContext, settings: Settings
) -> None:
    await write_history(ctx, history.days(4, injection=FAILING))
    async with open_context(settings, upgrade=False) as twin:
        first, second = await asyncio.gather(
            notify_anomalies(ctx, today=TODAY), notify_anomalies(twin, today=TODAY)
        )
    # Each anomaly went out from one of the two, none from both.
    keys = [item.key for item in first + second]
    assert len(keys) == len(set(keys)) == 2
    assert len(await _anomaly_events(ctx)) == 2


async def test_a_webhook_subscribed_to_anomalies_gets_a_delivery(ctx: ServiceContext) -> None:
    created = await webhook_service.create_webhook(
        ctx,
        data=WebhookCreate.model_validate(
            {
                "url": "https://hooks.example.com/anomalies",
                "events": ["analytics.anomaly_detected"],
                "format": "slack",
            }
        ),
        actor="user:admin",
    )
    await write_history(ctx, history.days(4, injection=FAILING))
    await notify_anomalies(ctx, today=TODAY)
    await catch_up(ctx, WEBHOOK_OUTBOX)
    deliveries = await webhook_service.list_deliveries(ctx, webhook_id=created.webhook.id)
    assert len(deliveries) == 2
    assert {(d.event_type, d.status) for d in deliveries} == {
        ("analytics.anomaly_detected", "pending")
    }
