"""``GET /api/v1/missions/{id}/pack``: the zip, who may download it, and what is refused.

Attacks: an anonymous caller, a viewer (the lowest role that reads missions), unknown ids and
versions, bad query values, secrets in the goal, hostile titles, and two downloads at once.
"""

import asyncio
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator

import httpx2
import pytest
from fastapi import FastAPI
from markdown_it import MarkdownIt

from missionctl.app import create_app
from missionctl.domain.access import Role
from missionctl.domain.packs import is_pack_path
from missionctl.settings import Settings
from tests.support.auth import bearer_headers
from tests.support.consistency import assert_consistent

GOAL = "Build a URL shortener with click analytics and custom aliases"
# Credential-looking tokens the redaction suite hides (tests/llm/test_redaction.py).
SECRET_KEY = "sk-proj-AbC123xyz_789"
BEARER = "Bearer abc.def-123"


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application
        await assert_consistent(application.state.ctx)


def http(app: FastAPI, headers: dict[str, str] | None = None) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=app)
    return httpx2.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


async def planned(client: httpx2.AsyncClient, **fields: object) -> str:
    created = await client.post("/api/v1/missions", json={"goal": GOAL, **fields})
    assert created.status_code == 201, created.text
    mission_id: str = created.json()["id"]
    plan = await client.post(f"/api/v1/missions/{mission_id}/plan")
    assert plan.status_code == 201, plan.text
    return mission_id


def unzip(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


async def test_a_viewer_downloads_the_zip_and_nobody_anonymous_does(app: FastAPI) -> None:
    async with http(app, await bearer_headers(app.state.ctx)) as admin:
        mission_id = await planned(admin, title="URL shortener")
        plan = (await admin.get(f"/api/v1/missions/{mission_id}/plan")).json()
    viewer_headers = await bearer_headers(app.state.ctx, "vic", Role.VIEWER)
    async with http(app, viewer_headers) as viewer, http(app) as anonymous:
        response = await viewer.get(f"/api/v1/missions/{mission_id}/pack")
        refused = await anonymous.get(f"/api/v1/missions/{mission_id}/pack")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="url-shortener-plan-v1-pack.zip"'
    )
    files = unzip(response.content)
    assert "AGENTS.md" in files and len([f for f in files if f.startswith("tasks/")]) == len(
        plan["tasks"]
    )
    assert json.loads(files["plan.json"]) == plan  # the shape GET …/plan returns
    assert refused.status_code == 401


async def test_unknown_unplanned_and_bad_versions_are_clear_errors(
    client: httpx2.AsyncClient,
) -> None:
    unknown = await client.get(f"/api/v1/missions/{uuid.uuid4()}/pack")
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "mission_id"
    draft = (await client.post("/api/v1/missions", json={"goal": GOAL})).json()["id"]
    unplanned = await client.get(f"/api/v1/missions/{draft}/pack")
    assert unplanned.status_code == 409
    assert "plan it first" in unplanned.json()["error"]["message"]
    mission_id = await planned(client)
    for bad in ("0", "-1", "x", "1.5", str(2**31), "9" * 40):
        response = await client.get(
            f"/api/v1/missions/{mission_id}/pack", params={"plan_version": bad}
        )
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]["field"] == "plan_version", bad
    missing = await client.get(f"/api/v1/missions/{mission_id}/pack?plan_version=5")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "plan_version"
    malformed = await client.get("/api/v1/missions/not-an-id/pack")
    assert malformed.status_code == 422


async def test_secrets_in_the_mission_never_reach_the_pack(client: httpx2.AsyncClient) -> None:
    mission_id = await planned(
        client,
        goal=f"{GOAL}; call the model with {SECRET_KEY}",
        constraints=[f"Send 'Authorization: {BEARER}' to the partner API"],
        repo_context=f"The CI key is {SECRET_KEY}",
        title=f"Shortener {SECRET_KEY}",
    )
    response = await client.get(f"/api/v1/missions/{mission_id}/pack")
    assert response.status_code == 200
    assert SECRET_KEY.encode() not in response.content
    assert b"abc.def-123" not in response.content
    assert SECRET_KEY not in response.headers["content-disposition"]
    assert "[REDACTED]" in unzip(response.content)["AGENTS.md"]


HOSTILE_TITLES = [
    "../../etc/passwd",
    "# Heading",
    "```",
    "Title\n===",
    "x" * 200,
    "Café 🚀 地图 ünïcödé",
    "/absolute\\windows\\..",
]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
async def test_hostile_titles_give_safe_names_and_intact_structure(
    client: httpx2.AsyncClient, title: str
) -> None:
    mission_id = await planned(
        client, title=title, goal=f"{GOAL}\n# Forged goal section\n```\nunclosed fence"
    )
    response = await client.get(f"/api/v1/missions/{mission_id}/pack")
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    ascii_name = disposition.split('filename="')[1].split('"')[0]
    assert ascii_name.endswith("-plan-v1-pack.zip") and "/" not in ascii_name
    assert ".." not in ascii_name and "\\" not in ascii_name
    files = unzip(response.content)
    assert all(is_pack_path(name) for name in files)
    headings = [
        t.content
        for t in MarkdownIt("commonmark").parse(files["AGENTS.md"])
        if t.type == "inline"
        and t.map
        and files["AGENTS.md"].splitlines()[t.map[0]].startswith("#")
    ]
    assert headings[1:] == [
        "Goal",
        "Plan summary",
        "Constraints",
        "Stack",
        "Conventions",
        "How to run and test",
        "What not to touch",
        "Task order",
        "Requirements",
        "Risks",
        "How this pack was made",
    ]
    fences = [t for t in MarkdownIt("commonmark").parse(files["AGENTS.md"]) if t.type == "fence"]
    assert fences == []


async def test_two_concurrent_downloads_return_identical_bytes(client: httpx2.AsyncClient) -> None:
    mission_id = await planned(client)
    first, second = await asyncio.gather(
        client.get(f"/api/v1/missions/{mission_id}/pack"),
        client.get(f"/api/v1/missions/{mission_id}/pack"),
    )
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
