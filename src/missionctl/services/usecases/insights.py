"""Insights and the executive summary of the product's own activity (ADR 0070).

:func:`read_insights` reads the funnel, trends and retention of a range and of the equally long
range just before it (``services.usecases.analytics``) and the anomalies as of the range's last full
day (``services.usecases.anomalies``; or takes those it is given), all in one read snapshot of the
facts, makes them ``domain.insights.InsightFacts`` and has them written up:

- by the configured model, when one is given: the prompt is the facts as JSON (numbers, metric
  names, windows, the segment's kind and value) and nothing else — never a person's name, an
  email, a mission's title or a token. The call is bounded by ``MISSIONCTL_INSIGHTS_MAX_TOKENS``
  and ``MISSIONCTL_INSIGHTS_TIMEOUT_S``; the reply is validated (``ModelInsights``, one repair)
  and redacted. A model's answer is kept in a small in-process cache for ``CACHE_TTL_S``,
  keyed by the model and the facts' digest, so the same question over the same facts does not
  call the model twice within a few minutes (a new event that changes a figure changes the
  digest). Failures are not cached.
- by the deterministic writer (``domain.insights.write_insights``), when no model is given
  (``fallback_reason`` empty), when neither range holds any activity (the model is not asked:
  there is nothing to write from), or when the model fails (timeout, HTTP error, invalid reply
  after its repair, token limit): ``fallback_reason`` then says why in a short sentence with at
  most the HTTP status, and a warning is logged.
"""

import asyncio
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from missionctl.domain.analytics import Journey
from missionctl.domain.insights import (
    HEADLINE_UNITS,
    AnomalyFact,
    CohortReturns,
    DayFigures,
    InsightFacts,
    Window,
    WrittenInsights,
    funnel_shift,
    retention_shift,
    task_outcomes,
    trend_totals,
    write_insights,
)
from missionctl.errors import LLMOutputInvalid, LLMUnavailable
from missionctl.llm import LLMClient
from missionctl.llm.protocol import TokenLimitReached
from missionctl.llm.redaction import redact
from missionctl.schemas.analytics import (
    AnalyticsMeta,
    AnomalyItem,
    FunnelAnswer,
    InsightsAnswer,
    InsightSections,
    RetentionAnswer,
    TrendsAnswer,
    load_definitions,
)
from missionctl.schemas.insights import ModelInsights, load_phrasebook
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases import analytics
from missionctl.services.usecases import anomalies as anomaly_service
from missionctl.services.usecases.analytics import AnalyticsQuery

log = logging.getLogger(__name__)

CACHE_TTL_S = 300.0
"""How long a model's insights are reused for the same facts."""
CACHE_ENTRIES = 64
"""Answers the cache keeps at most (the oldest is dropped first)."""
RETENTION_WEEKS = (1, 4)
"""The retention weeks compared (those the definitions measure)."""
SCHEMA_NAME = "analytics_insights"
QUIET_REASON = "there was no activity to write about, so the model was not asked"

SYSTEM_PROMPT = (
    "Write the executive summary of a software product's usage for a product leader, from "
    "the JSON facts the user sends: a range of UTC days (window) against the equally long "
    "range before (prior); the activation funnel (share of first sign-ins reaching each step); "
    "weekly retention of each range's cohorts; totals (success_rate is a 0-1 ratio of "
    "current_of/prior_of ended runs, cost in USD, active_users a daily average); anomalies; "
    "tasks: built (code changed, its tests passed) and documented (documents only, nothing "
    "built) in each range, over every run. "
    "A share of a handful of people or runs is noise: do not compare it; against a prior "
    "of a handful of runs, totals only show when the work began. change_points are "
    "percentage points; null means not measurable yet. Reply with JSON: summary (2-4 "
    "sentences, most important first: critical anomalies, the funnel's biggest drop, "
    "retention) and sections what_changed, "
    "why_it_matters, suggested_actions, questions_to_investigate (1-5 short plain sentences "
    "each, with numbers and windows). Actions name the page: Runs (filter status failed, group "
    "by failing step), Costs (by model, step budget caps), Analytics (funnel, cohorts). Use "
    "only the facts' numbers; never invent a figure, a person or a cause."
)


# --- the facts -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Answers:
    funnel: FunnelAnswer
    trends: TrendsAnswer
    retention: RetentionAnswer


@dataclass(frozen=True, slots=True)
class _Rows:
    journeys: list[Journey]
    trends: analytics.TrendRows
    retention: analytics.RetentionRows


def _rows(session: Session, query: AnalyticsQuery) -> _Rows:
    """What the facts use of ``query``'s range: its funnel, daily trends and retention.

    The run durations' percentiles are left out: no fact is made of them.
    """
    return _Rows(
        journeys=analytics.funnel_rows(session, query),
        trends=analytics.trend_rows(session, query, "day", durations=False),
        retention=analytics.retention_rows(session, query),
    )


def _answers(query: AnalyticsQuery, rows: _Rows, followed: int) -> _Answers:
    return _Answers(
        funnel=analytics.funnel_answer(query, "week", rows.journeys, followed),
        trends=analytics.trends_answer(query, "day", rows.trends, followed),
        retention=analytics.retention_answer(query, rows.retention, followed),
    )


@dataclass(frozen=True, slots=True)
class _Read:
    now: _Answers
    before: _Answers
    anomalies: Sequence[AnomalyItem]


async def _read_facts(
    ctx: ServiceContext, query: AnalyticsQuery, anomalies: Sequence[AnomalyItem] | None
) -> _Read:
    """Both ranges' answers and (unless given) the anomalies, from one read snapshot.

    The anomalies are judged as of the range's last full day.
    """
    prior = analytics.previous_range(query)
    judged = anomaly_service.up_to_last_full_day(query)

    def work(session: Session) -> tuple[_Rows, _Rows, anomaly_service.DetectorRows | None]:
        detector = None if anomalies is not None else anomaly_service.detector_rows(session, judged)
        return _rows(session, query), _rows(session, prior), detector

    (now, before, detector), followed = await analytics.read_current(ctx, work)
    if detector is not None:
        anomalies = anomaly_service.anomalies_answer(judged, detector, followed).items
    return _Read(
        now=_answers(query, now, followed),
        before=_answers(prior, before, followed),
        anomalies=anomalies or [],
    )


async def gather_facts(
    ctx: ServiceContext, query: AnalyticsQuery, anomalies: Sequence[AnomalyItem] | None = None
) -> tuple[InsightFacts, AnalyticsMeta]:
    """The facts of ``query``'s range against the range before, and the answer's ``meta``.

    Without ``anomalies``, those as of the range's last full day
    (``services.usecases.anomalies.up_to_last_full_day``) are read with the figures, in one
    snapshot.
    """
    window = Window(query.since, query.until)
    read = await _read_facts(ctx, query, anomalies)
    now, before = read.now, read.before
    definitions = load_definitions()
    book = load_phrasebook()
    weeks = [week for week in RETENTION_WEEKS if week <= definitions.retention.weeks]
    facts = InsightFacts(
        window=window,
        segment=query.segment,
        funnel=funnel_shift(
            [(step.key, step.label) for step in definitions.funnel.steps],
            ([step.users for step in item.steps] for item in now.funnel.items),
            ([step.users for step in item.steps] for item in before.funnel.items),
            settled=all(item.complete for item in now.funnel.items),
        ),
        retention=retention_shift(weeks, _cohorts(now.retention), _cohorts(before.retention)),
        totals=trend_totals(
            _days(now.trends),
            _days(before.trends),
            {key: book.metric(key).label for key in HEADLINE_UNITS},
        ),
        anomalies=tuple(_anomaly_fact(item) for item in read.anomalies),
        tasks=task_outcomes(_days(now.trends), _days(before.trends)),
    )
    return facts, now.trends.meta.model_copy(update={"grain": None})


def _cohorts(answer: RetentionAnswer) -> list[CohortReturns]:
    return [
        CohortReturns(item.users, [(c.week, c.users, c.complete) for c in item.weeks])
        for item in answer.items
    ]


def _days(answer: TrendsAnswer) -> list[DayFigures]:
    return [
        DayFigures(
            active_users=item.active_users,
            runs_started=item.runs_started,
            runs_ended=item.runs_ended,
            success_rate=item.success_rate,
            cost_usd=item.cost_usd,
            tokens=item.tokens,
            tasks_built=item.tasks_built,
            tasks_documented=item.tasks_documented,
        )
        for item in answer.items
    ]


def _anomaly_fact(item: AnomalyItem) -> AnomalyFact:
    """The anomaly's figures; its prose (explanation, impact) stays out of the facts."""
    return AnomalyFact(
        metric=item.metric,
        label=item.label,
        unit=item.unit,
        severity=item.severity,
        direction=item.direction,
        current=item.current,
        baseline=item.baseline,
        change_pct=item.change_pct,
        current_window=Window(item.current_window.since, item.current_window.until),
        baseline_window=Window(item.baseline_window.since, item.baseline_window.until),
    )


# --- writing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ModelWritten:
    model: str
    summary: str
    sections: InsightSections


class AnswerCache:
    """The model's insights by model and facts, each kept ``ttl_s`` seconds (in this process)."""

    def __init__(self, *, ttl_s: float = CACHE_TTL_S, entries: int = CACHE_ENTRIES) -> None:
        self.ttl_s, self.entries = ttl_s, entries
        self._kept: OrderedDict[str, tuple[float, _ModelWritten]] = OrderedDict()

    def get(self, key: str) -> _ModelWritten | None:
        """The answer kept under ``key``, unless it has expired."""
        found = self._kept.get(key)
        if found is None or found[0] < time.monotonic():
            self._kept.pop(key, None)
            return None
        return found[1]

    def put(self, key: str, written: _ModelWritten) -> None:
        """Keep ``written``; the oldest answer goes when the cache is full."""
        self._kept[key] = (time.monotonic() + self.ttl_s, written)
        self._kept.move_to_end(key)
        while len(self._kept) > self.entries:
            self._kept.popitem(last=False)

    def clear(self) -> None:
        """Forget every answer."""
        self._kept.clear()


MODEL_ANSWERS = AnswerCache()


class _ModelFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def ask_insights(
    ctx: ServiceContext,
    *,
    since: str | None = None,
    until: str | None = None,
    segment: str | None = None,
    llm: LLMClient | None = None,
) -> InsightsAnswer:
    """:func:`read_insights` of the range and segment as a URL gives them, by ``llm`` or not.

    Raises:
        ValidationFailed: as ``services.usecases.analytics.parse_query``.
    """
    query = analytics.parse_query(since=since, until=until, segment=segment)
    return await read_insights(ctx, query=query, llm=llm)


async def read_insights(
    ctx: ServiceContext,
    *,
    query: AnalyticsQuery,
    anomalies: Sequence[AnomalyItem] | None = None,
    llm: LLMClient | None = None,
) -> InsightsAnswer:
    """The summary and four sections of ``query``'s range, by ``llm`` or deterministically.

    Written with ``anomalies``, or by default with those as of the range's last full day, read
    in the same snapshot as the figures (see :func:`gather_facts`).

    Never raises for the model's failures (see the module's docstring); ``source`` says who
    wrote the answer and ``fallback_reason`` why the model did not.

    Raises:
        DataFileError: a packaged data file is broken (a bug, never the caller's input).
    """
    facts, meta = await gather_facts(ctx, query, anomalies)
    if llm is None or facts.quiet:
        reason = None if llm is None else QUIET_REASON
        return _deterministic(meta, facts, reason)
    key = f"{llm.model}\n{facts.digest()}"
    written = MODEL_ANSWERS.get(key)
    if written is None:
        try:
            written = await _ask_model(ctx, llm, facts)
        except _ModelFailed as failed:
            log.warning("the insights were written without the model: %s", failed.reason)
            return _deterministic(meta, facts, failed.reason)
        MODEL_ANSWERS.put(key, written)
    return InsightsAnswer(
        meta=meta,
        source="model",
        model=written.model,
        summary=written.summary,
        sections=written.sections,
    )


def _deterministic(meta: AnalyticsMeta, facts: InsightFacts, reason: str | None) -> InsightsAnswer:
    written: WrittenInsights = write_insights(facts, load_phrasebook())
    return InsightsAnswer(
        meta=meta,
        source="deterministic",
        fallback_reason=reason,
        summary=written.summary,
        sections=InsightSections(
            what_changed=list(written.what_changed),
            why_it_matters=list(written.why_it_matters),
            suggested_actions=list(written.suggested_actions),
            questions_to_investigate=list(written.questions_to_investigate),
        ),
    )


def model_prompt(facts: InsightFacts) -> str:
    """The user message the model gets: the facts as compact JSON, nothing else."""
    return json.dumps(facts.as_data(), separators=(",", ":"), ensure_ascii=False)


_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")


async def _ask_model(ctx: ServiceContext, llm: LLMClient, facts: InsightFacts) -> _ModelWritten:
    """The model's insights, or :class:`_ModelFailed` with a reason safe to show."""
    settings = ctx.settings.insights
    try:
        async with asyncio.timeout(settings.timeout_s):
            result = await llm.generate_structured(
                system=SYSTEM_PROMPT,
                user=model_prompt(facts),
                output_model=ModelInsights,
                schema_name=SCHEMA_NAME,
                max_repairs=1,
                max_tokens=settings.max_tokens,
            )
    except TimeoutError:
        raise _ModelFailed(f"the model did not answer within {settings.timeout_s:g} s") from None
    except LLMUnavailable as exc:
        status = _HTTP_STATUS.search(exc.message)
        said = f" (HTTP {status.group(1)})" if status else ""
        raise _ModelFailed(f"the model could not be reached{said}") from None
    except LLMOutputInvalid:
        raise _ModelFailed("the model's reply did not fit the insights' format") from None
    except TokenLimitReached:
        raise _ModelFailed(
            f"the insights did not fit the model's token limit ({settings.max_tokens} tokens)"
        ) from None
    reply = result.value
    sections = reply.as_sections().model_dump()
    return _ModelWritten(
        model=result.model,
        summary=redact(reply.summary),
        sections=InsightSections.model_validate(
            {name: [redact(text) for text in texts] for name, texts in sections.items()}
        ),
    )
