"""Downloads: any artifact name gives a sound header, and the content route sends what it documents.

``artifacts/报告.md`` was a 500 (its Content-Disposition was not Latin-1) and a name with ``"``
broke the header. Every name now gets an ASCII ``filename=`` and the exact name in
``filename*=UTF-8''…`` (RFC 6266, RFC 8187), which a standard parser reads back. The content
route's schema documents the artifact's bytes (``application/octet-stream`` or its own media
type) and JSON errors; schemathesis validates real answers against it.
"""

import uuid
from collections.abc import AsyncIterator
from email.message import Message
from email.utils import collapse_rfc2231_value
from typing import Any

import httpx2
import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from missionctl.app import create_app
from missionctl.security.downloads import content_disposition, download_media_type
from missionctl.services.usecases.artifacts import NewArtifact, add_artifacts, put_blobs
from missionctl.settings import Settings
from tests.support.auth import bearer_headers

CONTENT = "/api/v1/artifacts/{artifact_id}/content"
NAMES = [
    "artifacts/报告.md",
    "报告.md",
    'say "hi".txt',
    "back\\slash.txt",
    "semi;colon; filename=evil.exe",
    "line\r\nX-Injected: 1.txt",
    "100% done.txt",
    "résumé.pdf",
    "报" * 85,  # 255 bytes of UTF-8, the longest file name most file systems allow
    "",
]


def _parsed(value: str) -> tuple[str, str | None]:
    """The disposition and the file name an RFC 6266 reader takes (``filename*`` first)."""
    message = Message()
    message["content-disposition"] = value
    params = message.get_params(header="content-disposition") or []
    extended = [v for k, v in params if k == "filename" and isinstance(v, tuple)]
    plain = [v for k, v in params if k == "filename" and isinstance(v, str)]
    name = collapse_rfc2231_value(extended[0]) if extended else (plain or [None])[0]
    return message.get_content_disposition() or "", name


@pytest.mark.parametrize("name", NAMES)
def test_every_name_gives_one_ascii_line_that_reads_back_exactly(name: str) -> None:
    value = content_disposition(name)

    value.encode("latin-1")  # a header value: never a 500
    assert value.isascii() and "\r" not in value and "\n" not in value
    disposition, filename = _parsed(value)
    assert disposition == "attachment"
    assert filename == (name or "download")
    fallback = value.split('filename="', 1)[1].split('"; filename*=', 1)[0]
    assert not set(fallback) & set('"\\;%\r\n') and fallback.isascii() and fallback


def test_the_ascii_stand_in_keeps_what_it_can() -> None:
    assert content_disposition("résumé.pdf").startswith('attachment; filename="resume.pdf";')
    assert content_disposition("报告.md").startswith('attachment; filename="__.md";')
    assert content_disposition("a/b.txt", inline=True).startswith('inline; filename="a_b.txt";')


def test_only_well_formed_media_types_are_sent() -> None:
    assert download_media_type("text/markdown; charset=utf-8") == "text/markdown; charset=utf-8"
    assert download_media_type("application/vnd.api+json") == "application/vnd.api+json"
    assert download_media_type('text/plain; a="b c"') == 'text/plain; a="b c"'
    bad = [
        "text/plain\r\nX-Evil: 1",
        "nonsense",
        "",
        'text/plain; a="b',
        # Not printable ASCII: the server cannot encode it (was a UnicodeEncodeError, a 500).
        'text/plain; x="中"',
        'text/plain; x="\x7f"',
        "text/plain\n",
        "text/plain\r\n; a=b",
    ]
    for value in bad:
        assert download_media_type(value) == "application/octet-stream", value


class Served:
    def __init__(self, app: FastAPI, http: httpx2.AsyncClient) -> None:
        self.app = app
        self.http = http

    async def artifact(self, name: str, media_type: str, content: bytes) -> str:
        ctx = self.app.state.ctx
        new = NewArtifact(name=name, kind="file", media_type=media_type, content=content)
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


async def test_downloads_of_awkward_names_succeed_with_their_exact_name(served: Served) -> None:
    for name in NAMES:
        artifact_id = await served.artifact(name, "text/markdown", b"# hello\n")
        response = await served.http.get(f"/api/v1/artifacts/{artifact_id}/content")
        assert response.status_code == 200, (name, response.text)
        assert _parsed(response.headers["content-disposition"])[1] == (name or "download")
        assert response.content == b"# hello\n"
    broken = await served.artifact("x.bin", "text/plain\r\nX-Evil: 1", b"\x00")
    response = await served.http.get(f"/api/v1/artifacts/{broken}/content")
    assert response.headers["content-type"] == "application/octet-stream"
    assert "x-evil" not in response.headers
    wide = await served.artifact("x.txt", 'text/plain; x="中"', b"x")
    response = await served.http.get(f"/api/v1/artifacts/{wide}/content")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"


def _content_operation(app: FastAPI) -> Any:
    schema = schemathesis.openapi.from_dict(app.openapi())
    return schema[CONTENT]["GET"]


def test_the_content_route_documents_bytes_and_json_errors(settings: Settings) -> None:
    operation = create_app(settings).openapi()["paths"][CONTENT]["get"]
    responses = operation["responses"]
    assert responses["200"]["content"]["application/octet-stream"]["schema"] == {
        "type": "string",
        "format": "binary",
    }
    errors = {status: r for status, r in responses.items() if not status.startswith("2")}
    assert {"401", "403", "404", "422", "500"} <= set(errors)
    for answer in errors.values():
        assert list(answer["content"]) == ["application/json"]
        assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")


async def test_what_the_content_route_sends_is_what_it_documents(served: Served) -> None:
    operation = _content_operation(served.app)
    checks = [
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    ]
    ids = [
        await served.artifact("data.json", "application/json", b'{"a": [1, 2]}'),
        await served.artifact("notes.md", "text/markdown", b"# notes"),
        await served.artifact("blob.bin", "application/octet-stream", b"\x00\x01"),
        str(uuid.uuid4()),  # a 404, answered in JSON
    ]
    statuses = []
    for artifact_id in ids:
        case = operation.Case(path_parameters={"artifact_id": artifact_id})
        response = await served.http.get(f"/api/v1/artifacts/{artifact_id}/content")
        statuses.append(response.status_code)
        case.validate_response(response, checks=checks)
    assert statuses == [200, 200, 200, 404]
