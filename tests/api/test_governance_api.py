"""Governance over the API: approvals, the emergency stop, agent rules and prices, by role.

The app here runs no engine of its own: the test's context runs one when work should happen, so
"nothing ran" is a fact about dispatch, not about timing. Callers are real identities: API
tokens of users with a role, and a person signed in with a browser session.
"""

import asyncio
import re
import shlex
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI

from missionctl.app import create_app
from missionctl.domain.access import Role
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.approvals import read_approval
from missionctl.services.usecases.audit import read_event_page
from missionctl.settings import Settings
from tests.engine.helpers import (
    run_events,
    running_engine,
    start,
    step,
    wait_for_run,
    wait_for_step,
)
from tests.support.auth import bearer_headers, ensure_user, sign_in_link_secret
from tests.support.consistency import assert_consistent

PY = sys.executable
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')

Caller = Callable[[str, Role], Awaitable[httpx2.AsyncClient]]


@asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app on ``settings`` with its lifespan running, without an embedded engine."""
    engine = settings.engine.model_copy(update={"embedded": False})
    app = create_app(settings.model_copy(update={"engine": engine}))
    async with app.router.lifespan_context(app):
        yield app
        await assert_consistent(app.state.ctx)


def _http(app: FastAPI, headers: dict[str, str] | None = None) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=app)
    return httpx2.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


class Api:
    """Clients of one app, each acting as a user of some role."""

    def __init__(self, app: FastAPI, stack: AsyncExitStack) -> None:
        self.app = app
        self._stack = stack

    async def token(self, user: str, role: Role) -> httpx2.AsyncClient:
        """A client sending an API token of ``user``; events name it ``token:<user>-token``."""
        headers = await bearer_headers(self.app.state.ctx, user, role, token=f"{user}-token")
        return await self._stack.enter_async_context(_http(self.app, headers))

    async def browser(self, user: str, role: Role) -> httpx2.AsyncClient:
        """A browser signed in as ``user`` (one-time link) that sends its CSRF token."""
        await ensure_user(self.app.state.ctx, user, role)
        secret = await sign_in_link_secret(self.app.state.ctx, user)
        http = await self._stack.enter_async_context(_http(self.app))
        signed_in = await http.get("/sign-in", params={"token": secret})
        assert signed_in.status_code == 303, signed_in.text
        match = _CSRF.search((await http.get("/missions")).text)
        assert match, "the page carries no CSRF token"
        http.headers["X-CSRF-Token"] = match.group(1)
        return http


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with serve(settings) as app, AsyncExitStack() as stack:
        yield Api(app, stack)


def _gated(step_id: str = "migrate", argv: list[str] | None = None, **fields: Any) -> Any:
    command = argv or [PY, "-c", "print('migrated')"]
    return step(step_id, "command", inputs={"argv": command}, risk_tier="write", **fields)


async def test_the_queue_shows_what_will_run_and_an_approver_lets_it_run(
    ctx: ServiceContext, api: Api
) -> None:
    argv = [PY, "-c", "print('schema migrated')", "--to", "v2 final"]
    run = await start(ctx, [_gated("migrate", argv), step("after", "builtin:noop", "migrate")])
    viewer = await api.token("vic", Role.VIEWER)

    queue = await viewer.get("/api/v1/approvals")
    assert queue.status_code == 200
    [pending] = queue.json()
    assert (pending["step_id"], pending["state"], pending["risk_tier"]) == (
        "migrate",
        "pending",
        "write",
    )
    assert pending["action"] == shlex.join(argv)  # exactly what will run
    assert pending["inputs"]["argv"] == argv
    assert pending["estimate_usd"] == 0.0  # a command step costs no tokens
    assert pending["run_id"] == str(run.id) and pending["decision"] is None
    by_step_run = await viewer.get(f"/api/v1/approvals/{pending['step_run_id']}")
    assert by_step_run.json()["id"] == pending["id"]

    async with running_engine(ctx):
        await asyncio.sleep(0.5)
        # An engine is working, yet nothing of the gated step (or after it) was dispatched.
        assert not [e for e in await run_events(ctx, run.id) if e.type == "step.started"]
        waiting = (await viewer.get(f"/api/v1/runs/{run.id}")).json()
        assert {s["step_id"]: s["status"] for s in waiting["steps"]} == {
            "migrate": "awaiting_approval",
            "after": "waiting",
        }

        refused = await viewer.post(f"/api/v1/approvals/{pending['id']}/approve")
        assert refused.status_code == 403
        assert "approver" in refused.json()["error"]["message"]

        ann = await api.browser("ann", Role.APPROVER)
        decided = await ann.post(
            f"/api/v1/approvals/{pending['id']}/approve", json={"reason": "reviewed the SQL"}
        )
        assert decided.status_code == 200, decided.text
        body = decided.json()
        assert (body["state"], body["decision"], body["decided_by"]) == (
            "approved",
            "approved",
            "user:ann",
        )
        assert body["decided_at"] is not None and body["reason"] == "reviewed the SQL"
        done = await wait_for_run(ctx, run.id)

    assert done.status == "completed"
    events = await run_events(ctx, run.id)
    [approved] = [e for e in events if e.type == "approval.approved"]
    assert (approved.actor, approved.step_id) == ("user:ann", "migrate")
    assert approved.payload["reason"] == "reviewed the SQL" and approved.ts is not None
    started = next(e for e in events if e.type == "step.started" and e.step_id == "migrate")
    assert approved.seq < started.seq
    assert (await viewer.get("/api/v1/approvals")).json() == []
    decided_list = (await viewer.get("/api/v1/approvals", params={"state": "decided"})).json()
    assert [(a["step_id"], a["decided_by"]) for a in decided_list] == [("migrate", "user:ann")]


async def test_a_rejection_needs_a_reason_and_a_decision_is_made_once(
    ctx: ServiceContext, api: Api
) -> None:
    run = await start(ctx, [_gated("push"), step("tag", "builtin:noop", "push")])
    approver = await api.token("bob", Role.APPROVER)
    [pending] = (await approver.get("/api/v1/approvals", params={"run_id": str(run.id)})).json()
    url = f"/api/v1/approvals/{pending['id']}"

    # As the schema says: a body, with a reason that is not only spaces.
    for body, field, message in (
        (None, "body", "is required: send JSON"),
        ({}, "reason", "is required"),
        ({"reason": "   "}, "reason", "a rejection needs a reason, so that others know why"),
    ):
        refused = await approver.post(f"{url}/reject", json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == field
        assert refused.json()["error"]["details"][0]["message"].startswith(message)
    unknown_field = await approver.post(f"{url}/reject", json={"why": "no"})
    assert unknown_field.status_code == 422
    assert [d["field"] for d in unknown_field.json()["error"]["details"]] == ["reason", "why"]
    assert (await approver.get(url)).json()["state"] == "pending"

    rejected = await approver.post(f"{url}/reject", json={"reason": "not before the release"})
    assert rejected.status_code == 200
    assert (rejected.json()["state"], rejected.json()["decided_by"]) == (
        "rejected",
        "token:bob-token",
    )
    again = await approver.post(f"{url}/approve")
    assert again.status_code == 409
    assert "already rejected by token:bob-token" in again.json()["error"]["message"]
    assert (await approver.post(f"{url}/reject", json={"reason": "x"})).status_code == 409

    assert (await approver.post(f"/api/v1/approvals/{uuid.uuid4()}/approve")).status_code == 404
    assert (await approver.get("/api/v1/approvals/not-an-id")).status_code == 422
    bad_state = await approver.get("/api/v1/approvals", params={"state": "maybe"})
    assert bad_state.status_code == 422 and bad_state.json()["error"]["field"] == "state"
    failed = (await approver.get(f"/api/v1/runs/{run.id}")).json()
    assert {s["step_id"]: s["status"] for s in failed["steps"]} == {
        "push": "failed",
        "tag": "blocked",
    }
    decisions = [e for e in await run_events(ctx, run.id) if e.type.startswith("approval.")]
    assert [e.type for e in decisions] == ["approval.requested", "approval.rejected"]


async def test_an_approval_survives_a_restart_and_is_decided_by_the_next_server(
    settings: Settings,
) -> None:
    async with open_context(settings) as ctx:
        run = await start(ctx, [_gated("deploy")])
    async with serve(settings) as first, AsyncExitStack() as stack:
        client = await Api(first, stack).token("cat", Role.APPROVER)
        [pending] = (await client.get("/api/v1/approvals")).json()
    # A new server process: nothing of the first one's memory is left.
    async with serve(settings) as second, AsyncExitStack() as stack:
        client = await Api(second, stack).token("dan", Role.APPROVER)
        assert [a["id"] for a in (await client.get("/api/v1/approvals")).json()] == [pending["id"]]
        decided = await client.post(f"/api/v1/approvals/{pending['step_run_id']}/approve")
        assert decided.status_code == 200 and decided.json()["decided_by"] == "token:dan-token"
    async with open_context(settings) as ctx:
        stored = await read_approval(ctx, ref=uuid.UUID(pending["id"]))
        assert (stored.state, stored.decided_by) == ("approved", "token:dan-token")
        assert stored.decided_at is not None
        async with running_engine(ctx):
            done = await wait_for_run(ctx, run.id)
        assert done.status == "completed"
    async with serve(settings) as third, AsyncExitStack() as stack:
        client = await Api(third, stack).token("eve", Role.APPROVER)
        late = await client.post(f"/api/v1/approvals/{pending['id']}/reject", json={"reason": "x"})
        assert late.status_code == 409 and "by token:dan-token" in late.json()["error"]["message"]


async def test_an_operator_stops_everything_and_only_an_admin_releases(
    ctx: ServiceContext, api: Api
) -> None:
    run = await start(ctx, [step("nap", "builtin:sleep", inputs={"seconds": 30})])
    operator = await api.token("ops", Role.OPERATOR)
    admin = await api.token("root", Role.ADMIN)
    viewer = await api.token("vic", Role.VIEWER)
    assert (await viewer.get("/api/v1/controls")).json()["emergency_stop"] is False

    async with running_engine(ctx) as engine:
        await wait_for_step(ctx, run.id, "nap", "running")
        assert (await viewer.post("/api/v1/emergency-stop")).status_code == 403
        stopped = await operator.post("/api/v1/emergency-stop", json={"reason": "bad deploy"})
        assert stopped.status_code == 200, stopped.text
        result = stopped.json()
        assert result["aborted_runs"] == [str(run.id)] and result["canceled_steps"] == 1
        assert result["controls"]["stopped_by"] == "token:ops-token"
        aborted = await wait_for_run(ctx, run.id)
        for _ in range(100):  # the engine sees the stop at its next tick
            if engine.inflight == 0:
                break
            await asyncio.sleep(0.02)
        assert engine.inflight == 0

    assert aborted.status == "aborted"
    assert [s.status for s in aborted.steps] == ["canceled"]
    controls = (await viewer.get("/api/v1/controls")).json()
    assert (controls["emergency_stop"], controls["stopped_by"], controls["reason"]) == (
        True,
        "token:ops-token",
        "bad deploy",
    )
    twice = await admin.post("/api/v1/emergency-stop")
    assert twice.status_code == 409 and "token:ops-token" in twice.json()["error"]["message"]

    assert (await operator.post("/api/v1/emergency-stop/release")).status_code == 403
    released = await admin.post("/api/v1/emergency-stop/release", json={"reason": "rolled back"})
    assert released.status_code == 200 and released.json()["emergency_stop"] is False
    assert (await admin.post("/api/v1/emergency-stop/release")).status_code == 409

    events = await read_event_page(ctx, limit=1000)
    governance = [
        (e.type, e.actor, e.payload["reason"]) for e in events if e.type.startswith("emergency.")
    ]
    assert governance == [
        ("emergency.stopped", "token:ops-token", "bad deploy"),
        ("emergency.released", "token:root-token", "rolled back"),
    ]


async def test_a_disabled_agent_holds_its_steps_until_an_admin_enables_it(
    ctx: ServiceContext, api: Api
) -> None:
    admin = await api.token("root", Role.ADMIN)
    operator = await api.token("ops", Role.OPERATOR)
    url = "/api/v1/agents/builtin:sleep"
    assert (await operator.patch(url, json={"enabled": False})).status_code == 403
    disabled = await admin.patch(url, json={"enabled": False})
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    # Names with `*` and unknown names.
    kind = await admin.patch("/api/v1/agents/llm:*", json={"allowed_risk_tiers": ["read"]})
    assert kind.status_code == 200 and kind.json()["allowed_risk_tiers"] == ["read"]
    assert (await admin.patch("/api/v1/agents/nope:x", json={"enabled": True})).status_code == 404
    bad = await admin.patch(url, json={"allowed_risk_tiers": ["sometimes"]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "allowed_risk_tiers.0"

    run = await start(
        ctx, [step("nap", "builtin:sleep", inputs={"seconds": 0}), step("ok", "builtin:noop")]
    )
    async with running_engine(ctx):
        await wait_for_step(ctx, run.id, "ok", "succeeded")
        await asyncio.sleep(0.3)
        held_run = (await operator.get(f"/api/v1/runs/{run.id}")).json()
        assert {s["step_id"]: s["status"] for s in held_run["steps"]} == {
            "nap": "queued",
            "ok": "succeeded",
        }
        # RunRead has no hold reason; the run's events carry it.
        events = (await operator.get(f"/api/v1/runs/{run.id}/events")).json()["items"]
        [held] = [e for e in events if e["type"] == "step.held"]
        assert held["step_id"] == "nap" and "disabled" in held["payload"]["reason"]
        agents = {a["name"]: a for a in (await operator.get("/api/v1/agents")).json()}
        assert (agents["builtin:sleep"]["enabled"], agents["builtin:sleep"]["held_steps"]) == (
            False,
            1,
        )

        enabled = await admin.patch(url, json={"enabled": True})
        assert enabled.status_code == 200 and enabled.json()["held_steps"] == 0
        done = await wait_for_run(ctx, run.id)
    assert done.status == "completed"
    released = [e for e in await run_events(ctx, run.id) if e.type == "step.released"]
    assert [(e.step_id, e.actor) for e in released] == [("nap", "token:root-token")]


async def test_an_admin_overrides_a_price_and_the_others_only_read_it(api: Api) -> None:
    admin = await api.token("root", Role.ADMIN)
    operator = await api.token("ops", Role.OPERATOR)
    viewer = await api.token("vic", Role.VIEWER)
    url = "/api/v1/prices/openai/gpt-4.1-mini"
    price = {"input_usd_per_mtok": 0.5, "output_usd_per_mtok": 1.5}

    assert (await operator.put(url, json=price)).status_code == 403
    assert (await viewer.put(url, json=price)).status_code == 403
    assert (await viewer.get(url)).status_code == 404  # no source knows it yet

    set_ = await admin.put(url, json=price)
    assert set_.status_code == 200, set_.text
    read = (await viewer.get(url)).json()
    assert read == {
        "model": "openai/gpt-4.1-mini",
        "input_usd_per_mtok": 0.5,
        "cached_input_usd_per_mtok": 0.5,
        "output_usd_per_mtok": 1.5,
        "source": "override",
    }
    listed = {p["model"]: p for p in (await viewer.get("/api/v1/prices")).json()}
    assert listed["openai/gpt-4.1-mini"]["source"] == "override"
    assert listed["gpt-4o-mini"]["source"] == "genai-prices"
    bundled = (await viewer.get("/api/v1/prices/gpt-4o-mini")).json()
    assert bundled["source"] == "genai-prices" and bundled["input_usd_per_mtok"] > 0

    negative = await admin.put(url, json={**price, "input_usd_per_mtok": -1})
    assert negative.status_code == 422
    assert negative.json()["error"]["field"] == "input_usd_per_mtok"
    extra = await admin.put(url, json={**price, "model": "other"})
    assert extra.status_code == 422 and extra.json()["error"]["field"] == "model"

    events = await read_event_page(api.app.state.ctx, limit=1000)
    assert [(e.actor, e.payload["model"]) for e in events if e.type == "price.set"] == [
        ("token:root-token", "openai/gpt-4.1-mini")
    ]


async def test_a_price_without_cached_input_is_recorded_as_not_given(api: Api) -> None:
    admin = await api.token("root", Role.ADMIN)
    unset = await admin.put(
        "/api/v1/prices/plain-model", json={"input_usd_per_mtok": 1, "output_usd_per_mtok": 2}
    )
    # The column is NOT NULL: cached tokens are charged at the input price (no cache discount).
    assert unset.json()["cached_input_usd_per_mtok"] == 1.0
    given = await admin.put(
        "/api/v1/prices/cache-model",
        json={"input_usd_per_mtok": 1, "output_usd_per_mtok": 2, "cached_input_usd_per_mtok": 0.1},
    )
    assert given.json()["cached_input_usd_per_mtok"] == 0.1
    events = await read_event_page(api.app.state.ctx, limit=1000)
    recorded = {
        e.payload["model"]: e.payload["cached_input_given"] for e in events if e.type == "price.set"
    }
    assert recorded == {"plain-model": False, "cache-model": True}
    schema = (await admin.get("/openapi.json")).json()["components"]["schemas"]["PriceChange"]
    described = schema["properties"]["cached_input_usd_per_mtok"]["description"]
    assert "cached tokens are charged at the input price" in described


async def test_text_the_database_cannot_store_is_refused_not_a_server_error(api: Api) -> None:
    admin = await api.token("root", Role.ADMIN)
    nul = await admin.post("/api/v1/emergency-stop", json={"reason": "a\x00b"})
    assert nul.status_code == 422 and nul.json()["error"]["field"] == "reason"
    long = await admin.post("/api/v1/emergency-stop", json={"reason": "x" * 2000 + "   "})
    assert long.status_code == 422
    assert (await admin.get("/api/v1/controls")).json()["emergency_stop"] is False
    assert (await admin.get("/api/v1/prices/a%00b")).status_code == 422
    assert (await admin.patch("/api/v1/agents/" + "a" * 101, json={})).status_code == 422


# --- The command agent's allow-list ------------------------------------------------------------

COMMAND_URL = "/api/v1/agents/command"


async def _programs(http: httpx2.AsyncClient) -> dict[str, Any]:
    agents = {a["name"]: a for a in (await http.get("/api/v1/agents")).json()}
    programs: dict[str, Any] = agents["command"]["allowed_programs"]
    return programs


async def test_an_operators_program_waits_until_an_admin_lists_it(
    ctx: ServiceContext, api: Api
) -> None:
    admin = await api.token("root", Role.ADMIN)
    operator = await api.token("ops", Role.OPERATOR)
    script = step("script", "command", inputs={"argv": [PY, "-c", "print('ok')"]})
    definition = {
        "name": "innocent",
        "steps": [{**script, "risk_tier": "read", "requires_approval": False}],
    }
    saved = await operator.post("/api/v1/workflows", json=definition)
    assert saved.status_code == 201, saved.text
    check = (await operator.post("/api/v1/workflows/validate", json=definition)).json()
    [previewed] = check["steps"]
    assert (previewed["gated"], previewed["risk_tier"]) == (True, "write")
    assert "allow-list" in previewed["gate_reason"]
    runs = f"/api/v1/workflows/{saved.json()['id']}/runs"
    first = (await operator.post(runs, json={})).json()
    assert [s["status"] for s in first["steps"]] == ["awaiting_approval"]

    listed = await admin.patch(COMMAND_URL, json={"allowed_programs": {PY: {"tier": "read"}}})
    assert listed.status_code == 200, listed.text
    assert listed.json()["allowed_programs"] == {PY: {"tier": "read", "network": False, "env": []}}
    check = (await operator.post("/api/v1/workflows/validate", json=definition)).json()
    assert [s["gated"] for s in check["steps"]] == [False]
    second = (await operator.post(runs, json={})).json()
    assert [s["status"] for s in second["steps"]] == ["queued"]
    async with running_engine(ctx):
        done = await wait_for_run(ctx, uuid.UUID(second["id"]))
    assert done.status == "completed"
    first_now = (await operator.get(f"/api/v1/runs/{first['id']}")).json()
    assert [s["status"] for s in first_now["steps"]] == ["awaiting_approval"]
    [updated] = [e for e in await read_event_page(ctx, limit=1000) if e.type == "agent.updated"]
    assert updated.actor == "token:root-token"
    assert updated.payload["allowed_programs"] == {PY: {"tier": "read", "network": False}}


async def test_only_an_admin_changes_the_list_by_api_or_page(ctx: ServiceContext, api: Api) -> None:
    change = {"allowed_programs": {"pytest": {"tier": "read"}}}
    form = {"program_action": "allow", "program": "pytest", "program_tier": "read"}
    for role in (Role.OPERATOR, Role.APPROVER, Role.VIEWER):
        token = await api.token(f"{role.value}-t", role)
        assert (await token.patch(COMMAND_URL, json=change)).status_code == 403, role
        browser = await api.browser(f"{role.value}-b", role)
        refused = await browser.post("/agents/command", data=form)
        assert refused.status_code == 403, role
        page = (await browser.get("/agents")).text
        assert 'data-form="allow-program"' not in page and "Only an admin changes the list" in page
    admin = await api.browser("root", Role.ADMIN)
    assert await _programs(admin) == {}
    assert 'data-form="allow-program"' in (await admin.get("/agents")).text

    allowed = await admin.post("/agents/command", data=form, headers={"HX-Request": "true"})
    assert allowed.status_code == 200 and "pytest allowed" in allowed.text
    assert 'data-program="pytest"' in allowed.text
    viewer = await api.browser("vic", Role.VIEWER)
    shown = (await viewer.get("/agents")).text
    assert 'data-program="pytest"' in shown and 'data-control="disallow-pytest"' not in shown
    removed = await admin.post("/agents/command", data={**form, "program_action": "disallow"})
    assert removed.status_code == 303
    assert await _programs(admin) == {}
    actors = [e.actor for e in await read_event_page(ctx, limit=1000) if e.type == "agent.updated"]
    assert actors == ["user:root", "user:root"]


async def test_hostile_lists_are_refused_naming_the_field_and_change_nothing(
    ctx: ServiceContext, api: Api
) -> None:
    admin = await api.token("root", Role.ADMIN)
    entry = {"tier": "read"}
    refused: list[tuple[dict[str, Any], str]] = [
        ({"allowed_programs": {f"p{i}": entry for i in range(101)}}, "allowed_programs"),
        ({"allowed_programs": {"x" * 1_000_000: entry}}, "allowed_programs"),
        ({"allowed_programs": {"py\x00test": entry}}, "allowed_programs"),
        ({"allowed_programs": {"./pytest": entry}}, "allowed_programs"),
        ({"allowed_programs": {"pytest": {"tier": 1}}}, "allowed_programs.pytest.tier"),
        ({"allowed_programs": {"pytest": {"tier": "read", "network": 1}}}, "allowed_programs"),
        ({"allowed_programs": {"pytest": {"tier": "read", "run": "all"}}}, "allowed_programs"),
        ({"allowed_programs": ["pytest"]}, "allowed_programs"),
        ({"allowed_programs": {"pytest": {"tier": "read", "env": ["A-B"]}}}, "allowed_programs"),
        ({"allowed_programs": {"pytest": {"tier": "read", "env": "HOME"}}}, "allowed_programs"),
        ({"enabled": 0}, "enabled"),
        ({"enabled": "false"}, "enabled"),
    ]
    for body, field in refused:
        response = await admin.patch(COMMAND_URL, json=body)
        assert response.status_code == 422, (field, response.text[:200])
        assert response.json()["error"]["field"].startswith(field), response.text[:200]
        assert len(response.content) < 2000  # a long name is not sent back
    # 10 MB is refused whole: past the server's body limit (413) or by the field (422).
    huge = await admin.patch(COMMAND_URL, json={"allowed_programs": {"x" * 10_000_000: entry}})
    assert huge.status_code in (413, 422) and len(huge.content) < 2000
    assert huge.json()["error"]["field"] in ("body", "allowed_programs")
    other = await admin.patch("/api/v1/agents/llm:*", json={"allowed_programs": {"x": entry}})
    assert other.status_code == 409 and other.json()["error"]["field"] == "allowed_programs"
    browser = await api.browser("ada", Role.ADMIN)
    for program in ("x" * 100_000, "py\x00test", "./pytest"):
        form = {"program_action": "allow", "program": program, "program_tier": "read"}
        response = await browser.post("/agents/command", data=form)
        assert response.status_code == 422 and response.json()["error"]["field"] == "program"
        assert len(response.content) < 2000  # the name is not sent back
    # A form field of 10 MB is refused by the form parser (400) or the body limit (413) first.
    form = {"program_action": "allow", "program": "x" * 10_000_000, "program_tier": "read"}
    response = await browser.post("/agents/command", data=form)
    assert response.status_code in (400, 413, 422) and len(response.content) < 2000
    bad_tier = {"program_action": "allow", "program": "pytest", "program_tier": "root"}
    assert (await browser.post("/agents/command", data=bad_tier)).status_code == 422

    assert await _programs(admin) == {}
    assert not [e for e in await read_event_page(ctx, limit=1000) if e.type == "agent.updated"]
    schema = (await admin.get("/openapi.json")).json()["components"]["schemas"]["AgentUpdate"]
    enabled = schema["properties"]["enabled"]
    assert {"type": "boolean"} in enabled["anyOf"] and "0, 1" in enabled["description"]
    programs = schema["properties"]["allowed_programs"]["anyOf"][0]
    assert programs["maxProperties"] == 100
    assert programs["propertyNames"]["maxLength"] == 512


async def test_two_admins_changing_the_list_at_once_both_land(api: Api) -> None:
    first = await api.token("root", Role.ADMIN)
    second = await api.token("ada", Role.ADMIN)
    await first.patch(COMMAND_URL, json={"allowed_programs": {"make": {"tier": "write"}}})
    results = await asyncio.gather(
        first.patch(COMMAND_URL, json={"allowed_programs": {"pytest": {"tier": "read"}}}),
        second.patch(COMMAND_URL, json={"allowed_programs": {"ruff": {"tier": "read"}}}),
        second.patch(COMMAND_URL, json={"allowed_programs": {"make": None}}),
    )
    assert [r.status_code for r in results] == [200, 200, 200]
    assert sorted(await _programs(first)) == ["pytest", "ruff"]


async def test_an_entry_names_the_variables_its_steps_may_set_by_api_or_page(api: Api) -> None:
    admin = await api.token("root", Role.ADMIN)
    entry = {"tier": "read", "env": ["API_URL", "API_URL"]}
    patched = await admin.patch(COMMAND_URL, json={"allowed_programs": {"pytest": entry}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["allowed_programs"]["pytest"]["env"] == ["API_URL"]
    browser = await api.browser("root-b", Role.ADMIN)
    form = {
        "program_action": "allow",
        "program": "make",
        "program_tier": "read",
        "program_env": "REPORT_DIR, CI_TOKEN",
    }
    hx = {"HX-Request": "true"}
    done = await browser.post("/agents/command", data=form, headers=hx)
    assert done.status_code == 200 and "setting CI_TOKEN, REPORT_DIR" in done.text
    assert "<code>CI_TOKEN</code>, <code>REPORT_DIR</code>" in done.text
    bad = await browser.post("/agents/command", data={**form, "program_env": "NOT-OK"}, headers=hx)
    assert bad.status_code == 422 and "NOT-OK" in bad.text
    programs = await _programs(browser)
    assert programs["make"]["env"] == ["CI_TOKEN", "REPORT_DIR"]
