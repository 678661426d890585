"""Artifacts are served inert: a step's script, page or drawing never runs in the app's origin.

A step's ``z.js`` was served as ``text/javascript`` from the app's own origin, where
``script-src 'self'`` would let any later injection load it; ``x.html`` and ``y.svg`` opened in
a tab ran in the origin too. Every download is now an attachment, never sniffed, sandboxed,
and typed as what it is only when that type is passive; the in-page viewers still render.
"""

from collections.abc import AsyncIterator

import httpx2
import pytest

from missionctl.app import create_app
from missionctl.security.downloads import served_media_type
from missionctl.services.usecases.artifacts import NewArtifact, add_artifacts, put_blobs
from missionctl.settings import Settings
from tests.support.auth import bearer_headers

# What a command step records for these names (mimetypes.guess_type), and what a hostile agent
# could claim.
ACTIVE = [
    ("z.js", "text/javascript", b"fetch('/api/v1/tokens', {method: 'POST'})"),
    ("x.html", "text/html", b"<script>alert(document.cookie)</script>"),
    ("y.svg", "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ("page.xhtml", "application/xhtml+xml", b"<html/>"),
    ("z2.js", "application/javascript; charset=utf-8", b"alert(1)"),
    ("x2.html", "TEXT/HTML; charset=utf-8", b"<b>hi</b>"),
    ("feed.xml", "text/xml", b"<a/>"),
]


class Served:
    """The app, an admin's client, and a way to store an artifact as a step would."""

    def __init__(self, app: object, http: httpx2.AsyncClient) -> None:
        self.app = app
        self.http = http

    async def artifact(self, name: str, media_type: str, content: bytes, kind: str = "file") -> str:
        ctx = self.app.state.ctx  # type: ignore[attr-defined]
        new = NewArtifact(name=name, kind=kind, media_type=media_type, content=content)
        (blob,) = await put_blobs(ctx, [new])
        async with ctx.db.write() as session:
            (read,) = await add_artifacts(
                session, stored=[(new, blob)], run_id=None, mission_id=None
            )
        return str(read.id)


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[Served]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        headers = await bearer_headers(app.state.ctx)
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as http:
            yield Served(app, http)


def _inert(response: httpx2.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "sandbox"


async def test_scripts_pages_and_drawings_download_as_inert_bytes(served: Served) -> None:
    for name, media_type, content in ACTIVE:
        artifact_id = await served.artifact(name, media_type, content)
        response = await served.http.get(f"/api/v1/artifacts/{artifact_id}/content")
        _inert(response)
        assert response.headers["content-type"] == "application/octet-stream", name
        assert response.content == content  # the bytes themselves are untouched


async def test_passive_types_keep_their_type_and_are_inert_too(served: Served) -> None:
    kept = [
        ("notes.md", "text/markdown; charset=UTF-8", "text/markdown; charset=utf-8"),
        ("data.json", "application/json", "application/json"),
        ("plot.png", "image/png", "image/png"),
        ("run.log", "text/plain", "text/plain; charset=utf-8"),
    ]
    for name, recorded, sent in kept:
        artifact_id = await served.artifact(name, recorded, b"x")
        response = await served.http.get(f"/api/v1/artifacts/{artifact_id}/content")
        _inert(response)
        assert response.headers["content-type"] == sent, name


async def test_the_in_page_viewers_still_render(served: Served) -> None:
    markdown = await served.artifact(
        "notes.md", "text/markdown", b"# Findings\n\n- one", "markdown"
    )
    data = await served.artifact("data.json", "application/json", b'{"answer": 42}', "json")
    diff = await served.artifact(
        "change.diff", "text/x-diff", b"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n", "diff"
    )
    page = await served.http.get(f"/artifacts/{markdown}")
    assert page.status_code == 200 and "<h1" in page.text and "Findings" in page.text
    assert "sandbox" not in page.headers["content-security-policy"]
    assert "answer" in (await served.http.get(f"/artifacts/{data}")).text
    assert "new" in (await served.http.get(f"/artifacts/{diff}")).text


def test_only_listed_passive_types_are_kept() -> None:
    assert served_media_type("image/svg+xml") == "application/octet-stream"
    assert served_media_type("text/html") == "application/octet-stream"
    assert served_media_type("application/pdf") == "application/octet-stream"
    assert served_media_type("text/plain\r\nX-Evil: 1") == "application/octet-stream"
    assert served_media_type('text/csv; charset="latin-1"; x=y') == "text/csv; charset=latin-1"
    assert served_media_type("image/png; name=evil.html") == "image/png"
