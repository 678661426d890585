"""The authorization matrix: every route the app serves, crossed with every kind of caller.

The cases are generated from the app's own route table (``security.guard.route_table``), so a
route added later is covered without editing this file, and a route that declares no
permission fails (the app refuses to build, and ``undeclared_routes`` names it).

Expected: anonymous callers and revoked or expired tokens get 401; a role without the route's
permission gets 403; a role with it gets past the check (any status but 401/403, never a
5xx — the ids in the paths do not exist, so most answer 404). Public routes let everyone past.
Every refusal is in the event log as ``access.denied`` with the caller's identity.
"""

import re
import uuid
from collections import Counter
from typing import Any

import httpx2
import pytest
from fastapi import APIRouter, FastAPI

from missionctl.app import PUBLIC_PATHS, create_app
from missionctl.domain.access import Permission, RateLimiter, allows
from missionctl.security.guard import RouteEntry, public, requires, route_table, undeclared_routes
from missionctl.security.limits import ProcessLimiter
from missionctl.services.usecases.audit import read_event_page
from missionctl.settings import Settings
from tests.security.helpers import Caller, make_callers
from tests.support.consistency import assert_consistent

_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
# Routes that refuse every cross-site form post, whoever sends it: sign-in and sign-out are
# public but need the session's CSRF token, which no caller in the matrix has.
CSRF_GUARDED_PUBLIC = {("POST", "/sign-in"), ("POST", "/sign-in/link"), ("POST", "/sign-out")}
# The live streams of lists and of the event feed never end on their own; with a cursor no list
# issued, or a time that is not one, they answer 422 right after the permission check instead.
SIGN_IN_PATHS = ("/sign-in", "/sign-in/link")
ENDLESS_STREAMS = {
    "/missions/stream": "?cursor=none",
    "/board/stream": "?mission=none",
    "/calendar/stream": "?tz=none",
    "/runs/stream": "?cursor=none",
    "/events/stream": "?since=none",
    "/api/v1/events/stream": "?since=none",
}


PUBLIC = None
# The reviewed policy: what each route needs. A route missing here, or declaring something
# else, fails ``test_every_route_declares_the_reviewed_permission`` — so a new route gets a
# line here, in the same change, for a reviewer to read.
POLICY: dict[tuple[str, str], str | None] = {
    ("GET", "/healthz"): PUBLIC,
    # An id from its first digits: as reading that kind of record needs.
    ("GET", "/api/v1/ids/missions/{prefix}"): "missions:read",
    ("GET", "/api/v1/ids/runs/{prefix}"): "runs:read",
    ("GET", "/api/v1/ids/artifacts/{prefix}"): "artifacts:read",
    ("GET", "/api/v1/ids/approvals/{prefix}"): "approvals:read",
    ("GET", "/api/v1/ids/specs/{prefix}"): "missions:read",
    ("GET", "/api/v1/ids/decisions/{prefix}"): "missions:read",
    ("GET", "/api/v1/ids/risks/{prefix}"): "missions:read",
    ("GET", "/api/v1/ids/schedules/{prefix}"): "workflows:read",
    ("GET", "/api/v1/ids/workflows/{prefix}"): "workflows:read",
    ("GET", "/api/v1/ids/workers/{prefix}"): "agents:read",
    ("GET", "/api/v1/ids/webhooks/{prefix}"): "webhooks:admin",
    ("GET", "/api/v1/ids/deliveries/{prefix}"): "webhooks:admin",
    ("GET", "/metrics"): "metrics:read",
    ("GET", "/api/v1/health/summary"): "runs:read",
    ("GET", "/api/v1/followers"): "agents:read",
    ("GET", "/api/v1/workers"): "agents:read",
    ("GET", "/api/v1/workers/{worker_id}"): "agents:read",
    ("POST", "/api/v1/workers/{worker_id}/drain"): "workers:control",
    ("POST", "/api/v1/workers/{worker_id}/resume"): "workers:control",
    ("POST", "/api/v1/workers/{worker_id}/stop"): "workers:control",
    ("PATCH", "/api/v1/workers/{worker_id}"): "workers:control",
    ("PUT", "/api/v1/workers/{worker_id}/autoscale"): "workers:control",
    ("DELETE", "/api/v1/workers/{worker_id}/autoscale"): "workers:control",
    ("GET", "/health/strip"): "runs:read",
    ("GET", "/workers"): "agents:read",
    ("POST", "/workers/{worker_id}/drain"): "workers:control",
    ("POST", "/workers/{worker_id}/resume"): "workers:control",
    ("POST", "/workers/{worker_id}/stop"): "workers:control",
    ("POST", "/workers/{worker_id}/concurrency"): "workers:control",
    ("POST", "/workers/{worker_id}/autoscale"): "workers:control",
    ("POST", "/workers/{worker_id}/autoscale/off"): "workers:control",
    ("POST", "/api/v1/missions"): "missions:write",
    ("GET", "/api/v1/missions"): "missions:read",
    ("GET", "/api/v1/board"): "missions:read",
    ("GET", "/api/v1/calendar"): "workflows:read",
    ("GET", "/api/v1/schedules/{schedule_id}/calendar.ics"): "workflows:read",
    # Epics group missions: reading one is reading missions, changing one writing them.
    ("GET", "/api/v1/ids/epics/{prefix}"): "missions:read",
    ("GET", "/api/v1/epics"): "missions:read",
    ("POST", "/api/v1/epics"): "missions:write",
    ("GET", "/api/v1/epics/{epic_id}"): "missions:read",
    ("PATCH", "/api/v1/epics/{epic_id}"): "missions:write",
    ("POST", "/api/v1/epics/{epic_id}/missions"): "missions:write",
    ("POST", "/api/v1/epics/{epic_id}/missions/remove"): "missions:write",
    ("POST", "/api/v1/epics/{epic_id}/archive"): "missions:write",
    ("POST", "/api/v1/epics/{epic_id}/restore"): "missions:write",
    ("GET", "/api/v1/missions/{mission_id}"): "missions:read",
    ("POST", "/api/v1/missions/{mission_id}/plan"): "missions:write",
    ("POST", "/api/v1/missions/{mission_id}/clarification"): "missions:write",
    ("GET", "/api/v1/missions/{mission_id}/plan"): "missions:read",
    ("GET", "/api/v1/missions/{mission_id}/plans"): "missions:read",
    ("GET", "/api/v1/missions/{mission_id}/plans/{version}"): "missions:read",
    ("GET", "/api/v1/missions/{mission_id}/plans/{version}/diff"): "missions:read",
    ("GET", "/api/v1/missions/{mission_id}/pack"): "missions:read",
    ("GET", "/api/v1/missions/{mission_id}/trace"): "missions:read",
    ("GET", "/api/v1/missions/{mission_id}/diagrams"): "missions:read",
    ("GET", "/api/v1/missions/{mission_id}/diagrams/{name}.svg"): "missions:read",
    ("POST", "/api/v1/missions/{mission_id}/runs"): "runs:control",
    ("GET", "/api/v1/missions/{mission_id}/decisions"): "missions:read",
    ("POST", "/api/v1/missions/{mission_id}/decisions"): "missions:write",
    ("PATCH", "/api/v1/missions/{mission_id}/decisions/{decision_id}"): "missions:write",
    ("GET", "/api/v1/missions/{mission_id}/adrs"): "missions:read",
    ("GET", "/api/v1/missions/{mission_id}/risks"): "missions:read",
    ("POST", "/api/v1/missions/{mission_id}/risks"): "missions:write",
    ("PATCH", "/api/v1/missions/{mission_id}/risks/{risk_id}"): "missions:write",
    ("POST", "/api/v1/missions/{mission_id}/documents"): "missions:write",
    ("GET", "/api/v1/missions/{mission_id}/documents"): "missions:read",
    ("GET", "/api/v1/missions/{mission_id}/documents/{kind}"): "missions:read",
    ("GET", "/api/v1/missions/{mission_id}/documents/{kind}/versions/{version}"): "missions:read",
    ("GET", "/api/v1/missions/{mission_id}/documents/{kind}/versions/{version}/export"): (
        "missions:read"
    ),
    ("GET", "/api/v1/missions/{mission_id}/documents/{kind}/compare"): "missions:read",
    ("GET", "/api/v1/runs"): "runs:read",
    ("GET", "/api/v1/events"): "runs:read",
    ("GET", "/api/v1/events/stream"): "runs:read",
    ("GET", "/api/v1/audit/runs"): "audit:read",
    ("GET", "/api/v1/audit/export"): "audit:read",
    ("GET", "/api/v1/runs/{run_id}"): "runs:read",
    ("POST", "/api/v1/runs/{run_id}/cancel"): "runs:control",
    ("POST", "/api/v1/runs/{run_id}/steps/{step_id}/retry"): "runs:control",
    ("POST", "/api/v1/runs/{run_id}/rerun"): "runs:control",
    ("GET", "/api/v1/runs/{run_id}/events"): "audit:read",
    ("GET", "/api/v1/runs/{run_id}/risks"): "runs:read",
    ("GET", "/api/v1/search"): "runs:read",
    ("GET", "/api/v1/memory"): "missions:read",
    ("GET", "/api/v1/palette"): "missions:read",
    ("GET", "/api/v1/missions/{mission_id}/similar"): "missions:read",
    ("GET", "/api/v1/runs/{run_id}/state"): "runs:read",
    ("GET", "/api/v1/runs/{run_id}/artifacts"): "artifacts:read",
    ("GET", "/api/v1/missions/{mission_id}/artifacts"): "artifacts:read",
    ("GET", "/api/v1/artifacts/{artifact_id}"): "artifacts:read",
    ("GET", "/api/v1/artifacts/{artifact_id}/content"): "artifacts:read",
    ("GET", "/api/v1/me"): "missions:read",
    ("GET", "/api/v1/users"): "users:admin",
    ("POST", "/api/v1/users"): "users:admin",
    ("PUT", "/api/v1/users/{name}/role"): "users:admin",
    ("POST", "/api/v1/users/{name}/disable"): "users:admin",
    ("GET", "/api/v1/tokens"): "tokens:admin",
    ("POST", "/api/v1/tokens"): "tokens:admin",
    ("POST", "/api/v1/tokens/{name}/revoke"): "tokens:admin",
    ("GET", "/api/v1/runs/{run_id}/report"): "artifacts:read",
    ("GET", "/api/v1/runs/{run_id}/receipt"): "artifacts:read",
    ("GET", "/api/v1/approvals"): "approvals:read",
    ("GET", "/api/v1/approvals/{ref}"): "approvals:read",
    ("POST", "/api/v1/approvals/{ref}/approve"): "approvals:decide",
    ("POST", "/api/v1/approvals/{ref}/reject"): "approvals:decide",
    ("GET", "/api/v1/controls"): "runs:read",
    ("POST", "/api/v1/emergency-stop"): "emergency:stop",
    ("POST", "/api/v1/emergency-stop/release"): "emergency:release",
    ("GET", "/api/v1/agents"): "agents:read",
    ("PATCH", "/api/v1/agents/{name:agent}"): "agents:admin",
    ("GET", "/api/v1/agents/utilisation"): "agents:read",
    # The single-use token in the path is the credential (ADR 0061).
    ("POST", "/api/v1/callbacks/{token}"): PUBLIC,
    ("GET", "/api/v1/prices"): "prices:read",
    ("GET", "/api/v1/prices/{model:path}"): "prices:read",
    ("PUT", "/api/v1/prices/{model:path}"): "prices:admin",
    ("GET", "/api/v1/workflows/by-name/{name:path}/suggestions"): "workflows:read",
    ("POST", "/api/v1/workflows/{workflow_id}/suggestions/{key}/apply"): "workflows:write",
    ("GET", "/api/v1/models"): "prices:read",
    ("PUT", "/api/v1/models/{model:path}"): "prices:admin",
    ("POST", "/api/v1/catalogue/sync"): "prices:admin",
    ("GET", "/api/v1/spending-caps"): "prices:read",
    ("PUT", "/api/v1/spending-caps"): "policies:admin",
    ("DELETE", "/api/v1/spending-caps/{cap_id}"): "policies:admin",
    ("POST", "/api/v1/webhooks"): "webhooks:admin",
    ("GET", "/api/v1/webhooks"): "webhooks:admin",
    ("GET", "/api/v1/webhooks/{webhook_id}"): "webhooks:admin",
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): "webhooks:admin",
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): "webhooks:admin",
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): "webhooks:admin",
    ("POST", "/api/v1/webhooks/deliveries/{delivery_id}/redeliver"): "webhooks:admin",
    ("POST", "/api/v1/webhooks/{webhook_id}/test"): "webhooks:admin",
    ("GET", "/api/v1/costs"): "runs:read",
    ("GET", "/api/v1/analytics/funnel"): "analytics:read",
    ("GET", "/api/v1/analytics/trends"): "analytics:read",
    ("GET", "/api/v1/analytics/orchestration"): "analytics:read",
    ("GET", "/api/v1/analytics/retention"): "analytics:read",
    ("GET", "/api/v1/analytics/anomalies"): "analytics:read",
    ("GET", "/api/v1/analytics/insights"): "analytics:read",
    ("GET", "/api/v1/analytics/definitions"): "analytics:read",
    ("GET", "/api/v1/workflows"): "workflows:read",
    ("POST", "/api/v1/workflows"): "workflows:write",
    ("POST", "/api/v1/workflows/validate"): "workflows:read",
    ("GET", "/api/v1/workflows/schema"): "workflows:read",
    ("GET", "/api/v1/workflows/by-name/{name:path}/versions"): "workflows:read",
    ("GET", "/api/v1/workflows/by-name/{name:path}"): "workflows:read",
    ("GET", "/api/v1/workflows/{workflow_id:uuid}"): "workflows:read",
    ("POST", "/api/v1/workflows/{workflow_id}/runs"): "runs:control",
    ("POST", "/api/v1/schedules"): "schedules:write",
    ("GET", "/api/v1/schedules"): "workflows:read",
    ("GET", "/api/v1/schedules/{schedule_id}"): "workflows:read",
    ("PATCH", "/api/v1/schedules/{schedule_id}"): "schedules:write",
    ("POST", "/api/v1/schedules/{schedule_id}/pause"): "schedules:write",
    ("POST", "/api/v1/schedules/{schedule_id}/resume"): "schedules:write",
    ("POST", "/api/v1/schedules/{schedule_id}/run-now"): "schedules:write",
    ("DELETE", "/api/v1/schedules/{schedule_id}"): "schedules:write",
    ("GET", "/sign-in"): PUBLIC,
    ("POST", "/sign-in"): PUBLIC,
    ("POST", "/sign-in/link"): PUBLIC,
    # Every role may see and end its own sessions; only admins others' (the service's 403).
    ("GET", "/sessions"): "missions:read",
    ("POST", "/sessions/{session_id}/revoke"): "missions:read",
    ("POST", "/sessions/revoke-all"): "missions:read",
    ("POST", "/sign-out"): PUBLIC,
    ("GET", "/docs"): PUBLIC,  # like /openapi.json: what the API offers, no data
    ("GET", "/"): "missions:read",
    ("GET", "/missions"): "missions:read",
    ("GET", "/missions/stream"): "missions:read",
    ("GET", "/board"): "missions:read",
    ("GET", "/board/stream"): "missions:read",
    ("GET", "/epics"): "missions:read",
    ("POST", "/epics"): "missions:write",
    ("GET", "/epics/{epic_id}"): "missions:read",
    ("POST", "/epics/{epic_id}/edit"): "missions:write",
    ("POST", "/epics/{epic_id}/missions"): "missions:write",
    ("POST", "/epics/{epic_id}/missions/{mission_id}/remove"): "missions:write",
    ("POST", "/epics/{epic_id}/archive"): "missions:write",
    ("POST", "/epics/{epic_id}/restore"): "missions:write",
    ("POST", "/missions"): "missions:write",
    ("GET", "/missions/{mission_id}"): "missions:read",
    ("POST", "/missions/{mission_id}/decisions"): "missions:write",
    ("POST", "/missions/{mission_id}/decisions/{decision_id}"): "missions:write",
    ("POST", "/missions/{mission_id}/risks"): "missions:write",
    ("POST", "/missions/{mission_id}/risks/{risk_id}"): "missions:write",
    ("GET", "/missions/{mission_id}/trace"): "missions:read",
    ("GET", "/missions/{mission_id}/diagrams"): "missions:read",
    ("GET", "/missions/{mission_id}/documents"): "missions:read",
    ("POST", "/missions/{mission_id}/documents"): "missions:write",
    ("GET", "/missions/{mission_id}/audit"): "audit:read",
    ("GET", "/missions/{mission_id}/stream"): "missions:read",
    ("POST", "/missions/{mission_id}/plan"): "missions:write",
    ("POST", "/missions/{mission_id}/clarification"): "missions:write",
    ("GET", "/missions/{mission_id}/plans/{version}"): "missions:read",
    ("POST", "/missions/{mission_id}/run"): "runs:control",
    ("GET", "/runs"): "runs:read",
    ("GET", "/search"): "runs:read",
    ("GET", "/memory"): "missions:read",
    ("GET", "/runs/stream"): "runs:read",
    ("GET", "/events"): "runs:read",
    ("GET", "/events/stream"): "runs:read",
    ("GET", "/audit"): "audit:read",
    ("GET", "/runs/{run_id}"): "runs:read",
    ("GET", "/runs/{run_id}/steps/{step_id}"): "runs:read",
    ("GET", "/runs/{run_id}/stream"): "runs:read",
    ("GET", "/runs/{run_id}/replay"): "runs:read",
    ("POST", "/runs/{run_id}/cancel"): "runs:control",
    ("POST", "/runs/{run_id}/steps/{step_id}/retry"): "runs:control",
    ("POST", "/runs/{run_id}/rerun"): "runs:control",
    ("GET", "/artifacts/{artifact_id}"): "artifacts:read",
    ("GET", "/workflows"): "workflows:read",
    ("GET", "/workflows/new"): "workflows:write",
    ("POST", "/workflows/validate"): "workflows:read",
    ("POST", "/workflows"): "workflows:write",
    ("GET", "/workflows/{name:path}/edit"): "workflows:write",
    ("GET", "/workflows/{name:path}"): "workflows:read",
    ("POST", "/workflows/{name:path}/run"): "runs:control",
    ("GET", "/approvals"): "approvals:read",
    ("POST", "/approvals/{approval_id}/decide"): "approvals:decide",
    ("POST", "/emergency-stop"): "emergency:stop",
    ("POST", "/emergency-stop/release"): "emergency:release",
    ("GET", "/agents"): "agents:read",
    ("POST", "/agents/{name}"): "agents:admin",
    ("GET", "/settings/prices"): "prices:read",
    ("GET", "/costs"): "runs:read",
    ("GET", "/insights"): "analytics:read",
    ("GET", "/insights/panels/{name}"): "analytics:read",
    ("GET", "/insights/definitions"): "analytics:read",
    ("POST", "/settings/prices"): "prices:admin",
    ("POST", "/workflows/{name:path}/suggestions/{key}/apply"): "workflows:write",
    ("GET", "/settings/spending-caps"): "prices:read",
    ("POST", "/settings/spending-caps"): "policies:admin",
    ("POST", "/settings/spending-caps/{cap_id}/remove"): "policies:admin",
    ("GET", "/webhooks"): "webhooks:admin",
    ("POST", "/webhooks"): "webhooks:admin",
    ("POST", "/webhooks/{webhook_id}/test"): "webhooks:admin",
    ("POST", "/webhooks/{webhook_id}/enabled"): "webhooks:admin",
    ("POST", "/webhooks/{webhook_id}/delete"): "webhooks:admin",
    ("POST", "/webhooks/deliveries/{delivery_id}/redeliver"): "webhooks:admin",
    ("GET", "/users"): "users:admin",
    ("POST", "/users"): "users:admin",
    ("POST", "/users/{name}/role"): "users:admin",
    ("POST", "/users/{name}/password"): "users:admin",
    ("POST", "/users/{name}/disable"): "users:admin",
    ("POST", "/users/{name}/sign-in-link"): "users:admin",
    ("GET", "/tokens"): "tokens:admin",
    ("POST", "/tokens"): "tokens:admin",
    ("POST", "/tokens/{name}/revoke"): "tokens:admin",
    ("GET", "/settings"): "policies:admin",
    # Every signed-in person's own account; the use cases touch only the caller's own.
    ("GET", "/account"): "missions:read",
    ("POST", "/account/password"): "missions:read",
    ("POST", "/account/tokens"): "missions:read",
    ("POST", "/account/tokens/{name}/revoke"): "missions:read",
    ("GET", "/schedules"): "workflows:read",
    ("GET", "/calendar"): "workflows:read",
    ("GET", "/calendar/stream"): "workflows:read",
    ("POST", "/schedules"): "schedules:write",
    ("POST", "/schedules/{schedule_id}/pause"): "schedules:write",
    ("POST", "/schedules/{schedule_id}/resume"): "schedules:write",
    ("POST", "/schedules/{schedule_id}/run-now"): "schedules:write",
    ("POST", "/schedules/{schedule_id}/delete"): "schedules:write",
    ("GET", "/api/v1/missions/{mission_id}/specs"): "missions:read",
    ("GET", "/api/v1/missions/{mission_id}/specs/marked"): "missions:read",
    ("POST", "/api/v1/missions/{mission_id}/specs"): "missions:write",
    ("POST", "/api/v1/specs/{spec_id}/approve"): "approvals:decide",
    ("POST", "/api/v1/specs/{spec_id}/reject"): "approvals:decide",
    ("GET", "/missions/{mission_id}/specs"): "missions:read",
    ("POST", "/missions/{mission_id}/specs"): "missions:write",
    ("POST", "/missions/{mission_id}/specs/{spec_id}/decide"): "approvals:decide",
    # MCP over Streamable HTTP: any token may connect; each tool checks its own permission.
    ("POST", "/mcp"): "missions:read",
    ("GET", "/api/v1/templates"): "workflows:read",
    ("GET", "/api/v1/templates/{name}"): "workflows:read",
    ("POST", "/api/v1/templates"): "workflows:write",
    ("DELETE", "/api/v1/templates/{name}"): "workflows:write",
    ("POST", "/api/v1/templates/{name}/use"): "workflows:write",
    ("POST", "/api/v1/templates/{name}/missions"): "missions:write",
    ("GET", "/templates"): "workflows:read",
    ("POST", "/templates/{name}/mission"): "missions:write",
    ("POST", "/templates/{name}/workflow"): "workflows:write",
    ("POST", "/templates/save"): "workflows:write",
    ("POST", "/templates/{name}/delete"): "workflows:write",
}


def concrete(path: str) -> str:
    """``/runs/{run_id}/steps/{step_id}`` → a path with ids that exist nowhere."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return "no-such-step" if name == "step_id" else str(uuid.uuid4())

    return _PARAM.sub(value, path)


def cases(app: FastAPI) -> list[tuple[str, str, RouteEntry]]:
    """(method, path, entry) for every route the app serves through a handler."""
    found = []
    for entry in route_table(app):
        if not entry.is_api_route:
            continue
        for method in entry.methods:
            if method != "HEAD":
                found.append((method, entry.path, entry))
    return found


def expected(entry: RouteEntry, caller: Caller, method: str) -> str:
    """``"401"``, ``"403"``, or ``"pass"`` (any other status below 500)."""
    if (method, entry.path) in CSRF_GUARDED_PUBLIC:
        return "403"
    if entry.permission is None:
        return "pass"
    if caller.role is None:
        return "401"
    return "pass" if allows(caller.role, entry.permission) else "403"


@pytest.fixture
async def matrix_app(settings: Settings) -> Any:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        # Record every denial of this test (the production limits are per client, and for all
        # anonymous clients together, per minute; the matrix sends more than either allows).
        app.state.limits = type(app.state.limits)(
            sign_in_account=app.state.limits.sign_in_account,
            sign_in_address=app.state.limits.sign_in_address,
            api_token=app.state.limits.api_token,
            denial_records=ProcessLimiter(RateLimiter(limit=100_000, window_s=60)),
            anonymous_records=ProcessLimiter(RateLimiter(limit=100_000, window_s=60)),
        )
        yield app
        await assert_consistent(app.state.ctx)


async def test_every_route_times_every_caller_gets_the_declared_answer(matrix_app: FastAPI) -> None:
    app = matrix_app
    callers = await make_callers(app.state.ctx)
    routes = cases(app)
    assert len(routes) >= 30, "the route table was not read"
    transport = httpx2.ASGITransport(app=app)
    failures: list[str] = []
    denials: Counter[tuple[str, int]] = Counter()
    async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
        for method, path, entry in routes:
            url = concrete(path) + ENDLESS_STREAMS.get(path, "")
            body: dict[str, Any] = {"json": {}} if method in ("POST", "PUT") else {}
            for caller in callers:
                response = await http.request(method, url, headers=caller.headers, **body)
                want = expected(entry, caller, method)
                got = response.status_code
                ok = got < 500 and (str(got) == want if want != "pass" else got not in (401, 403))
                if not ok:
                    failures.append(f"{method} {path} as {caller.label}: {got}, expected {want}")
                if got in (401, 403) and (method, entry.path) not in CSRF_GUARDED_PUBLIC:
                    who = "anonymous" if got == 401 else f"token:matrix-{caller.label}-token"
                    denials[(who, got)] += 1
    assert not failures, "\n".join(failures)
    # Every protected route refused the anonymous, revoked and expired callers.
    assert sum(n for (who, status), n in denials.items() if status == 401) >= 3 * 30

    recorded: Counter[tuple[str, int]] = Counter()
    for event in await read_event_page(app.state.ctx, limit=100_000):
        if event.type == "access.denied" and event.payload["path"] not in SIGN_IN_PATHS:
            if event.payload["path"] == "/sign-out" and event.payload["permission"] is None:
                continue
            recorded[(event.payload["identity"], event.payload["status"])] += 1
    assert recorded == denials


def test_every_route_declares_the_reviewed_permission(settings: Settings) -> None:
    app = create_app(settings)
    declared = {
        (method, entry.path): None if entry.permission is None else entry.permission.value
        for method, _, entry in cases(app)
    }
    assert declared == POLICY


def test_a_route_without_a_declared_permission_is_caught() -> None:
    app = FastAPI()
    router = APIRouter()

    @router.get("/declared", dependencies=[requires(Permission.RUNS_READ)])
    async def declared() -> None: ...

    @router.get("/open", dependencies=[public()])
    async def open_route() -> None: ...

    @router.post("/forgotten")
    async def forgotten() -> None: ...

    app.include_router(router, prefix="/x")
    framework_pages = {"/docs", "/docs/oauth2-redirect", "/redoc"}  # FastAPI's defaults
    missing = undeclared_routes(app, public_paths=PUBLIC_PATHS | framework_pages)
    assert missing == ["POST /x/forgotten"]
    # ...and an app that serves one does not start.
    assert "GET,HEAD /docs" in undeclared_routes(app, public_paths=PUBLIC_PATHS)


def test_a_route_added_after_a_check_is_caught_by_the_next_one() -> None:
    # The answer is kept per shape of the route tree: a new route changes the shape.
    router = APIRouter()

    @router.get("/a", dependencies=[public()])
    async def first() -> None: ...

    def built() -> FastAPI:
        app = FastAPI(docs_url=None, redoc_url=None)
        app.include_router(router)
        return app

    assert undeclared_routes(built(), public_paths=PUBLIC_PATHS) == []

    @router.delete("/b")
    async def later() -> None: ...

    assert undeclared_routes(built(), public_paths=PUBLIC_PATHS) == ["DELETE /b"]


def test_the_real_app_declares_every_route(settings: Settings) -> None:
    app = create_app(settings)  # it would raise on an undeclared route
    assert undeclared_routes(app, public_paths=PUBLIC_PATHS) == []
