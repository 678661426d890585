"""The command palette in a browser: Ctrl-K and "/" open it, keys alone find a run by its
mission's title and approve or reject a gated step, a viewer is offered no action, Esc closes it
and gives the focus back, and Tab stays inside. Screenshots of the palette in both themes go to
test-results/screenshots/palette-*.png."""

import re
import sys
import uuid

import pytest
from playwright.sync_api import Page, expect

from missionctl.domain.access import Role
from missionctl.domain.workers import WorkerKind
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.approvals import list_approvals
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workers import read_worker, register_worker
from missionctl.services.usecases.workflows import create_workflow
from tests.browser.conftest import SCREENSHOT_DIR, seed, sign_in
from tests.conftest import LiveServer
from tests.support.auth import ensure_user
from tests.web.support import ACTOR, wait_for_run

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000
PY = sys.executable


async def _gated(ctx: ServiceContext, title: str) -> uuid.UUID:
    """A run of the mission ``title`` paused on its gated step ``deploy``."""
    mission = await create_mission(ctx, data=MissionCreate(goal=title), actor=ACTOR)
    spec = WorkflowSpec.model_validate(
        {
            "name": f"ship-{uuid.uuid4().hex[:6]}",
            "steps": [
                {"id": "build", "agent": "builtin:noop"},
                {
                    "id": "deploy",
                    "agent": "command",
                    "depends_on": ["build"],
                    "risk_tier": "write",
                    "inputs": {"argv": [PY, "-c", "print('deployed')"]},
                },
            ],
        }
    )
    workflow = await create_workflow(ctx, spec=spec, actor=ACTOR, mission_id=mission.id)
    run = await start_run(ctx, workflow_id=workflow.id, actor=ACTOR, mission_id=mission.id)
    await wait_for_run(ctx, run.id, lambda r: r.status == "paused")
    return run.id


async def _decision(ctx: ServiceContext, run_id: uuid.UUID) -> tuple[str | None, str | None]:
    [approval] = await list_approvals(ctx, state="all", run_id=run_id)
    return approval.decision, approval.reason


def _shot(page: Page, name: str) -> None:
    """The window as the person sees it (the palette sits over the page's top)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"palette-{name}.png"))


def _open_with_ctrl_k(page: Page) -> None:
    page.keyboard.press("Control+k")
    expect(page.get_by_test_id("palette")).to_be_visible()
    expect(page.locator("[data-palette-input]")).to_be_focused()


def test_ctrl_k_finds_a_run_by_its_missions_title_and_approves_its_gated_step(
    live_server: LiveServer, page: Page
) -> None:
    run_id = seed(live_server.settings, lambda ctx: _gated(ctx, "Migrate the customer database"))
    page.goto(f"{live_server.url}/missions")
    _open_with_ctrl_k(page)
    palette = page.get_by_test_id("palette")
    # Opened blank: the waiting approval comes first.
    expect(palette.locator("[role=option]").first).to_contain_text(
        "Approve deploy of Migrate the customer database"
    )
    page.keyboard.type("custdb")
    run = palette.locator('[role=option][data-kind="run"]')
    expect(run).to_have_count(1)
    expect(run).to_contain_text("Migrate the customer database")
    expect(run.locator(".palette__hit").first).to_be_visible()  # the matched letters
    _shot(page, "light")
    # Arrows to the run (the mission of the same name ranks first), Enter opens it.
    options = palette.locator("[role=option]")
    index = [o.get_attribute("data-kind") for o in options.all()].index("run")
    for _ in range(index):
        page.keyboard.press("ArrowDown")
    expect(run).to_have_attribute("aria-selected", "true")
    input_box = page.locator("[data-palette-input]")
    expect(input_box).to_have_attribute("aria-activedescendant", run.get_attribute("id") or "")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/runs/{run_id}")

    _open_with_ctrl_k(page)
    page.keyboard.type("approve custo")
    first = palette.locator("[role=option]").first
    expect(first).to_contain_text("Approve deploy of Migrate the customer database")
    page.keyboard.press("Enter")
    toast = page.locator("#toasts .toast")
    expect(toast).to_contain_text("Approved deploy of Migrate the customer database")
    expect(palette).to_be_hidden()
    assert seed(live_server.settings, lambda ctx: _decision(ctx, run_id))[0] == "approved"


def test_reject_asks_first_and_needs_a_reason(live_server: LiveServer, page: Page) -> None:
    run_id = seed(live_server.settings, lambda ctx: _gated(ctx, "Rotate the signing keys"))
    page.emulate_media(color_scheme="dark")
    page.goto(f"{live_server.url}/approvals")
    _open_with_ctrl_k(page)
    palette = page.get_by_test_id("palette")
    page.keyboard.type("reject rotate")
    expect(palette.locator("[role=option]").first).to_contain_text(
        "Reject deploy of Rotate the signing keys"
    )
    _shot(page, "dark")
    page.keyboard.press("Enter")
    confirm = page.get_by_test_id("palette-confirm")
    expect(confirm).to_have_text("Reject")
    reason = page.locator("[data-palette-reason-input]")
    expect(reason).to_be_focused()
    page.keyboard.press("Enter")  # no reason: refused in the dialog, nothing sent
    expect(palette.locator("[data-palette-error]")).to_contain_text("A reason is required")
    _shot(page, "confirm-dark")
    # Esc goes back to the list, not out of the palette.
    page.keyboard.press("Escape")
    expect(palette).to_be_visible()
    expect(palette.locator("[role=option]").first).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.type("The keys are rotated by hand this quarter")
    page.keyboard.press("Enter")
    expect(page.locator("#toasts .toast")).to_contain_text("Rejected deploy of Rotate")
    decision = seed(live_server.settings, lambda ctx: _decision(ctx, run_id))
    assert decision == ("rejected", "The keys are rotated by hand this quarter")


def test_a_viewers_palette_offers_no_action_and_keys_stay_inside(
    live_server: LiveServer, page: Page
) -> None:
    seed(live_server.settings, lambda ctx: _gated(ctx, "Publish the release notes"))
    seed(live_server.settings, lambda ctx: ensure_user(ctx, "vera", Role.VIEWER))
    page.context.clear_cookies()
    sign_in(page, live_server, "vera")
    page.goto(f"{live_server.url}/runs")
    page.locator("h1").click()
    # "/" opens it when the focus is not in a text field.
    page.keyboard.press("/")
    palette = page.get_by_test_id("palette")
    expect(palette).to_be_visible()
    expect(palette.locator("[role=option]").first).to_be_visible()
    expect(palette.locator('[data-kind="action"]')).to_have_count(0)
    _shot(page, "viewer-light")
    for query in ["publish", "approve", "cancel", "stop", "new"]:
        page.locator("[data-palette-input]").fill(query)
        expect(palette.locator("[data-palette-status], [role=option]").first).to_be_visible()
        expect(palette.locator('[data-kind="action"]')).to_have_count(0)
    page.locator("[data-palette-input]").fill("publish")
    expect(palette.locator('[role=option][data-kind="run"]')).to_have_count(1)
    # Tab never leaves the dialog.
    for _ in range(4):
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('palette').contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(palette).to_be_hidden()
    # In a text field "/" is a character, not the palette.
    page.goto(f"{live_server.url}/search")
    field = page.locator("input[name=q]")
    field.click()
    page.keyboard.press("/")
    expect(field).to_have_value("/")
    expect(palette).to_be_hidden()
    # The sidebar's trigger opens it too; Esc gives the focus back to the trigger.
    trigger = page.get_by_test_id("palette-trigger")
    trigger.click()
    expect(palette).to_be_visible()
    page.keyboard.press("Escape")
    expect(palette).to_be_hidden()
    expect(trigger).to_be_focused()
    expect(trigger).to_contain_text(re.compile(r"Ctrl K|⌘K"))


async def _digest(ctx: ServiceContext) -> None:
    spec = WorkflowSpec.model_validate(
        {"name": "weekly-digest", "steps": [{"id": "only", "agent": "builtin:noop"}]}
    )
    await create_workflow(ctx, spec=spec, actor=ACTOR)


def test_running_a_workflow_opens_its_new_run(live_server: LiveServer, page: Page) -> None:
    seed(live_server.settings, _digest)
    page.goto(f"{live_server.url}/workflows")
    _open_with_ctrl_k(page)
    page.keyboard.type("run weekly")
    first = page.get_by_test_id("palette").locator("[role=option]").first
    expect(first).to_contain_text("Run workflow weekly-digest")
    expect(first).to_contain_text("starts now")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"{re.escape(live_server.url)}/runs/[0-9a-f-]{{36}}$"))
    expect(page.locator("h1")).to_contain_text("weekly-digest")


async def _heart_rate_mission(ctx: ServiceContext) -> None:
    await create_mission(
        ctx, data=MissionCreate(goal="A heart rate monitor for runners"), actor=ACTOR
    )


def test_words_must_match_words_not_scattered_letters(live_server: LiveServer, page: Page) -> None:
    # "heart" starts a word of Workers' description ("their heartbeats") and "rate" is only
    # scattered letters of it, as of Templates' and API docs': none of them is what was meant.
    seed(live_server.settings, _heart_rate_mission)
    page.goto(f"{live_server.url}/missions")
    _open_with_ctrl_k(page)
    palette = page.get_by_test_id("palette")
    options = palette.locator("[role=option]")
    page.keyboard.type("heart rate")
    expect(palette.locator('[role=option][data-kind="mission"]')).to_contain_text(
        "A heart rate monitor for runners"
    )
    expect(options).to_have_count(1)
    for unrelated in ("Workers", "Templates", "API docs"):
        expect(options.filter(has_text=unrelated)).to_have_count(0)
    _shot(page, "heart-rate")

    page.locator("[data-palette-input]").fill("")
    page.keyboard.type("work")
    expect(
        palette.locator('[role=option][data-kind="page"]').filter(has_text="Workers")
    ).to_have_count(1)


async def _worker(ctx: ServiceContext) -> uuid.UUID:
    return await register_worker(ctx, name="engine-wren-9", kind=WorkerKind.worker, concurrency=2)


async def _desired(ctx: ServiceContext, worker_id: uuid.UUID) -> tuple[str, int | None]:
    worker = await read_worker(ctx, worker_id=worker_id)
    return worker.desired_state, worker.desired_concurrency


def test_a_worker_is_scaled_and_drained_from_the_keyboard(
    live_server: LiveServer, page: Page
) -> None:
    worker_id = seed(live_server.settings, _worker)
    page.goto(f"{live_server.url}/missions")
    _open_with_ctrl_k(page)
    palette = page.get_by_test_id("palette")
    page.keyboard.type("scale wren")
    expect(palette.locator("[role=option]").first).to_contain_text("Scale worker engine-wren-9")
    page.keyboard.press("Enter")
    number = page.locator("[data-palette-number-input]")
    expect(number).to_be_focused()
    expect(number).to_have_value("2")
    number.fill("0")
    page.keyboard.press("Enter")  # out of range: refused in the dialog, nothing sent
    expect(palette.locator("[data-palette-error]")).to_contain_text("from 1 to 1000")
    number.fill("6")
    _shot(page, "scale")
    page.keyboard.press("Enter")
    expect(page.locator("#toasts .toast").last).to_contain_text("engine-wren-9 will run")
    assert seed(live_server.settings, lambda ctx: _desired(ctx, worker_id)) == ("run", 6)

    _open_with_ctrl_k(page)
    page.keyboard.type("drain wren")
    expect(palette.locator("[role=option]").first).to_contain_text("Drain worker engine-wren-9")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("palette-confirm")).to_have_text("Drain")
    page.keyboard.press("Enter")
    expect(page.locator("#toasts .toast").last).to_contain_text("Draining engine-wren-9")
    assert seed(live_server.settings, lambda ctx: _desired(ctx, worker_id))[0] == "drain"
