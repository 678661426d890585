"""What a person sees on a run page (in their own time zone), on a wide graph and on the agents
page: links to what a run is made of, times in local time, a graph that fits and zooms, and
agent rules changed where they are shown."""

import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from missionctl.domain.access import Role
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases import identity
from missionctl.services.usecases.agents import list_agents
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workflows import create_workflow
from tests.browser.conftest import seed, sign_in
from tests.conftest import LiveServer
from tests.support.auth import ensure_user
from tests.web.support import ACTOR, start_steps, wait_for_run

pytestmark = pytest.mark.browser

ZONE = "America/New_York"
TIMEOUT_MS = 20_000
DESIGN_TITLE = "Design the public REST API contract for billing, invoicing and refunds"
RELEASE = {
    "name": "release-check",
    "inputs": {"version": {"type": "string", "required": True}},
    "steps": [
        {
            "id": "design",
            "agent": "builtin:architect",
            "inputs": {"title": DESIGN_TITLE, "description": "Endpoints and errors."},
        },
        {
            "id": "deploy",
            "agent": "command",
            "depends_on": ["design"],
            "inputs": {"argv": ["make", "deploy"], "title": "Deploy the release"},
        },
    ],
}

# The box of every node's label text and of its frame, in the SVG's own units.
LABEL_BOXES = """(nodes) => nodes.map((node) => {
  const box = node.querySelector('.graph__box').getBBox();
  const label = node.querySelector('.graph__label').getBBox();
  return {task: node.dataset.task, right: label.x + label.width, width: box.width};
})"""

# How far the graph's content reaches past its frame.
OVERFLOW = """(scroll) => ({
  spill: scroll.scrollWidth - scroll.clientWidth,
  svgRight: scroll.querySelector('svg').getBoundingClientRect().right,
  frameRight: scroll.getBoundingClientRect().right,
})"""


@pytest.fixture
def open_page(
    browser: Browser, allowed_console_errors: list[re.Pattern[str]]
) -> Iterator[Callable[..., Page]]:
    """Open pages in contexts of their own; fails the test on any console or page error it
    did not allow."""
    contexts: list[Any] = []
    problems: list[str] = []

    def make(width: int = 1440, **options: Any) -> Page:
        context = browser.new_context(viewport={"width": width, "height": 900}, **options)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
        return page

    yield make
    for context in contexts:
        context.close()
    problems = [p for p in problems if not any(a.search(p) for a in allowed_console_errors)]
    assert not problems, "browser reported errors:\n" + "\n".join(problems)


async def _paused_release(ctx: ServiceContext) -> tuple[uuid.UUID, datetime]:
    spec = WorkflowSpec.model_validate(RELEASE)
    workflow = await create_workflow(ctx, spec=spec, actor=ACTOR)
    run = await start_run(ctx, workflow_id=workflow.id, actor=ACTOR, inputs={"version": "1.4.0"})
    run = await wait_for_run(ctx, run.id, lambda r: r.status == "paused")
    started = next(s.started_at for s in run.steps if s.step_id == "design")
    assert started is not None
    return run.id, started


def test_a_paused_run_links_its_parts_and_shows_local_times(
    live_server: LiveServer, open_page: Callable[..., Page]
) -> None:
    run_id, started = seed(live_server.settings, _paused_release)
    page = open_page(timezone_id=ZONE)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/runs/{run_id}")

    workflow = page.get_by_test_id("run-workflow-link")
    expect(workflow).to_have_text("release-check v1")
    expect(workflow).to_have_attribute("href", "/workflows/release-check?version=1")
    expect(page.locator("#run-inputs")).to_contain_text('"version"')
    expect(page.locator("#run-inputs")).to_contain_text('"1.4.0"')
    artifacts = page.locator("#run-artifacts .run-artifacts__link")
    expect(artifacts.first).to_have_attribute("href", re.compile(r"^/artifacts/[0-9a-f-]{36}$"))
    activity = page.locator("#run-activity")
    expect(activity).to_contain_text("Run paused: 1 step waits for approval")
    expect(activity).not_to_contain_text("run.paused")

    # The step's start: the viewer's hour and zone, the exact UTC time on hover.
    local = started.astimezone(ZoneInfo(ZONE))
    when = page.locator("#step-row-design time")
    expect(when).to_contain_text(f"{local:%I:%M:%S}")
    expect(when).to_contain_text(str(local.tzname()))
    utc = started.astimezone(UTC)
    expect(when).to_have_attribute("title", f"{utc.day} {utc:%b %Y, %H:%M:%S} UTC")

    # The waiting step's label stays inside its box; its whole title is in the tooltip.
    for node in page.locator("#run-graph .graph__node").evaluate_all(LABEL_BOXES):
        assert node["right"] <= node["width"], node
    tooltip = page.locator('#run-graph [data-task="design"] title')
    expect(tooltip).to_have_text(re.compile(re.escape(DESIGN_TITLE)))

    page.locator("#step-design .step__details summary").click()
    document = page.locator("#step-design [data-testid='document-link']").first
    expect(document).to_have_attribute("href", re.compile(r"^/artifacts/"))

    approval = page.get_by_test_id("approval-link-deploy")
    expect(approval).to_have_text("Review the approval")
    approval.click()
    expect(page).to_have_url(re.compile(r"/approvals#approval-[0-9a-f-]{36}$"))
    anchor = page.url.rpartition("#")[2]
    expect(page.locator(f"#{anchor}")).to_contain_text("make deploy")

    # A time the live stream brings later is shown in local time too.
    page.goto(f"{live_server.url}/runs/{run_id}")
    expect(page.locator("#live")).to_have_class(re.compile("live--connected"))
    seed(live_server.settings, lambda ctx: _approve(ctx, run_id))
    expect(activity).not_to_contain_text("Run paused", timeout=TIMEOUT_MS)  # a newer event
    expect(activity.locator("time")).to_contain_text(str(local.tzname()))
    expect(activity.locator("time")).not_to_contain_text("UTC")
    # The run ends and writes its report: the artifacts list grows without a reload.
    expect(page.locator("#run-artifacts")).to_contain_text("report.json", timeout=TIMEOUT_MS)


async def _approve(ctx: ServiceContext, run_id: uuid.UUID) -> None:
    [approval] = await list_approvals(ctx, run_id=run_id)
    await decide_approval(ctx, ref=approval.id, approve=True, actor="user:tester")


async def _wide_run(ctx: ServiceContext) -> uuid.UUID:
    steps = [
        {
            "id": f"s{n}",
            "agent": "builtin:noop",
            "depends_on": [f"s{n - 1}"] if n else [],
            "inputs": {"title": f"Step {n}: check every endpoint of the billing service again"},
        }
        for n in range(8)
    ]
    run = await start_steps(ctx, None, steps)
    return (await wait_for_run(ctx, run.id)).id


def test_a_wide_graph_fits_its_card_and_zooms(
    live_server: LiveServer, open_page: Callable[..., Page]
) -> None:
    run_id = seed(live_server.settings, _wide_run)
    page = open_page(width=800)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/runs/{run_id}")

    assert page.evaluate("document.documentElement.scrollWidth") <= 800  # nothing widens the page
    scroll = page.locator("#run-graph .graph-scroll")
    fitted = scroll.evaluate(OVERFLOW)
    assert fitted["spill"] <= 0 and fitted["svgRight"] <= fitted["frameRight"] + 0.5, fitted
    scale = page.locator("#run-graph [data-graph-scale]")
    expect(scale).to_contain_text("Fit")
    fit_text = scale.inner_text()

    page.locator("#run-graph").get_by_role("button", name="Zoom in").click()
    expect(scale).not_to_have_text(fit_text)
    assert scroll.evaluate(OVERFLOW)["spill"] > 0  # bigger than the card: it scrolls
    scroll.focus()
    page.keyboard.press("0")  # back to fitting the width
    expect(scale).to_have_text(fit_text)
    page.keyboard.press("+")
    expect(scale).not_to_have_text(fit_text)

    title = page.locator('#run-graph [data-task="s3"] title')
    expect(title).to_contain_text("Step 3: check every endpoint of the billing service again")


def test_agent_rules_change_inline_with_diagnostics_apart(
    live_server: LiveServer,
    open_page: Callable[..., Page],
    allowed_console_errors: list[re.Pattern[str]],
) -> None:
    # Refused changes are deliberate 422 and 403 answers, and the change made after the
    # person's sessions ended a 401, which Chromium logs as errors.
    allowed_console_errors.append(re.compile(r"status of (422|403|401)"))
    page = open_page(width=800)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/agents")

    main = page.locator("#agent-table")
    expect(main.locator('[data-agent="command"]')).to_be_visible()
    expect(main.locator('[data-agent="builtin:noop"]')).to_have_count(0)
    diagnostic = page.get_by_test_id("diagnostic-agents")
    expect(diagnostic).not_to_have_attribute("open", "")
    expect(diagnostic.locator('[data-agent="builtin:fail"]')).to_be_hidden()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    table = main.evaluate("(wrap) => wrap.scrollWidth - wrap.clientWidth")
    assert table <= 0, f"the rules table overflows its card by {table} px at 800 px"

    # Unticking a tier saves it at once.
    tiers = main.locator('[data-agent="command"] .tier-form')
    tiers.get_by_label("irreversible").uncheck()
    expect(page.locator("#toasts")).to_contain_text("Risk tiers of command saved")
    assert _agent(live_server, "command")["allowed_risk_tiers"] == ["read", "write"]
    # Unticking the last one is refused: the box is ticked again and the toast says why.
    tiers.get_by_label("write").uncheck()
    # The toast of the first save may still show: wait for the second save itself, or the
    # next change can be refused against the tiers before it and show "write" ticked again.
    _wait_for_tiers(live_server, "command", ["read"])
    # A click, not uncheck(): the refusal ticks the box again, maybe before Playwright looks,
    # and uncheck() would then call the box unchanged a failure of the click itself.
    tiers.get_by_label("read").click()
    expect(page.locator("#toasts")).to_contain_text("disable the agent")
    expect(tiers.get_by_label("read")).to_be_checked()
    expect(tiers.get_by_label("write")).not_to_be_checked()  # what was saved stays shown
    expect(tiers.get_by_label("irreversible")).not_to_be_checked()
    assert _agent(live_server, "command")["allowed_risk_tiers"] == ["read"]

    switch = main.get_by_role("switch", name="llm:* enabled")
    expect(switch).to_have_attribute("aria-checked", "true")
    switch.click()
    expect(page.locator("#toasts")).to_contain_text("llm:* disabled")
    expect(main.get_by_role("switch", name="llm:* enabled")).to_have_attribute(
        "aria-checked", "false"
    )
    assert not _agent(live_server, "llm:*")["enabled"]

    diagnostic.locator("summary").click()
    expect(diagnostic.locator('[data-agent="builtin:fail"]')).to_be_visible()

    # A role change ends the person's sessions: the next change goes to the sign-in form.
    seed(live_server.settings, _demote_tester)
    main.get_by_role("switch", name="command enabled").click()
    expect(page).to_have_url(re.compile(r"/sign-in"))
    assert _agent(live_server, "command")["enabled"]
    # Signed in again, someone no longer an admin sees the rules without the controls.
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/agents")
    expect(main.locator('[data-agent="command"]').first).to_be_visible()
    expect(main.get_by_role("switch", name="command enabled")).to_have_count(0)
    assert _agent(live_server, "command")["enabled"]


async def _demote_tester(ctx: ServiceContext) -> None:
    await ensure_user(ctx, "ada", Role.ADMIN)
    await identity.set_role(ctx, name="tester", role=Role.OPERATOR, actor="user:ada")


def _wait_for_tiers(server: LiveServer, name: str, tiers: list[str]) -> None:
    """Wait up to ten seconds for the stored risk tiers of agent *name* to become *tiers*."""
    deadline = time.monotonic() + 10
    while _agent(server, name)["allowed_risk_tiers"] != tiers:
        assert time.monotonic() < deadline, f"the tiers of {name} never became {tiers}"
        time.sleep(0.1)


def _agent(server: LiveServer, name: str) -> dict[str, Any]:
    async def read(ctx: ServiceContext) -> dict[str, Any]:
        agent = next(a for a in await list_agents(ctx) if a.name == name)
        return agent.model_dump()

    return seed(server.settings, read)
