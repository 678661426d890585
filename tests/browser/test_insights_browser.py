"""The insights cockpit in Chromium: the filter bar changes every panel, and each metric's info
button shows its definition on hover and on keyboard focus.

The history: two people today through the real services (an operator running the workflow
``ship``, an approver running ``audit``; each signs in with a link, creates a mission, has it
planned and runs it on the live server's engine), and one person twenty days earlier, appended
to the log at that date (the services stamp the present).
"""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from missionctl.domain.access import Role
from missionctl.planning import LocalPlanner
from missionctl.schemas.identity import UserCreate
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext, identity
from missionctl.services import missions as mission_service
from missionctl.services import plans as plan_service
from missionctl.services.analytics import read_definitions
from missionctl.services.runs import start_run
from missionctl.services.workflows import create_workflow
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.support.dated_log import append_dated, journey
from tests.web.support import wait_for_run

pytestmark = pytest.mark.browser

PANELS = ("kpis", "funnel", "retention", "trends")
SHOTS = Path("/tmp/insights-screenshots")
OVERFLOWING = """() => [...document.querySelectorAll('[data-panel], .insights-filters-card')]
    .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.id || el.className)"""


async def _person_today(ctx: ServiceContext, name: str, role: Role, workflow: str) -> None:
    actor = f"user:{name}"
    await identity.create_user(ctx, data=UserCreate(name=name, role=role), actor="system")
    await identity.redeem_sign_in_link(
        ctx, secret=await identity.create_sign_in_link(ctx, user_name=name)
    )
    mission = await mission_service.create_mission(
        ctx, data=MissionCreate(goal="Build a URL shortener", budget_usd=None), actor=actor
    )
    await plan_service.plan_mission(ctx, mission_id=mission.id, actor=actor, planner=LocalPlanner())
    spec = WorkflowSpec.model_validate(
        {"name": workflow, "steps": [{"id": "check", "agent": "builtin:noop"}]}
    )
    saved = await create_workflow(ctx, spec=spec, actor=actor, mission_id=mission.id)
    run = await start_run(ctx, workflow_id=saved.id, actor=actor, mission_id=mission.id)
    await wait_for_run(ctx, run.id)


async def _history(ctx: ServiceContext) -> None:
    earlier = datetime.now(UTC).replace(hour=9, minute=0) - timedelta(days=20)
    await append_dated(ctx, journey("olga", earlier, cost_micros=2_000_000, seconds=600))
    await _person_today(ctx, "ana", Role.OPERATOR, "ship")
    await _person_today(ctx, "abe", Role.APPROVER, "audit")


def _loaded(page: Page) -> None:
    expect(page.locator("[data-panel]")).to_have_count(len(PANELS))
    expect(page.locator('[data-panel][data-state="loading"]')).to_have_count(0)


def _panels(page: Page) -> dict[str, str]:
    """Each panel's text and the attributes that carry its figures."""
    shown = {}
    for name in PANELS:
        panel = page.locator(f"#panel-{name}")
        figures = panel.locator("[data-users], [data-kpi], rect.chart__bar, td.heat").evaluate_all(
            "nodes => nodes.map(n => [n.getAttribute('data-users'), n.getAttribute('height'),"
            " n.getAttribute('aria-label'), n.textContent].join('|')).join(';')"
        )
        shown[name] = panel.inner_text() + "\n" + figures
    return shown


def _changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return [name for name in PANELS if before[name] == after[name]]


def test_the_filter_bar_changes_every_panel_and_tooltips_show_definitions(
    live_server: LiveServer, page: Page
) -> None:
    seed(live_server.settings, _history)
    page.goto(f"{live_server.url}/insights?range=30d")
    _loaded(page)
    # olga, ana, abe and the admin looking (``tester``, signed in today).
    expect(page.locator('#panel-funnel [data-step="funnel.signed_in"]')).to_have_attribute(
        "data-users", "4"
    )
    month = _panels(page)
    stamp = page.get_by_test_id("insights-updated").locator("time")
    updated = stamp.get_attribute("datetime")

    page.locator(".segmented__option", has_text="7 days").click()
    expect(page).to_have_url(f"{live_server.url}/insights?range=7d")
    _loaded(page)
    week = _panels(page)
    assert _changed(month, week) == [], "a panel kept its 30-day figures"
    expect(page.locator('#panel-funnel [data-step="funnel.signed_in"]')).to_have_attribute(
        "data-users", "3"
    )
    expect(stamp).not_to_have_attribute("datetime", updated or "")  # the panels' new answer

    page.get_by_label("Segment").select_option("role:approver")
    expect(page).to_have_url(f"{live_server.url}/insights?range=7d&segment=role%3Aapprover")
    _loaded(page)
    approvers = _panels(page)
    assert _changed(week, approvers) == [], "a panel ignored the segment"
    expect(page.locator('#panel-funnel [data-step="funnel.signed_in"]')).to_have_attribute(
        "data-users", "1"
    )
    expect(
        page.get_by_label("Segment").locator("option", has_text="Workflow: audit")
    ).to_have_count(1)

    # Back restores the previous view, and the address is a link to it.
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/insights?range=7d")

    _tooltips_show_definitions(page)
    _screenshots(page, live_server)


def _tooltips_show_definitions(page: Page) -> None:
    definitions = {item.key: item.definition for item in read_definitions().items}
    page.goto(page.url)
    _loaded(page)
    for key, scope in (("trends.success_rate", "#panel-kpis"), ("funnel.planned", "#panel-funnel")):
        button = page.locator(f'{scope} button[data-metric="{key}"]')
        tip = page.locator(f"#{button.get_attribute('aria-describedby')}")
        expect(tip).to_be_hidden()
        button.hover()
        expect(tip).to_be_visible()
        expect(tip).to_have_text(definitions[key])
        page.mouse.move(0, 0)
        expect(tip).to_be_hidden()
        button.focus()
        expect(tip).to_be_visible()
        page.keyboard.press("Escape")
        expect(tip).to_be_hidden()
        page.keyboard.press("Tab")  # focus moves on and the tooltip stays closed
        expect(tip).to_be_hidden()
    name = page.locator('#panel-kpis a.metric__name[href="/insights/definitions#trends.tokens"]')
    name.click()
    expect(page).to_have_url(re.compile(r"/insights/definitions#trends\.tokens$"))
    expect(page.locator('[id="trends.tokens"]')).to_contain_text(definitions["trends.tokens"])


def _screenshots(page: Page, server: LiveServer) -> None:
    """The cockpit at 1440 and 800 px wide, light and dark, under SHOTS; nothing overflows."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for width in (1440, 800):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{server.url}/insights?range=30d")
            _loaded(page)
            page.screenshot(path=str(SHOTS / f"insights-{width}-{scheme}.png"), full_page=True)
            wide = page.evaluate(OVERFLOWING)
            assert wide == [], f"overflowing at {width} px: {wide}"
