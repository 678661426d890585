"""The Memory page through the app: a remembered mission's summary does not repeat its title."""

import html as html_lib
import re

from missionctl.services.followers import MEMORY_INDEX, catch_up
from tests.memory.helpers import SHOPS, finish
from tests.web.conftest import LiveApp


def text_of(html: str) -> str:
    """The page's words, tags removed, entities decoded and spaces collapsed."""
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))).strip()


async def test_a_summary_hit_names_the_mission_once(live_app: LiveApp) -> None:
    title, goal = SHOPS[0]
    mission_id = await finish(live_app.http, title, goal)
    await catch_up(live_app.ctx, MEMORY_INDEX)

    response = await live_app.http.get("/memory", params={"q": "candles"})

    assert response.status_code == 200
    result = re.search(
        rf'<li class="memory-result" data-mission="{mission_id}">(.*?)</ul>', response.text, re.S
    )
    assert result is not None, response.text
    words = text_of(result.group(1))
    # Once, as the result's link: not again as the hit's title, nor at the summary's start.
    assert words.count(title) == 1, words
    summary = re.search(r'data-kind="summary">(.*?)</li>', result.group(1), re.S)
    assert summary is not None
    assert text_of(summary.group(1)).startswith("summary Build a web shop for handmade candles")
