"""Every operation of the REST API has a command (which also works against a server).

The operations come from the app's own route table, so a new ``/api/v1`` route without a
command fails here, naming it; so does a command named below that does not exist.
"""

from pathlib import Path

import pytest
import typer.main

from missionctl.app import create_app
from missionctl.cli import app
from missionctl.cli import events as event_commands
from missionctl.cli import missions as mission_commands
from missionctl.cli import runs as run_commands
from missionctl.cli import search as search_commands
from missionctl.domain.search import MAX_QUERY_CHARS, SearchKind
from missionctl.operations import runs as run_operations
from missionctl.schemas.events import MAX_FEED_PAGE
from missionctl.schemas.plans import MAX_PLAN_VERSION
from missionctl.services.usecases.paging import MAX_PAGE_SIZE
from missionctl.settings import Settings

# Operation (method and path as the app declares it) → the command that performs it.
API_COMMANDS: dict[str, str] = {
    "GET /api/v1/models": "models list",
    "PUT /api/v1/models/{model}": "models set",
    "POST /api/v1/catalogue/sync": "models sync",
    "GET /api/v1/workflows/by-name/{name}/suggestions": "workflow suggestions",
    "POST /api/v1/workflows/{workflow_id}/suggestions/{key}/apply": "workflow apply-suggestion",
    "POST /api/v1/webhooks": "webhooks add",
    "GET /api/v1/webhooks": "webhooks list",
    "GET /api/v1/webhooks/{webhook_id}": "webhooks show",
    "PATCH /api/v1/webhooks/{webhook_id}": "webhooks disable",  # and enable
    "DELETE /api/v1/webhooks/{webhook_id}": "webhooks delete",
    "GET /api/v1/webhooks/{webhook_id}/deliveries": "webhooks deliveries",
    "POST /api/v1/webhooks/deliveries/{delivery_id}/redeliver": "webhooks redeliver",
    "POST /api/v1/webhooks/{webhook_id}/test": "webhooks test",
    "POST /api/v1/missions": "mission create",
    "GET /api/v1/missions": "mission list",
    "GET /api/v1/missions/{mission_id}": "mission show",
    "POST /api/v1/missions/{mission_id}/plan": "mission plan",
    "POST /api/v1/missions/{mission_id}/clarification": "mission answer",
    "GET /api/v1/missions/{mission_id}/plan": "mission show-plan",
    "GET /api/v1/missions/{mission_id}/plans": "mission plans",
    "GET /api/v1/missions/{mission_id}/decisions": "decisions list",
    "POST /api/v1/missions/{mission_id}/decisions": "decisions add",
    "PATCH /api/v1/missions/{mission_id}/decisions/{decision_id}": "decisions edit",
    "GET /api/v1/missions/{mission_id}/adrs": "decisions export",
    "GET /api/v1/missions/{mission_id}/risks": "risks list",
    "POST /api/v1/missions/{mission_id}/risks": "risks add",
    "PATCH /api/v1/missions/{mission_id}/risks/{risk_id}": "risks edit",
    "GET /api/v1/missions/{mission_id}/plans/{version}": "mission show-plan",  # --version N
    "GET /api/v1/missions/{mission_id}/plans/{version}/diff": "mission plan-diff",
    "POST /api/v1/missions/{mission_id}/runs": "mission run",
    "GET /api/v1/missions/{mission_id}/artifacts": "mission artifacts",
    "GET /api/v1/missions/{mission_id}/pack": "pack",
    "GET /api/v1/missions/{mission_id}/trace": "mission trace",
    "GET /api/v1/missions/{mission_id}/diagrams": "mission diagrams",
    "GET /api/v1/missions/{mission_id}/diagrams/{name}.svg": "mission diagrams",  # -o DIR
    "POST /api/v1/missions/{mission_id}/documents": "docs generate",
    "GET /api/v1/missions/{mission_id}/documents": "docs list",
    "GET /api/v1/missions/{mission_id}/documents/{kind}": "docs show",
    "GET /api/v1/missions/{mission_id}/documents/{kind}/versions/{version}": "docs show",
    "GET /api/v1/missions/{mission_id}/documents/{kind}/versions/{version}/export": "docs export",
    "GET /api/v1/missions/{mission_id}/documents/{kind}/compare": "docs compare",
    "GET /api/v1/runs": "runs list",
    "GET /api/v1/runs/{run_id}": "runs show",
    "POST /api/v1/runs/{run_id}/cancel": "runs cancel",
    "POST /api/v1/runs/{run_id}/steps/{step_id}/retry": "runs retry",
    "POST /api/v1/runs/{run_id}/rerun": "runs rerun",
    "GET /api/v1/runs/{run_id}/events": "runs events",
    "GET /api/v1/runs/{run_id}/risks": "runs risks",
    "GET /api/v1/runs/{run_id}/state": "replay",
    "GET /api/v1/runs/{run_id}/artifacts": "runs artifacts",
    "GET /api/v1/runs/{run_id}/report": "runs report",
    "GET /api/v1/runs/{run_id}/receipt": "runs receipt",
    "GET /api/v1/search": "search",
    "GET /api/v1/memory": "memory search",
    "GET /api/v1/palette": "find",
    "GET /api/v1/missions/{mission_id}/similar": "memory similar",
    "GET /api/v1/events": "audit search",  # --kind events (the default)
    "GET /api/v1/audit/runs": "audit search",  # --kind runs
    "GET /api/v1/audit/export": "audit export",
    "GET /api/v1/artifacts/{artifact_id}": "artifact show",
    "GET /api/v1/artifacts/{artifact_id}/content": "artifact download",
    "GET /api/v1/workflows": "workflow list",
    "POST /api/v1/workflows": "workflow apply",
    "POST /api/v1/workflows/validate": "workflow validate",
    "GET /api/v1/workflows/schema": "workflow schema",
    "GET /api/v1/workflows/by-name/{name}/versions": "workflow versions",
    "GET /api/v1/workflows/by-name/{name}": "workflow show",
    "GET /api/v1/workflows/{workflow_id}": "workflow show",
    "POST /api/v1/workflows/{workflow_id}/runs": "workflow run",
    "GET /api/v1/me": "whoami",
    "GET /api/v1/users": "user list",
    "POST /api/v1/users": "user add",
    "PUT /api/v1/users/{name}/role": "user set-role",
    "POST /api/v1/users/{name}/disable": "user disable",
    "GET /api/v1/tokens": "token list",
    "POST /api/v1/tokens": "token create",
    "POST /api/v1/tokens/{name}/revoke": "token revoke",
    "GET /api/v1/costs": "costs",
    "GET /api/v1/analytics/funnel": "analytics funnel",
    "GET /api/v1/analytics/trends": "analytics trends",
    "GET /api/v1/analytics/orchestration": "analytics orchestration",
    "GET /api/v1/analytics/retention": "analytics retention",
    "GET /api/v1/analytics/anomalies": "analytics anomalies",
    "GET /api/v1/analytics/definitions": "analytics definitions",
    "GET /api/v1/analytics/insights": "analytics insights",
    "GET /api/v1/approvals": "approvals",
    "GET /api/v1/approvals/{ref}": "approvals",  # approvals REF
    "POST /api/v1/approvals/{ref}/approve": "approve",
    "POST /api/v1/approvals/{ref}/reject": "reject",
    "GET /api/v1/missions/{mission_id}/specs": "specs list",
    "GET /api/v1/missions/{mission_id}/specs/marked": "specs marked",
    "POST /api/v1/missions/{mission_id}/specs": "specs write",
    "POST /api/v1/specs/{spec_id}/approve": "specs approve",
    "POST /api/v1/specs/{spec_id}/reject": "specs reject",
    "GET /api/v1/controls": "controls",
    "POST /api/v1/emergency-stop": "stop",
    "POST /api/v1/emergency-stop/release": "release",
    "GET /api/v1/agents": "agents list",
    "GET /api/v1/agents/utilisation": "agents utilisation",
    "PATCH /api/v1/agents/{name}": "agents enable",  # and disable, restrict, allow, disallow
    "GET /api/v1/prices": "prices list",
    "GET /api/v1/prices/{model}": "prices show",
    "PUT /api/v1/prices/{model}": "prices set",
    "GET /api/v1/events/stream": "events",  # --follow
    "GET /api/v1/health/summary": "health",
    "GET /api/v1/followers": "followers",
    "GET /api/v1/workers": "workers list",
    "GET /api/v1/board": "board",
    "GET /api/v1/calendar": "calendar",
    "GET /api/v1/schedules/{schedule_id}/calendar.ics": "schedule feed",
    "GET /api/v1/spending-caps": "caps list",
    "PUT /api/v1/spending-caps": "caps set",
    "DELETE /api/v1/spending-caps/{cap_id}": "caps remove",
    "GET /api/v1/epics": "epic list",
    "GET /api/v1/epics/{epic_id}": "epic show",
    "POST /api/v1/epics": "epic create",
    "PATCH /api/v1/epics/{epic_id}": "epic edit",
    "POST /api/v1/epics/{epic_id}/missions": "epic add",
    "POST /api/v1/epics/{epic_id}/missions/remove": "epic remove",
    "POST /api/v1/epics/{epic_id}/archive": "epic archive",
    "POST /api/v1/epics/{epic_id}/restore": "epic restore",
    "GET /api/v1/workers/{worker_id}": "workers show",
    "POST /api/v1/workers/{worker_id}/drain": "workers drain",
    "POST /api/v1/workers/{worker_id}/resume": "workers resume",
    "POST /api/v1/workers/{worker_id}/stop": "workers stop",
    "PATCH /api/v1/workers/{worker_id}": "workers scale",
    "PUT /api/v1/workers/{worker_id}/autoscale": "workers autoscale",
    "DELETE /api/v1/workers/{worker_id}/autoscale": "workers autoscale",
    "POST /api/v1/schedules": "schedule add",
    "GET /api/v1/schedules": "schedule list",
    "GET /api/v1/schedules/{schedule_id}": "schedule show",
    "PATCH /api/v1/schedules/{schedule_id}": "schedule edit",
    "POST /api/v1/schedules/{schedule_id}/pause": "schedule pause",
    "POST /api/v1/schedules/{schedule_id}/resume": "schedule resume",
    "POST /api/v1/schedules/{schedule_id}/run-now": "schedule run-now",
    "DELETE /api/v1/schedules/{schedule_id}": "schedule delete",
    "GET /api/v1/templates": "templates list",
    "GET /api/v1/templates/{name}": "templates show",
    "POST /api/v1/templates": "templates save",
    "DELETE /api/v1/templates/{name}": "templates delete",
    "POST /api/v1/templates/{name}/use": "templates use",
    "POST /api/v1/templates/{name}/missions": "templates use",  # --mission GOAL
}

# Operations that programs call, not people: no command performs them.
NOT_FOR_PEOPLE: dict[str, str] = {
    "POST /api/v1/callbacks/{token}": "an external HTTP agent posts its answer there",
}

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


def api_operations(tmp_path: Path) -> set[str]:
    """``METHOD /api/v1/…`` of every operation the app's OpenAPI document declares.

    The document is built from the app's route table (included routers too, which
    ``app.routes`` nests), with path converters such as ``{name:path}`` left out.
    """
    document = create_app(Settings(home=tmp_path / "home")).openapi()
    operations = {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        if path.startswith("/api/v1/")
        for method in item
        if method in HTTP_METHODS
    }
    assert len(operations) > 40, "the OpenAPI document lost the API's routes"
    return operations


def command(words: str, tree: object | None = None) -> object | None:
    """The command ``missionctl WORDS`` runs, or ``None`` when there is none.

    ``tree`` is the CLI's command tree (``typer.main.get_command(app)``) when the caller built it
    once for many lookups; without it, it is built here.
    """
    found: object | None = typer.main.get_command(app) if tree is None else tree
    for word in words.split():
        subcommands = getattr(found, "commands", None)  # a group's, by name
        found = None if subcommands is None else subcommands.get(word)
    return found


@pytest.fixture(scope="module")
def operations(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    return api_operations(tmp_path_factory.mktemp("parity"))


def test_every_api_operation_has_a_command(operations: set[str]) -> None:
    missing = sorted(operations - API_COMMANDS.keys() - NOT_FOR_PEOPLE.keys())
    assert missing == [], (
        "API operations without a CLI command: add one (working locally and through "
        "missionctl.cli._backend remotely) and an entry to API_COMMANDS: " + ", ".join(missing)
    )


def test_every_mapped_operation_exists_and_names_a_command(operations: set[str]) -> None:
    stale = sorted((API_COMMANDS.keys() | NOT_FOR_PEOPLE.keys()) - operations)
    assert stale == [], f"operations the API no longer has: {', '.join(stale)}"
    tree = typer.main.get_command(app)  # once: building it takes a tenth of a second
    absent = sorted({words for words in API_COMMANDS.values() if command(words, tree) is None})
    assert absent == [], f"commands that do not exist: {', '.join(absent)}"


def test_the_event_limits_are_the_apis() -> None:
    assert run_commands.MAX_SEQ == run_operations.MAX_SEQ


def test_the_step_id_pattern_is_the_apis() -> None:
    from missionctl.schemas.workflows import STEP_ID_PATTERN

    assert run_commands.STEP_ID_PATTERN == STEP_ID_PATTERN


def test_the_page_size_limits_are_the_apis() -> None:
    assert run_commands.MAX_PAGE_SIZE == mission_commands.MAX_PAGE_SIZE == MAX_PAGE_SIZE
    assert search_commands.MAX_PAGE_SIZE == MAX_PAGE_SIZE
    assert event_commands.MAX_FEED_PAGE == MAX_FEED_PAGE


def test_the_search_limits_and_kinds_are_the_apis() -> None:
    assert search_commands.MAX_QUERY_CHARS == MAX_QUERY_CHARS
    assert [k.value for k in search_commands.Kind] == [k.value for k in SearchKind]


def test_the_plan_version_limit_is_the_apis() -> None:
    assert mission_commands.MAX_PLAN_VERSION == MAX_PLAN_VERSION


def test_the_memory_limits_and_kinds_are_the_apis() -> None:
    from missionctl.cli import memory as memory_commands
    from missionctl.domain.memory import MAX_PAGE, MemoryKind

    assert memory_commands.MAX_PAGE == MAX_PAGE
    assert [k.value for k in memory_commands.Kind] == [k.value for k in MemoryKind]
