"""Holes found by attacking the sandbox and four-eyes changes as a low-role user would.

Each test is one attack that worked before its fix:

- A coding step's program replaced its worktree by a directory whose ``.git`` is a relative
  symbolic link; the step's ``test_command`` then ran in a sandbox that bound ``.git`` by
  path, so bubblewrap bound the file the link named (any file the server may read) into it.
- An approver started a run and approved its step through the MCP tool with their own API
  token: the tool passed no user, so the four-eyes rule saw nobody deciding.
- An approver made a schedule of someone else's workflow with the run inputs of their choice;
  the runs it started were "started by nobody", so its maker approved them.
- Webhook targets and clone hosts judged only plain and IPv4-mapped IPv6 addresses: NAT64
  (``64:ff9b::``), 6to4 (``2002::``) and IPv4-compatible (``::a.b.c.d``) forms of a private
  IPv4 address passed as public.
"""

import json
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from missionctl.agents.addresses import may_reach
from missionctl.domain.access import Role
from missionctl.domain.governance import address_refusal
from missionctl.errors import PermissionDenied
from missionctl.schemas.schedules import ScheduleCreate
from missionctl.schemas.workflows import WorkflowRead, WorkflowSpec
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.services.usecases.scheduler import fire_due
from missionctl.services.usecases.schedules import create_schedule
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import EngineSettings, Settings
from tests.coding.helpers import allow_coding, coding_agents, make_repository
from tests.coding.test_planted_git import generic_step
from tests.conftest import LiveServer
from tests.engine.helpers import run_events, running_engine, start, wait_for_run
from tests.mcp.helpers import call, http_session, refused, token_of
from tests.support.auth import ensure_user

SECRET_TEXT = "worker-only-secret-91d2"


# --- A test command's sandbox and a link in place of .git ------------------------------------


async def test_a_test_command_never_sees_the_file_a_link_in_place_of_git_names(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    secret = tmp_path / "secret_key"  # beside the data directory, as the worker's key is
    secret.write_text(SECRET_TEXT + "\n")
    await allow_coding(ctx, repo)
    # From the worktree, enough ".." to reach "/", then the file's path: bubblewrap resolves
    # the link on the host side when it binds ".git" read-only for the test command.
    swap = (
        'up=$(printf %s "${worktree}" | sed "s#[^/][^/]*#..#g")'
        " && cd .. && mv repo aside && mkdir repo"
        f' && ln -s "${{up#/}}{secret}" repo/.git'
    )
    show = [sys.executable, "-c", "print(open('.git').read())"]
    step = generic_step("swap", swap, repo, inputs={"test_command": show})
    run = await start(ctx, [step])
    async with running_engine(ctx, agents=coding_agents(tmp_path)):
        done = await wait_for_run(ctx, run.id, within_s=60)

    assert done.status == "failed"
    error = done.steps[0].error or ""
    assert "the step's worktree repo/ was moved, removed or replaced" in error, error
    recorded = json.dumps([e.payload for e in await run_events(ctx, run.id)])
    assert SECRET_TEXT not in recorded
    assert "tests_exit_code" not in done.steps[0].outputs, "the test command never ran"


# --- Four eyes through the MCP tool ----------------------------------------------------------


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    """The app under uvicorn on the test's database, with no engine (runs stay as started)."""
    live = LiveServer(settings.model_copy(update={"engine": EngineSettings(embedded=False)}))
    live.start()
    try:
        yield live
    finally:
        live.stop()


async def _gated_workflow(ctx: ServiceContext, *, actor: str = "system") -> WorkflowRead:
    spec = WorkflowSpec.model_validate(
        {
            "name": f"gated-{uuid.uuid4().hex[:8]}",
            "inputs": {"target": {"type": "string"}},
            "steps": [{"id": "deploy", "agent": "builtin:noop", "requires_approval": True}],
        }
    )
    return await create_workflow(ctx, spec=spec, actor=actor)


async def test_an_approver_may_not_approve_their_own_run_through_the_mcp_tool(
    server: LiveServer, settings: Settings
) -> None:
    async with open_context(settings, upgrade=False) as svc:
        workflow = await _gated_workflow(svc)
        abe = await token_of(svc, "abe", Role.APPROVER)
        cy = await token_of(svc, "cy", Role.APPROVER)
        async with http_session(server.url, abe) as session:
            run = await call(session, "start_run", workflow=workflow.name, inputs={"target": "x"})
            [pending] = (await call(session, "list_approvals", run_id=run["id"]))["approvals"]
            denied = await refused(
                session, "decide_approval", approval_id=pending["id"], decision="approve"
            )
            assert "four eyes: abe started its run" in denied
            undone = await call(session, "list_approvals", run_id=run["id"])
            assert undone["approvals"][0]["state"] == "pending"
        async with http_session(server.url, cy) as other:
            decided = await call(
                other, "decide_approval", approval_id=pending["id"], decision="approve"
            )
        assert decided["state"] == "approved" and decided["decided_by"] == "token:cy-mcp"


# --- Four eyes on runs a schedule started ----------------------------------------------------


async def test_the_maker_of_a_schedule_may_not_approve_the_runs_it_starts(
    ctx: ServiceContext,
) -> None:
    workflow = await _gated_workflow(ctx, actor="user:wren")  # someone else's workflow
    await ensure_user(ctx, "abe", Role.APPROVER)
    await ensure_user(ctx, "cy", Role.APPROVER)
    made = await create_schedule(
        ctx,
        data=ScheduleCreate(
            name=f"nightly-{uuid.uuid4().hex[:6]}",
            cron="0 3 * * *",
            workflow_id=workflow.id,
            inputs={"target": "abe's choice"},
        ),
        actor="user:abe",
        now=datetime(2030, 1, 1, tzinfo=UTC),
    )
    [fired] = await fire_due(ctx, now=datetime(2030, 1, 1, 3, 0, 1, tzinfo=UTC))
    assert fired.schedule_id == made.id and fired.run_id is not None
    [pending] = await list_approvals(ctx, state="pending", run_id=fired.run_id)
    assert pending.run_started_by == f"schedule:{made.name}"
    with pytest.raises(PermissionDenied) as refusal:
        await decide_approval(ctx, ref=pending.id, approve=True, actor="user:abe", user="abe")
    assert "four eyes: abe started its run" in refusal.value.message
    decided = await decide_approval(ctx, ref=pending.id, approve=True, actor="user:cy", user="cy")
    assert decided.decision == "approved"


# --- IPv6 forms of private IPv4 addresses ----------------------------------------------------

EMBEDDED_PRIVATE = [
    "64:ff9b::a9fe:a9fe",  # NAT64 well-known prefix: 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64: 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4: 169.254.169.254
    "2002:0a00:0001::",  # 6to4: 10.0.0.1
    "::a9fe:a9fe",  # IPv4-compatible: 169.254.169.254
    "::ffff:0:7f00:1",  # IPv4-translated: 127.0.0.1
]


@pytest.mark.parametrize("address", EMBEDDED_PRIVATE)
def test_an_ipv6_form_of_a_private_ipv4_address_is_not_reachable(address: str) -> None:
    assert not may_reach(address, [])
    refusal = address_refusal(f"https://[{address}]/repo.git", [])
    assert refusal is not None and "private" in refusal


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1", "2606:4700::1111"])
def test_an_ipv6_form_of_a_public_address_stays_reachable(address: str) -> None:
    assert may_reach(address, [])
    assert address_refusal(f"https://[{address}]/repo.git", []) is None
