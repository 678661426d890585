"""Anomalies in the product's own metrics, and the notifier that announces them (ADR 0069).

:func:`read_anomalies` reads, in one snapshot of the analytics facts (as the trends do), the
per-day figures of the weeks before ``as_of`` (the query's ``until``: the lookback is the
detector's, not the range's) and the recent weekly cohorts, and lets
``domain.anomalies.detect`` judge them against the rules in ``schemas/analytics.yaml``.

:func:`notify_anomalies` is one pass of the notifier: the unsegmented anomalies as of
yesterday, each appended as one ``analytics.anomaly_detected`` event (actor ``system``) in the
transaction that claims its key in ``anomaly_notices``; a key already claimed (by an earlier
pass, or another server at the same moment) is not sent again. Webhook subscriptions to that
type deliver it like any event. The server runs a pass every ``NOTIFY_EVERY_S``.
"""

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy.orm import Session

from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.analytics import week_of
from missionctl.domain.anomalies import (
    RETURN_WEEKS,
    Anomaly,
    Cohorts,
    DayFigures,
    MetricRule,
    Settings,
    Thresholds,
    day_figures,
    detect,
)
from missionctl.eventlog import NewEvent, append
from missionctl.repositories import analytics as repo
from missionctl.repositories import anomalies as notices
from missionctl.schemas.analytics import (
    SEVERITIES,
    AnomaliesAnswer,
    AnomalyItem,
    ComparedWindow,
    load_definitions,
)
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.runtime.periodic import repeating
from missionctl.services.usecases import analytics
from missionctl.services.usecases.analytics import AnalyticsQuery, answer_meta, read_current

NOTIFY_EVERY_S = 600.0
"""How often the server's notifier looks for anomalies to announce."""


def parse_query(*, since: str | None, until: str | None, segment: str | None) -> AnalyticsQuery:
    """``analytics.parse_query``, but ``until`` defaults to yesterday: the last full day.

    Raises:
        ValidationFailed: as ``services.usecases.analytics.parse_query``.
    """
    yesterday = utcnow().date() - timedelta(days=1)
    return analytics.parse_query(since=since, until=until, segment=segment, today=yesterday)


def up_to_last_full_day(query: AnalyticsQuery) -> AnalyticsQuery:
    """``query``, ending yesterday (the last full UTC day) if it ends later.

    Today's figures are still growing: judged against whole days, every one would look low.
    """
    yesterday = utcnow().date() - timedelta(days=1)
    if query.until <= yesterday:
        return query
    return replace(query, since=min(query.since, yesterday), until=yesterday)


def detector_rules() -> tuple[list[MetricRule], Settings]:
    """The watched metrics' rules and the detector's windows, from the definitions file."""
    data = load_definitions()
    named = {m.key: (m.label, m.unit) for m in data.trends}
    named["retention"] = (data.retention.label, "ratio")
    rules = [
        MetricRule(
            metric=rule.key,
            label=rule.label or named[rule.key][0],
            unit=named[rule.key][1],
            noun=rule.noun,
            bad=frozenset(rule.bad),
            min_delta=rule.min_delta,
            min_volume=rule.min_volume,
            thresholds={
                comparison: Thresholds(t.info, t.warning, t.critical)
                for comparison, t in rule.thresholds.items()
            },
            significance=(
                Thresholds(z.info, z.warning, z.critical)
                if (z := rule.significance) is not None
                else None
            ),
        )
        for rule in data.anomalies.metrics
    ]
    return rules, Settings(**data.anomalies.settings.model_dump())


@dataclass(frozen=True, slots=True)
class DetectorRows:
    """What the detector judges: the days before ``as_of`` and the recent cohorts."""

    days: dict[date, DayFigures]
    cohorts: Cohorts
    history_start: date | None


def detector_rows(session: Session, query: AnalyticsQuery) -> DetectorRows:
    """What :func:`anomalies_answer` judges, as of ``query.until`` (see :func:`read_anomalies`)."""
    _, settings = detector_rules()
    as_of = query.until
    lookback = max(
        settings.weekday_lookback_weeks * 7,
        settings.median_days,
        (settings.baseline_weeks + 1) * 7,
    )
    scope = repo.Scope(as_of - timedelta(days=lookback), as_of, query.segment)
    days = day_figures(
        active_users=repo.active_user_counts(session, scope, weekly=False),
        missions=repo.missions_per_day(session, scope),
        run_days=repo.runs_per_day(session, scope),
        durations=repo.duration_percentiles(session, scope, weekly=False),
    )
    # The recent cohorts, the cohorts before them, and the weeks between as_of and the latest.
    weeks = settings.recent_cohorts + settings.prior_cohorts + RETURN_WEEKS + 1
    cohort_scope = repo.Scope(week_of(as_of) - timedelta(weeks=weeks), as_of, query.segment)
    sizes, returned = repo.retention_counts(session, cohort_scope, weeks=2)
    return DetectorRows(days, Cohorts(sizes, returned), repo.first_day(session))


def _item(anomaly: Anomaly) -> AnomalyItem:
    return AnomalyItem.model_validate(
        {
            **{name: getattr(anomaly, name) for name in AnomalyItem.model_fields},
            "current_window": ComparedWindow(
                since=anomaly.current_window.since, until=anomaly.current_window.until
            ),
            "baseline_window": ComparedWindow(
                since=anomaly.baseline_window.since, until=anomaly.baseline_window.until
            ),
        }
    )


async def ask_anomalies(
    ctx: ServiceContext,
    *,
    since: str | None = None,
    until: str | None = None,
    segment: str | None = None,
) -> AnomaliesAnswer:
    """:func:`read_anomalies` of the range and segment as a URL gives them (:func:`parse_query`).

    Raises:
        ValidationFailed: as :func:`parse_query`.
    """
    query = parse_query(since=since, until=until, segment=segment)
    return await read_anomalies(ctx, query=query)


async def read_anomalies(ctx: ServiceContext, *, query: AnalyticsQuery) -> AnomaliesAnswer:
    """The anomalies as of ``query.until``, most severe first, then by metric and comparison.

    The segment narrows the figures as it narrows the trends; ``query.since`` only names the
    range in ``meta`` (the detector looks back as far as its comparisons need).
    """
    rows, followed = await read_current(ctx, lambda s: detector_rows(s, query))
    return anomalies_answer(query, rows, followed)


def anomalies_answer(query: AnalyticsQuery, rows: DetectorRows, followed: int) -> AnomaliesAnswer:
    """The anomalies of ``query`` from :func:`detector_rows`, the facts followed to ``followed``."""
    rules, settings = detector_rules()
    found = detect(
        rows.days,
        rows.cohorts,
        as_of=query.until,
        history_start=rows.history_start,
        rules=rules,
        settings=settings,
    )
    return AnomaliesAnswer(meta=answer_meta(query, None, followed), items=[_item(a) for a in found])


# --- the notifier ---------------------------------------------------------------------------


def _worth_notifying(items: Sequence[AnomalyItem]) -> list[AnomalyItem]:
    least = SEVERITIES.index(load_definitions().anomalies.notify_min_severity)
    return [item for item in items if SEVERITIES.index(item.severity) <= least]


async def notify_anomalies(ctx: ServiceContext, *, today: date | None = None) -> list[AnomalyItem]:
    """One pass of the notifier: announce each new unsegmented anomaly as of yesterday once.

    Yesterday is the day before ``today`` (UTC, now by default): the last full day. Each
    anomaly at or above ``anomalies.notify_min_severity`` whose key no pass has claimed yet is
    appended as ``analytics.anomaly_detected`` (actor ``system``, the anomaly's fields as the
    payload) in the transaction that claims the key. Returns the anomalies this pass sent.
    """
    as_of = (today or utcnow().date()) - timedelta(days=1)
    answer = await read_anomalies(ctx, query=AnalyticsQuery(as_of - timedelta(days=6), as_of))
    sent: list[AnomalyItem] = []
    for item in _worth_notifying(answer.items):
        async with ctx.write() as session:
            if not await notices.claim_notice(session, key=item.key, severity=item.severity):
                continue  # announced already, by an earlier pass or another server
            payload = item.model_dump(mode="json")
            await append(session, [NewEvent(ev.ANALYTICS_ANOMALY_DETECTED, "system", payload)])
        sent.append(item)
    return sent


def anomaly_notifier(
    ctx: ServiceContext, *, every_s: float = NOTIFY_EVERY_S
) -> AbstractAsyncContextManager[None]:
    """Announce new anomalies every ``every_s`` while the block runs (the server's lifespan)."""
    return repeating(lambda: notify_anomalies(ctx), every_s=every_s, what="the anomaly notifier")
