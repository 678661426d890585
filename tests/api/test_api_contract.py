"""The API does what its OpenAPI document says: methods and ``Allow``, required fields, bounds.

Paths and methods come from the served ``/openapi.json``, not from a hand list, so a new route
is checked the day it is added.
"""

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from missionctl.app import create_app
from missionctl.settings import Settings

# Their subject is the HTTP contract; the services behind it are tested on both databases.
pytestmark = pytest.mark.one_database

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
async def anonymous(settings: Settings) -> AsyncIterator[tuple[httpx2.AsyncClient, dict[str, Any]]]:
    """A client with no credentials, and the app's OpenAPI document."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http, app.openapi()


def _concrete(path: str) -> str:
    """``/runs/{run_id}/steps/{step_id}`` with values its parameters accept."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(uuid.uuid4()) if name.endswith("id") or name == "ref" else "some-name"

    return re.sub(r"{([^}]+)}", value, path)


async def test_every_path_answers_options_and_405_with_every_method_it_supports(
    anonymous: tuple[httpx2.AsyncClient, dict[str, Any]],
) -> None:
    http, openapi = anonymous
    paths = {path: ops for path, ops in openapi["paths"].items() if path.startswith("/api/")}
    assert len(paths) >= 25, sorted(paths)
    for path, operations in paths.items():
        url = _concrete(path)
        # Exactly the documented methods: a route taking any text leaves the static paths beside
        # it alone (``routes.agents.AgentNameConvertor``).
        served = [m for m in METHODS if m.lower() in operations]
        allow = ", ".join([*served, "OPTIONS"])
        # OPTIONS needs no identity and reveals no data: the methods, nothing else.
        options = await http.options(url)
        assert (options.status_code, options.headers.get("allow")) == (204, allow), path
        assert options.content == b"", path
        for method in set(METHODS) - set(served):
            refused = await http.request(method, url)
            assert refused.status_code == 405, (method, path, refused.text)
            assert refused.headers["allow"] == allow, (method, path)
            error = refused.json()["error"]
            assert error["code"] == "method_not_allowed"
            assert error["message"] == (
                f"{method} is not supported here; this path answers {', '.join(served)}"
            )


async def test_a_static_path_next_to_an_id_is_a_405_not_an_invalid_id(
    anonymous: tuple[httpx2.AsyncClient, dict[str, Any]],
) -> None:
    http, _ = anonymous
    validate = await http.get("/api/v1/workflows/validate")
    assert (validate.status_code, validate.headers["allow"]) == (405, "POST, OPTIONS")
    missions = await http.delete("/api/v1/missions")  # two routes: GET and POST
    assert (missions.status_code, missions.headers["allow"]) == (405, "GET, POST, OPTIONS")
    assert (await http.options("/api/v1/nothing-here")).status_code == 404
    assert (await http.get("/api/v1/workflows/not-an-id")).status_code == 404


def _schema(openapi: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = openapi["components"]["schemas"][name]
    return schema


async def test_a_rejection_s_reason_is_required_in_the_schema_and_an_approval_s_is_not(
    anonymous: tuple[httpx2.AsyncClient, dict[str, Any]],
) -> None:
    _, openapi = anonymous
    operation = openapi["paths"]["/api/v1/approvals/{ref}/reject"]["post"]
    body = operation["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RejectionBody"
    }
    rejection = _schema(openapi, "RejectionBody")
    assert rejection["required"] == ["reason"]
    reason = rejection["properties"]["reason"]
    assert (reason["minLength"], reason["maxLength"]) == (1, 2000)
    assert reason["description"].startswith("Required: why the step must not run")
    approval = openapi["paths"]["/api/v1/approvals/{ref}/approve"]["post"]
    assert approval["requestBody"].get("required", False) is False
    assert "required" not in _schema(openapi, "DecisionBody")
    assert _schema(openapi, "DecisionBody")["properties"]["reason"]["description"].startswith(
        "Optional"
    )


async def test_the_password_length_is_in_the_schema_and_refused_in_words(
    client: httpx2.AsyncClient,
) -> None:
    openapi = (await client.get("/openapi.json")).json()
    password = _schema(openapi, "UserCreate")["properties"]["password"]
    [secret] = [branch for branch in password["anyOf"] if branch.get("type") == "string"]
    assert (secret["minLength"], secret["maxLength"], secret["format"]) == (12, 1024, "password")
    for given in ("too-short", "x" * 1025):
        refused = await client.post("/api/v1/users", json={"name": "ada", "password": given})
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert (error["field"], error["message"]) == (
            "password",
            "password: must be 12 to 1024 characters long",
        )
    strong = "quartz-lantern-meadow"
    made = await client.post("/api/v1/users", json={"name": "ada", "password": strong})
    assert made.status_code == 201 and made.json()["has_password"] is True


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ("1e3", "budget_usd: has the wrong type or format: must be a number of US dollars"),
        (" 2", "budget_usd: has the wrong type or format: must be a number of US dollars"),
        ("NaN", "budget_usd: has the wrong type or format: must be a number of US dollars"),
        ("-0", "budget_usd: Input should be greater than or equal to 0"),
        ("1.1234567", "budget_usd: Decimal input should have no more than 6 decimal places"),
        (1.1234567, "budget_usd: Decimal input should have no more than 6 decimal places"),
        (1_000_000.5, "budget_usd: Input should be less than or equal to 1000000"),
    ],
)
async def test_the_budget_s_decimal_rule_is_refused_as_the_schema_says(
    client: httpx2.AsyncClient, budget: Any, message: str
) -> None:
    refused = await client.post("/api/v1/missions", json={"goal": "g", "budget_usd": budget})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["message"].startswith(message)


async def test_the_budget_s_bounds_and_decimal_places_are_in_the_schema(
    client: httpx2.AsyncClient,
) -> None:
    openapi = (await client.get("/openapi.json")).json()
    budget = _schema(openapi, "MissionCreate")["properties"]["budget_usd"]
    number, text, null = budget["anyOf"]
    assert (number["type"], number["minimum"], number["maximum"]) == ("number", 0, 1_000_000)
    assert "6 decimal places" in number["description"]
    # The text form is bounded too: "1000000.5" or "4224837879" match no pattern.
    assert text == {
        "type": "string",
        "pattern": r"^0*([0-9]{1,6}(\.[0-9]{1,6})?|1000000(\.0{1,6})?)$",
    }
    assert null == {"type": "null"}
    for given, stored in (("2.50", 2.5), (2.5, 2.5), ("0.000001", 0.000001), ("1000000", 1e6)):
        made = await client.post("/api/v1/missions", json={"goal": "g", "budget_usd": given})
        assert made.status_code == 201, made.text
        assert made.json()["budget_usd"] == stored


async def test_a_mission_without_a_plan_cannot_run_yet_and_says_how_to_plan_it(
    client: httpx2.AsyncClient,
) -> None:
    mission = (await client.post("/api/v1/missions", json={"goal": "Not planned"})).json()
    refused = await client.post(f"/api/v1/missions/{mission['id']}/runs")
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == {
        "code": "conflict",
        "message": f"mission {mission['id']} has no plan yet; plan it first (POST "
        f"/api/v1/missions/{mission['id']}/plan, or Plan on its page)",
        "field": "mission_id",
        "details": [],
    }
    unknown = await client.post(f"/api/v1/missions/{uuid.uuid4()}/runs")
    assert unknown.status_code == 404
