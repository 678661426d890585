"""The MCP server over Streamable HTTP at ``/mcp``: the real app under uvicorn, on both databases.

The SDK's own client talks to it with API tokens of users of each role. What it changes is
read back through the services: the events name the token (``token:NAME``).
"""

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import pytest

from missionctl.domain.access import Role
from missionctl.eventlog import EventRecord
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.audit import read_event_page
from missionctl.services.usecases.packs import build_pack
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import EngineSettings, Settings
from tests.conftest import LiveServer
from tests.mcp.helpers import call, http_session, read_text, refused, token_of

GOAL = "Build a URL shortener with click analytics and custom aliases"
TOOLS = {
    "create_mission",
    "plan_mission",
    "start_run",
    "get_task_pack",
    "report_task_progress",
    "report_task_result",
    "list_approvals",
    "decide_approval",
    "emergency_stop",
    # Declared operations offered as tools (missionctl.operations, mcp=True).
    "list_schedules",
    "read_schedule",
    "pause_schedule",
    "resume_schedule",
    "run_schedule_now",
    "read_board",
    "read_calendar",
    "list_spending_caps",
    "list_prices",
    "list_models",
    "create_epic",
    "list_epics",
    "read_epic",
    "edit_epic",
    "add_epic_missions",
    "remove_epic_missions",
    "archive_epic",
    "restore_epic",
}


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    """The app under uvicorn on the test's database, with no engine (runs stay as started)."""
    quiet = settings.model_copy(update={"engine": EngineSettings(embedded=False)})
    live = LiveServer(quiet)
    live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
async def svc(settings: Settings) -> AsyncIterator[ServiceContext]:
    """A service context on the live server's database, to prepare and check."""
    async with open_context(settings, upgrade=False) as ctx:
        yield ctx


async def _events(ctx: ServiceContext, type_prefix: str = "") -> list[EventRecord]:
    """Every event of the log whose type starts with ``type_prefix``, in order."""
    events = await read_event_page(ctx, limit=100_000)
    return [event for event in events if event.type.startswith(type_prefix)]


async def test_an_operator_creates_plans_runs_reads_the_pack_and_reports_progress(
    server: LiveServer, svc: ServiceContext
) -> None:
    token = await token_of(svc, "ola", Role.OPERATOR)
    async with http_session(server.url, token) as session:
        tools = {tool.name for tool in (await session.list_tools()).tools}
        assert tools == TOOLS
        resources = {str(r.uri) for r in (await session.list_resources()).resources}
        assert {"missionctl://missions", "missionctl://runs"} <= resources
        templates = (await session.list_resource_templates()).resource_templates
        assert "missionctl://missions/{mission_id}/pack/{task_key}" in {
            t.uri_template for t in templates
        }

        mission = await call(session, "create_mission", goal=GOAL, title="Shortener")
        plan = await call(session, "plan_mission", mission_id=mission["id"])
        keys = [task["key"] for task in plan["tasks"]]
        assert keys, plan
        run = await call(session, "start_run", mission_id=mission["id"])
        assert run["mission_id"] == mission["id"] and run["steps"]

        pack = await call(session, "get_task_pack", mission_id=mission["id"], task_key=keys[0])
        assert f"Task `{keys[0]}`" in pack
        zipped = await build_pack(svc, mission_id=uuid.UUID(mission["id"]))
        [same] = [f for f in zipped.files if f.path.endswith(f"-{keys[0]}.md")]
        assert same.content.decode() == pack  # the task's file in the pack's zip
        agents = await read_text(session, f"missionctl://missions/{mission['id']}/pack")
        assert "Shortener" in agents
        report = await call(
            session,
            "report_task_progress",
            mission_id=mission["id"],
            task_key=keys[0],
            message="schema written",
            percent=40,
        )
        assert report["type"] == "task.progress" and report["actor"] == "token:ola-mcp"
        listed = await read_text(session, "missionctl://missions")
        assert mission["id"] in listed
        one_run = await read_text(session, f"missionctl://runs/{run['id']}")
        assert run["id"] in one_run
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(base_url=server.url, headers=headers) as http:
        mission_page = await http.get(f"/missions/{mission['id']}")
    assert f"Progress 40 % on {keys[0]}: schema written" in mission_page.text
    [progress] = await _events(svc, "task.")
    assert progress.mission_id == uuid.UUID(mission["id"])
    assert progress.payload == {
        "task_key": keys[0],
        "plan_version": 1,
        "message": "schema written",
        "percent": 40,
    }
    made = {
        e.type: e.actor for e in await _events(svc) if e.type in {"mission.created", "run.created"}
    }
    assert made == {"mission.created": "token:ola-mcp", "run.created": "token:ola-mcp"}


async def _gated_workflow(ctx: ServiceContext) -> str:
    """Save a workflow whose one step waits for a person's approval; its name."""
    name = f"gated-{uuid.uuid4().hex[:8]}"
    spec = WorkflowSpec.model_validate(
        {
            "name": name,
            "inputs": {"target": {"type": "string"}},
            "steps": [{"id": "deploy", "agent": "builtin:noop", "requires_approval": True}],
        }
    )
    await create_workflow(ctx, spec=spec, actor="system")
    return name


async def test_an_approver_decides_a_gated_step_of_a_run_an_operator_started(
    server: LiveServer, svc: ServiceContext
) -> None:
    name = await _gated_workflow(svc)
    operator = await token_of(svc, "ola", Role.OPERATOR)
    approver = await token_of(svc, "abe", Role.APPROVER)
    async with (
        http_session(server.url, operator) as ola,
        http_session(server.url, approver) as abe,
    ):
        run = await call(ola, "start_run", workflow=name, inputs={"target": "staging"})
        assert run["trigger"] == "mcp" and run["created_by"] == "token:ola-mcp"
        [pending] = (await call(ola, "list_approvals", run_id=run["id"]))["approvals"]
        assert pending["step_id"] == "deploy" and pending["state"] == "pending"

        denied = await refused(
            ola, "decide_approval", approval_id=pending["id"], decision="approve"
        )
        assert "approvals:decide" in denied and "approver role" in denied
        no_reason = await refused(
            abe, "decide_approval", approval_id=pending["id"], decision="reject"
        )
        assert "reason" in no_reason
        decided = await call(
            abe, "decide_approval", approval_id=pending["id"], decision="approve", reason="ok"
        )
        assert decided["state"] == "approved" and decided["decided_by"] == "token:abe-mcp"
        twice = await refused(abe, "decide_approval", approval_id=pending["id"], decision="approve")
        assert "token:abe-mcp" in twice
    [approved] = await _events(svc, "approval.approved")
    assert approved.actor == "token:abe-mcp" and approved.payload.get("reason") == "ok"


async def test_a_viewer_reads_but_a_mutating_tool_changes_nothing_and_is_recorded(
    server: LiveServer, svc: ServiceContext
) -> None:
    viewer = await token_of(svc, "vic", Role.VIEWER)
    operator = await token_of(svc, "ola", Role.OPERATOR)
    async with http_session(server.url, operator) as ola:
        mission = await call(ola, "create_mission", goal=GOAL)
        plan = await call(ola, "plan_mission", mission_id=mission["id"])
    key = plan["tasks"][0]["key"]
    before = len(await _events(svc))
    async with http_session(server.url, viewer) as vic:
        assert mission["id"] in await read_text(vic, f"missionctl://missions/{mission['id']}")
        assert key in await read_text(vic, f"missionctl://missions/{mission['id']}/plan")
        assert (await call(vic, "list_approvals"))["approvals"] == []
        attempts: dict[str, dict[str, Any]] = {
            "create_mission": {"goal": GOAL},
            "plan_mission": {"mission_id": mission["id"]},
            "start_run": {"mission_id": mission["id"]},
            "report_task_progress": {"mission_id": mission["id"], "task_key": key, "message": "x"},
            "report_task_result": {
                "mission_id": mission["id"],
                "task_key": key,
                "status": "done",
                "summary": "x",
            },
            "decide_approval": {"approval_id": str(uuid.uuid4()), "decision": "approve"},
            "emergency_stop": {"reason": "no"},
        }
        for tool, arguments in attempts.items():
            text = await refused(vic, tool, **arguments)
            assert "this token acts as viewer" in text and "Nothing was changed" in text, text
        assert "missions:write" in await refused(vic, "create_mission", goal=GOAL)
    after = await _events(svc)
    denials = [e for e in after[before:] if e.type == "access.denied"]
    assert after[before:] == denials and len(denials) == len(attempts) + 1
    assert {d.actor for d in denials} == {"token:vic-mcp"}
    assert denials[0].payload["permission"] == "missions:write"
    assert denials[0].payload["path"] == "tool create_mission"


async def test_no_token_or_a_bad_one_is_a_401(server: LiveServer, svc: ServiceContext) -> None:
    hello = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    async with httpx2.AsyncClient(base_url=server.url) as http:
        for headers in (
            {},
            {"Authorization": "Bearer mc_not-a-token"},
            {"Authorization": "Basic dXNlcjpwYXNz"},
            {"Authorization": "Bearer"},
        ):
            answer = await http.post("/mcp", json=hello, headers=headers)
            assert answer.status_code == 401, (headers, answer.text)
            assert answer.json()["error"]["code"] == "not_authenticated"
    # A browser's session is not an MCP credential: signed in, still a 401 naming the token.
    sign_in = await asyncio.to_thread(server.sign_in_url)
    async with httpx2.AsyncClient(follow_redirects=True) as browser:
        page = await browser.get(sign_in)
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert csrf, "a signed-in page carries the session's CSRF token"
        answer = await browser.post(
            f"{server.url}/mcp", json=hello, headers={"X-CSRF-Token": csrf.group(1)}
        )
        assert answer.status_code == 401 and "API token" in answer.json()["error"]["message"]
    revoked = await token_of(svc, "rex", Role.ADMIN)
    from missionctl.services.usecases.identity import revoke_token

    await revoke_token(svc, name="rex-mcp", actor="system")
    async with httpx2.AsyncClient(base_url=server.url) as http:
        answer = await http.post("/mcp", json=hello, headers={"Authorization": f"Bearer {revoked}"})
        assert answer.status_code == 401


async def test_hostile_arguments_are_tool_errors_and_the_server_goes_on(
    server: LiveServer, svc: ServiceContext
) -> None:
    token = await token_of(svc, "ada", Role.ADMIN)
    async with http_session(server.url, token) as ada:
        huge = await refused(ada, "create_mission", goal="x" * 1_500_000)
        assert "goal" in huge and "at most 1000000 characters" in huge
        too_long = await refused(ada, "create_mission", goal="y" * 30_000)
        assert "goal" in too_long
        assert "mission_id" in await refused(ada, "plan_mission", mission_id="not-a-uuid")
        assert "mission_id" in await refused(ada, "plan_mission", mission_id=str(uuid.uuid4()))
        assert "goal" in await refused(ada, "create_mission", goal=["a", "list"])
        assert "goal" in await refused(ada, "create_mission", goal="\x00 nul")
        mission = await call(ada, "create_mission", goal=GOAL)
        unplanned = await refused(
            ada, "report_task_progress", mission_id=mission["id"], task_key="api", message="m"
        )
        assert "plan it first" in unplanned
        plan = await call(ada, "plan_mission", mission_id=mission["id"])
        key = plan["tasks"][0]["key"]
        base = {"mission_id": mission["id"], "task_key": key}
        assert "percent" in await refused(
            ada, "report_task_progress", **base, message="m", percent=101
        )
        assert "percent" in await refused(
            ada, "report_task_progress", **base, message="m", percent="lots"
        )
        assert "task_key" in await refused(
            ada, "report_task_progress", mission_id=mission["id"], task_key="nope", message="m"
        )
        assert "status" in await refused(
            ada, "report_task_result", **base, status="meh", summary="s"
        )
        name = await _gated_workflow(svc)
        deep: Any = "bottom"
        for _ in range(120):
            deep = {"d": deep}
        nested = await refused(ada, "start_run", workflow=name, inputs={"target": deep})
        assert "inputs.target" in nested and "nested deeper than" in nested
        raw = await _raw_call(server.url, token, '{"d":' * 5000 + "1" + "}" * 5000)
        # Deeper than the JSON parser goes: a JSON-RPC parse error, the server unharmed.
        assert raw.status_code == 400 and raw.json()["error"]["code"] == -32700
        both = await refused(ada, "start_run", mission_id=mission["id"], workflow=name)
        assert "mission_id" in both
        secret = "sk-" + "A1b2C3d4" * 6
        await call(ada, "report_task_progress", **base, message=f"used key {secret} to deploy")
        # The server still answers after all of it.
        assert mission["id"] in await read_text(ada, f"missionctl://missions/{mission['id']}")
    [progress] = await _events(svc, "task.progress")
    assert secret not in progress.payload["message"] and "[REDACTED]" in progress.payload["message"]


async def _raw_call(base_url: str, token: str, arguments: str) -> httpx2.Response:
    """POST one ``tools/call`` of ``start_run`` whose arguments are the JSON text ``arguments``."""
    body = (
        '{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": '
        '{"name": "start_run", "arguments": {"inputs": ' + arguments + "}}}"
    )
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
    }
    async with httpx2.AsyncClient(base_url=base_url) as http:
        return await http.post("/mcp", content=body, headers=headers)


async def test_two_clients_reporting_at_once_are_both_recorded(
    server: LiveServer, svc: ServiceContext
) -> None:
    first = await token_of(svc, "ola", Role.OPERATOR)
    second = await token_of(svc, "oli", Role.OPERATOR)
    async with http_session(server.url, first) as ola:
        mission = await call(ola, "create_mission", goal=GOAL)
        plan = await call(ola, "plan_mission", mission_id=mission["id"])
    keys = [task["key"] for task in plan["tasks"]][:2]

    async def report(token: str, key: str) -> list[int]:
        async with http_session(server.url, token) as session:
            done = []
            for percent in range(0, 100, 10):
                record = await call(
                    session,
                    "report_task_progress",
                    mission_id=mission["id"],
                    task_key=key,
                    message=f"{key} at {percent}",
                    percent=percent,
                )
                done.append(record["seq"])
            return done

    seqs = await asyncio.gather(report(first, keys[0]), report(second, keys[-1]))
    assert len(set(seqs[0]) | set(seqs[1])) == 20
    progress = await _events(svc, "task.progress")
    assert len(progress) == 20
    assert {e.actor for e in progress} == {"token:ola-mcp", "token:oli-mcp"}


async def test_two_approvers_deciding_at_once_make_one_decision(
    server: LiveServer, svc: ServiceContext
) -> None:
    name = await _gated_workflow(svc)
    first = await token_of(svc, "abe", Role.APPROVER)
    second = await token_of(svc, "amy", Role.APPROVER)
    async with (
        http_session(server.url, first) as abe,
        http_session(server.url, second) as amy,
    ):
        run = await call(abe, "start_run", workflow=name, inputs={"target": "prod"})
        [pending] = (await call(abe, "list_approvals", run_id=run["id"]))["approvals"]
        results = await asyncio.gather(
            abe.call_tool("decide_approval", {"approval_id": pending["id"], "decision": "approve"}),
            amy.call_tool(
                "decide_approval",
                {"approval_id": pending["id"], "decision": "reject", "reason": "not today"},
            ),
        )
    assert sorted(result.is_error for result in results) == [False, True]
    decisions = await _events(svc, "approval.")
    assert [e.type for e in decisions].count("approval.requested") == 1
    assert len([e for e in decisions if e.type != "approval.requested"]) == 1
