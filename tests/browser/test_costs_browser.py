"""The cost breakdown of a finished run, as a person sees it: charts by agent and by model.

Seed acceptance: on the cost breakdown view, the user can see cost grouped by agent and grouped
by model for any completed workflow run.
"""

import uuid

import pytest
from playwright.sync_api import Page, expect

from missionctl.services import ServiceContext
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.web.support import start_steps, wait_for_run

pytestmark = pytest.mark.browser

STEPS = [
    {"id": "design", "agent": "builtin:architect", "inputs": {"title": "Design the API"}},
    {"id": "check", "agent": "builtin:noop", "depends_on": ["design"]},
    {"id": "tidy", "agent": "builtin:noop", "depends_on": ["check"]},
]


async def _finished_run(ctx: ServiceContext) -> uuid.UUID:
    run = await start_steps(ctx, None, STEPS)
    done = await wait_for_run(ctx, run.id)
    assert done.status == "completed", done
    return run.id


def test_a_finished_runs_cost_is_charted_by_agent_and_by_model(
    live_server: LiveServer, page: Page
) -> None:
    run_id = seed(live_server.settings, _finished_run)
    page.goto(f"{live_server.url}/costs")
    page.get_by_label("Scope").select_option("run")
    page.get_by_label("Id or name").fill(str(run_id))
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(
        f"{live_server.url}/costs?scope=run&id={run_id}&bucket=hour&since=&until="
    )

    by_agent = page.get_by_test_id("cost-by-agent")
    expect(by_agent).to_be_visible()
    expect(by_agent.locator("rect.chart__bar")).to_have_count(2)  # architect, noop
    rows = by_agent.locator("g.chart__row")
    expect(rows.nth(0)).to_have_attribute("data-key", "builtin:architect")
    by_model = page.get_by_test_id("cost-by-model")
    expect(by_model.locator("rect.chart__bar")).to_have_count(1)  # no step used a model
    expect(by_model).to_contain_text("(no model)")
    expect(page.get_by_test_id("cost-table-agent")).to_contain_text("builtin:noop")
    expect(page.get_by_test_id("cost-over-time")).to_be_visible()

    page.goto(f"{live_server.url}/runs/{run_id}")
    expect(page.locator("#run-cost [data-testid=cost-by-agent] rect.chart__bar")).to_have_count(2)
    timeline = page.get_by_test_id("run-timeline")
    expect(timeline.locator("g.chart__row")).to_have_count(3)
    expect(timeline.locator("rect.chart__span--succeeded")).to_have_count(3)


# Each chart text's size as drawn on the screen: its font size times the drawing's scale.
TEXT_SIZES = """() => [...document.querySelectorAll('svg.chart')].flatMap(svg => {
    const scale = svg.getScreenCTM().a;
    return [...svg.querySelectorAll('text')].map(t => [
        svg.dataset.testid, t.textContent, parseFloat(getComputedStyle(t).fontSize) * scale,
    ]);
})"""


def _chart_text_sizes(page: Page) -> list[tuple[str, str, float]]:
    """Every chart text on the page with its size on the screen, after checking there is one."""
    sizes: list[tuple[str, str, float]] = page.evaluate(TEXT_SIZES)
    assert sizes, "no chart text"
    body = float(page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))
    assert body == 14
    return sizes


@pytest.mark.parametrize("width", [1024, 1440, 1920])
def test_chart_labels_are_a_label_size_whether_anything_was_spent_or_not(
    live_server: LiveServer, page: Page, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/costs")
    empty = _chart_text_sizes(page)
    # Nothing spent yet: the breakdowns draw no empty chart, the time chart says so.
    assert {chart for chart, _, _ in empty} == {"cost-over-time"}
    assert any("Nothing spent" in text for _, text, _ in empty), empty
    seed(live_server.settings, _finished_run)
    page.reload()
    spent = _chart_text_sizes(page)
    assert {chart for chart, _, _ in spent} == {"cost-over-time", "cost-by-agent", "cost-by-model"}
    for chart, text, size in empty + spent:
        assert 11.5 <= size <= 13.5, (width, chart, text, size)  # never above the body's 14 px
