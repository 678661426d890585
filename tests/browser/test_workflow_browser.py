"""A workflow written, checked, saved, run and approved in a real browser, to its completion."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from missionctl.schemas.workflows import WorkflowSummary
from missionctl.services import ServiceContext
from missionctl.services.usecases.workflows import list_workflows
from tests.browser.conftest import seed, sign_in
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

RUN_TIMEOUT_MS = 20_000
CHECK_TIMEOUT_MS = 10_000

CYCLE = """\
name: browser-flow
steps:
  - id: a
    agent: builtin:noop
    depends_on: [c]
  - id: b
    agent: builtin:noop
    depends_on: [a]
  - id: c
    agent: builtin:noop
    depends_on: [b]
"""

VALID = """\
name: browser-flow
description: Three steps in a row; the last one writes, so it waits for approval.
steps:
  - id: a
    agent: builtin:noop
  - id: b
    agent: builtin:noop
    depends_on: [a]
  - id: c
    agent: builtin:noop
    depends_on: [b]
    risk_tier: write
    inputs:
      description: Publish the result
"""


# Playwright's screenshot hides the text caret by styling every input and leaves an empty
# `style=""` on each; htmx re-parses the page when it keeps a history snapshot on navigation, and
# the Content-Security-Policy then reports those attributes. Take them away after each shot.
DROP_EMPTY_STYLES = """() => document.querySelectorAll('[style=""]')
  .forEach((el) => el.removeAttribute('style'))"""


def saved_workflows(server: LiveServer) -> list[WorkflowSummary]:
    async def read(ctx: ServiceContext) -> list[WorkflowSummary]:
        return await list_workflows(ctx)

    return seed(server.settings, read)


def test_a_workflow_is_checked_saved_run_approved_and_completes(
    live_server: LiveServer, page: Page, browser: Browser, screenshot: Callable[[str], Path]
) -> None:
    def shot(name: str) -> None:
        screenshot(name)
        page.evaluate(DROP_EMPTY_STYLES)

    page.goto(f"{live_server.url}/workflows")
    expect(page.get_by_text("No workflows yet")).to_be_visible()
    shot("empty")
    page.locator('[data-control="new-workflow"]').click()
    expect(page).to_have_url(f"{live_server.url}/workflows/new")
    # The URL changes before htmx has run; text typed before it listens is never checked.
    page.wait_for_load_state("load")
    check = page.locator("#workflow-check")
    expect(check).to_contain_text("Valid: 4 steps in 3 layers")  # the example
    shot("example")

    # A cycle: the check names it as it is typed, and nothing is saved.
    editor = page.get_by_label("Definition")
    editor.fill(CYCLE)
    expect(check).to_contain_text("dependency cycle: a → b → c → a", timeout=CHECK_TIMEOUT_MS)
    expect(check).to_have_attribute("data-valid", "false")
    expect(page.locator("#workflow-preview")).to_contain_text("drawn once its dependencies")
    expect(page).to_have_url(f"{live_server.url}/workflows/new")
    shot("cycle")
    assert saved_workflows(live_server) == []

    # Fixed: valid, and the preview marks the gated last step.
    editor.fill(VALID)
    expect(check).to_contain_text("Valid: 3 steps in 3 layers", timeout=CHECK_TIMEOUT_MS)
    expect(check).to_contain_text("1 step waits for approval before it runs: c.")
    expect(page.locator('#workflow-preview [data-step="c"][data-gated="true"]')).to_be_visible()
    expect(page.locator('#workflow-preview [data-step="a"]:not([data-gated])')).to_be_visible()
    shot("valid")
    page.locator('[data-control="save-workflow"]').click()

    expect(page).to_have_url(f"{live_server.url}/workflows/browser-flow")
    expect(page.locator('[data-testid="workflow-version"]')).to_have_text("v1")
    expect(page.locator("#workflow-definition")).to_contain_text("risk_tier: write")
    shot("workflow")
    page.set_viewport_size({"width": 800, "height": 900})  # long YAML lines scroll in their card
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    page.set_viewport_size({"width": 1440, "height": 900})
    [saved] = saved_workflows(live_server)
    assert (saved.name, saved.version, saved.steps) == ("browser-flow", 1, 3)

    page.locator('[data-control="run-workflow"]').click()
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}$"))
    run_url = page.url
    run_id = run_url.rsplit("/", 1)[1]
    expect(page.get_by_text(f"Run {run_id[:12]}")).to_be_visible()  # the run id, shortened
    # a and b run; then all that is left waits for a person, and the run pauses (live).
    expect(page.locator("#run-status")).to_contain_text("Paused", timeout=RUN_TIMEOUT_MS)

    # Four eyes: tester wrote the version and started the run, so another person approves.
    approver = browser.new_context(viewport={"width": 1440, "height": 900})
    page = approver.new_page()
    sign_in(page, live_server, "ann")
    page.goto(f"{live_server.url}/approvals")
    card = page.locator('#approval-queue [data-step="c"]')
    expect(card.locator('[data-testid="approval-authors"]')).to_contain_text(
        "version written by user:tester"
    )
    expect(card).to_contain_text("browser-flow")
    expect(card.locator('[data-testid="approval-action"]')).to_have_text(
        "builtin:noop: Publish the result"
    )
    expect(card.locator(f'a[href="/runs/{run_id}"]')).to_be_visible()
    expect(page.locator("#nav-approvals-badge")).to_have_text(re.compile(r"^1\b"))
    shot("approvals")
    card.locator('[data-control="approve"]').click()
    expect(card).to_contain_text("Approved by ann")
    expect(page.locator("#pending-count")).to_have_text("0")
    expect(page.locator("#nav-approvals-badge")).to_be_hidden()
    expect(page.locator("#toasts")).to_contain_text("Approved: c")
    shot("approved")

    page.goto(run_url)
    expect(page.locator("#run-status")).to_contain_text("Completed", timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#run-graph .graph__node--succeeded")).to_have_count(3)
    shot("completed")
    # Closed before the server stops: its run page keeps a live stream open, which a stopping
    # server waits for until the fixture gives up on it, 20 s later.
    approver.close()


def test_the_editor_indents_with_tab_and_goes_to_a_problem(
    live_server: LiveServer, page: Page
) -> None:
    page.goto(f"{live_server.url}/workflows/new")
    editor = page.get_by_label("Definition")
    editor.fill("name: x\nsteps:\n- id: a\n  agent: builtin:noop\n  depends_on: [\n")
    check = page.locator("#workflow-check")
    expect(check).to_contain_text("1 problem to fix", timeout=CHECK_TIMEOUT_MS)

    go = check.get_by_role("button", name=re.compile(r"^Go to line \d+$"))
    line = int(go.inner_text().rsplit(" ", 1)[1])
    go.click()
    expect(editor).to_be_focused()
    selected = editor.evaluate("(el) => el.value.slice(0, el.selectionStart).split('\\n').length")
    assert selected == line

    editor.evaluate("(el) => el.setSelectionRange(0, 0)")
    editor.press("Tab")
    expect(editor).to_have_value(re.compile(r"^  name: x\n"))
    editor.press("Shift+Tab")
    expect(editor).to_have_value(re.compile(r"^name: x\n"))
    editor.press("Escape")
    editor.press("Tab")  # released: the focus moves on, the text stays
    expect(editor).not_to_be_focused()
    expect(editor).to_have_value(re.compile(r"^name: x\n"))
