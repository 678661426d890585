"""Coding on the pages: a merge's card shows its diff; full access is confirmed and justified."""

import sys
from pathlib import Path
from typing import Any

import httpx2
import pytest

from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from missionctl.services.usecases.approvals import list_approvals
from missionctl.web.routes.approvals import FULL_ACCESS_PROMPT
from tests.coding.helpers import allow_coding, make_repository, merge_step
from tests.engine.helpers import start, wait_for_step
from tests.support.auth import bearer_headers
from tests.web.support import HTMX
from tests.web.test_approvals_page import text_of

WRITE_HELLO = "import pathlib; pathlib.Path('hello.txt').write_text('hello <b>there</b>\\n')"


def generic(step_id: str, repo: Path, mode: str = "workspace-write") -> dict[str, Any]:
    """A ``coding:generic`` step whose program writes ``hello.txt`` (the shipped preset)."""
    return {
        "id": step_id,
        "agent": "coding:generic",
        "inputs": {
            "repository": str(repo),
            "approval_mode": mode,
            "prompt": "Say hello",
            "argv": [sys.executable, "-c", WRITE_HELLO],
        },
    }


async def _approval(ctx: ServiceContext, run_id: object, step_id: str) -> Any:
    [found] = [a for a in await list_approvals(ctx) if a.run_id == run_id and a.step_id == step_id]
    return found


async def test_a_merge_card_shows_the_diff_escaped_and_links_the_artifact(
    ctx: ServiceContext, client: httpx2.AsyncClient, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    run = await start(ctx, [generic("hello", repo), merge_step("hello")])
    await wait_for_step(ctx, run.id, "hello-merge", "awaiting_approval", within_s=30)
    approval = await _approval(ctx, run.id, "hello-merge")
    page = await client.get("/approvals")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "Will merge The changes of hello, into its base branch" in words
    assert "+hello <b>there</b>" in words
    assert "<b>there</b>" not in page.text, "the diff is text, never markup"
    assert f'href="/artifacts/{approval.diff.artifact_id}"' in page.text
    assert 'class="diff__line diff__line--add"' in page.text


async def test_full_access_on_the_page_needs_the_box_ticked_and_a_justification(
    ctx: ServiceContext, client: httpx2.AsyncClient, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    run = await start(ctx, [generic("wide", repo, mode="full-access")])
    await wait_for_step(ctx, run.id, "wide", "awaiting_approval", within_s=30)
    approval = await _approval(ctx, run.id, "wide")
    url = f"/approvals/{approval.id}/decide"
    viewer = await bearer_headers(ctx, "viewer-wide", Role.VIEWER)
    assert 'data-testid="full-access"' not in (await client.get("/approvals", headers=viewer)).text
    for data in (
        {"decision": "approve"},
        {"decision": "approve", "confirm_full_access": "true"},
        {"decision": "approve", "justification": "needs it"},
    ):
        refused = await client.post(url, data=data, headers=HTMX)
        assert refused.status_code == 422
        assert FULL_ACCESS_PROMPT in text_of(refused.text)
        assert 'class="approval__full-access field--invalid"' in refused.text
    assert (await _approval(ctx, run.id, "wide")).state == "pending"
    data = {"decision": "approve", "confirm_full_access": "true", "justification": "a lock file"}
    approved = await client.post(url, data=data, headers=HTMX)
    assert approved.status_code == 200
    assert "Approved: wide" in approved.text
    await wait_for_step(ctx, run.id, "wide", "succeeded", within_s=30)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"repository": "relative/shop"}, "repository", "give an absolute path or a clone URL"),
        ({"repository": "/srv/shop", "base_branch": "-x"}, "base_branch", "give a branch name"),
        ({"repository": "/srv/shop", "coding_agent": "llm:x"}, "coding_agent", "coding agent"),
        ({"coding_agent": "coding:codex"}, "repository", "Name the repository"),
    ],
)
async def test_the_new_mission_form_checks_the_repository_fields(
    client: httpx2.AsyncClient, fields: dict[str, str], field: str, message: str
) -> None:
    data = {"goal": "Add a health check endpoint"} | fields
    response = await client.post("/missions", data=data, headers=HTMX)
    assert response.status_code == 422
    assert f'data-field="{field}"' in response.text and message in response.text
    assert (await client.get("/api/v1/missions")).json()["total"] == 0


async def test_a_mission_created_with_a_repository_says_so_on_its_page(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    await allow_coding(ctx, "/srv/repos")
    data = {
        "goal": "Add a health check endpoint",
        "repository": "/srv/repos/shop",
        "coding_agent": "coding:claude",
    }
    response = await client.post("/missions", data=data)
    assert response.status_code == 303
    page = text_of((await client.get(response.headers["location"])).text)
    assert "Code in /srv/repos/shop on main, by coding:claude" in page
