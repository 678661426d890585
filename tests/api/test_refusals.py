"""``x-refusals``: what the OpenAPI document says an operation refuses beyond its schemas.

The fuzzer (``tests/security/test_schemathesis.py``) accepts a 422 to schema-valid data only
where its operation lists the fields refused; these tests keep the lists true to the operations
and show a listed refusal as a client meets it.
"""

from typing import Any

import httpx2

from missionctl.app import create_app
from missionctl.domain.refusals import EXTENSION, covers
from missionctl.settings import Settings

TEXT_BODIES = ("text/plain", "application/yaml", "application/x-yaml")


def _body_fields(document: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    """The top-level fields of an operation's JSON body; ``definition`` for a text body."""
    content = operation.get("requestBody", {}).get("content", {})
    fields = {"definition"} if any(kind in content for kind in TEXT_BODIES) else set()
    schema = content.get("application/json", {}).get("schema", {})
    # An optional body is anyOf its model and null.
    for choice in [schema, *schema.get("anyOf", [])]:
        reference = choice.get("$ref", "")
        if reference:
            named = document["components"]["schemas"][reference.rsplit("/", 1)[-1]]
            fields |= set(named.get("properties", {}))
        fields |= set(choice.get("properties", {}))
    return fields


def test_every_listed_refusal_names_a_field_its_operation_takes_and_says_why(
    settings: Settings,
) -> None:
    document = create_app(settings).openapi()
    listing = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            rules = operation.get(EXTENSION)
            if not rules:
                continue
            listing += 1
            taken = {p["name"] for p in operation.get("parameters", [])}
            taken |= _body_fields(document, operation)
            for rule in rules:
                where = f"{method.upper()} {path}: {rule['field']}"
                assert rule["field"].split(".")[0] in taken, where
                assert len(rule["rule"]) > 10, where
    # The windows, passwords, addresses, searches, workflows, missions and prices.
    assert listing >= 20, listing


def test_covers_a_listed_field_and_what_it_holds_only() -> None:
    assert covers(["steps"], "steps.0.agent")
    assert covers(["repository"], "repository")
    assert not covers(["repository.agent"], "repository.source")
    assert not covers(["step"], "steps")
    assert not covers([], "since")


async def test_a_listed_refusal_is_a_422_naming_its_field(
    client: httpx2.AsyncClient, settings: Settings
) -> None:
    document = create_app(settings).openapi()
    rules = document["paths"]["/api/v1/analytics/trends"]["get"][EXTENSION]
    assert {rule["field"] for rule in rules} == {"since", "until"}
    # Both days are valid alone; together they are backwards.
    answer = await client.get(
        "/api/v1/analytics/trends", params={"since": "2026-03-02", "until": "2026-03-01"}
    )
    assert answer.status_code == 422, answer.text
    assert covers([rule["field"] for rule in rules], answer.json()["error"]["field"])
