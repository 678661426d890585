"""Coding steps run only programs and repositories an admin allowed, whoever saves them.

The attack: an operator saved and ran a ``coding:generic`` step whose ``argv`` was any program,
on any repository of the worker or any clone URL (the cloud's metadata address among them),
with a deployment secret in its environment, and it ran at once. Now its program is judged by
the command agent's allow-list, its secrets by the same rule as a command step's, and its
repository by the list admins keep on ``coding:*``; a clone URL to a private address is refused.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI

from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from tests.engine.helpers import run_events
from tests.support.auth import bearer_headers

REPO = "/srv/any/repo"
CODING = "/api/v1/agents/coding:*"
COMMAND = "/api/v1/agents/command"
METADATA = [
    "http://169.254.169.254/latest/meta-data",
    "http://2852039166/repo.git",
    "http://0xa9fea9fe/repo.git",
    "https://127.0.0.1/repo.git",
    "ssh://git@[::ffff:169.254.169.254]:22/repo.git",
    "git@0251.0376.0251.0376:repo.git",
]


def probe(**inputs: Any) -> dict[str, Any]:
    """The attacker's workflow: a coding:generic step running ``sh`` on a worker's repository."""
    return {
        "name": "probe/oprce",
        "steps": [
            {
                "id": "fix",
                "agent": "coding:generic",
                "inputs": {
                    "repository": REPO,
                    "base": "main",
                    "approval_mode": "workspace-write",
                    "prompt": "x",
                    "argv": ["sh", "-c", "cd ${worktree} && cat app.py"],
                }
                | inputs,
            }
        ],
    }


@pytest.fixture
async def as_role(app: FastAPI) -> AsyncIterator[dict[Role, httpx2.AsyncClient]]:
    """One client per role, each with its own API token."""
    ctx: ServiceContext = app.state.ctx
    transport = httpx2.ASGITransport(app=app)
    clients = {}
    for role in Role:
        headers = await bearer_headers(ctx, f"{role.value}-coder", role)
        clients[role] = httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        )
    yield clients
    for client in clients.values():
        await client.aclose()


async def _save_and_run(client: httpx2.AsyncClient, workflow: dict[str, Any]) -> dict[str, Any]:
    saved = await client.post("/api/v1/workflows", json=workflow)
    assert saved.status_code == 201, saved.text
    started = await client.post(f"/api/v1/workflows/{saved.json()['id']}/runs", json={})
    assert started.status_code == 202, started.text
    return dict(started.json())


async def _requested(ctx: ServiceContext, run: dict[str, Any]) -> list[str]:
    events = await run_events(ctx, uuid.UUID(run["id"]))
    return [e.payload["reason"] for e in events if e.type == "approval.requested"]


async def test_the_probe_waits_for_an_approver_who_reads_the_program(
    app: FastAPI, as_role: dict[Role, httpx2.AsyncClient]
) -> None:
    allowed = await as_role[Role.ADMIN].patch(
        CODING, json={"allowed_repositories": {"/srv/any": True}}
    )
    assert allowed.status_code == 200, allowed.text
    run = await _save_and_run(as_role[Role.OPERATOR], probe())
    [step] = run["steps"]
    assert step["status"] == "awaiting_approval"
    [reason] = await _requested(app.state.ctx, run)
    assert "'sh' is not on the command agent's allow-list" in reason
    assert "it runs: sh -c 'cd ${worktree} && cat app.py'" in reason
    [card] = (await as_role[Role.APPROVER].get("/api/v1/approvals")).json()
    assert card["action"].startswith("sh -c 'cd ${worktree} && cat app.py'")


async def test_a_read_only_step_of_a_preset_waits_too_and_shows_the_cli(
    app: FastAPI, as_role: dict[Role, httpx2.AsyncClient]
) -> None:
    await as_role[Role.ADMIN].patch(CODING, json={"allowed_repositories": {REPO: True}})
    workflow = probe(approval_mode="read-only")
    workflow["steps"][0]["agent"] = "coding:codex"
    del workflow["steps"][0]["inputs"]["argv"]
    run = await _save_and_run(as_role[Role.OPERATOR], workflow)
    assert run["steps"][0]["status"] == "awaiting_approval"
    [card] = (await as_role[Role.APPROVER].get("/api/v1/approvals")).json()
    assert card["action"] == (
        "codex exec --skip-git-repo-check --ephemeral --disable plugins -c analytics.enabled=false "
        "--sandbox read-only -- '${prompt}'"
    )


async def test_a_secret_waits_for_an_approver_who_is_told_its_name(
    app: FastAPI, as_role: dict[Role, httpx2.AsyncClient]
) -> None:
    admin = as_role[Role.ADMIN]
    await admin.patch(CODING, json={"allowed_repositories": {REPO: True}})
    await admin.patch(COMMAND, json={"allowed_programs": {"sh": {"tier": "read"}}})
    secret = {"secret_env": {"DEPLOY_TOKEN": "deploy_token"}}
    run = await _save_and_run(as_role[Role.OPERATOR], probe(**secret))
    assert run["steps"][0]["status"] == "awaiting_approval"
    [reason] = await _requested(app.state.ctx, run)
    assert "inputs.secret_env sets DEPLOY_TOKEN" in reason
    assert "it is handed the secrets DEPLOY_TOKEN←deploy_token" in reason


async def test_once_an_admin_allows_program_and_repository_the_step_runs_unasked(
    app: FastAPI, as_role: dict[Role, httpx2.AsyncClient]
) -> None:
    admin, operator = as_role[Role.ADMIN], as_role[Role.OPERATOR]
    await admin.patch(CODING, json={"allowed_repositories": {REPO: True}})
    first = await _save_and_run(operator, probe())
    assert first["steps"][0]["status"] == "awaiting_approval"
    await admin.patch(COMMAND, json={"allowed_programs": {"sh": {"tier": "read"}}})
    second = await _save_and_run(operator, probe())
    assert second["steps"][0]["status"] == "queued"
    assert await _requested(app.state.ctx, second) == []


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR, Role.APPROVER])
async def test_only_an_admin_changes_either_list(
    as_role: dict[Role, httpx2.AsyncClient], role: Role
) -> None:
    client = as_role[role]
    refused = await client.patch(CODING, json={"allowed_repositories": {REPO: True}})
    assert refused.status_code == 403
    refused = await client.patch(COMMAND, json={"allowed_programs": {"sh": {"tier": "read"}}})
    assert refused.status_code == 403
    agents = (await as_role[Role.ADMIN].get("/api/v1/agents")).json()
    rules = {agent["name"]: agent for agent in agents}
    assert rules["coding:*"]["allowed_repositories"] == []
    assert rules["command"]["allowed_programs"] == {}


async def test_a_repository_nobody_allowed_is_refused_at_save_naming_the_fix(
    as_role: dict[Role, httpx2.AsyncClient],
) -> None:
    operator = as_role[Role.OPERATOR]
    saved = await operator.post("/api/v1/workflows", json=probe())
    assert saved.status_code == 422
    assert "steps.0.inputs.repository" in saved.text
    assert "missionctl agents allow-repository /srv/any/repo" in saved.text
    mission = {"goal": "Fix the login", "repository": {"source": REPO, "agent": "coding:codex"}}
    refused = await operator.post("/api/v1/missions", json=mission)
    assert refused.status_code == 409  # the allow-list refuses it: an admin can change that
    assert "repository.source" in refused.text and "allow-repository" in refused.text
    await as_role[Role.ADMIN].patch(CODING, json={"allowed_repositories": {"/srv/other": True}})
    elsewhere = await operator.post("/api/v1/workflows", json=probe())
    assert elsewhere.status_code == 422 and "is not an allowed repository" in elsewhere.text
    assert (await operator.get("/api/v1/workflows")).json() == []
    assert (await operator.get("/api/v1/missions")).json()["total"] == 0


@pytest.mark.parametrize("source", METADATA)
async def test_a_clone_url_to_a_private_address_is_refused_naming_the_setting(
    as_role: dict[Role, httpx2.AsyncClient], source: str
) -> None:
    await as_role[Role.ADMIN].patch(CODING, json={"allowed_repositories": {source: True}})
    operator = as_role[Role.OPERATOR]
    saved = await operator.post("/api/v1/workflows", json=probe(repository=source))
    assert saved.status_code == 422
    assert "MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS" in saved.text
    assert "steps.0.inputs.repository" in saved.text
    mission = {"goal": "Fix the login", "repository": {"source": source}}
    refused = await operator.post("/api/v1/missions", json=mission)
    assert refused.status_code == 409  # a setting refuses it
    assert "MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS" in refused.text
    assert (await operator.get("/api/v1/missions")).json()["total"] == 0


@pytest.mark.both_databases
async def test_two_admins_allowing_one_repository_at_once_leave_one_entry(
    app: FastAPI, as_role: dict[Role, httpx2.AsyncClient]
) -> None:
    other = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app),
        base_url="http://testserver",
        headers=await bearer_headers(app.state.ctx, "second-admin", Role.ADMIN),
    )
    async with other:
        body = {"allowed_repositories": {"/srv/repos/": True}}
        answers = await asyncio.gather(
            as_role[Role.ADMIN].patch(CODING, json=body), other.patch(CODING, json=body)
        )
    assert [answer.status_code for answer in answers] == [200, 200]
    listed = (await as_role[Role.VIEWER].get("/api/v1/agents")).json()
    [coding] = [agent for agent in listed if agent["name"] == "coding:*"]
    assert coding["allowed_repositories"] == ["/srv/repos"]
