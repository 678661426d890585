"""Numbers from outside are read as ASCII digits only: "²" is a digit to Python, not to ``int``.

The API fuzzer found a 500: a workflow definition whose input was named "²" failed validation,
and ordering its problems read the field path's "²" as a number (``str.isdigit`` is true of it,
``int`` refuses it). Headers, cursors and field paths now go through one reader.
"""

from collections.abc import AsyncIterator

import httpx2
import pytest
from fastapi import FastAPI

from missionctl.domain.numbers import MAX_DIGITS, ascii_int
from missionctl.services.usecases.dashboard.events import resume_cursor
from missionctl.settings import split_address
from tests.support.auth import bearer_headers

# Superscript two, Arabic-Indic three, fullwidth one; signs, separators, too many digits.
ODD = ["²", "٣", "\uff11", "1_0", "-1", "+1", "1 1", "1.0", "", "9" * (MAX_DIGITS + 1), "9" * 5000]


@pytest.mark.parametrize("text", ODD)
def test_only_ascii_digits_are_read_as_a_number(text: str) -> None:
    assert ascii_int(text) is None


@pytest.mark.parametrize(
    ("text", "number"), [("0", 0), ("007", 7), ("9" * MAX_DIGITS, 10**100 - 1)]
)
def test_ascii_digits_are_read(text: str, number: int) -> None:
    assert ascii_int(text) == number


@pytest.mark.parametrize("header", ODD)
def test_an_odd_last_event_id_is_ignored(header: str) -> None:
    assert resume_cursor(header, 41) == 41


def test_an_odd_port_is_refused_with_the_fix() -> None:
    for address in ("127.0.0.1:²", "127.0.0.1:٣٣", "127.0.0.1:" + "9" * 5000):
        with pytest.raises(ValueError, match="host:port"):
            split_address(address)


async def test_a_definition_with_an_input_named_superscript_two_is_a_422(app: FastAPI) -> None:
    headers = await bearer_headers(app.state.ctx)
    definition = {
        "name": "odd-inputs",
        "inputs": {"²": [], "Ù": {}},
        "steps": [{"id": "a", "agent": "builtin:noop", "estimate_tokens": 43.5}],
    }
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(
        transport=transport, base_url="http://t", headers=headers
    ) as http:
        response = await http.post("/api/v1/workflows", json=definition)
        assert response.status_code == 422, response.text
        fields = [d["field"] for d in response.json()["error"]["details"]]
        assert any(field.startswith("inputs.²") for field in fields), fields
        assert (await http.get("/api/v1/workflows")).json() == []  # nothing was saved


@pytest.mark.parametrize("declared", ["²", "9" * 5000])
async def test_an_odd_content_length_is_not_a_server_error(app: FastAPI, declared: str) -> None:
    headers = await bearer_headers(app.state.ctx)
    body = b'{"goal": "Build a tiny todo API"}'

    async def chunks() -> AsyncIterator[bytes]:
        yield body

    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(
        transport=transport, base_url="http://t", headers=headers
    ) as http:
        for path in ("/api/v1/missions", "/api/v1/workflows"):
            response = await http.post(
                path,
                content=chunks(),
                headers={
                    "content-length": declared.encode("latin-1"),
                    "content-type": "application/json",
                },
            )
            assert response.status_code < 500, (path, response.text)
