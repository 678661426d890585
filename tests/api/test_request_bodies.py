"""JSON bodies are read by one parser that refuses a key written twice, and a 422 stays small.

Before: ``{"goal": "a", "goal": "b"}`` made a mission of ``b`` (the last key won), though the
security page says a key written twice is refused; and an operator's 3.5 MB body of 300,000
unknown keys got a 52 MB 422 after seconds of work. Now the first is a 422 naming the key, and
the second lists 50 problems and counts the rest.
"""

import json

import httpx2
import pytest

from missionctl.domain.problems import MAX_PROBLEMS

# Their subject is the body parser, before any database is reached.
pytestmark = pytest.mark.one_database

JSON = {"content-type": "application/json"}


async def test_a_mission_with_a_key_written_twice_is_refused_naming_it(
    client: httpx2.AsyncClient,
) -> None:
    body = b'{"goal": "Build a URL shortener", "title": "One", "title": "Two"}'
    refused = await client.post("/api/v1/missions", content=body, headers=JSON)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["field"] == "body"
    assert "'title' appears twice" in error["message"]
    assert (await client.get("/api/v1/missions")).json()["items"] == []  # nothing was made


async def test_a_key_written_twice_deep_in_a_body_is_refused_too(
    client: httpx2.AsyncClient,
) -> None:
    body = b'{"goal": "Build a shop", "constraints": [], "budget_usd": 1, "budget_usd": 2}'
    refused = await client.post("/api/v1/missions", content=body, headers=JSON)
    assert refused.status_code == 422, refused.text
    assert "'budget_usd' appears twice" in refused.json()["error"]["message"]


async def test_a_json_definition_with_a_key_written_twice_is_not_saved(
    client: httpx2.AsyncClient,
) -> None:
    body = b'{"name": "twice", "steps": [{"id": "a", "agent": "builtin:noop", "agent": "command"}]}'
    refused = await client.post("/api/v1/workflows", content=body, headers=JSON)
    assert refused.status_code == 422, refused.text
    assert "'agent' appears twice" in refused.json()["error"]["message"]
    assert (await client.get("/api/v1/workflows")).json() == []


async def test_300_000_unknown_keys_get_50_problems_and_the_count_of_the_rest(
    client: httpx2.AsyncClient,
) -> None:
    body = {"goal": "Build a URL shortener"} | {f"k{i}": 1 for i in range(300_000)}
    content = json.dumps(body).encode()
    assert len(content) > 3_000_000
    refused = await client.post("/api/v1/missions", content=content, headers=JSON)
    assert refused.status_code == 422, refused.text[:500]
    assert len(refused.content) < 20_000
    details = refused.json()["error"]["details"]
    assert len(details) == MAX_PROBLEMS + 1
    assert all("not a known field" in d["message"] for d in details[:MAX_PROBLEMS])
    assert details[-1] == {
        "field": None,
        "message": "… and 299,950 more problems; fix these first, then check again",
    }
    assert (await client.get("/api/v1/missions")).json()["items"] == []


async def test_a_definition_s_problems_are_cut_at_50_in_the_preview_and_the_422(
    client: httpx2.AsyncClient,
) -> None:
    steps = "".join(f"  - id: s{i}\n    agent: builtin:noop\n    colour: red\n" for i in range(80))
    text = f"name: many\nsteps:\n{steps}"
    yaml = {"content-type": "application/yaml"}
    preview = await client.post("/api/v1/workflows/validate", content=text, headers=yaml)
    assert preview.status_code == 200, preview.text
    problems = preview.json()["problems"]
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1]["message"].startswith("… and 30 more problems")
    refused = await client.post("/api/v1/workflows", content=text, headers=yaml)
    assert refused.status_code == 422
    assert len(refused.json()["error"]["details"]) == MAX_PROBLEMS + 1
