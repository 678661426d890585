"""The JSON API against its own OpenAPI schema: schemathesis fuzzes every operation.

The schema is the real app's ``/openapi.json``; requests go to the same app in-process with its
lifespan (database, embedded engine) running, as the admin through a Bearer token. Every
operation gets schema-valid (positive) and schema-breaking (negative) cases, first with the ids
hypothesis makes up, then with the ids of a mission, plan, run and artifact that exist, so the
handlers past the 404 are exercised too. Generation is derandomized: the same cases every run.

Every response must be: not a 5xx; a status the operation documents; the documented content
type; a body that validates against the documented schema; and a 4xx for a request that breaks
the schema. The requests actually sent are counted, so the test cannot pass by sending none.
"""

import asyncio
import copy
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.python import asgi

from missionctl.app import create_app
from missionctl.services import open_context
from missionctl.settings import ServerSettings, Settings
from tests.support.auth import bearer_headers
from tests.support.consistency import assert_consistent

MIN_REQUESTS = 1000
# Cases per operation, generation mode and id source (made-up or real). Small operations run
# out of distinct cases earlier; the total is asserted, not assumed. 4 gives just over 1,000
# requests in the suite (generating them is most of the time); a longer run is
# MISSIONCTL_TEST_FUZZ_EXAMPLES=100, on purpose.
EXAMPLES = int(os.environ.get("MISSIONCTL_TEST_FUZZ_EXAMPLES", "4"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# A live stream never ends: the client keeps what it sent this long (its documented status,
# content type and messages are checked as for any answer). Without a limit each stream case
# waited the client's 10 s default, most of the test's time.
STREAM_CUT_S = 0.5
# The id-like path parameters, and which existing object each one names.
REAL_IDS = ("mission_id", "run_id", "artifact_id", "step_id")


def _fuzz_settings(settings: Settings) -> Settings:
    """``settings`` with an API rate limit the fuzzer cannot reach."""
    return settings.model_copy(update={"server": ServerSettings(api_requests_per_minute=1_000_000)})


async def _admin_headers(settings: Settings) -> dict[str, str]:
    async with open_context(settings) as ctx:
        return await bearer_headers(ctx, user="fuzzer")


async def _check_consistency(settings: Settings) -> None:
    async with open_context(settings, upgrade=False) as ctx:
        await assert_consistent(ctx)


class Sender:
    """Sends cases to the app and validates the answers; counts what it sent."""

    def __init__(self, client: asgi.ASGIClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers
        self.sent: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()

    def __call__(self, case: schemathesis.Case) -> None:
        timeout = STREAM_CUT_S if _streams(case.operation) else None
        response = case.call(session=self.client, headers=self.headers, timeout=timeout)
        self.sent[case.operation.label] += 1
        self.statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=self.headers)


def _streams(operation: schemathesis.APIOperation) -> bool:
    """Whether the operation answers with a Server-Sent Events stream."""
    answers = operation.definition.raw.get("responses", {}).values()
    return any("text/event-stream" in answer.get("content", {}) for answer in answers)


def _run(strategy: st.SearchStrategy[schemathesis.Case], send: Callable[..., None]) -> None:
    @hypothesis_settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def fuzz(case: schemathesis.Case) -> None:
        send(case)

    fuzz()


def _seed_objects(client: asgi.ASGIClient, headers: dict[str, str]) -> dict[str, str]:
    """A planned mission with a finished run (and so a report artifact): real ids to aim at."""

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        response = client.request(method, path, headers=headers, **kwargs)
        assert response.status_code < 300, (path, response.status_code, response.text)
        return response

    mission = call("POST", "/api/v1/missions", json={"goal": "Build a tiny todo API"}).json()
    call("POST", f"/api/v1/missions/{mission['id']}/plan")
    run = call("POST", f"/api/v1/missions/{mission['id']}/runs").json()
    deadline = time.monotonic() + 30
    while run["status"] not in {"completed", "failed", "aborted", "canceled"}:
        assert time.monotonic() < deadline, f"run did not end: {run['status']}"
        time.sleep(0.05)
        run = call("GET", f"/api/v1/runs/{run['id']}").json()
    artifacts: list[dict[str, Any]] = []
    while not artifacts:  # the report is written just after the run ends
        assert time.monotonic() < deadline, "no artifact appeared"
        artifacts = call("GET", f"/api/v1/runs/{run['id']}/artifacts").json()
        time.sleep(0.05)
    return {
        "mission_id": mission["id"],
        "run_id": run["id"],
        "artifact_id": artifacts[0]["id"],
        "step_id": run["steps"][0]["step_id"],
    }


def _plan(
    operation: schemathesis.APIOperation, fixed: dict[str, str]
) -> Iterator[tuple[GenerationMode, dict[str, str] | None]]:
    """The (mode, fixed path parameters) runs an operation gets.

    A negative run needs an input left to break: an operation without parameters or body has
    no invalid request, and neither has one whose only inputs are the real ids given to it.
    """
    inputs = len(operation.path_parameters) + len(operation.query) + len(list(operation.body))
    yield GenerationMode.POSITIVE, None
    if inputs:
        yield GenerationMode.NEGATIVE, None
    if fixed:
        yield GenerationMode.POSITIVE, fixed
        if inputs > len(fixed):
            yield GenerationMode.NEGATIVE, fixed


def _schema_without_auth(app: Any) -> Any:
    """The app's OpenAPI schema without its Bearer requirement, bound to the app.

    The fuzzer always sends an admin token (who may call what is the authorization matrix's
    test), so a negative case whose "invalid" part is a missing Authorization header is not
    invalid as sent; without the requirement, negative cases break the operation's own inputs.
    """
    raw = copy.deepcopy(app.openapi())
    raw.pop("security", None)
    raw.get("components", {}).pop("securitySchemes", None)
    for operations in raw["paths"].values():
        for operation in operations.values():
            operation.pop("security", None)
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = app
    schema.location = "/openapi.json"
    return schema


def _operations(schema: Any) -> Iterator[schemathesis.APIOperation]:
    for result in schema.get_all_operations():
        yield result.ok()


# The contract is the API's, not the database's: fuzzed on PostgreSQL (a shared server's
# database), a minute of the suite; every route's own tests run on both databases.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.timeout(300)
def test_the_api_keeps_its_documented_contract(settings: Settings) -> None:
    settings = _fuzz_settings(settings)
    headers = asyncio.run(_admin_headers(settings))
    app = create_app(settings)
    started = time.monotonic()
    try:
        schema = _schema_without_auth(app)
        with asgi.ASGIClient(app) as client:
            send = Sender(client, headers)
            real = _seed_objects(client, headers)
            labels = []
            failures: list[str] = []
            for operation in _operations(schema):
                labels.append(operation.label)
                names = {p.name for p in operation.path_parameters}
                fixed = {name: real[name] for name in names & set(REAL_IDS)}
                for mode, ids in _plan(operation, fixed):
                    strategy = operation.as_strategy(generation_mode=mode, path_parameters=ids)
                    try:
                        _run(strategy, send)
                    # Report every operation's failures, not only the first one's.
                    except (Exception, BaseExceptionGroup) as exc:
                        where = (
                            f"{operation.label} ({mode.value}, {'real' if ids else 'made-up'} ids)"
                        )
                        failures.append(f"{where}:\n{exc}")
    finally:
        asgi.shutdown_lifespans()
    elapsed = time.monotonic() - started
    total = sum(send.sent.values())
    print(f"schemathesis: {total} requests in {elapsed:.1f}s; {dict(send.statuses)}")
    assert not failures, "\n\n".join(failures)
    assert total >= MIN_REQUESTS, send.sent
    # Every operation of the schema was exercised, not only the easy ones.
    assert set(send.sent) == set(labels)
    asyncio.run(_check_consistency(settings))
