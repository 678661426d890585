"""/docs: Swagger UI from this server's own files, open like /openapi.json, no inline script."""

import re

import httpx2

from missionctl.app import create_app
from missionctl.settings import Settings


async def test_the_docs_page_is_open_and_loads_only_files_of_this_server(
    settings: Settings,
) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
            page = await http.get("/docs")
            assert page.status_code == 200  # no identity needed, as for the schema it shows
            assert (await http.get("/openapi.json")).status_code == 200
            sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page.text)
            assert sources and all(s.startswith("/static/") for s in sources), sources
            for source in sources:
                assert (await http.get(source)).status_code == 200, source
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)  # no inline script
            assert " style=" not in page.text and 'data-openapi-url="/openapi.json"' in page.text
            policy = page.headers["content-security-policy"]
            assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
            assert (await http.get("/api/v1/runs")).status_code == 401  # trying needs identity
