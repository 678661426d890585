"""The artifact viewer in a browser: a Markdown document uses the viewer's whole width, and a
table too wide for it scrolls inside its own box, each header word kept on one line
("Technology", never "Technolo" over "gy"). Screenshots: artifact-viewer-*.png."""

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

from missionctl.services import ServiceContext
from missionctl.services.usecases.artifacts import NewArtifact, add_artifacts, put_blobs
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.web.support import planned_mission

pytestmark = pytest.mark.browser

HEADERS = ["Component", "Responsibility", "Technology", "Ownership", "Availability"]
# Code in a cell keeps to one line: five such columns are wider than any viewer.
WORDY = "`keeps-barcodes-shopping-lists-and-products-consistent`"
DOCUMENT = "# Components\n\n" + "\n".join(
    [
        "| " + " | ".join(HEADERS) + " |",
        "|" + " --- |" * len(HEADERS),
        *(f"| Part {n} | {WORDY} | {WORDY} | {WORDY} | {WORDY} |" for n in range(3)),
    ]
)

# For each header word: how many lines it takes (1 unless the browser broke it inside).
WORD_LINES = """() => [...document.querySelectorAll('.prose th')].flatMap(th => {
    const text = th.firstChild, found = [];
    const re = /\\S+/g;
    let m;
    while ((m = re.exec(text.data))) {
        const range = document.createRange();
        range.setStart(text, m.index);
        range.setEnd(text, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        found.push([m[0], tops.size]);
    }
    return found;
})"""

# The width the viewer's body gives its content, and the width the document takes of it.
WIDTHS = """() => {
    const body = document.querySelector('.viewer__body');
    const style = getComputedStyle(body);
    const inner = body.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const table = document.querySelector('.prose table');
    return {
        inner: inner,
        prose: document.querySelector('.prose').getBoundingClientRect().width,
        tableBox: table.getBoundingClientRect().width,
        tableScroll: table.scrollWidth,
        tableClient: table.clientWidth,
        page: document.documentElement.scrollWidth,
        window: window.innerWidth,
    };
}"""


async def _artifact(ctx: ServiceContext) -> uuid.UUID:
    mission = await planned_mission(ctx, "A pantry inventory app that scans barcodes")
    new = NewArtifact(
        name="architecture.md",
        kind="markdown",
        media_type="text/markdown",
        content=DOCUMENT.encode(),
    )
    [blob] = await put_blobs(ctx, [new])
    async with ctx.write() as session:
        [artifact] = await add_artifacts(
            session, stored=[(new, blob)], run_id=None, mission_id=mission.id
        )
    return artifact.id


@pytest.mark.parametrize("width", [1440, 1024])
def test_a_document_uses_the_viewers_width_and_its_table_scrolls_in_place(
    live_server: LiveServer, page: Page, screenshot: Callable[[str], Path], width: int
) -> None:
    artifact_id = seed(live_server.settings, _artifact)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/artifacts/{artifact_id}")
    page.wait_for_load_state("load")

    sizes = page.evaluate(WIDTHS)
    assert sizes["prose"] >= sizes["inner"] - 2, sizes  # the whole width, not a column of it
    assert sizes["tableBox"] <= sizes["inner"] + 1, sizes  # the table keeps to the viewer...
    assert sizes["tableScroll"] > sizes["tableClient"], sizes  # ...and scrolls inside it
    assert sizes["page"] <= sizes["window"], sizes  # the page itself never scrolls sideways
    words = page.evaluate(WORD_LINES)
    assert [w for w, _ in words] == HEADERS
    assert all(lines == 1 for _, lines in words), words
    screenshot(f"artifact-viewer-{width}")
