"""Documents nested without end, sent by anyone signed in: a 4xx naming the problem, never a crash.

Nesting is counted before anything is built (``services.usecases.workflow_checks.load_document``):
libyaml's composer recurses in C once per level, so 100 KB of ``[`` used to overflow the stack and
kill the server with its embedded engine. The attack here goes to a real server in a child process,
so that a crash fails the test instead of ending the test run.
"""

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest

from missionctl.app import create_app
from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from missionctl.services.usecases.workflow_checks import MAX_DEPTH
from missionctl.settings import Settings
from tests.conftest import free_port
from tests.support.auth import bearer_headers

# Their subject is the parser's limits, before any database is reached.
pytestmark = pytest.mark.one_database

VALIDATE = "/api/v1/workflows/validate"
YAML = {"Content-Type": "application/yaml"}
JSON = {"Content-Type": "application/json"}
# The report's attack: 100 KB of YAML that a viewer may send.
FLOW_ATTACK = "name: d\nsteps: " + "[" * 50_000 + "]" * 50_000
BLOCK_ATTACK = "name: d\nsteps:\n" + "- " * 50_000 + "x\n"
JSON_ATTACK = '{"name": "d", "steps": ' + "[" * 100_000 + "]" * 100_000 + "}"
TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels"
VALID = "name: fine\nsteps:\n  - id: a\n    agent: builtin:noop\n"


@contextmanager
def served(settings: Settings, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The app under uvicorn in a child process on ``settings``' database, with its engine."""
    port = free_port()
    env = os.environ | {
        "MISSIONCTL_HOME": str(settings.home),
        "MISSIONCTL_DATABASE_URL": settings.database.url.get_secret_value(),
    }
    argv = [sys.executable, "-m", "uvicorn", "missionctl.app:create_app", "--factory"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        process = subprocess.Popen(argv, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"the server did not start: {log.read_text()}"
            assert time.monotonic() < deadline, f"the server did not answer: {log.read_text()}"
            try:
                if httpx2.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                time.sleep(0.1)
        yield process, url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_a_viewer_s_deeply_nested_definition_is_a_422_and_the_server_lives_on(
    ctx: ServiceContext, settings: Settings, tmp_path: Path
) -> None:
    headers = await bearer_headers(ctx, "vic", Role.VIEWER)
    with served(settings, tmp_path / "server.log") as (process, url):
        async with httpx2.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
            for body, media in (
                (FLOW_ATTACK, YAML),
                (BLOCK_ATTACK, YAML),
                (JSON_ATTACK, JSON),
                (JSON_ATTACK, YAML),  # YAML reads JSON too
            ):
                refused = await http.post(VALIDATE, content=body, headers=media)
                assert refused.status_code == 422, refused.text
                error = refused.json()["error"]
                assert error["field"] == "definition"
                assert TOO_DEEP in error["message"]
                assert re.search(r"line \d+, column \d+: ", error["message"]), error["message"]
            assert process.poll() is None, "the server died"
            answered = await http.post(VALIDATE, content=VALID, headers=YAML)
            assert answered.status_code == 200, answered.text
            assert answered.json()["valid"] is True
            assert (await http.get("/healthz")).status_code == 200


def _nested(depth: int) -> str:
    return '{"inputs": {"x": ' + "[" * depth + "]" * depth + "}}"


async def test_deep_json_bodies_are_a_4xx_on_every_route_that_reads_one(
    client: httpx2.AsyncClient, settings: Settings
) -> None:
    paths = create_app(settings).openapi()["paths"]  # every operation, not a hand list
    routes = [
        (method.upper(), re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path))
        for path, operations in paths.items()
        for method, operation in operations.items()
        if path.startswith("/api/") and "requestBody" in operation
    ]
    assert len(routes) >= 10, routes
    # Too deep for any parser that recurses: named as such, on the field `body`.
    for method, path in routes:
        answer = await client.request(method, path, content="[" * 100_000, headers=JSON)
        assert answer.status_code == 422, (method, path, answer.text)
        error = answer.json()["error"]
        assert error["field"] in ("body", "definition"), (method, path, error)
        assert "nested" in error["message"], (method, path, error)
    # Deep enough to reach the schemas and the services: refused there.
    for method, path in routes:
        answer = await client.request(method, path, content=_nested(500), headers=JSON)
        assert answer.status_code == 422, (method, path, answer.text)
    assert (await client.get("/api/v1/me")).status_code == 200


async def test_run_inputs_nested_too_deep_are_refused_naming_the_input(
    client: httpx2.AsyncClient,
) -> None:
    saved = await client.post("/api/v1/workflows", content=VALID, headers=YAML)
    assert saved.status_code == 201, saved.text
    runs = f"/api/v1/workflows/{saved.json()['id']}/runs"
    refused = await client.post(runs, content=_nested(MAX_DEPTH + 1), headers=JSON)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["field"].startswith("inputs.x")
    assert TOO_DEEP in error["message"]
