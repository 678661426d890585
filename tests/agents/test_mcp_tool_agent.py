"""``mcp`` steps against a real MCP server (``tests/support/mcp_tool_server.py``), run by an engine.

The server is written with the SDK's server API. Over stdio the step starts it in its sandbox
(the support directory is shown to the sandbox read-only, as an admin would show a tool's
installation); over streamable HTTP it runs under uvicorn in a thread on 127.0.0.1, which the
address rule allows here as ``MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS`` would.
"""

import asyncio
import ipaddress
import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select

from missionctl.agents.http import HttpAgentConfig
from missionctl.agents.mcp_tool import MAX_CONTENT_CHARS
from missionctl.agents.registry import AgentRegistry
from missionctl.agents.sandbox import Sandbox
from missionctl.db.models import Event, StepRun
from missionctl.schemas.governance import AgentUpdate
from missionctl.schemas.runs import RunRead
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import build_agents
from missionctl.services.usecases.agents import update_agent
from missionctl.services.usecases.approvals import list_approvals
from missionctl.services.usecases.runs import cancel_run, read_run, retry_step
from missionctl.settings import SandboxSettings
from tests.engine.helpers import (
    allow,
    host_pids,
    running_engine,
    start,
    step,
    wait_for_run,
)
from tests.support import mcp_tool_server

PY = sys.executable
SUPPORT = Path(mcp_tool_server.__file__).parent
SERVER = [PY, str(SUPPORT / "mcp_tool_server.py")]
TOOL_TOKEN = "mcp-tool-token-canary-7e21"
HEADER_TOKEN = "mcp-header-token-canary-0b9d"
LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)

# What the agent does with its server is the same on both databases; the engine's part is
# shown on both by the tests left unmarked. These run on SQLite alone, to keep the suite short.
ONE_DATABASE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(autouse=True)
async def listed(ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's interpreter is allow-listed at ``read`` (with the variables set here)."""
    monkeypatch.setenv("MISSIONCTL_SECRET_TOOL_TOKEN", TOOL_TOKEN)
    # A header's whole value is its secret: "Bearer …" included.
    monkeypatch.setenv("MISSIONCTL_SECRET_HEADER_TOKEN", f"Bearer {HEADER_TOKEN}")
    await allow(ctx, PY, env=("GREETING", "TOOL_TOKEN"))


def _agents(allowed: tuple[Any, ...] = LOOPBACK) -> AgentRegistry:
    sandbox = Sandbox(SandboxSettings(read_only_paths=[str(SUPPORT)]))
    return build_agents(None, sandbox, HttpAgentConfig(allowed_networks=allowed))


@pytest.fixture(params=["stateful", "stateless"])
def http_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The test server over streamable HTTP, guarded by ``HEADER_TOKEN``; its ``/mcp`` URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = mcp_tool_server.http_app(token=HEADER_TOKEN, stateless=request.param == "stateless")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the MCP server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def _stdio(tool: str, arguments: dict[str, Any], **server: Any) -> dict[str, Any]:
    return {"server": {"command": SERVER, **server}, "tool": tool, "arguments": arguments}


async def _run(
    ctx: ServiceContext, steps: list[dict[str, Any]], agents: AgentRegistry | None = None
) -> RunRead:
    run = await start(ctx, steps)
    async with running_engine(ctx, agents=agents or _agents()):
        return await wait_for_run(ctx, run.id, within_s=60)


async def _step(ctx: ServiceContext, run: RunRead, step_id: str = "call") -> StepRun:
    async with ctx.read() as session:
        row = await session.scalar(
            select(StepRun).where(StepRun.run_id == run.id, StepRun.step_id == step_id)
        )
    assert row is not None
    return row


async def _events_text(ctx: ServiceContext, run: RunRead) -> str:
    async with ctx.read() as session:
        rows = (await session.scalars(select(Event).where(Event.run_id == run.id))).all()
    return json.dumps([row.payload for row in rows])


def _upstream_and_call(inputs: dict[str, Any], **fields: Any) -> list[dict[str, Any]]:
    return [
        step("up", "builtin:noop", inputs={"value": "hello from upstream"}),
        step("call", "mcp", "up", inputs=inputs, **fields),
    ]


async def test_a_stdio_server_in_the_sandbox_answers_with_upstream_arguments(
    ctx: ServiceContext,
) -> None:
    templated = _stdio("echo", {"text": "{{ steps.up.outputs.value }}"})
    steps = [
        *_upstream_and_call(templated),
        step("sum", "mcp", "up", inputs=_stdio("add", {"a": 2, "b": 3})),
    ]
    done = await _run(ctx, steps)
    assert done.status == "completed", [(s.step_id, s.error) for s in done.steps]
    call = await _step(ctx, done)
    assert call.outputs["content"] == "hello from upstream"
    assert call.outputs["is_error"] is False and call.outputs["truncated"] is False
    assert call.inputs["arguments"] == {"text": "hello from upstream"}  # what ran, rendered
    total = await _step(ctx, done, "sum")
    assert total.outputs["structured"] == {"sum": 5}


async def test_an_http_server_answers_with_its_header_secret_kept_out_of_records(
    ctx: ServiceContext, http_url: str
) -> None:
    server = {"url": http_url, "headers_secret": {"Authorization": "HEADER_TOKEN"}}
    echo = {"server": server, "tool": "echo", "arguments": {"text": "{{ steps.up.outputs.value }}"}}
    steps = [
        *_upstream_and_call(echo),
        step("who", "mcp", inputs={"server": server, "tool": "whoami"}),
    ]
    done = await _run(ctx, steps)
    assert done.status == "completed", [(s.step_id, s.error) for s in done.steps]
    assert (await _step(ctx, done)).outputs["content"] == "hello from upstream"
    who = await _step(ctx, done, "who")
    assert who.outputs["content"] == "[REDACTED]"  # the server got it; the record did not
    recorded = await _events_text(ctx, done) + json.dumps(who.outputs) + json.dumps(who.inputs)
    assert HEADER_TOKEN not in recorded


@ONE_DATABASE
async def test_a_retried_call_carries_the_same_idempotency_key_and_the_next_attempt(
    ctx: ServiceContext,
) -> None:
    # The first call ends the server mid-call (a retryable failure); the second answers with
    # the ``_meta`` both calls carried, which the server kept in its workspace.
    inputs = _stdio("attempts", {"crash_first": True})
    retry = {"max_attempts": 2, "backoff_s": 0.01}
    done = await _run(ctx, [step("call", "mcp", inputs=inputs, retry=retry)])
    assert done.status == "completed", [(s.step_id, s.error) for s in done.steps]
    row = await _step(ctx, done)
    assert row.attempt == 2
    key = f"{done.id}:call"  # the run and the step: the same for every attempt
    assert row.outputs["structured"]["seen"] == [
        {"missionctl/attempt": 1, "missionctl/idempotency_key": key},
        {"missionctl/attempt": 2, "missionctl/idempotency_key": key},
    ]


@ONE_DATABASE
async def test_an_http_server_gets_the_attempt_and_idempotency_key_in_the_calls_meta(
    ctx: ServiceContext, http_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the server, in this process, keeps its record here
    server = {"url": http_url, "headers_secret": {"Authorization": "HEADER_TOKEN"}}
    done = await _run(ctx, [step("call", "mcp", inputs={"server": server, "tool": "attempts"})])
    assert done.status == "completed", [(s.step_id, s.error) for s in done.steps]
    assert (await _step(ctx, done)).outputs["structured"]["seen"] == [
        {"missionctl/attempt": 1, "missionctl/idempotency_key": f"{done.id}:call"}
    ]


async def test_an_http_server_refuses_a_step_without_its_secret(
    ctx: ServiceContext, http_url: str
) -> None:
    done = await _run(
        ctx, [step("call", "mcp", inputs={"server": {"url": http_url}, "tool": "echo"})]
    )
    assert done.status == "failed"
    assert done.steps[0].error == f"MCP server {http_url}: answered 401"


async def test_a_tool_error_fails_the_step_for_good_with_its_message(ctx: ServiceContext) -> None:
    retry = {"max_attempts": 3, "backoff_s": 0.01}
    done = await _run(
        ctx, [step("call", "mcp", inputs=_stdio("fail", {"message": "disk is full"}), retry=retry)]
    )
    assert done.status == "failed"
    row = await _step(ctx, done)
    assert row.attempt == 1  # not retried: the tool answered
    assert "tool 'fail' reported an error" in (row.error or "")
    assert "disk is full" in (row.error or "")
    assert row.outputs["is_error"] is True


@ONE_DATABASE
async def test_an_unknown_tool_fails_naming_the_tools_there_are(ctx: ServiceContext) -> None:
    done = await _run(ctx, [step("call", "mcp", inputs=_stdio("nope", {}))])
    assert done.status == "failed"
    error = done.steps[0].error or ""
    assert "has no tool 'nope'" in error and "echo" in error, error


@ONE_DATABASE
async def test_a_server_that_hangs_makes_the_step_time_out(ctx: ServiceContext) -> None:
    started = time.monotonic()
    # 14 s: 7 for the call and 7 for the SDK to stop the server, which a busy machine needs.
    done = await _run(ctx, [step("call", "mcp", inputs=_stdio("hang", {}), timeout_s=14)])
    assert done.status == "failed"
    assert "no answer within 7 s" in (done.steps[0].error or ""), done.steps[0].error
    assert time.monotonic() - started < 30


@ONE_DATABASE
async def test_a_server_printing_garbage_on_stdout_fails_clearly(ctx: ServiceContext) -> None:
    inputs = {
        "server": {"command": [*SERVER, "--garbage"]},
        "tool": "echo",
        "arguments": {"text": "x"},
    }
    done = await _run(ctx, [step("call", "mcp", inputs=inputs, timeout_s=30)])
    assert done.status == "failed"
    error = done.steps[0].error or ""
    assert "not an MCP message" in error and "'this is not JSON-RPC'" in error, error


@ONE_DATABASE
async def test_a_huge_or_deep_result_is_bounded(ctx: ServiceContext) -> None:
    steps = [
        step("call", "mcp", inputs=_stdio("huge", {"chars": MAX_CONTENT_CHARS * 3})),
        step("deep", "mcp", inputs=_stdio("deep", {"levels": 60})),
    ]
    done = await _run(ctx, steps)
    assert done.status == "completed", [(s.step_id, s.error) for s in done.steps]
    huge = await _step(ctx, done)
    assert len(huge.outputs["content"]) == MAX_CONTENT_CHARS
    assert huge.outputs["truncated"] is True
    deep = await _step(ctx, done, "deep")
    assert deep.outputs["structured"] is None and deep.outputs["truncated"] is True


async def test_a_secret_variable_reaches_the_server_and_no_record(ctx: ServiceContext) -> None:
    inputs = _stdio("env", {"name": "TOOL_TOKEN"}, secret_env={"TOOL_TOKEN": "TOOL_TOKEN"})
    done = await _run(ctx, [step("call", "mcp", inputs=inputs)])
    assert done.status == "completed", done.steps[0].error
    row = await _step(ctx, done)
    assert row.outputs["content"] == "[REDACTED]"
    events = await _events_text(ctx, done)
    assert "starting; token=[REDACTED]" in events  # its stderr, logged without the secret
    assert TOOL_TOKEN not in events + json.dumps(row.outputs)


@ONE_DATABASE
async def test_the_server_has_no_network_unless_the_step_asks_and_the_list_allows(
    ctx: ServiceContext,
) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        offline = await _run(ctx, [step("call", "mcp", inputs=_stdio("reach", {"port": port}))])
        assert (await _step(ctx, offline)).outputs["content"].startswith("unreachable")
        online = {**_stdio("reach", {"port": port}), "network": True}
        asked = await start(ctx, [step("call", "mcp", inputs=online)])
        [waiting] = (await read_run(ctx, run_id=asked.id)).steps
        assert waiting.status == "awaiting_approval"  # the entry does not give PY the network
        await allow(ctx, PY, network=True, env=("GREETING", "TOOL_TOKEN"))
        reached = await _run(ctx, [step("call", "mcp", inputs=online)])
        assert (await _step(ctx, reached)).outputs["content"] == "reached"


@ONE_DATABASE
async def test_the_server_cannot_read_the_data_directory(ctx: ServiceContext) -> None:
    home = Path(ctx.settings.home)
    await asyncio.to_thread(home.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread((home / "canary.txt").write_text, "data-directory-canary")
    inputs = _stdio("read_file", {"path": str(home / "canary.txt")})
    done = await _run(ctx, [step("call", "mcp", inputs=inputs)])
    assert done.status == "completed", done.steps[0].error
    content = (await _step(ctx, done)).outputs["content"]
    assert content.startswith("cannot read"), content
    assert "canary" not in await _events_text(ctx, done)


async def test_a_private_address_is_refused_unless_allowed(
    ctx: ServiceContext, http_url: str
) -> None:
    inputs = {"server": {"url": http_url}, "tool": "echo", "arguments": {"text": "x"}}
    done = await _run(ctx, [step("call", "mcp", inputs=inputs)], agents=_agents(allowed=()))
    assert done.status == "failed"
    error = done.steps[0].error or ""
    assert "private or reserved address" in error and "ALLOWED_NETWORKS" in error, error


async def test_a_server_that_is_not_there_fails_the_attempt_and_is_retried(
    ctx: ServiceContext,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inputs = {"server": {"url": f"http://127.0.0.1:{port}/mcp"}, "tool": "echo"}
    retry = {"max_attempts": 2, "backoff_s": 0.01}
    done = await _run(ctx, [step("call", "mcp", inputs=inputs, retry=retry, timeout_s=20)])
    assert done.status == "failed"
    row = await _step(ctx, done)
    assert row.attempt == 2, row.error  # a connection failure may succeed on another attempt
    assert f"127.0.0.1:{port}" in (row.error or "")


async def test_an_unlisted_server_program_waits_for_an_approver(ctx: ServiceContext) -> None:
    inputs = {"server": {"command": ["/usr/bin/env", "python3"]}, "tool": "echo"}
    run = await start(ctx, [step("call", "mcp", inputs=inputs)])
    assert [s.status for s in (await read_run(ctx, run_id=run.id)).steps] == ["awaiting_approval"]
    assert "not on the command agent's allow-list" in await _events_text(ctx, run)
    # The same server over HTTP starts no program: only its workflow's policy could gate it.
    remote = {"server": {"url": "https://tools.example.com/mcp"}, "tool": "echo"}
    other = await start(ctx, [step("call", "mcp", inputs=remote)])
    assert [s.status for s in (await read_run(ctx, run_id=other.id)).steps] == ["queued"]


async def test_a_queued_server_is_sent_to_an_approver_when_its_program_leaves_the_list(
    ctx: ServiceContext,
) -> None:
    run = await start(ctx, [step("call", "mcp", inputs=_stdio("echo", {"text": "x"}))])
    assert [s.status for s in (await read_run(ctx, run_id=run.id)).steps] == ["queued"]
    unlisted = AgentUpdate(allowed_programs={PY: None})
    await update_agent(ctx, name="command", data=unlisted, actor="user:admin")
    assert [s.status for s in (await read_run(ctx, run_id=run.id)).steps] == ["awaiting_approval"]
    [approval] = await list_approvals(ctx, run_id=run.id)
    assert approval.action.startswith(f"MCP tool 'echo' on {PY}"), approval.action


async def test_a_retried_server_whose_program_left_the_list_waits_for_an_approver(
    ctx: ServiceContext,
) -> None:
    failed = await _run(ctx, [step("call", "mcp", inputs=_stdio("fail", {"message": "no"}))])
    assert failed.status == "failed"
    unlisted = AgentUpdate(allowed_programs={PY: None})
    await update_agent(ctx, name="command", data=unlisted, actor="user:admin")
    retried = await retry_step(ctx, run_id=failed.id, step_id="call", actor="user:test")
    assert [s.status for s in retried.steps] == ["awaiting_approval"]


async def test_concurrent_calls_to_one_http_server_get_their_own_answers(
    ctx: ServiceContext, http_url: str
) -> None:
    server = {"url": http_url, "headers_secret": {"Authorization": "HEADER_TOKEN"}}
    steps = [
        step(
            f"c{n}",
            "mcp",
            inputs={"server": server, "tool": "echo", "arguments": {"text": f"t{n}"}},
        )
        for n in range(6)
    ]
    done = await _run(ctx, steps)
    assert done.status == "completed", [(s.step_id, s.error) for s in done.steps]
    for n in range(6):
        assert (await _step(ctx, done, f"c{n}")).outputs["content"] == f"t{n}"


async def test_canceling_the_run_stops_the_server(ctx: ServiceContext) -> None:
    marker = f"mcp-cancel-{uuid.uuid4().hex[:8]}"
    inputs = {"server": {"command": [*SERVER, marker]}, "tool": "hang"}
    run = await start(ctx, [step("call", "mcp", inputs=inputs, timeout_s=120)])
    async with running_engine(ctx, agents=_agents()):
        for _ in range(500):
            if host_pids(marker):
                break
            await asyncio.sleep(0.02)
        assert host_pids(marker), "the server never started"
        await asyncio.sleep(0.5)  # the call is under way
        await cancel_run(ctx, run_id=run.id, actor="user:test")
        done = await wait_for_run(ctx, run.id, within_s=30)
    assert done.status == "canceled"
    for _ in range(500):
        if not host_pids(marker):
            break
        await asyncio.sleep(0.02)
    assert host_pids(marker) == []


async def test_saving_a_malformed_mcp_step_names_the_field(client: Any) -> None:
    cases = {
        "both": ({"command": ["x"], "url": "https://t.example/mcp"}, "steps.0.inputs.server"),
        "neither": ({"env": {}}, "steps.0.inputs.server"),
        "bad url": ({"url": "ftp://t.example/mcp"}, "steps.0.inputs.server.url"),
        "bad command": ({"command": []}, "steps.0.inputs.server.command"),
        "bad secret": (
            {"url": "https://t.example/mcp", "headers_secret": {"A": "no such!"}},
            "steps.0.inputs.server.headers_secret",
        ),
    }
    for name, (server, field) in cases.items():
        spec = {
            "name": f"mcp-{uuid.uuid4().hex[:6]}",
            "steps": [{"id": "call", "agent": "mcp", "inputs": {"server": server, "tool": "echo"}}],
        }
        answer = await client.post("/api/v1/workflows", json=spec)
        assert answer.status_code == 422, (name, answer.text)
        fields = [p["field"] for p in answer.json()["error"]["details"]]
        assert field in fields, (name, answer.json())
    templated = {
        "name": f"mcp-{uuid.uuid4().hex[:6]}",
        "inputs": {"where": {"type": "string"}},
        "steps": [
            {
                "id": "call",
                "agent": "mcp",
                "inputs": {"server": {"url": "{{ inputs.where }}"}, "tool": "echo"},
            }
        ],
    }
    saved = await client.post("/api/v1/workflows", json=templated)
    assert saved.status_code == 201, saved.text
    listed = await client.get("/api/v1/agents")
    assert "mcp" in [agent["name"] for agent in listed.json()]
