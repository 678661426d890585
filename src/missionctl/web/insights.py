"""The insights cockpit's filters and panels (``routes/insights.py``, ``pages/insights.html``).

One filter bar drives every panel: a range (a preset ending today, or custom UTC days), the
buckets of the trends and the funnel's cohorts, and one segment. The filters live in the URL
under the names below, so a view is a link; ``range`` is relative (``30d`` stays "the last 30
days" when the link is opened later) unless it is ``custom``.

Each panel is read by its own reader and rendered from its own fragment route, so a panel that
fails says so (with Retry) while the others render, and each shows its own loading state.
"""

import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from missionctl.db.types import utcnow
from missionctl.domain.analytics import GRAINS, Grain
from missionctl.domain.money import usd_text
from missionctl.errors import Problem, ValidationFailed
from missionctl.llm import LLMClient
from missionctl.schemas.analytics import (
    AnomaliesAnswer,
    FunnelAnswer,
    InsightsAnswer,
    RetentionAnswer,
    TotalsAnswer,
    TrendsAnswer,
)
from missionctl.schemas.orchestration import OrchestrationAnswer
from missionctl.schemas.risks import StepAtRisk
from missionctl.services import ServiceContext
from missionctl.services.usecases import analytics as analytics_service
from missionctl.services.usecases import anomalies as anomaly_service
from missionctl.services.usecases import insights as insights_service
from missionctl.services.usecases import orchestration as orchestration_service
from missionctl.services.usecases import risks as risk_service
from missionctl.services.usecases.analytics import AnalyticsQuery
from missionctl.web.templating import compact, duration

log = logging.getLogger(__name__)

RANGE_PRESETS: dict[str, int] = {"7d": 7, "30d": 30, "90d": 90, "1y": 365}
"""The preset ranges, each ending today (UTC), by their name in the URL."""
RANGE_LABELS: dict[str, str] = {
    "7d": "7 days",
    "30d": "30 days",
    "90d": "90 days",
    "1y": "1 year",
    "custom": "Custom",
}
DEFAULT_RANGE = "30d"


_DAY_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class CockpitFilters:
    """The filter bar as the URL gives it, normalised; ``query`` is ``None`` when invalid."""

    preset: str
    since: str
    until: str
    grain: Grain
    segment: str
    query: AnalyticsQuery | None
    problems: tuple[Problem, ...] = ()

    def params(self) -> dict[str, str]:
        """The URL parameters that say this view (a preset leaves its days out)."""
        found = {"range": self.preset}
        if self.preset == "custom":
            found |= {"since": self.since, "until": self.until}
        if self.grain != "day":
            found["grain"] = self.grain
        if self.segment:
            found["segment"] = self.segment
        return found

    def url(self, path: str = "/insights") -> str:
        """``path`` with this view's parameters."""
        return f"{path}?{urlencode(self.params())}"

    @property
    def message(self) -> str:
        """What is wrong with the filters, field by field; empty when they are valid."""
        return "; ".join(f"{p.field}: {p.message}" for p in self.problems)


def parse_filters(
    *, preset: str, since: str, until: str, grain: str, segment: str, today: date | None = None
) -> CockpitFilters:
    """The cockpit's filters from the URL (``range``, ``since``, ``until``, ``grain``, ``segment``).

    Problems are kept on the result, never raised. A preset ``range`` sets since/until to its
    days ending today (given ones are ignored); ``custom`` (or no range with since/until given)
    takes since/until as UTC days, checked with the segment by
    ``services.usecases.analytics.parse_query``. Only day-shaped text is shown back in the form:
    what else was typed (a pasted secret, say) is not echoed.
    """
    today = today or utcnow().date()
    problems: list[Problem] = []
    chosen = preset or ("custom" if since or until else DEFAULT_RANGE)
    if chosen not in RANGE_LABELS:
        problems.append(Problem("range", f"give one of {', '.join(RANGE_LABELS)}"))
        chosen = DEFAULT_RANGE
    if chosen in RANGE_PRESETS:
        since, until = str(today - timedelta(days=RANGE_PRESETS[chosen] - 1)), str(today)
    if grain not in ("", *GRAINS):
        problems.append(Problem("grain", "give day or week"))
    query = None
    try:
        query = analytics_service.parse_query(
            since=since or None, until=until or None, segment=segment or None, today=today
        )
    except ValidationFailed as exc:
        problems += exc.problems
    if query is not None:
        since, until = str(query.since), str(query.until)
    return CockpitFilters(
        preset=chosen,
        since=since if _DAY_SHAPE.fullmatch(since) else "",
        until=until if _DAY_SHAPE.fullmatch(until) else "",
        grain="week" if grain == "week" else "day",
        segment=segment if query is not None else "",
        query=None if problems else query,
        problems=tuple(problems),
    )


# --- panels ---------------------------------------------------------------------------------

PanelName = Literal["summary", "kpis", "funnel", "alerts", "retention", "trends", "orchestration"]


@dataclass(frozen=True, slots=True)
class PanelInputs:
    """What a panel is read with: the services, valid filters and the model, if one is set."""

    ctx: ServiceContext
    query: AnalyticsQuery
    grain: Grain
    llm: LLMClient | None = None


PanelReader = Callable[[PanelInputs], Awaitable[Any]]


async def _summary(given: PanelInputs) -> InsightsAnswer:
    return await insights_service.read_insights(given.ctx, query=given.query, llm=given.llm)


async def _kpis(given: PanelInputs) -> TotalsAnswer:
    return await analytics_service.read_totals(given.ctx, query=given.query)


async def _funnel(given: PanelInputs) -> FunnelAnswer:
    return await analytics_service.read_funnel(
        given.ctx, query=given.query, grain=given.grain, compare=True
    )


@dataclass(frozen=True, slots=True)
class AlertsPanel:
    """The alerts panel: the metrics' anomalies, and the steps of live runs likely to fail."""

    anomalies: AnomaliesAnswer
    at_risk: list[StepAtRisk]

    @property
    def meta(self) -> Any:
        """The anomalies' answer meta (how far the facts go), as every panel answer has."""
        return self.anomalies.meta


async def _alerts(given: PanelInputs) -> AlertsPanel:
    query = anomaly_service.up_to_last_full_day(given.query)
    return AlertsPanel(
        await anomaly_service.read_anomalies(given.ctx, query=query),
        await risk_service.read_steps_at_risk(given.ctx),
    )


async def _retention(given: PanelInputs) -> RetentionAnswer:
    return await analytics_service.read_retention(
        given.ctx, query=given.query, grain=given.grain, compare=True
    )


async def _trends(given: PanelInputs) -> TrendsAnswer:
    return await analytics_service.read_trends(
        given.ctx, query=given.query, grain=given.grain, compare=True
    )


async def _orchestration(given: PanelInputs) -> OrchestrationAnswer:
    return await orchestration_service.read_orchestration(
        given.ctx, query=given.query, grain=given.grain
    )


PANELS: Mapping[str, PanelReader] = {
    "summary": _summary,
    "kpis": _kpis,
    "funnel": _funnel,
    "alerts": _alerts,
    "retention": _retention,
    "trends": _trends,
    "orchestration": _orchestration,
}
"""Every panel the page loads, by the name in its fragment route (``/insights/panels/NAME``)."""


@dataclass(frozen=True, slots=True)
class PanelView:
    """One panel as the template draws it: its answer, or why there is none."""

    name: str
    answer: Any = None
    failed: str = ""

    @property
    def state(self) -> str:
        """``ready``, ``empty`` (nothing in the range) or ``error``."""
        if self.failed:
            return "error"
        return "empty" if is_empty(self.name, self.answer) else "ready"


def is_empty(name: str, answer: Any) -> bool:
    """Whether ``answer`` has nothing to draw for the range (the panel's empty state)."""
    if isinstance(answer, TotalsAnswer):
        now, then = answer.current, answer.previous
        return not any(
            (now.active_users, now.missions_created, now.runs_started, then.runs_started)
        ) and not any((then.active_users, then.missions_created))
    if isinstance(answer, FunnelAnswer):
        return not any(item.steps[0].users for item in answer.items)
    if isinstance(answer, RetentionAnswer):
        return not any(item.users for item in answer.items)
    if isinstance(answer, TrendsAnswer):
        return not any(
            item.runs_started or item.active_users or item.missions_created for item in answer.items
        )
    if isinstance(answer, OrchestrationAnswer):
        return answer.clean_runs.ended == 0 and answer.bootstrap.missions == 0
    return False


async def read_panel(
    ctx: ServiceContext, name: str, filters: CockpitFilters, llm: LLMClient | None = None
) -> PanelView:
    """Read one panel for valid ``filters``; a failure becomes the panel's error state.

    A panel that fails must not take the page or the other panels with it: the failure is
    logged with its traceback and the panel offers Retry. Its message reveals nothing.
    """
    assert filters.query is not None, "only valid filters reach the panels"
    try:
        answer = await PANELS[name](PanelInputs(ctx, filters.query, filters.grain, llm))
    except Exception:
        log.exception("the insights panel %s could not be read", name)
        return PanelView(name, failed="This panel could not be read just now.")
    return PanelView(name, answer)


def panel_order(available: Mapping[str, Any]) -> list[str]:
    """The panels of the page, in its order, that have a reader."""
    order = ("summary", "kpis", "funnel", "alerts", "retention", "trends", "orchestration")
    return [name for name in order if name in available]


# --- what the panels show -------------------------------------------------------------------

Verdict = Literal["good", "bad", "neutral"]


@dataclass(frozen=True, slots=True)
class KpiTile:
    """One figure of the KPI row and its change against the range before."""

    key: str
    value: str
    previous: str
    change: str
    direction: Literal["up", "down", "flat"]
    verdict: Verdict
    counts: str = ""
    """What the figure counts, where its name alone could be read otherwise."""


@dataclass(frozen=True, slots=True)
class _Kpi:
    field: str
    unit: str
    up_is_good: bool
    counts: str = ""
    group: str = "trends"
    """Where the figure's definition is (``analytics.yaml``'s ``trends`` or ``key_figures``)."""


_KPIS = (
    # Distinct people over the whole range, not the summary's average of the days' counts: the
    # tile says so, so that "1" beside an average daily figure of 0.03 is not a contradiction.
    _Kpi("active_users", "users", True, "distinct people in the range"),
    _Kpi("missions_created", "missions", True),
    _Kpi("runs_started", "runs", True),
    _Kpi("success_rate", "ratio", True),
    _Kpi("cost_usd", "usd", False),
    _Kpi("tokens", "tokens", False),
    _Kpi("duration_p95_s", "seconds", False),
    _Kpi("activated_users", "users", True, "of those first signed in", "key_figures"),
    _Kpi("activation_rate", "ratio", True, group="key_figures"),
    _Kpi("daily_active_users", "mean", True, "a day, on average", "key_figures"),
    _Kpi("weekly_active_users", "mean", True, "a whole week, on average", "key_figures"),
)
"""The KPI row, in order; ``up_is_good`` says whether a rise is good news (spend and waiting
are not)."""


def figure(value: float | None, unit: str) -> str:
    """A metric's value as the cockpit prints it; ``—`` for none."""
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "usd":
        return usd_text(value)
    if unit == "seconds":
        return duration(value)
    if unit == "tokens":  # millions of them: a tile has room for a few characters
        return compact(value)
    if unit == "mean":  # an average of people: a fraction of one is worth showing
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def _change(now: float | None, then: float | None, unit: str) -> tuple[str, float]:
    """The change as text, and its sign (positive: up)."""
    if now is None or then is None:
        return "no comparison", 0.0
    delta = now - then
    if unit == "ratio":
        return f"{delta * 100:+.1f} pts", delta
    if then == 0:
        return ("no change" if delta == 0 else f"+{figure(delta, unit)} from 0"), delta
    return f"{delta / then * 100:+.0f}%", delta


def kpi_tiles(answer: TotalsAnswer) -> list[KpiTile]:
    """The KPI row: each figure, its value in the range before, and whether the change is good."""
    tiles = []
    for kpi in _KPIS:
        now = getattr(answer.current, kpi.field)
        then = getattr(answer.previous, kpi.field)
        text, delta = _change(now, then, kpi.unit)
        direction: Literal["up", "down", "flat"] = (
            "up" if delta > 0 else "down" if delta < 0 else "flat"
        )
        verdict: Verdict = (
            "neutral" if direction == "flat" else "good" if (delta > 0) == kpi.up_is_good else "bad"
        )
        tiles.append(
            KpiTile(
                key=f"{kpi.group}.{kpi.field}",
                value=figure(now, kpi.unit),
                previous=figure(then, kpi.unit),
                change=text,
                direction=direction,
                verdict=verdict,
                counts=kpi.counts,
            )
        )
    return tiles


@dataclass(frozen=True, slots=True)
class FunnelBar:
    """A funnel step over every cohort of the range."""

    key: str
    label: str
    users: int
    share_of_start: float | None
    share_of_previous: float | None
    before: float | None = None
    """The step's share of those who signed in over the range before (``None``: not compared,
    or nobody signed in then)."""


@dataclass(frozen=True, slots=True)
class FunnelTotals:
    """The range's funnel: every cohort added up (a person is in one cohort only)."""

    bars: list[FunnelBar]
    cohorts: int
    incomplete: list[str]


def funnel_totals(answer: FunnelAnswer) -> FunnelTotals:
    """Add the cohorts of ``answer`` up, step by step; name the incomplete ones that count."""
    counted = [item for item in answer.items if item.steps[0].users]
    if not answer.items:
        return FunnelTotals([], 0, [])
    sums = [sum(item.steps[i].users for item in counted) for i in range(len(answer.items[0].steps))]
    bars = [
        FunnelBar(
            key=f"funnel.{step.key}",
            label=step.label,
            users=sums[i],
            share_of_start=round(sums[i] / sums[0], 4) if sums[0] else None,
            share_of_previous=(
                round(sums[i] / sums[i - 1], 4) if i and sums[i - 1] else (1.0 if sums[0] else None)
            ),
        )
        for i, step in enumerate(answer.items[0].steps)
    ]
    incomplete = [item.cohort for item in counted if not item.complete]
    if answer.previous is not None:
        earlier = funnel_totals(FunnelAnswer(meta=answer.meta, items=answer.previous)).bars
        if len(earlier) == len(bars):
            bars = [
                dataclasses.replace(bar, before=old.share_of_start)
                for bar, old in zip(bars, earlier, strict=True)
            ]
    return FunnelTotals(bars, len(counted), incomplete)


def heat_level(share: float | None) -> int:
    """The shade (0 to 10) of a retention cell: its share in tenths."""
    return 0 if share is None else max(0, min(10, round(share * 10)))
