"""The insights cockpit over HTTP: the page, its panels' fragments, the definitions page, and
the templates of the executive summary and the alerts rendered from hand-made answers."""

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx2
import pytest
from markupsafe import escape
from pydantic import SecretStr

from missionctl.app import create_app
from missionctl.domain.access import Role
from missionctl.schemas.analytics import (
    AnalyticsMeta,
    AnalyticsRange,
    AnomaliesAnswer,
    AnomalyItem,
    ComparedWindow,
    FunnelAnswer,
    FunnelItem,
    FunnelStepCount,
    InsightsAnswer,
    InsightSections,
    RangeTotals,
    TotalsAnswer,
)
from missionctl.services import ServiceContext
from missionctl.services.usecases import analytics as analytics_service
from missionctl.settings import LLMSettings, Settings
from missionctl.web.charts import Series, trend_chart
from missionctl.web.insights import funnel_totals, kpi_tiles, parse_filters
from missionctl.web.routes.insights import _definitions_by_key
from missionctl.web.templating import templates
from tests.support.auth import bearer_headers
from tests.support.dated_log import append_dated, journey
from tests.support.fixtures import PINNED_DAY, PINNED_NOW
from tests.support.openai_server import ScriptedOpenAIServer
from tests.web.support import HTMX

TODAY = PINNED_DAY
pytestmark = pytest.mark.usefixtures("pinned_day")  # its figures are per UTC day
PANELS = ("kpis", "funnel", "retention", "trends")
HOSTILE = "<script>alert('x')</script>\"&"


def _ctx(client: httpx2.AsyncClient) -> ServiceContext:
    transport = client._transport
    assert isinstance(transport, httpx2.ASGITransport)
    ctx: ServiceContext = transport.app.state.ctx  # type: ignore[attr-defined]
    return ctx


async def _history(ctx: ServiceContext) -> None:
    """Two people today (an operator on ``ship``, an approver on ``audit`` whose run failed),
    and one 20 days ago."""
    now = PINNED_NOW.replace(hour=0, minute=5)
    old = now - timedelta(days=20)
    await append_dated(
        ctx,
        journey("olga", old, cost_micros=2_000_000, seconds=600)
        + journey("ana", now)
        + journey("abe", now, role="approver", workflow="audit", ok=False),
    )


def _panel(text: str, name: str) -> str:
    match = re.search(rf'<section[^>]*id="panel-{name}".*?</section>', text, re.S)
    assert match, f"no panel {name}"
    return match.group(0)


async def test_a_viewer_sees_every_panel_with_its_figures_and_definitions(
    client: httpx2.AsyncClient,
) -> None:
    ctx = _ctx(client)
    await _history(ctx)
    viewer = await bearer_headers(ctx, user="vera", role=Role.VIEWER)
    page = await client.get("/insights", headers=viewer)
    assert page.status_code == 200, page.text
    text = page.text
    assert re.search(r'href="/insights" aria-current="page"', text)
    for name in PANELS:
        assert 'data-state="ready"' in _panel(text, name), name
    kpis = _panel(text, "kpis")
    assert 'data-kpi="trends.runs_started"' in kpis and "Run success rate" in kpis
    assert "before:" in kpis
    funnel = _panel(text, "funnel")
    # olga, ana and abe signed in within the 30 days; each started and ended a run.
    assert 'data-step="funnel.signed_in" data-users="3"' in funnel
    assert 'data-step="funnel.completed" data-users="2"' in funnel  # abe's run failed
    assert "Incomplete" in funnel  # today's cohort is still inside its windows
    # By day (the page's default grain): D1, D7 and D30, a day not over yet not known.
    retention = _panel(text, "retention")
    assert 'data-grain="day"' in retention and ">D30</th>" in retention
    assert "not known yet, the day has not ended" in retention
    assert 'data-testid="retention-summary"' in retention
    weekly = (await client.get("/insights", params={"grain": "week"}, headers=viewer)).text
    retention = _panel(weekly, "retention")
    assert retention.count("<tr data-cohort=") == 2 and "data-incomplete" in retention
    assert "incomplete, the week has not ended" in retention
    # Each of funnel, retention and trends is set beside the range of equal length before.
    assert 'data-testid="retention-before"' in retention
    assert _panel(weekly, "funnel").count('data-testid="funnel-before"') == 5
    assert "chart__line--before" in _panel(weekly, "trends")
    assert "the range before" in _panel(weekly, "trends")
    trends = _panel(text, "trends")
    for chart in ("trend-runs", "trend-cost", "trend-outcomes", "trend-users", "trend-durations"):
        assert f'data-testid="{chart}"' in trends
    assert "UTC days" in trends
    # Every info button is described by a tooltip holding the definition from the YAML.
    described = re.findall(r'aria-describedby="([^"]+)"', text)
    assert len(described) == 11 + 7 + 1 + 9  # key figures, funnel, retention, trends
    assert len(set(described)) == len(described)  # unique ids
    for tip in described:
        assert re.search(rf'role="tooltip" id="{tip}">[^<]{{20,}}</span>', text), tip
    definition = str(escape(analytics_service.read_definitions().items[0].definition))
    assert definition in text and 'href="/insights/definitions#funnel.signed_in"' in text
    assert 'data-testid="insights-updated"' in text and "Last updated" in text


async def test_a_segment_and_a_shorter_range_narrow_every_panel(client: httpx2.AsyncClient) -> None:
    await _history(_ctx(client))
    everyone = (await client.get("/insights", params={"range": "30d"})).text
    week = (await client.get("/insights", params={"range": "7d"})).text
    approvers = await client.get("/insights", params={"range": "7d", "segment": "role:approver"})
    assert approvers.status_code == 200
    for name in PANELS:
        assert _panel(everyone, name) != _panel(week.replace("7d", "30d"), name), name
        assert _panel(week, name) != _panel(approvers.text, name), name
    assert 'data-step="funnel.signed_in" data-users="1"' in _panel(approvers.text, "funnel")
    assert '<option value="workflow:audit"' in everyone  # the workflows with runs are offered
    assert '<option value="role:approver" selected>' in approvers.text


async def test_each_panel_has_its_own_fragment_and_the_filter_bar_reloads_them(
    client: httpx2.AsyncClient,
) -> None:
    await _history(_ctx(client))
    params = {"range": "custom", "since": str(TODAY - timedelta(days=9)), "until": str(TODAY)}
    answer = await client.get("/insights", params={**params, "grain": "week"}, headers=HTMX)
    assert answer.status_code == 200
    pushed = answer.headers["HX-Push-Url"]
    assert pushed.startswith("/insights?range=custom&since=") and "grain=week" in pushed
    for name in PANELS:
        placeholder = re.search(
            rf'<hx-partial hx-target="#panel-{name}" hx-swap="outerHTML">(.*?)</hx-partial>',
            answer.text,
            re.S,
        )
        assert placeholder, name
        assert 'aria-busy="true"' in placeholder.group(
            1
        ) and 'hx-trigger="load"' in placeholder.group(1)
        assert f'hx-get="/insights/panels/{name}?range=custom' in placeholder.group(1)
        panel = await client.get(f"/insights/panels/{name}", params=params, headers=HTMX)
        assert panel.status_code == 200
        assert f'id="panel-{name}"' in panel.text and 'data-state="ready"' in panel.text
        assert '<hx-partial hx-target="#insights-updated"' in panel.text
    missing = await client.get("/insights/panels/nothing", params=params, headers=HTMX)
    assert missing.status_code == 404
    assert (await client.get("/insights/panels/" + "x" * 500)).status_code == 422


BAD_FILTERS: list[tuple[dict[str, str], str, str]] = [
    ({"range": "custom", "since": "2026-03-02", "until": "2026-03-01"}, "until", "swap them"),
    ({"range": "custom", "since": "2024-01-01", "until": "2025-12-31"}, "since", "at most 366"),
    ({"segment": "role:overlord"}, "segment", "viewer"),
    ({"segment": "colour:blue"}, "segment", "role:"),
    ({"segment": "workflow:../../etc"}, "segment", "workflow"),
    ({"range": "forever"}, "range", "7d"),
    ({"grain": "month"}, "grain", "day or week"),
    ({"range": "custom", "since": "mc_live_0123456789abcdef"}, "since", "YYYY-MM-DD"),
    ({"range": "custom", "since": "2026-02-30"}, "since", "YYYY-MM-DD"),
]


@pytest.mark.parametrize(("params", "field", "fix"), BAD_FILTERS)
async def test_invalid_filters_are_named_beside_the_filter_bar_never_a_500(
    client: httpx2.AsyncClient, params: dict[str, str], field: str, fix: str
) -> None:
    page = await client.get("/insights", params=params)
    assert page.status_code == 422
    message = re.search(r'data-testid="filter-message">(.*?)</p>', page.text, re.S)
    assert message and f"{field}: " in message.group(1) and fix in message.group(1)
    for name in PANELS:  # no last good state on a first load: each panel says what to fix
        assert 'data-state="error"' in _panel(page.text, name)
    assert "mc_live" not in page.text
    update = await client.get("/insights", params=params, headers=HTMX)
    assert update.status_code == 422 and update.headers["HX-Push-Url"] == "false"
    assert "#insights-filter-message" in update.text and "#panel-" not in update.text
    panel = await client.get("/insights/panels/kpis", params=params, headers=HTMX)
    assert panel.status_code == 422 and fix in panel.text and "Retry" not in panel.text


@pytest.mark.parametrize(
    "query",
    [
        "since=" + "9" * 5000,
        "segment=" + "role:" + "a" * 5000,
        "range=%00%ff&since=%zz&until[]=1&grain=%0a",
        "&".join(f"segment=role:viewer&x{n}=1" for n in range(300)),
    ],
)
async def test_huge_or_garbage_query_strings_are_refused_cleanly(
    client: httpx2.AsyncClient, query: str
) -> None:
    for path in ("/insights", "/insights/panels/funnel"):
        answer = await client.get(f"{path}?{query}")
        assert answer.status_code in (200, 422), (path, answer.status_code)
        assert "Traceback" not in answer.text


async def test_one_failing_panel_offers_retry_while_the_others_render(
    client: httpx2.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _history(_ctx(client))

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away at 10.0.0.7")

    monkeypatch.setattr(analytics_service, "read_retention", broken)
    page = await client.get("/insights")
    assert page.status_code == 200
    retention = _panel(page.text, "retention")
    assert 'data-state="error"' in retention and "Retry" in retention
    assert 'hx-get="/insights/panels/retention?range=30d"' in retention
    assert "10.0.0.7" not in page.text  # what failed stays in the server's log
    for name in ("kpis", "funnel", "trends"):
        assert 'data-state="ready"' in _panel(page.text, name)
    fragment = await client.get("/insights/panels/retention", headers=HTMX)
    assert fragment.status_code == 200 and 'data-state="error"' in fragment.text


async def test_no_one_signed_in_is_sent_to_sign_in_and_a_bad_token_is_refused(
    client: httpx2.AsyncClient,
) -> None:
    bad = {"Authorization": "Bearer nope"}
    for path in ("/insights", "/insights/panels/kpis", "/insights/definitions"):
        assert (await client.get(path, headers=bad)).status_code == 401
    async with httpx2.AsyncClient(transport=client._transport, base_url=client.base_url) as anon:
        page = await anon.get("/insights?range=7d", headers={"Accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"] == "/sign-in?next=%2Finsights%3Frange%3D7d"
        panel = await anon.get("/insights/panels/kpis", headers=HTMX)
        assert panel.status_code == 401 and panel.headers["HX-Redirect"].startswith("/sign-in")


async def test_an_empty_history_shows_each_panels_empty_state(client: httpx2.AsyncClient) -> None:
    page = await client.get("/insights", params={"since": "2025-01-01", "until": "2025-03-01"})
    assert page.status_code == 200
    for name, title in [
        ("kpis", "No activity in this range"),
        ("funnel", "No one signed in for the first time in this range"),
        ("retention", "No first missions in this range"),
        ("trends", "No runs in this range"),
    ]:
        panel = _panel(page.text, name)
        assert 'data-state="empty"' in panel and title in panel
        assert "missionctl demo seed" in panel


async def test_the_definitions_page_lists_every_metric_with_an_anchor(
    client: httpx2.AsyncClient,
) -> None:
    viewer = await bearer_headers(_ctx(client), user="vera", role=Role.VIEWER)
    page = await client.get("/insights/definitions", headers=viewer)
    assert page.status_code == 200
    for item in analytics_service.read_definitions().items:
        assert f'id="{item.key}"' in page.text and item.label in page.text
    assert "test-*" in page.text and "14 days after the step before" in page.text
    assert "UTC" in page.text and 'id="funnel"' in page.text


# --- the parts, alone -----------------------------------------------------------------------


def _meta() -> AnalyticsMeta:
    return AnalyticsMeta(
        generated_at=datetime(2026, 11, 24, 8, tzinfo=UTC),
        range=AnalyticsRange(since=date(2026, 11, 18), until=date(2026, 11, 24), days=7),
        segment=None,
        followed_to=42,
    )


def _render(macro: str, answer: Any) -> str:
    source = (
        '{% from "components/insights.html" import ' + macro + " with context %}"
        "{{ " + macro + "(answer) }}"
    )
    context = {
        "answer": answer,
        "definitions": _definitions_by_key(),
        "filters": parse_filters(preset="7d", since="", until="", grain="", segment=""),
    }
    return templates.env.from_string(source).render(context)


def _sections(**lines: list[str]) -> InsightSections:
    empty: dict[str, list[str]] = {
        "what_changed": [],
        "why_it_matters": [],
        "suggested_actions": [],
        "questions_to_investigate": [],
    }
    return InsightSections.model_validate(empty | lines)


def test_the_summary_says_who_wrote_it_and_shows_the_four_sections() -> None:
    by_model = InsightsAnswer(
        meta=_meta(),
        source="model",
        model="gpt-4o-mini",
        summary="Run success fell to 70 %.",
        sections=_sections(what_changed=["Success fell.", HOSTILE], suggested_actions=["Look."]),
    )
    html = _render("summary_body", by_model)
    assert "Written by the model gpt-4o-mini" in html and "Run success fell to 70 %." in html
    for heading in ("What changed", "Why it matters", "Suggested actions", "Questions to"):
        assert heading in html
    assert html.count("Nothing to report.") == 2
    assert "<script>" not in html and "&lt;script&gt;" in html
    fallback = by_model.model_copy(
        update={
            "source": "deterministic",
            "model": None,
            "fallback_reason": "the model did not answer within 20 s",
        }
    )
    html = _render("summary_body", fallback)
    assert "Written by the deterministic writer (the model did not answer within 20 s)" in html


def _anomaly(severity: Any, metric: str, direction: Any, **kw: Any) -> AnomalyItem:
    window = ComparedWindow(since=date(2026, 11, 18), until=date(2026, 11, 24))
    before = ComparedWindow(since=date(2026, 11, 11), until=date(2026, 11, 17))
    values: dict[str, Any] = {
        "key": f"{metric}-wow",
        "metric": metric,
        "label": metric.replace("_", " "),
        "unit": "ratio",
        "comparison": "week_over_week",
        "current_window": window,
        "baseline_window": before,
        "current": 0.7,
        "baseline": 0.91,
        "delta": -0.21,
        "change_pct": -23.1,
        "direction": direction,
        "severity": severity,
        "impact": "Fewer runs deliver what was asked.",
        "explanation": "Run success fell from 91 % to 70 % week over week.",
    }
    return AnomalyItem.model_validate(values | kw)


def test_alerts_show_severity_metric_change_windows_explanation_and_impact() -> None:
    answer = AnomaliesAnswer(
        meta=_meta(),
        items=[
            _anomaly("critical", "success_rate", "down"),
            _anomaly(
                "warning",
                "cost_usd",
                "up",
                unit="usd",
                current=30.0,
                baseline=10.0,
                delta=20.0,
                change_pct=200.0,
                explanation=HOSTILE,
            ),
        ],
    )
    html = _render("anomalies_body", answer)
    assert html.count('class="alert-item ') == 2
    assert re.search(r'class="badge badge--critical">.*?</span>Critical</span>', html)
    assert "-23%" in html
    assert "91.0% → 70.0%" in html and "$10.00 → $30.00" in html and "+200%" in html
    assert "2026-11-18 to 2026-11-24 against 2026-11-11 to 2026-11-17 (UTC)" in html
    assert "Fewer runs deliver what was asked." in html
    assert 'aria-describedby="tip-alert-1-success-rate"' in html  # the metric's definition
    assert "<script>" not in html
    none = _render("anomalies_body", AnomaliesAnswer(meta=_meta(), items=[]))
    assert "No anomalies in the last 7 days" in none


def _totals(day: date, **figures: Any) -> RangeTotals:
    values: dict[str, Any] = {
        "range": AnalyticsRange(since=day, until=day, days=1),
        "active_users": 0,
        "missions_created": 0,
        "runs_started": 0,
        "runs_ended": 0,
        "success_rate": None,
        "cost_usd": 0.0,
        "tokens": 0,
        "duration_p50_s": None,
        "duration_p95_s": None,
        "signed_up": 0,
        "activated_users": 0,
        "activation_rate": None,
        "daily_active_users": 0.0,
        "weekly_active_users": None,
    }
    return RangeTotals.model_validate(values | figures)


def test_a_kpis_colour_says_whether_the_change_is_good_not_only_its_direction() -> None:
    answer = TotalsAnswer(
        meta=_meta(),
        current=_totals(
            TODAY,
            active_users=4,
            success_rate=0.8,
            cost_usd=3.0,
            runs_started=5,
            duration_p95_s=30.0,
            activated_users=3,
            activation_rate=0.75,
            daily_active_users=1.43,
            weekly_active_users=None,
        ),
        previous=_totals(
            TODAY,
            active_users=2,
            success_rate=0.9,
            cost_usd=1.0,
            runs_started=0,
            duration_p95_s=60.0,
            activated_users=1,
            activation_rate=0.5,
            daily_active_users=2.0,
            weekly_active_users=3.0,
        ),
    )
    tiles = {t.key.partition(".")[2]: t for t in kpi_tiles(answer)}
    assert (tiles["active_users"].direction, tiles["active_users"].verdict) == ("up", "good")
    assert tiles["active_users"].change == "+100%"
    assert (tiles["success_rate"].change, tiles["success_rate"].verdict) == ("-10.0 pts", "bad")
    assert (tiles["cost_usd"].direction, tiles["cost_usd"].verdict) == ("up", "bad")
    assert (tiles["duration_p95_s"].direction, tiles["duration_p95_s"].verdict) == ("down", "good")
    assert tiles["runs_started"].change == "+5 from 0"
    assert (tiles["missions_created"].verdict, tiles["missions_created"].change) == (
        "neutral",
        "no change",
    )
    # The key figures beyond the trends: activation, and people on an average day and week.
    assert tiles["activated_users"].key == "key_figures.activated_users"
    assert (tiles["activation_rate"].value, tiles["activation_rate"].change) == (
        "75.0%",
        "+25.0 pts",
    )
    assert (tiles["daily_active_users"].value, tiles["daily_active_users"].verdict) == (
        "1.4",
        "bad",
    )
    assert tiles["weekly_active_users"].value == "—"  # no whole week in the range
    assert tiles["weekly_active_users"].change == "no comparison"


def test_the_funnel_adds_cohorts_up_and_names_the_incomplete_ones() -> None:
    def cohort(label: str, users: list[int], complete: bool) -> FunnelItem:
        steps = [
            FunnelStepCount(
                key=f"s{i}", label=f"S{i}", users=n, share_of_start=None, share_of_previous=None
            )
            for i, n in enumerate(users)
        ]
        return FunnelItem(cohort=label, start=TODAY, complete=complete, steps=steps)

    answer = FunnelAnswer(
        meta=_meta(),
        items=[
            cohort("W1", [4, 2, 1], True),
            cohort("W2", [0, 0, 0], False),
            cohort("W3", [6, 3, 0], False),
        ],
    )
    totals = funnel_totals(answer)
    assert [b.users for b in totals.bars] == [10, 5, 1]
    assert [b.share_of_start for b in totals.bars] == [1.0, 0.5, 0.1]
    assert [b.share_of_previous for b in totals.bars] == [1.0, 0.5, 0.2]
    assert totals.cohorts == 2 and totals.incomplete == ["W3"]  # an empty cohort is no news


def test_a_trend_chart_escapes_its_labels_and_breaks_lines_where_there_is_no_value() -> None:
    svg = str(
        trend_chart(
            [
                Series(HOSTILE, "runs", [3, 0, 5], "bar"),
                Series("Success", "ratio", [1.0, None, 0.5], axis="right"),
            ],
            labels=["2026-11-01", HOSTILE, "2026-11-03"],
            title=HOSTILE,
            caption="UTC days",
            testid="t",
        )
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count('class="chart__bar"') == 3
    assert svg.count("<polyline") == 2  # the day without a rate splits the line, no 0 %
    assert svg.count("<circle") == 2 and "100%" in svg and "UTC days" in svg


def test_presets_end_today_and_a_custom_range_keeps_its_days() -> None:
    today = date(2026, 11, 24)
    week = parse_filters(
        preset="7d", since="2020-01-01", until="", grain="", segment="", today=today
    )
    assert (week.since, week.until, week.params()) == ("2026-11-18", "2026-11-24", {"range": "7d"})
    custom = parse_filters(
        preset="",
        since="2026-01-01",
        until="2026-01-31",
        grain="week",
        segment="role:viewer",
        today=today,
    )
    assert custom.preset == "custom" and custom.query is not None
    assert custom.url() == (
        "/insights?range=custom&since=2026-01-01&until=2026-01-31&grain=week&segment=role%3Aviewer"
    )
    year = parse_filters(preset="1y", since="", until="", grain="", segment="", today=today)
    assert year.query is not None and (year.query.until - year.query.since).days + 1 == 365


def _words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_the_summary_and_the_key_figures_agree_on_active_people(
    client: httpx2.AsyncClient,
) -> None:
    # One person active on one day of 30: one distinct person, 1/30 of one a day on average.
    await append_dated(_ctx(client), journey("ana", PINNED_NOW.replace(hour=0, minute=5)))
    params = {"range": "30d"}
    kpis = await client.get("/insights/panels/kpis", params=params, headers=HTMX)
    summary = await client.get("/insights/panels/summary", params=params, headers=HTMX)
    assert kpis.status_code == summary.status_code == 200
    tile = re.search(r'data-kpi="trends.active_users">(.*?)</li>', kpis.text, re.S)
    assert tile is not None
    assert re.search(r'class="kpi__value">1<', tile.group(1))
    assert "(distinct people in the range)" in _words(tile.group(1))
    told = _words(summary.text)
    assert "average daily active people: 0.03 (0 before)" in told, told
    assert "average daily active people: 0 " not in told


async def test_the_orchestration_panel_shows_clean_runs_fix_ups_and_time_to_bootstrap(
    client: httpx2.AsyncClient,
) -> None:
    from missionctl.services.usecases.runs import retry_step
    from tests.engine.helpers import running_engine, start, step, wait_for_run

    ctx = _ctx(client)
    viewer = await bearer_headers(ctx, user="vic", role=Role.VIEWER)
    async with running_engine(ctx):
        done = await start(ctx, [step("build", phase="Implementation")], name=HOSTILE)
        failing = await start(ctx, [step("build", "builtin:fail")], name="release")
        await wait_for_run(ctx, failing.id)
        await retry_step(ctx, run_id=failing.id, step_id="build", actor="user:ops")
        await wait_for_run(ctx, failing.id)
        await wait_for_run(ctx, done.id)
    params = {"range": "7d", "grain": "day"}
    text = (await client.get("/insights/panels/orchestration", params=params, headers=viewer)).text
    panel = _panel(text, "orchestration")
    assert 'data-state="ready"' in panel
    assert re.search(r'data-kpi="clean_runs".*?50%.*?1 of 2 ended', panel, re.S)
    assert "1 retried · 0 rerun · 0 merges rejected" in panel
    assert str(escape(HOSTILE)) in panel and HOSTILE not in panel  # a name is text, never HTML
    assert 'data-workflow="release"' in panel
    assert 'href="/insights/definitions#orchestration.clean_runs"' in panel
    # Its implementation step began outside any mission: no PRD, no task list before it.
    assert "0 of 1 task · lacking 1 PRD · 1 task list · 0 spec" in panel
    assert "0 of 0 lines · 0 coding steps" in panel  # no coding step: nothing duplicated
    assert 'data-testid="orchestration-work"' in panel
    # A role segment does not narrow these figures, and the panel says so.
    by_role = await client.get(
        "/insights/panels/orchestration",
        params={**params, "segment": "role:viewer"},
        headers=viewer,
    )
    assert "not counted by role" in _panel(by_role.text, "orchestration")
    empty = await client.get(
        "/insights/panels/orchestration",
        params={"range": "custom", "since": "2026-01-05", "until": "2026-01-11"},
        headers=viewer,
    )
    assert 'data-state="empty"' in _panel(empty.text, "orchestration")


async def test_with_a_model_the_summary_loads_on_its_own_instead_of_failing(
    settings: Settings, openai_server: ScriptedOpenAIServer
) -> None:
    llm = LLMSettings(base_url=openai_server.base_url, api_key=SecretStr("sk-test"), model="m")
    app = create_app(settings.model_copy(update={"llm": llm}))
    async with app.router.lifespan_context(app):
        headers = await bearer_headers(app.state.ctx)
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as http:
            page = await http.get("/insights", params={"range": "30d"})
    summary = _panel(page.text, "summary")
    assert 'data-state="loading"' in summary and "/insights/panels/summary?range=30d" in summary
    assert "This panel did not load." not in _words(summary)
    assert openai_server.chat_requests == []  # the page did not wait for the model
