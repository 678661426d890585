"""The mission page links to the mission's AI execution pack, and the link downloads it."""

import html
import io
import re
import zipfile

import httpx2

from missionctl.services import ServiceContext
from tests.web.support import planned_mission

_LINK = re.compile(r'<a href="([^"]+)"[^>]*data-testid="pack-link"[^>]*>([^<]+)</a>')


async def test_the_plan_area_links_to_the_pack_zip(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, "Build a URL shortener with click analytics")

    page = await client.get(f"/missions/{mission.id}")

    assert page.status_code == 200
    found = _LINK.search(page.text)
    assert found, "no pack link on the mission page"
    assert found[2] == "Download AI execution pack (.zip)"
    download = await client.get(html.unescape(found[1]))
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert "AGENTS.md" in archive.namelist()


async def test_a_mission_without_a_plan_shows_no_pack_link(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    created = await client.post("/api/v1/missions", json={"goal": "Build a URL shortener"})
    page = await client.get(f"/missions/{created.json()['id']}")
    assert page.status_code == 200 and 'data-testid="pack-link"' not in page.text
