"""Private answers are never cached; HTTPS requests get Strict-Transport-Security.

Every response that depends on who asks — pages, API answers, the live stream, downloads,
errors — carries ``Cache-Control: no-store``; the vendored static files stay cacheable. HSTS
is sent when the request came over HTTPS as the server saw it: directly, or through a proxy
whose forwarded headers uvicorn was told to trust; a forwarded header alone proves nothing.
"""

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from missionctl.app import create_app
from missionctl.security.headers import STRICT_TRANSPORT_SECURITY
from missionctl.services.usecases.artifacts import NewArtifact, add_artifacts, put_blobs
from missionctl.settings import Settings
from tests.support.auth import bearer_headers
from tests.web.support import StreamingASGITransport, start_steps, wait_for_run

HSTS = "strict-transport-security"


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


def _client(asgi: Any, base_url: str, headers: dict[str, str] | None = None) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=asgi)
    return httpx2.AsyncClient(transport=transport, base_url=base_url, headers=headers or {})


async def test_every_private_answer_says_no_store_and_static_files_do_not(app: Any) -> None:
    ctx = app.state.ctx
    headers = await bearer_headers(ctx)
    new = NewArtifact(name="notes.md", kind="markdown", media_type="text/markdown", content=b"#")
    (blob,) = await put_blobs(ctx, [new])
    async with ctx.db.write() as session:
        (artifact,) = await add_artifacts(
            session, stored=[(new, blob)], run_id=None, mission_id=None
        )
    run = await start_steps(ctx, None, [{"id": "first", "agent": "builtin:noop"}])
    await wait_for_run(ctx, run.id)
    html = {"accept": "text/html"}
    async with _client(app, "http://testserver", headers) as http:
        answers = {
            "page": await http.get("/missions", headers=html),
            "run page": await http.get(f"/runs/{run.id}", headers=html),
            "api": await http.get("/api/v1/missions"),
            "download": await http.get(f"/api/v1/artifacts/{artifact.id}/content"),
            "report": await http.get(f"/api/v1/runs/{run.id}/report?format=markdown"),
            "invalid": await http.get(f"/api/v1/runs/{run.id}0"),
            "health": await http.get("/healthz"),
        }
        static = await http.get("/static/js/app.js")
    async with _client(app, "http://testserver") as anonymous:
        answers["sign-in page"] = await anonymous.get("/sign-in")
        answers["refused"] = await anonymous.get("/api/v1/missions")
    async with (
        httpx2.AsyncClient(
            transport=StreamingASGITransport(app), base_url="http://testserver", headers=headers
        ) as streaming,
        streaming.stream("GET", f"/runs/{run.id}/stream") as response,
    ):
        answers["stream"] = response
        assert response.headers["content-type"].startswith("text/event-stream")

    not_private = {what: r.headers.get("cache-control") for what, r in answers.items()}
    assert not_private == dict.fromkeys(answers, "no-store")
    assert static.status_code == 200 and "cache-control" not in static.headers
    assert "etag" in static.headers  # still revalidated cheaply


async def test_hsts_only_when_the_request_came_over_https(app: Any) -> None:
    async with _client(app, "https://testserver") as https:
        assert (await https.get("/sign-in")).headers[HSTS] == STRICT_TRANSPORT_SECURITY
        assert (await https.get("/static/js/app.js")).headers[HSTS] == STRICT_TRANSPORT_SECURITY
    async with _client(app, "http://testserver") as http:
        assert HSTS not in (await http.get("/sign-in")).headers
        # A forwarded header alone is anyone's to send.
        forged = await http.get("/sign-in", headers={"x-forwarded-proto": "https"})
        assert HSTS not in forged.headers


async def test_behind_a_trusted_proxy_the_forwarded_scheme_counts(app: Any) -> None:
    # What `missionctl serve` gets from uvicorn: X-Forwarded-* is read from trusted addresses.
    trusting = ProxyHeadersMiddleware(app, trusted_hosts="127.0.0.1")
    async with _client(trusting, "http://testserver") as http:
        behind = await http.get("/sign-in", headers={"x-forwarded-proto": "https"})
        assert behind.headers[HSTS] == STRICT_TRANSPORT_SECURITY
        assert "; Secure" in behind.headers["set-cookie"]  # the session cookie agrees
    distrusting = ProxyHeadersMiddleware(app, trusted_hosts="10.9.9.9")
    async with _client(distrusting, "http://testserver") as http:
        elsewhere = await http.get("/sign-in", headers={"x-forwarded-proto": "https"})
        assert HSTS not in elsewhere.headers
