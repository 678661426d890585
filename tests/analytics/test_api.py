"""``/api/v1/analytics`` over HTTP: a viewer reads it, hostile parameters get a 422 naming the
parameter, and a report fetched as a file is recorded as ``report.downloaded``."""

from datetime import timedelta
from typing import Any

import httpx2
import pytest

from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from missionctl.services.usecases.audit import read_run_events
from tests.analytics import history
from tests.analytics.anomaly_facts import write_history
from tests.analytics.history import AS_OF, Injection
from tests.engine.helpers import running_engine, start, step, wait_for_run
from tests.support.auth import bearer_headers
from tests.support.fixtures import PINNED_DAY

TODAY = PINNED_DAY
ENDPOINTS = ("funnel", "trends", "retention")


def _ctx(client: httpx2.AsyncClient) -> ServiceContext:
    transport = client._transport
    assert isinstance(transport, httpx2.ASGITransport)
    ctx: ServiceContext = transport.app.state.ctx  # type: ignore[attr-defined]
    return ctx


async def _viewer(client: httpx2.AsyncClient) -> dict[str, str]:
    return await bearer_headers(_ctx(client), user="vera", role=Role.VIEWER)


@pytest.mark.parametrize("endpoint", [*ENDPOINTS, "definitions"])
async def test_a_viewer_reads_every_endpoint_and_no_one_unsigned_does(
    client: httpx2.AsyncClient, endpoint: str
) -> None:
    headers = await _viewer(client)
    answer = await client.get(f"/api/v1/analytics/{endpoint}", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    if endpoint != "definitions":
        assert body["meta"]["time_zone"] == "UTC"
        assert body["meta"]["range"]["until"] == TODAY.isoformat()
        assert body["meta"]["range"]["days"] == 30 and body["items"]
    unsigned = await client.get(
        f"/api/v1/analytics/{endpoint}", headers={"Authorization": "Bearer nope"}
    )
    assert unsigned.status_code == 401


async def test_the_answers_are_in_a_stable_chart_friendly_order(client: httpx2.AsyncClient) -> None:
    params = {"since": "2026-01-01", "until": "2026-03-31"}
    trends = (await client.get("/api/v1/analytics/trends", params=params)).json()
    days = [item["bucket"] for item in trends["items"]]
    assert days == sorted(days) and len(days) == 90 and days[0] == "2026-01-01"
    weeks = (
        await client.get("/api/v1/analytics/trends", params={**params, "grain": "week"})
    ).json()
    assert weeks["items"][0]["bucket"] == "2026-W01" and weeks["meta"]["grain"] == "week"
    funnel = (await client.get("/api/v1/analytics/funnel", params=params)).json()
    keys = [s["key"] for s in funnel["items"][0]["steps"]]
    assert keys == ["signed_in", "mission", "planned", "ran", "completed", "came_back"]
    retention = (await client.get("/api/v1/analytics/retention", params=params)).json()
    assert [c["week"] for c in retention["items"][0]["weeks"]] == list(range(1, 9))


async def test_definitions_say_what_each_metric_means(client: httpx2.AsyncClient) -> None:
    body = (await client.get("/api/v1/analytics/definitions")).json()
    keys = [item["key"] for item in body["items"]]
    assert keys[0] == "funnel.signed_in" and "trends.duration_p95_s" in keys
    assert keys[-1] == "retention"
    assert all(item["definition"] and item["events"] for item in body["items"])
    assert body["time_zone"] == "UTC" and body["segments"] == ["role", "workflow", "planner"]


# The parameters below are refused before any query is built, whatever the database: a refusal
# missed would fail their assertion of a 422 on SQLite as on PostgreSQL (a day out of either
# store's range included), so they are sent to SQLite alone. The readings themselves run on both.
BEFORE_ANY_QUERY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

HOSTILE: list[tuple[dict[str, Any], str, str]] = [
    ({"since": "yesterday"}, "since", "YYYY-MM-DD"),
    ({"until": "2026-02-30"}, "until", "YYYY-MM-DD"),
    ({"since": "2026-13-01"}, "since", "YYYY-MM-DD"),
    ({"since": "2026-03-02", "until": "2026-03-01"}, "until", "swap"),
    ({"since": "2024-01-01", "until": "2025-12-31"}, "since", "at most 366"),
    ({"since": "9" * 5000}, "since", ""),
    ({"since": "mc_live_0123456789abcdef"}, "since", "YYYY-MM-DD"),
    ({"since": "2026-01-01\x00"}, "since", ""),
    ({"segment": "colour:blue"}, "segment", "role:"),
    ({"segment": "role:overlord"}, "segment", "viewer"),
    ({"segment": "planner:human"}, "segment", "local, model"),
    ({"segment": "workflow:"}, "segment", "workflow:"),
    ({"segment": "workflow:" + "x" * 300}, "segment", ""),
    ({"segment": "workflow:../../etc\n"}, "segment", "workflow"),
    ({"grain": "month"}, "grain", ""),
]


# The refusals below store nothing, so each test's cases share one client (one app and one
# database, built in about half a second) and are reported one by one as subtests; a client per
# case spent most of these tests' time building it.


@BEFORE_ANY_QUERY
async def test_hostile_parameters_get_a_422_naming_the_parameter(
    client: httpx2.AsyncClient, subtests: pytest.Subtests
) -> None:
    for params, field, fix in HOSTILE:
        with subtests.test(params=params, field=field):
            endpoint = "trends" if field == "grain" else "funnel"
            answer = await client.get(f"/api/v1/analytics/{endpoint}", params=params)
            assert answer.status_code == 422, answer.text
            error = answer.json()["error"]
            assert error["field"] == field and fix in error["message"]
            assert "mc_live" not in answer.text  # a pasted secret is not echoed back


async def test_a_full_year_is_allowed_and_one_day_more_is_not(client: httpx2.AsyncClient) -> None:
    year = {"since": "2024-01-01", "until": "2024-12-31"}  # 366 days: a leap year
    assert (await client.get("/api/v1/analytics/trends", params=year)).status_code == 200
    more = {"since": "2023-12-31", "until": "2024-12-31"}
    assert (await client.get("/api/v1/analytics/trends", params=more)).status_code == 422


async def test_a_report_fetched_as_a_file_is_recorded_and_counted(
    client: httpx2.AsyncClient,
) -> None:
    ctx = _ctx(client)
    run = await start(ctx, [step("only")])
    async with running_engine(ctx):
        await wait_for_run(ctx, run.id)
    url = f"/api/v1/runs/{run.id}/report"
    assert (await client.get(url)).status_code == 200  # read as JSON: not a download
    assert (await client.get(url, params={"format": "markdown"})).status_code == 200
    assert (await client.get(url, params={"download": "true"})).status_code == 200
    downloads = [
        e for e in await read_run_events(ctx, run_id=run.id) if e.type == "report.downloaded"
    ]
    assert sorted(e.payload["format"] for e in downloads) == ["json", "markdown"]
    assert {e.actor for e in downloads} == {"token:tester-1"}

    trends = (await client.get("/api/v1/analytics/trends", params={"since": str(TODAY)})).json()
    (today,) = trends["items"]
    assert today["runs_started"] == 1 and today["success_rate"] == 1.0
    assert today["active_users"] >= 1  # the admin downloading, through their token


async def test_the_facts_follow_events_appended_through_the_services(
    client: httpx2.AsyncClient,
) -> None:
    created = await client.post("/api/v1/missions", json={"goal": "Build a URL shortener"})
    assert created.status_code == 201
    since = {"since": str(TODAY - timedelta(days=1))}
    trends = (await client.get("/api/v1/analytics/trends", params=since)).json()
    assert trends["items"][-1]["missions_created"] == 1
    assert trends["meta"]["followed_to"] > 0


async def test_a_viewer_reads_the_anomalies_and_no_one_unsigned_does(
    client: httpx2.AsyncClient,
) -> None:
    headers = await _viewer(client)
    answer = await client.get("/api/v1/analytics/anomalies", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # The day judged is yesterday by default: the last full UTC day.
    assert body["meta"]["range"]["until"] == (TODAY - timedelta(days=1)).isoformat()
    assert body["items"] == []  # nothing happened yet
    for unsigned in ({"Authorization": "Bearer nope"}, {"Authorization": "Bearer mc_x"}):
        refused = await client.get("/api/v1/analytics/anomalies", headers=unsigned)
        assert refused.status_code == 401
        assert "items" not in refused.text


async def test_the_anomalies_of_a_seeded_history_over_http(client: httpx2.AsyncClient) -> None:
    await write_history(_ctx(client), history.days(4, injection=Injection(success_rate=0.65)))
    params = {"until": AS_OF.isoformat(), "segment": "workflow:ship"}
    body = (await client.get("/api/v1/analytics/anomalies", params=params)).json()
    first = body["items"][0]
    assert (first["metric"], first["comparison"], first["severity"]) == (
        "success_rate",
        "week_over_week",
        "critical",
    )
    assert first["current_window"] == {
        "since": (AS_OF - timedelta(days=6)).isoformat(),
        "until": AS_OF.isoformat(),
    }
    assert body["meta"]["segment"] == {"kind": "workflow", "value": "ship"}


@BEFORE_ANY_QUERY
async def test_hostile_anomaly_parameters_get_a_422_naming_the_parameter(
    client: httpx2.AsyncClient, subtests: pytest.Subtests
) -> None:
    headers = await _viewer(client)
    for params, field, fix in HOSTILE[:-1]:
        with subtests.test(params=params, field=field):
            answer = await client.get("/api/v1/analytics/anomalies", params=params, headers=headers)
            assert answer.status_code == 422, answer.text
            error = answer.json()["error"]
            assert error["field"] == field and fix in error["message"]
            assert "mc_live" not in answer.text


@BEFORE_ANY_QUERY
async def test_days_at_the_ends_of_the_calendar_get_a_422(
    client: httpx2.AsyncClient, subtests: pytest.Subtests
) -> None:
    for endpoint in [*ENDPOINTS, "anomalies"]:
        for day in ["0001-01-01", "1969-12-31", "9999-12-31"]:
            with subtests.test(endpoint=endpoint, day=day):
                answer = await client.get(
                    f"/api/v1/analytics/{endpoint}", params={"until": day, "since": day}
                )
                assert answer.status_code == 422, answer.text
                error = answer.json()["error"]
                assert error["field"] in ("since", "until") and "1970-01-01" in error["message"]


async def test_the_funnel_shows_the_steps_asked_for_and_refuses_others_by_name(
    client: httpx2.AsyncClient,
) -> None:
    headers = await _viewer(client)
    url = "/api/v1/analytics/funnel"
    chosen = await client.get(url, params={"steps": "signed_in,ran,completed"}, headers=headers)
    assert chosen.status_code == 200, chosen.text
    for item in chosen.json()["items"]:
        assert [s["key"] for s in item["steps"]] == ["signed_in", "ran", "completed"]
        assert item["steps"][1]["label"] == "Started a run"
    for wrong in (
        "ran,completed",
        "signed_in",
        "signed_in,nope",
        "signed_in,ran,mission",
        "x" * 300,
    ):
        refused = await client.get(url, params={"steps": wrong}, headers=headers)
        assert refused.status_code == 422, wrong
        assert refused.json()["error"]["field"] == "steps", wrong


async def test_every_trend_series_says_its_label_unit_and_format(
    client: httpx2.AsyncClient,
) -> None:
    trends = (await client.get("/api/v1/analytics/trends", headers=await _viewer(client))).json()
    series = {s["key"]: s for s in trends["series"]}
    assert set(series) == set(trends["items"][0]) - {"bucket", "start", "runs_ended"}
    assert series["success_rate"] == {
        "key": "success_rate",
        "label": "Run success rate",
        "unit": "ratio",
        "format": "percent",
    }
    assert (series["cost_usd"]["format"], series["duration_p95_s"]["format"]) == (
        "currency",
        "duration",
    )


async def test_day_retention_gives_d1_d7_d30_with_unknown_days_null_and_a_weighted_summary(
    client: httpx2.AsyncClient,
) -> None:
    headers = await _viewer(client)
    created = await client.post("/api/v1/missions", json={"goal": "Build a recipe scaler"})
    assert created.status_code == 201
    params = {"since": str(TODAY - timedelta(days=2)), "grain": "day"}
    answer = await client.get("/api/v1/analytics/retention", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["meta"]["grain"] == "day"
    assert [item["cohort"] for item in body["items"]] == [
        str(TODAY - timedelta(days=n)) for n in (2, 1, 0)
    ]
    today = body["items"][-1]
    assert today["users"] == 1 and today["weeks"] == []  # the admin's first mission, today
    assert [(c["day"], c["users"], c["share"]) for c in today["days"]] == [
        (1, None, None),
        (7, None, None),
        (30, None, None),
    ]
    assert [(s["offset"], s["cohorts"], s["share"]) for s in body["summary"]] == [
        (1, 0, None),
        (7, 0, None),
        (30, 0, None),
    ]
    weekly = (await client.get("/api/v1/analytics/retention", headers=headers)).json()
    assert [s["offset"] for s in weekly["summary"]] == list(range(1, 9))
    hostile = await client.get(
        "/api/v1/analytics/retention", params={"grain": "hour"}, headers=headers
    )
    assert hostile.status_code == 422 and hostile.json()["error"]["field"] == "grain"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_compare_previous_answers_for_the_range_of_equal_length_before(
    client: httpx2.AsyncClient, endpoint: str
) -> None:
    headers = await _viewer(client)
    params = {"since": "2026-11-02", "until": "2026-11-15", "compare": "previous"}
    answer = await client.get(f"/api/v1/analytics/{endpoint}", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["meta"]["previous_range"] == {
        "since": "2026-10-19",
        "until": "2026-11-01",
        "days": 14,
    }
    previous = body["previous"]
    assert previous is not None and len(previous) == len(body["items"])
    assert previous[0]["start"] < body["items"][0]["start"]
    if endpoint == "retention":
        assert [s["offset"] for s in body["previous_summary"]] == list(range(1, 9))
    plain = await client.get(f"/api/v1/analytics/{endpoint}", headers=headers)
    assert plain.json()["previous"] is None and plain.json()["meta"]["previous_range"] is None
    wrong = await client.get(
        f"/api/v1/analytics/{endpoint}", params={"compare": "last-year"}, headers=headers
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "compare"


async def test_a_viewer_reads_the_orchestration_figures_and_bad_segments_are_named(
    client: httpx2.AsyncClient,
) -> None:
    headers = await _viewer(client)
    ctx = _ctx(client)
    async with running_engine(ctx):
        run = await start(ctx, [step("build")], name="release")
        await wait_for_run(ctx, run.id)
    url = "/api/v1/analytics/orchestration"
    answer = await client.get(url, headers=headers, params={"since": str(TODAY), "grain": "day"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["clean_runs"]["ended"] == 1 and body["clean_runs"]["share"] == 1.0
    assert [w["workflow"] for w in body["clean_runs_by_workflow"]] == ["release"]
    for segment in ("role:viewer", "workflow:", "workflow:" + "x" * 300, "planner:mc_live_secret"):
        refused = await client.get(url, headers=headers, params={"segment": segment})
        assert refused.status_code == 422, segment
        assert refused.json()["error"]["field"] == "segment"
        assert "mc_live" not in refused.text
    unsigned = await client.get(url, headers={"Authorization": "Bearer nope"})
    assert unsigned.status_code == 401
