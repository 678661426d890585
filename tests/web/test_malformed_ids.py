"""A page address with a malformed id is the plain not-found page, like an unknown id."""

import re

import httpx2
import pytest

from missionctl.app import create_app
from missionctl.security.guard import route_table
from missionctl.settings import Settings

PAGE = {"accept": "text/html"}


def id_routes(settings: Settings) -> list[tuple[str, str]]:
    """(method, path with ``nope`` for every id) of each page route with an id path parameter."""
    found: list[tuple[str, str]] = []
    for entry in route_table(create_app(settings)):
        if not entry.is_api_route or entry.path.startswith("/api/"):
            continue
        if not re.search(r"\{\w+_id\}", entry.path):
            continue
        path = re.sub(r"\{\w+_id\}", "nope", entry.path)
        path = re.sub(r"\{\w+(:\w+)?\}", "x", path)  # any other parameter (a step id)
        found.extend((method, path) for method in entry.methods if method != "HEAD")
    return found


def test_the_id_routes_are_found(settings: Settings) -> None:
    paths = {path for _, path in id_routes(settings)}
    assert {"/missions/nope", "/runs/nope", "/artifacts/nope"} <= paths
    assert "/approvals/nope/decide" in paths


async def test_every_page_route_answers_a_malformed_id_with_the_not_found_page(
    settings: Settings, client: httpx2.AsyncClient
) -> None:
    for method, path in id_routes(settings):
        response = await client.request(method, path, headers=PAGE)
        where = f"{method} {path}"
        assert response.status_code == 404, where
        assert "valid UUID" not in response.text, where
        assert "<!doctype html>" in response.text.lower(), where
        assert "Not found" in response.text, where


@pytest.mark.parametrize("path", ["/missions/nope", "/runs/nope", "/artifacts/nope"])
async def test_a_malformed_id_reads_like_an_unknown_one(
    client: httpx2.AsyncClient, path: str
) -> None:
    response = await client.get(path, headers=PAGE)
    assert response.status_code == 404
    assert "no " in response.text and " with id nope" in response.text
    assert "uuid" not in response.text.lower()
