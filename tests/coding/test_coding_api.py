"""Coding missions and decisions over the API: validation, roles, and the diff before a merge."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
from fastapi import FastAPI

from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from tests.coding.helpers import (
    allow_coding,
    coding_agents,
    coding_step,
    make_repository,
    merge_step,
)
from tests.engine.helpers import running_engine, start, wait_for_run, wait_for_step
from tests.support.auth import bearer_headers

GOAL = "Add a health check endpoint"


@pytest.fixture
async def as_role(app: FastAPI) -> AsyncIterator[dict[Role, httpx2.AsyncClient]]:
    """One client per role, each with its own API token."""
    ctx: ServiceContext = app.state.ctx
    clients = {}
    transport = httpx2.ASGITransport(app=app)
    for role in (Role.VIEWER, Role.OPERATOR, Role.APPROVER):
        headers = await bearer_headers(ctx, f"{role.value}-user", role)
        clients[role] = httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        )
    yield clients
    for client in clients.values():
        await client.aclose()


async def test_a_mission_names_its_repository_and_coding_agent(
    app: FastAPI, as_role: dict[Role, httpx2.AsyncClient]
) -> None:
    await allow_coding(app.state.ctx, "/srv/repos")
    body = {
        "goal": GOAL,
        "repository": {"source": "/srv/repos/shop", "base": "release/2.0", "agent": "coding:codex"},
    }
    created = await as_role[Role.OPERATOR].post("/api/v1/missions", json=body)
    assert created.status_code == 201, created.text
    mission = (await as_role[Role.VIEWER].get(f"/api/v1/missions/{created.json()['id']}")).json()
    shown = mission["repository"]
    assert {key: shown[key] for key in body["repository"]} == body["repository"]
    # Not on this machine: no test command detected, and the mission says why.
    assert shown["test_command"] is None
    assert "could not be read" in shown["test_command_note"]
    refused = await as_role[Role.VIEWER].post("/api/v1/missions", json=body)
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("repository", "field", "said"),
    [
        ({"source": "ext::sh -c touch% /tmp/x"}, "source", "absolute path or a clone URL"),
        ({"source": "relative/path"}, "source", "absolute path or a clone URL"),
        ({"source": "https://bob:s3cr3t-t0ken@git.example.com/x.git"}, "source", "password"),
        ({"source": "/srv/x", "base": "--upload-pack=evil"}, "base", "branch name"),
        ({"source": "/srv/x", "base": "a..b"}, "base", "branch name"),
        ({"source": "/srv/x", "agent": "llm:backend"}, "agent", "coding agent"),
        ({"source": "/srv/x", "shell": "bash"}, "shell", "not a known field"),
        ({"source": "/" + "x" * 5000}, "source", "2000"),
    ],
)
async def test_a_bad_repository_is_refused_naming_the_field(
    as_role: dict[Role, httpx2.AsyncClient], repository: dict[str, str], field: str, said: str
) -> None:
    client = as_role[Role.OPERATOR]
    before = (await client.get("/api/v1/missions")).json()["total"]
    response = await client.post("/api/v1/missions", json={"goal": GOAL, "repository": repository})
    assert response.status_code == 422
    assert field in response.text and said in response.text
    assert "s3cr3t-t0ken" not in response.text
    assert (await client.get("/api/v1/missions")).json()["total"] == before


async def test_full_access_over_the_api_and_the_merge_shows_its_diff(
    app: FastAPI, as_role: dict[Role, httpx2.AsyncClient], tmp_path: Path
) -> None:
    ctx: ServiceContext = app.state.ctx
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    steps = [
        coding_step("edit", "@write hello.txt: hello", repo, mode="full-access"),
        merge_step("edit"),
    ]
    run = await start(ctx, steps)
    approver, viewer = as_role[Role.APPROVER], as_role[Role.VIEWER]
    async with running_engine(ctx, agents=coding_agents(tmp_path)):
        await wait_for_step(ctx, run.id, "edit", "awaiting_approval")
        gate = f"/api/v1/approvals/{run.steps[0].id}"
        assert (await viewer.post(f"{gate}/approve")).status_code == 403
        unconfirmed = await approver.post(f"{gate}/approve", json={"reason": "fine"})
        assert unconfirmed.status_code == 422
        assert "confirm_full_access" in unconfirmed.text and "justification" in unconfirmed.text
        assert (await approver.get(gate)).json()["state"] == "pending"
        wrong_type = await approver.post(f"{gate}/approve", json={"confirm_full_access": "yes"})
        assert wrong_type.status_code == 422
        body = {"confirm_full_access": True, "justification": "writes outside src"}
        confirmed = await approver.post(f"{gate}/approve", json=body)
        assert confirmed.status_code == 200, confirmed.text
        twin = await approver.post(f"{gate}/approve", json=body)
        assert twin.status_code == 409
        await wait_for_step(ctx, run.id, "edit-merge", "awaiting_approval", within_s=30)
        listed = (await viewer.get("/api/v1/approvals")).json()
        merge = next(a for a in listed if a["step_id"] == "edit-merge")
        assert merge["diff"]["step_id"] == "edit" and "+hello" in merge["diff"]["text"]
        assert (await approver.post(f"/api/v1/approvals/{merge['id']}/approve")).status_code == 200
        done = await wait_for_run(ctx, run.id, within_s=30)
    assert done.status == "completed"
    assert (repo / "hello.txt").read_text() == "hello\n"
