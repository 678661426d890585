"""The replay page: step through a finished run with the buttons, the arrow keys and the slider.

The step table changes with the position, and the address keeps it (``?at=SEQ``).
"""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from missionctl.services import ServiceContext
from missionctl.services.usecases.replay import read_run_state
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.web.support import start_steps, wait_for_run

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000


async def _finished_run(ctx: ServiceContext) -> tuple[uuid.UUID, list[int]]:
    run = await start_steps(
        ctx,
        None,
        [
            {"id": "first", "agent": "builtin:noop", "inputs": {"value": 1}},
            {"id": "second", "agent": "builtin:noop", "depends_on": ["first"]},
        ],
    )
    await wait_for_run(ctx, run.id)
    state = await read_run_state(ctx, run_id=run.id)
    return run.id, state.seqs


def test_the_replay_steps_back_and_forth_and_the_steps_follow(
    live_server: LiveServer, page: Page
) -> None:
    run_id, seqs = seed(live_server.settings, _finished_run)
    page.goto(f"{live_server.url}/runs/{run_id}")
    page.locator("[data-control=replay]").click()
    expect(page).to_have_url(re.compile(rf"/runs/{run_id}/replay$"))
    # The slider's listener is in a deferred script: an input event before it runs is lost.
    page.wait_for_load_state("load")
    view = page.locator("#replay-view")
    first = page.locator("[data-step=first]").first
    position = page.get_by_test_id("replay-position")
    expect(first).to_have_attribute("data-status", "succeeded")  # the last event: all done

    # Back to the start with the slider: every step waits.
    slider = page.get_by_test_id("replay-slider")
    slider.fill("1")
    expect(view).to_have_attribute("data-at", str(seqs[0]), timeout=TIMEOUT_MS)
    expect(page).to_have_url(re.compile(rf"\?at={seqs[0]}$"))
    expect(first).to_have_attribute("data-status", "waiting")
    expect(page.get_by_test_id("replay-event")).to_contain_text("run.created")
    expect(page.locator("[data-control=replay-previous]")).to_have_attribute(
        "aria-disabled", "true"
    )

    # Next, then the right arrow: one event each.
    page.locator("[data-control=replay-next]").click()
    expect(view).to_have_attribute("data-at", str(seqs[1]), timeout=TIMEOUT_MS)
    expect(position).to_contain_text("Event 2 of ")  # the report may add events later
    page.locator("body").click(position={"x": 5, "y": 5})  # focus out of the slider
    page.keyboard.press("ArrowRight")
    expect(view).to_have_attribute("data-at", str(seqs[2]), timeout=TIMEOUT_MS)

    # Forward until "first" has started, then back one with the left arrow.
    started_at = None
    for _ in seqs:
        if first.get_attribute("data-status") in ("running", "succeeded"):
            started_at = view.get_attribute("data-at")
            break
        # The position before the key: read after it, a fast page may already have moved on.
        before = view.get_attribute("data-at")
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "(at) => document.querySelector('#replay-view').dataset.at !== at", arg=before
        )
    assert started_at is not None
    page.keyboard.press("ArrowLeft")
    expect(view).not_to_have_attribute("data-at", started_at, timeout=TIMEOUT_MS)
    expect(first).not_to_have_attribute("data-status", re.compile("running|succeeded"))

    # Previous goes back one; the address is shareable: a reload shows the same position.
    at = view.get_attribute("data-at")
    page.locator("[data-control=replay-previous]").click()
    expect(view).not_to_have_attribute("data-at", str(at), timeout=TIMEOUT_MS)
    here = view.get_attribute("data-at")
    page.reload()
    expect(page.locator("#replay-view")).to_have_attribute("data-at", str(here))
