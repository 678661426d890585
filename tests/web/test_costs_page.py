"""The Costs page, the run page's Cost and Timeline sections and the API route, over HTTP.

The charts are SVG drawn on the server: every label in them is escaped, so a step id or a
model name holding markup shows as text.
"""

import re
from datetime import UTC, datetime, timedelta

import httpx2

from missionctl.domain.access import Role
from missionctl.schemas.costs import CostBucket, CostLine
from missionctl.schemas.dashboard import TaskView
from missionctl.services import ServiceContext
from missionctl.web.charts import cost_bars, cost_over_time, timeline
from tests.engine.helpers import start, step
from tests.support.auth import bearer_headers
from tests.web.support import wait_for_run

HOSTILE = "<script>alert('x')</script>\"&"


def _line(key: str, micros: int) -> CostLine:
    return CostLine(
        key=key,
        label=key,
        steps=1,
        input_tokens=10,
        output_tokens=5,
        cost_micros=micros,
        cost_usd=micros / 1e6,
    )


def test_every_label_in_a_chart_is_escaped() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    bars = str(cost_bars([_line(HOSTILE, 2_000_000), _line("gpt", 1)], title=HOSTILE, testid="t"))
    task = TaskView(key=HOSTILE, title=HOSTILE, status="succeeded", started_at=now, ended_at=now)
    gantt = str(timeline([task], now=now))
    for svg in (bars, gantt):
        assert "<script>" not in svg and "alert('x')" not in svg
        assert ("&lt;script&gt;" in svg and "&#34;&amp;" in svg) or "&#34;" in svg
    assert bars.count('class="chart__bar"') == 2
    bucket = CostBucket(start=now, input_tokens=1, output_tokens=1, cost_micros=5, cost_usd=5e-6)
    over = str(
        cost_over_time(
            [bucket, bucket.model_copy(update={"start": now + timedelta(hours=1)})], bucket="hour"
        )
    )
    assert over.count('class="chart__bar"') == 2 and "2026-01-01 00:00" in over


def test_a_timeline_stays_readable_with_many_steps() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    tasks = [
        TaskView(
            key=f"step-{i:03}",
            title="t",
            status="succeeded" if i % 3 else "failed",
            started_at=now + timedelta(seconds=i),
            ended_at=now + timedelta(seconds=i + 5),
        )
        for i in range(60)
    ]
    svg = str(timeline(tasks, now=now))
    assert svg.count('<g class="chart__row"') == 60
    heights = re.findall(r'height="(\d+)"', svg)
    assert set(heights) == {"14"}  # one fixed-height bar per step, not squeezed
    assert "chart__span--failed" in svg and "5.0 s" in svg


async def test_the_costs_page_and_the_run_page_show_a_finished_runs_costs(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    run = await start(ctx, [step("first"), step("second", "builtin:noop", "first")])
    await wait_for_run(ctx, run.id)
    page = await client.get("/costs", params={"scope": "run", "id": str(run.id), "bucket": "day"})
    assert page.status_code == 200, page.text
    assert 'data-testid="cost-by-agent"' in page.text and 'data-testid="cost-by-model"' in page.text
    assert 'value="run" selected' in page.text and str(run.id) in page.text
    assert 'aria-current="page"' in page.text and ">Costs<" in page.text
    run_page = (await client.get(f"/runs/{run.id}")).text
    assert 'id="run-cost"' in run_page and 'data-testid="run-timeline"' in run_page
    assert run_page.count('data-step="') == 2


async def test_bad_scopes_and_ranges_are_refused_naming_the_field(
    client: httpx2.AsyncClient,
) -> None:
    for params, field in (
        ({"scope": "galaxy"}, "scope"),
        ({"scope": "run", "id": "12"}, "id"),
        ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
        ({"since": "1990-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
        ({"bucket": "fortnight"}, "bucket"),
        ({"since": "-4e-146"}, "since"),
    ):
        api = await client.get("/api/v1/costs", params=params)
        assert api.status_code == 422, (params, api.text)
        assert field in api.text, (params, api.text)
        page = await client.get("/costs", params=params)
        assert page.status_code == 422 and field in page.text, params
    missing = await client.get("/api/v1/costs", params={"scope": "workflow", "id": HOSTILE})
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "id"
    html = {"Accept": "text/html"}
    page = await client.get("/costs", params={"scope": "workflow", "id": HOSTILE}, headers=html)
    assert page.status_code == 404 and "<script>alert" not in page.text


async def test_a_viewer_reads_costs_and_nobody_unsigned_does(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    viewer = await bearer_headers(ctx, user="vic", role=Role.VIEWER)
    read = await client.get("/api/v1/costs", headers=viewer)
    assert read.status_code == 200 and read.json()["scope"] == "system"
    anonymous = await client.get("/api/v1/costs", headers={"Authorization": ""})
    assert anonymous.status_code == 401
