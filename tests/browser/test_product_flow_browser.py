"""The product flow as a person sees it on the diagrams page and the mission page: every step
legible inside its box, the drawing inside its frame, at 1440 and 390 px wide."""

import os
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from missionctl.services import ServiceContext
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.web.support import planned_mission

pytestmark = pytest.mark.browser

# Screenshots are for a person to look at, outside the repository.
SHOTS = Path(os.environ.get("MISSIONCTL_PRODUCT_FLOW_SHOTS", "/tmp/product-flow-screenshots"))
SHORTENER = "Build a URL shortener with click analytics and custom aliases"
STEPS = [
    "Open the URL shortener",
    "Sign in",
    "Shorten a URL",
    "Share the short link",
    "Visitor follows the link",
    "See click analytics",
]

# Each step's box: its label (its lines joined), and whether every text stays inside the box.
BOXES = """(figure) => [...figure.querySelectorAll('g.diagram__node')].map((node) => {
  const box = node.querySelector('rect').getBBox();
  const texts = [...node.querySelectorAll('text')];
  return {
    label: texts.filter((t) => t.classList.contains('diagram__label'))
      .map((t) => t.textContent).join(' '),
    inside: texts.every((t) => {
      const b = t.getBBox();
      return b.x >= box.x && b.x + b.width <= box.x + box.width
        && b.y >= box.y && b.y + b.height <= box.y + box.height;
    }),
  };
})"""

# The drawing's frame and its card: where they end, and how far the frame scrolls sideways.
FRAME = """(figure) => {
  const frame = figure.querySelector('.diagram-scroll');
  const card = figure.closest('.card').getBoundingClientRect();
  const f = frame.getBoundingClientRect();
  return {
    inside: card.left <= f.left && f.right <= card.right,
    scrolls: frame.scrollWidth - frame.clientWidth,
    svgHeight: figure.querySelector('svg').getBoundingClientRect().height,
  };
}"""


async def _shortener(ctx: ServiceContext) -> uuid.UUID:
    return (await planned_mission(ctx, SHORTENER)).id


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_the_diagrams_page_draws_the_product_flow_legibly(
    live_server: LiveServer, page: Page, width: int, height: int
) -> None:
    mission_id = seed(live_server.settings, _shortener)
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server.url}/missions/{mission_id}/diagrams")
    figure = page.get_by_test_id("diagram-product_flow")
    expect(figure).to_be_visible()
    expect(figure.locator(".diagram-figure__title")).to_have_text("Product flow")
    svg_link = figure.get_by_role("link", name="SVG")
    expect(svg_link).to_have_attribute(
        "href", f"/api/v1/missions/{mission_id}/diagrams/product_flow.svg?plan_version=1"
    )

    boxes = figure.evaluate(BOXES)
    assert [b["label"] for b in boxes] == STEPS
    assert all(b["inside"] for b in boxes), f"a step's text leaves its box: {boxes}"
    frame = figure.evaluate(FRAME)
    assert frame["inside"], f"the drawing's frame leaves its card: {frame}"
    assert frame["svgHeight"] >= 100, f"the drawing is shrunk past reading: {frame}"
    if width == 390:
        assert frame["scrolls"] > 0  # kept at its size, it scrolls sideways in its frame
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # the page does not

    SHOTS.mkdir(parents=True, exist_ok=True)
    figure.screenshot(path=str(SHOTS / f"product-flow-{width}.png"))
    page.screenshot(path=str(SHOTS / f"diagrams-page-{width}.png"), full_page=True)
    page.emulate_media(color_scheme="dark")
    figure.screenshot(path=str(SHOTS / f"product-flow-{width}-dark.png"))


def test_the_mission_page_card_shows_the_product_flow_after_the_system_diagrams(
    live_server: LiveServer, page: Page
) -> None:
    mission_id = seed(live_server.settings, _shortener)
    page.goto(f"{live_server.url}/missions/{mission_id}")
    card = page.locator("#system-diagrams")
    expect(card.get_by_test_id("diagram-product_flow")).to_be_visible()
    figures = card.locator("figure.diagram-figure")
    expect(figures).to_have_count(3)
    names = [figures.nth(i).get_attribute("data-testid") for i in range(3)]
    assert names == ["diagram-architecture", "diagram-deployment", "diagram-product_flow"]
    expect(card.get_by_test_id("diagram-product_flow")).to_contain_text("Shorten a URL")
    SHOTS.mkdir(parents=True, exist_ok=True)
    card.get_by_test_id("diagram-product_flow").screenshot(
        path=str(SHOTS / "mission-page-product-flow-1440.png")
    )
