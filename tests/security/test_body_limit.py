"""Oversized bodies are refused before they are read, before any authentication work.

The attack of the security review: 100 MB bodies were read in full before the 401 or 422. Now a
body over ``MISSIONCTL_SERVER_MAX_BODY_BYTES`` is answered 413 with the API's error shape, at
once when its length is declared and as soon as the limit is crossed when it is chunked. The
100 MB are generated lazily: the tests count how much of them the app pulled.
"""

import json
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from missionctl.app import create_app
from missionctl.services.usecases.workflow_checks import MAX_DEFINITION_BYTES
from missionctl.settings import ServerSettings, Settings
from tests.conftest import LiveServer
from tests.support.auth import bearer_headers

HUNDRED_MB = 100 * 1024 * 1024
CHUNK = 64 * 1024
SMALL_LIMIT = 4096


class Body:
    """``size`` bytes of JSON-ish filler, made chunk by chunk as they are asked for."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.size:
            chunk = b" " * min(CHUNK, self.size - self.pulled)
            self.pulled += len(chunk)
            yield chunk


@pytest.fixture
async def app_http(settings: Settings) -> AsyncIterator[tuple[Any, httpx2.AsyncClient]]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield app, http


def _assert_refused(response: httpx2.Response, limit: int) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "body_too_large" and error["field"] == "body"
    assert str(limit) in error["message"] and "MISSIONCTL_SERVER_MAX_BODY_BYTES" in error["message"]
    assert response.headers["cache-control"] == "no-store"  # the headers still wrap it


async def test_a_declared_100_mb_body_is_refused_unread_and_unauthenticated(
    app_http: tuple[Any, httpx2.AsyncClient],
) -> None:
    _, http = app_http
    body = Body(HUNDRED_MB)
    started = time.monotonic()
    response = await http.post(
        "/api/v1/missions",
        content=body,
        headers={"content-length": str(HUNDRED_MB), "content-type": "application/json"},
    )
    _assert_refused(response, ServerSettings().max_body_bytes)
    assert body.pulled <= CHUNK  # not a byte was asked for past what the transport pre-reads
    assert time.monotonic() - started < 2


async def test_a_chunked_100_mb_body_is_cut_off_at_the_limit(
    app_http: tuple[Any, httpx2.AsyncClient],
) -> None:
    app, http = app_http
    body = Body(HUNDRED_MB)
    started = time.monotonic()
    # Signed in: an anonymous body is refused 401 before a byte of it is read (ADR 0076).
    headers = {"content-type": "application/json", **await bearer_headers(app.state.ctx)}
    response = await http.post("/api/v1/missions", content=body, headers=headers)
    _assert_refused(response, ServerSettings().max_body_bytes)
    assert body.pulled <= ServerSettings().max_body_bytes + CHUNK
    assert time.monotonic() - started < 5


@pytest.fixture
async def small(settings: Settings) -> AsyncIterator[httpx2.AsyncClient]:
    tight = settings.model_copy(update={"server": ServerSettings(max_body_bytes=SMALL_LIMIT)})
    app = create_app(tight)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        headers = await bearer_headers(app.state.ctx)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as http:
            yield http


def _mission_body(size: int) -> bytes:
    """A valid mission as JSON, padded with whitespace to exactly ``size`` bytes."""
    body = json.dumps({"goal": "Build a URL shortener"}).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


async def test_a_body_at_the_limit_still_works_one_byte_more_does_not(
    small: httpx2.AsyncClient,
) -> None:
    json_type = {"content-type": "application/json"}
    at_limit = await small.post(
        "/api/v1/missions", content=_mission_body(SMALL_LIMIT), headers=json_type
    )
    assert at_limit.status_code == 201, at_limit.text
    over = await small.post(
        "/api/v1/missions", content=_mission_body(SMALL_LIMIT + 1), headers=json_type
    )
    _assert_refused(over, SMALL_LIMIT)

    async def chunks(size: int) -> AsyncIterator[bytes]:
        body = _mission_body(size)
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    streamed = await small.post("/api/v1/missions", content=chunks(SMALL_LIMIT), headers=json_type)
    assert streamed.status_code == 201, streamed.text
    _assert_refused(
        await small.post("/api/v1/missions", content=chunks(SMALL_LIMIT + 1), headers=json_type),
        SMALL_LIMIT,
    )


def test_the_default_fits_the_largest_legitimate_body() -> None:
    # A definition at its cap, sent from the editor's form: URL encoding makes a byte at most 3.
    assert ServerSettings().max_body_bytes >= 3 * MAX_DEFINITION_BYTES + 64 * 1024


def test_over_real_http_a_declared_body_is_answered_before_it_is_sent(
    live_server: LiveServer,
) -> None:
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /api/v1/missions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % HUNDRED_MB
        )
        started = time.monotonic()
        answer = b""
        while b"\r\n\r\n" not in answer:
            piece = sock.recv(65536)
            assert piece, "the server closed without answering"
            answer += piece
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert time.monotonic() - started < 2
