"""The insights cockpit over HTTP: the page, its panels' fragments and the definitions page."""

import httpx


async def test_smoke(client: httpx.AsyncClient) -> None:
    page = await client.get("/insights")
    assert page.status_code == 200, page.text
    open("/tmp/cockpit/page.html", "w").write(page.text)
