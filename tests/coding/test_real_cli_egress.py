"""A coding step's network reaches its model endpoint and nothing else (ADR 0079).

Only the model is scripted (``tests/support/anthropic_server.py``, on 127.0.0.1, which an admin
allows here as ``127.0.0.0/8``); the steps run in the real step sandbox through the engine. No
step asks for ``network: true``: each names its model endpoint (``inputs.model``), and the
egress proxy is its only way out.

- A probe (``coding:probe``: the server's Python with a script, pointed at the endpoint like a
  CLI) tries the database's port and another host through the proxy (refused, and recorded in
  the step's events), the database directly (its namespace has no route there) and reaches the
  model through the proxy and on the model's own loopback address (served by the bridge).
- The real Claude Code, at the version ``make coding-clis`` pins, reaches its model through the
  proxy and writes a file; nothing is refused, and its key is in no event and no file.
"""

import asyncio
import ipaddress
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from missionctl.agents.coding import CodingPreset, ModelWiring
from missionctl.agents.http import HttpAgentConfig
from missionctl.agents.registry import AgentRegistry
from missionctl.domain.addresses import Network
from missionctl.schemas.runs import RunRead
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import build_agents
from missionctl.services.usecases.approvals import list_approvals
from missionctl.settings import CodingSettings, Settings
from tests.coding.helpers import SCRIPTED, allow_coding, make_repository
from tests.coding.real_cli import NPM_BIN, put_on_path
from tests.engine.helpers import FINISHED, allow, run_events, running_engine, start, wait_for_run
from tests.support.anthropic_server import (
    Message,
    RecordedRequest,
    Reply,
    ScriptedAnthropicServer,
    Text,
    ToolUse,
)

# Their subject is the real CLI, not the database (tests/conftest.py).
pytestmark = pytest.mark.one_database

KEY = "sk-ant-egress-" + "0123456789abcdef" * 2
LOOPBACK: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.0/8"),)
# Claude Code talks to its model and nothing else.
QUIET = {
    "DISABLE_TELEMETRY": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
}
PROBE_SOURCE = r"""
import json, os, socket, urllib.request

base, key = os.environ["PROBE_BASE_URL"], os.environ["PROBE_MODEL_KEY"]
proxy_host, proxy_port = os.environ["HTTPS_PROXY"].rpartition("/")[2].split(":")

def through_proxy(target):
    with socket.create_connection((proxy_host, int(proxy_port)), 5) as s:
        s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        return s.recv(200).split(b"\r\n")[0].decode()

def direct(host, port):
    try:
        socket.create_connection((host, port), 3).close()
        return "connected"
    except OSError as exc:
        return type(exc).__name__

def ask_model(opener):
    request = urllib.request.Request(
        base + "/v1/messages/count_tokens", data=b"{}",
        headers={"content-type": "application/json", "x-api-key": key},
    )
    with opener.open(request, timeout=10) as answer:
        return json.load(answer)["input_tokens"]

print(json.dumps({
    "database_through_proxy": through_proxy("127.0.0.1:5432"),
    "other_host_through_proxy": through_proxy("api.example.com:443"),
    "database_direct": direct("127.0.0.1", 5432),
    "public_direct": direct("1.1.1.1", 443),
    "model_through_proxy": ask_model(urllib.request.build_opener()),
    "model_direct": ask_model(urllib.request.build_opener(urllib.request.ProxyHandler({}))),
    "proxy_variables": sorted(
        k for k, v in os.environ.items() if k.lower().endswith("_proxy") and v
    ),
}))
"""
PROBE = CodingPreset(
    title="Network probe",
    argv=[sys.executable, "-c", PROBE_SOURCE],
    modes={"read-only": [], "workspace-write": [], "full-access": []},
    model=ModelWiring(key_env="PROBE_MODEL_KEY", env={"PROBE_BASE_URL": "${base_url}"}),
)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The suite's settings, with the probe beside the scripted coder in the presets file."""
    path = tmp_path / "egress_presets.yaml"
    presets = {"scripted": SCRIPTED, "probe": PROBE}
    path.write_bytes(TypeAdapter(dict[str, CodingPreset]).dump_json(presets))  # JSON is YAML
    return settings.model_copy(update={"coding": CodingSettings(presets_file=path)})


@pytest.fixture(autouse=True)
def model_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The model's key is the secret ``model``."""
    monkeypatch.setenv("MISSIONCTL_SECRET_MODEL", KEY)


def _agents(root: Path) -> AgentRegistry:
    """Every agent, the probe among the coding presets, loopback allowed as an admin would."""
    return build_agents(
        None,
        http=HttpAgentConfig(allowed_networks=LOOPBACK),
        repositories=root / "clones",
        coding_presets={"probe": PROBE},
    )


def _step(agent: str, repo: Path, base_url: str, **inputs: Any) -> dict[str, Any]:
    return {
        "id": "work",
        "agent": agent,
        "inputs": {
            "prompt": "Do the task.",
            "repository": str(repo),
            "base": "main",
            "model": {"base_url": base_url, "secret": "model"},
            **inputs,
        },
    }


async def _run_unapproved(ctx: ServiceContext, root: Path, step: dict[str, Any]) -> RunRead:
    """Run ``step`` to its end; it must never wait for an approver."""
    run = await start(ctx, [step])
    async with running_engine(ctx, agents=_agents(root)):
        done = await wait_for_run(ctx, run.id, statuses=FINISHED | {"paused"}, within_s=60)
    waiting = [e.payload for e in await run_events(ctx, run.id) if e.type == "approval.requested"]
    assert waiting == [], waiting
    return done


async def _log_lines(ctx: ServiceContext, run_id: uuid.UUID, level: str) -> list[str]:
    events = await run_events(ctx, run_id)
    return [
        line["message"]
        for e in events
        if e.type == "step.log"
        for line in e.payload["lines"]
        if line.get("level") == level
    ]


async def _key_nowhere(ctx: ServiceContext, run: RunRead) -> None:
    events = json.dumps([e.payload for e in await run_events(ctx, run.id)], default=str)
    assert KEY not in events
    for path in ctx.settings.home.rglob("*"):  # the data directory: blobs, workspaces, logs
        if path.is_file() and not path.is_symlink():
            assert KEY.encode() not in path.read_bytes(), path


async def test_a_sandboxed_step_reaches_its_model_and_every_other_try_is_refused_and_recorded(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    await allow(ctx, sys.executable, env=("PROBE_MODEL_KEY",))
    with ScriptedAnthropicServer(lambda request: Message([Text("unused")])) as server:
        done = await _run_unapproved(ctx, tmp_path, _step("coding:probe", repo, server.base_url))
        asked = [r for r in server.requests if r.path == "/v1/messages/count_tokens"]
    step = done.steps[0]
    assert done.status == "completed", step.error
    seen = json.loads(step.outputs["stdout_tail"].splitlines()[-1])
    assert seen["database_through_proxy"] == "HTTP/1.1 403 Forbidden"
    assert seen["other_host_through_proxy"] == "HTTP/1.1 403 Forbidden"
    assert seen["database_direct"] == "ConnectionRefusedError", "its own loopback: no database"
    assert seen["public_direct"] == "OSError", "no route out of its namespace"
    assert seen["model_through_proxy"] == seen["model_direct"] == 100
    assert seen["proxy_variables"] == [
        "ALL_PROXY", "HTTPS_PROXY", "HTTP_PROXY", "all_proxy", "http_proxy", "https_proxy"
    ]  # fmt: skip
    assert [r.headers.get("x-api-key") for r in asked] == [KEY, KEY]
    endpoint = f"127.0.0.1:{server.port}"
    assert await _log_lines(ctx, done.id, "warning") == [
        f"egress refused: 127.0.0.1:5432 (not the model endpoint {endpoint})",
        f"egress refused: api.example.com:443 (not the model endpoint {endpoint})",
    ]
    await _key_nowhere(ctx, done)


async def test_without_its_key_variable_allowed_the_step_waits_naming_the_endpoint(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)  # the program, with no variable named
    run = await start(ctx, [_step("coding:probe", repo, "https://api.example.com/v1")])
    async with running_engine(ctx, agents=_agents(tmp_path)):
        for _ in range(200):
            waiting = [a for a in await list_approvals(ctx) if a.run_id == run.id]
            if waiting:
                break
            await asyncio.sleep(0.05)
    assert len(waiting) == 1
    requested = [e for e in await run_events(ctx, run.id) if e.type == "approval.requested"]
    reason = requested[0].payload["reason"]
    assert "PROBE_MODEL_KEY" in reason, reason
    assert "its network reaches only its model endpoint api.example.com:443" in reason, reason
    assert "it asks for the network" not in reason


class EditingModel:
    """Three turns: ``pwd`` (the Write tool takes an absolute path), write ``f.txt``, end."""

    def __call__(self, request: RecordedRequest) -> Reply:
        turn = sum(m.get("role") == "assistant" for m in request.messages)
        if turn == 0:
            return Message([ToolUse("Bash", {"command": "pwd", "description": "where"})])
        if turn == 1:
            here = _text(request.tool_results[0]).strip()
            return Message([ToolUse("Write", {"file_path": f"{here}/f.txt", "content": "hi\n"})])
        return Message([Text("Done.")])


def _text(result: dict[str, Any]) -> str:
    """A ``tool_result``'s text, whether sent as a string or as blocks."""
    content = result.get("content")
    if isinstance(content, list):
        return "".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return str(content or "")


async def test_the_real_claude_code_reaches_its_model_through_the_proxy_alone(
    ctx: ServiceContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_on_path(monkeypatch, NPM_BIN)
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    await allow(ctx, "claude", env=("ANTHROPIC_API_KEY", *QUIET))
    with ScriptedAnthropicServer(EditingModel()) as server:
        step = _step(
            "coding:claude", repo, server.base_url, approval_mode="workspace-write", env=QUIET
        )
        done = await _run_unapproved(ctx, tmp_path, step)
        turns = server.agent_requests
    assert done.status == "completed", done.steps[0].error
    assert len(turns) == 3, [(r.method, r.path) for r in server.requests]
    assert {r.headers.get("x-api-key") for r in turns} == {KEY}
    assert done.steps[0].outputs["files_changed"] == ["f.txt"]
    assert await _log_lines(ctx, done.id, "warning") == [], "nothing was refused"
    await _key_nowhere(ctx, done)
