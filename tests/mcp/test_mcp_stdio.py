"""``missionctl mcp``: the MCP server over stdio, spawned as the SDK's client spawns it.

The command runs in a process of its own on the test's database (SQLite and PostgreSQL) with
a token in ``MISSIONCTL_TOKEN``; the SDK's ``ClientSession`` talks to it over its stdin and
stdout. What it changes is read back through the services.
"""

import asyncio
import json
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

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


@ONE_DATABASE
async def test_a_message_without_end_is_refused_in_bounded_memory_and_the_session_goes_on(
    settings: Settings, svc: ServiceContext
) -> None:
    token = await token_of(svc, "vic", Role.VIEWER)
    env = {**server_environment(settings, token), "MISSIONCTL_SERVER_MAX_BODY_BYTES": "1000000"}
    tools, grown_kb = await asyncio.to_thread(_a_long_line_then_a_request, env)
    assert any(tool["name"] == "create_mission" for tool in tools)
    assert grown_kb < 16_000, f"the server grew by {grown_kb} kB reading the long line"


def _a_long_line_then_a_request(env: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
    """Send 64 MB of one line past a 1 MB limit, then ask for the tools: them, and the growth."""
    with subprocess.Popen(
        mcp_command(), env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as server:
        assert server.stdin is not None
        try:
            _send(server, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": _HELLO})
            assert _answer(server, 1)["result"]["serverInfo"]["name"] == "missionctl"
            _send(server, {"jsonrpc": "2.0", "method": "notifications/initialized"})
            before = _peak_kb(server.pid)
            for _ in range(64):
                server.stdin.write("x" * 1_000_000)
            server.stdin.write("\n")
            _send(server, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
            tools = _answer(server, 2)["result"]["tools"]
            return tools, _peak_kb(server.pid) - before
        finally:
            server.kill()


_HELLO = {
    "protocolVersion": "2025-06-18",
    "capabilities": {},
    "clientInfo": {"name": "test", "version": "1"},
}


def _send(server: "subprocess.Popen[str]", message: dict[str, object]) -> None:
    assert server.stdin is not None
    server.stdin.write(json.dumps(message) + "\n")
    server.stdin.flush()


def _answer(server: "subprocess.Popen[str]", request_id: int) -> dict[str, Any]:
    """The response to ``request_id`` (notifications and other answers are passed over)."""
    assert server.stdout is not None
    for line in server.stdout:
        message = json.loads(line)
        if message.get("id") == request_id:
            return message  # type: ignore[no-any-return]
    raise AssertionError(f"the server ended without answering {request_id}")


def _peak_kb(pid: int) -> int:
    """The process's peak resident memory so far, in kB (``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")
