"""The mission page's cards hold what they show at 1440 and 390 px; its "updated" stays live."""

import re
import uuid
from datetime import UTC

import pytest
from playwright.sync_api import Page, expect

from missionctl.schemas.runs import RunRead
from missionctl.services import ServiceContext
from missionctl.services.usecases import plans as plan_service
from tests.browser.conftest import SCREENSHOT_DIR, seed
from tests.conftest import LiveServer
from tests.web.support import ACTOR, planned_mission, wait_for_run

pytestmark = pytest.mark.browser

# A library: its architecture has an arrow between two boxes of its last column.
LIBRARY = "A Python library for parsing ISO 8601 durations"
SCREENS = [(1440, 900), (390, 844)]

# Each diagram of the System diagrams card: how far its drawing reaches and its viewBox's width
# (user units), and where its frame and card end (px), its frame scrolled to the right end.
DIAGRAMS = """() => [...document.querySelectorAll('#system-diagrams svg.diagram')].map((svg) => {
  const frame = svg.closest('.diagram-scroll');
  frame.scrollLeft = frame.scrollWidth;
  const box = svg.getBBox();
  return {
    drawn: box.x + box.width, viewBox: svg.viewBox.baseVal.width,
    svgRight: svg.getBoundingClientRect().right,
    frameLeft: frame.getBoundingClientRect().left, frameRight: frame.getBoundingClientRect().right,
    cardLeft: svg.closest('.card').getBoundingClientRect().left,
    cardRight: svg.closest('.card').getBoundingClientRect().right,
    overflow: frame.scrollWidth - frame.clientWidth,
  };
})"""

# The "Write a spec" form in its card: the insets on each side, the widest control's right end,
# and whether it is drawn as a panel (a border and a background of its own).
SPEC_FORM = """() => {
  const form = document.querySelector('#mini-specs [data-testid="spec-write"]');
  const card = form.closest('.card');
  const f = form.getBoundingClientRect(), c = card.getBoundingClientRect();
  const style = getComputedStyle(form);
  return {
    left: f.left - c.left, right: c.right - f.right,
    controls: Math.max(...[...form.querySelectorAll('.control, .btn')]
      .map((el) => el.getBoundingClientRect().right)),
    formRight: f.right,
    border: style.borderTopStyle,
    panel: style.backgroundColor !== getComputedStyle(card).backgroundColor,
  };
}"""


def _open(page: Page, server: LiveServer, mission_id: uuid.UUID) -> None:
    page.goto(f"{server.url}/missions/{mission_id}")
    expect(page.locator('#system-diagrams [data-testid="diagram-panel"]')).to_be_visible()
    expect(page.locator('#mini-specs [data-testid="spec-write"]')).to_be_visible()


@pytest.mark.parametrize(("width", "height"), SCREENS)
def test_the_diagrams_and_the_spec_form_stay_inside_their_cards(
    live_server: LiveServer, page: Page, width: int, height: int
) -> None:
    async def library(ctx: ServiceContext) -> uuid.UUID:
        return (await planned_mission(ctx, LIBRARY)).id

    mission_id = seed(live_server.settings, library)
    page.set_viewport_size({"width": width, "height": height})
    _open(page, live_server, mission_id)

    diagrams = page.evaluate(DIAGRAMS)
    assert len(diagrams) == 3  # architecture, deployment, product flow
    for d in diagrams:
        assert d["drawn"] <= d["viewBox"], f"the drawing cuts its right column off: {d}"
        assert d["cardLeft"] < d["frameLeft"] and d["frameRight"] < d["cardRight"], d
        # Scrolled to its end, the frame shows the right column whole.
        assert d["svgRight"] <= d["frameRight"] + 1, d
        if width == 1440:
            assert d["overflow"] <= 1, f"the diagram should fit its card: {d}"
    form = page.evaluate(SPEC_FORM)
    assert form["left"] >= 12 and form["right"] >= 12, f"the form touches its card: {form}"
    assert form["controls"] <= form["formRight"], form
    assert form["border"] == "solid" and form["panel"], f"an unstyled form: {form}"
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
    page.locator("#mini-specs").screenshot(path=_shot(f"spec-form-{width}"))
    page.locator("#system-diagrams").screenshot(path=_shot(f"diagrams-{width}"))


def _shot(name: str) -> str:
    """Where a card's screenshot goes (beside the full-page ones of ``screenshot``)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOT_DIR / f"mission-page-fit-{name}.png")


def test_updated_moves_when_a_run_ends_and_its_ago_keeps_counting(
    live_server: LiveServer, page: Page, allowed_console_errors: list[re.Pattern[str]]
) -> None:
    # Jumping the page's clock three minutes fires the timeout of a health poll that happens to
    # be in flight (htmx waits 60 s): an artefact of the jump, not of the page.
    allowed_console_errors.append(re.compile(r"htmx:error: timeout \{elt: div#health-poll"))

    async def planned(ctx: ServiceContext) -> uuid.UUID:
        return (await planned_mission(ctx, LIBRARY)).id

    async def ran(ctx: ServiceContext) -> RunRead:
        run = await plan_service.run_mission(ctx, mission_id=mission_id, actor=ACTOR)
        return await wait_for_run(ctx, run.id)

    mission_id = seed(live_server.settings, planned)
    page.clock.install()  # the page's own clock, which the test moves forward below
    page.goto(f"{live_server.url}/missions/{mission_id}")
    expect(page.locator("#live")).to_have_class(re.compile(r"\blive--connected\b"))
    updated = page.locator("#mission-updated time")
    before = updated.get_attribute("datetime")
    assert before

    run = seed(live_server.settings, ran)

    # The stream re-renders it: at the run's start, then at its end (ISO texts sort as times).
    assert run.ended_at is not None
    ended = run.ended_at.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
    page.wait_for_function(
        "(ended) => document.querySelector('#mission-updated time').dateTime >= ended",
        arg=ended,
        polling=100,
    )
    assert (updated.get_attribute("datetime") or "") > before
    expect(updated).to_have_text("just now")
    page.clock.fast_forward("03:00")
    expect(updated).to_have_text("3 min ago")
