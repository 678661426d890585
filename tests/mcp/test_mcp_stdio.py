"""``missionctl mcp``: the MCP server over stdio, spawned as the SDK's client spawns it.

The command runs in a process of its own on the test's database (SQLite and PostgreSQL) with
a token in ``MISSIONCTL_TOKEN``; the SDK's ``ClientSession`` talks to it over its stdin and
stdout. What it changes is read back through the services.
"""

import subprocess
import uuid
from collections.abc import AsyncIterator

import pytest

from missionctl.domain.access import Role
from missionctl.eventlog import EventRecord
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.audit import read_event_page
from missionctl.services.usecases.identity import revoke_token
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import Settings
from tests.mcp.helpers import (
    call,
    mcp_command,
    read_text,
    refused,
    server_environment,
    stdio_session,
    token_of,
)

GOAL = "Build a URL shortener with click analytics and custom aliases"

# Starting ``missionctl mcp`` costs seconds; the refusals are decided before any query that
# differs between databases, so they run on SQLite alone (the whole flow runs on both).
ONE_DATABASE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def svc(settings: Settings) -> AsyncIterator[ServiceContext]:
    """A service context on the test's database (upgraded), to prepare and check."""
    async with open_context(settings) as ctx:
        yield ctx


async def _events(ctx: ServiceContext, prefix: str = "") -> list[EventRecord]:
    return [e for e in await read_event_page(ctx, limit=100_000) if e.type.startswith(prefix)]


async def test_an_admin_token_works_a_mission_over_stdio(
    settings: Settings, svc: ServiceContext
) -> None:
    spec = WorkflowSpec.model_validate(
        {
            "name": "release",
            "steps": [{"id": "ship", "agent": "builtin:noop", "requires_approval": True}],
        }
    )
    await create_workflow(svc, spec=spec, actor="system")
    token = await token_of(svc, "ada", Role.ADMIN)
    async with stdio_session(settings, token) as ada:
        tools = {tool.name for tool in (await ada.list_tools()).tools}
        assert {"create_mission", "report_task_progress", "decide_approval"} <= tools
        resources = {str(r.uri) for r in (await ada.list_resources()).resources}
        assert "missionctl://missions" in resources

        mission = await call(ada, "create_mission", goal=GOAL, constraints=["Python 3.11"])
        plan = await call(ada, "plan_mission", mission_id=mission["id"])
        key = plan["tasks"][0]["key"]
        run = await call(ada, "start_run", mission_id=mission["id"])
        assert run["trigger"] == "mcp" and run["status"] in {"queued", "running"}
        pack = await call(ada, "get_task_pack", mission_id=mission["id"], task_key=key)
        assert pack.startswith("# ") and f"`{key}`" in pack
        task_file = await read_text(ada, f"missionctl://missions/{mission['id']}/pack/{key}")
        assert task_file == pack
        report = await call(
            ada,
            "report_task_progress",
            mission_id=mission["id"],
            task_key=key,
            message="half way",
            percent=50,
        )
        assert report["actor"] == "token:ada-mcp"
        result = await call(
            ada,
            "report_task_result",
            mission_id=mission["id"],
            task_key=key,
            status="done",
            summary="all tests pass",
        )
        assert result["type"] == "task.reported"

        gated = await call(ada, "start_run", workflow="release")
        [pending] = (await call(ada, "list_approvals", run_id=gated["id"]))["approvals"]
        decided = await call(
            ada, "decide_approval", approval_id=pending["id"], decision="reject", reason="not now"
        )
        assert decided["state"] == "rejected"

    reports = await _events(svc, "task.")
    assert [(e.type, e.actor, e.mission_id) for e in reports] == [
        ("task.progress", "token:ada-mcp", uuid.UUID(mission["id"])),
        ("task.reported", "token:ada-mcp", uuid.UUID(mission["id"])),
    ]
    assert reports[1].payload["status"] == "done"
    [rejected] = await _events(svc, "approval.rejected")
    assert rejected.actor == "token:ada-mcp" and rejected.payload["reason"] == "not now"


@ONE_DATABASE
async def test_a_viewer_token_over_stdio_reads_and_is_refused_changes(
    settings: Settings, svc: ServiceContext
) -> None:
    token = await token_of(svc, "vic", Role.VIEWER)
    async with stdio_session(settings, token) as vic:
        assert '"items": []' in await read_text(vic, "missionctl://missions")
        text = await refused(vic, "emergency_stop", reason="test")
        assert "emergency:stop" in text and "operator role" in text
    assert not await _events(svc, "emergency.")
    [denied] = await _events(svc, "access.denied")
    assert denied.actor == "token:vic-mcp" and denied.payload["method"] == "MCP/stdio"


@ONE_DATABASE
async def test_a_token_revoked_while_serving_stops_working_at_once(
    settings: Settings, svc: ServiceContext
) -> None:
    token = await token_of(svc, "ola", Role.OPERATOR)
    async with stdio_session(settings, token) as ola:
        await call(ola, "create_mission", goal=GOAL)
        await revoke_token(svc, name="ola-mcp", actor="system")
        with pytest.raises(Exception, match="revoked or has expired"):
            await ola.call_tool("create_mission", {"goal": GOAL})
    assert len(await _events(svc, "mission.created")) == 1


def _run_command(settings: Settings, token: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        mcp_command(),
        env=server_environment(settings, token),
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@ONE_DATABASE
async def test_it_refuses_to_start_without_a_valid_token(
    settings: Settings, svc: ServiceContext
) -> None:
    missing = _run_command(settings, None)
    assert missing.returncode == 2 and missing.stdout == ""
    assert "MISSIONCTL_TOKEN" in missing.stderr and "missionctl token create" in missing.stderr
    unknown = _run_command(settings, "mc_" + "x" * 43)
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert "unknown, revoked or expired" in unknown.stderr
