"""Two ``missionctl serve`` processes on one database behave as one product (ADR 0113).

Each server is a real process with a data directory of its own, as two machines behind a load
balancer would be: what they share is the database. An API token's requests per minute are
counted once across both, and a live stream opened on one server carries what a write made
through the other appended. On SQLite the limits are told to count in the database; on
PostgreSQL that is the default.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from missionctl.services import open_context
from missionctl.settings import DatabaseSettings, Settings
from tests.conftest import BACKENDS, POSTGRES_URL_VAR, free_port, postgres_base_url
from tests.support.auth import bearer_headers
from tests.support.databases import copy_sqlite_template

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(180)]

MISSIONCTL = str(Path(sys.executable).with_name("missionctl"))
PER_MINUTE = 10


def _env(home: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIONCTL_")}
    return env | {
        "MISSIONCTL_HOME": str(home),
        "MISSIONCTL_DATABASE_URL": database_url,
        "MISSIONCTL_ENGINE_EMBEDDED": "false",
        "MISSIONCTL_SERVER_API_REQUESTS_PER_MINUTE": str(PER_MINUTE),
        **({"MISSIONCTL_SERVER_RATE_LIMITS": "database"} if "sqlite" in database_url else {}),
    }


def _start(
    home: Path, database_url: str, *extra: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    home.mkdir(mode=0o700)
    port = free_port()
    process = subprocess.Popen(
        [MISSIONCTL, "serve", "--port", str(port), *extra],
        env=_env(home, database_url) | (env or {}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx2.get(f"{base}/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx2.TransportError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"the server on {base} did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


@pytest.fixture(scope="module", params=BACKENDS)
def shared_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database of each backend that this module's tests share.

    The limit test spends the ``limited`` token and the stream test the ``watcher`` one, so
    neither sees the other's requests: sharing the database lets them share the two servers,
    whose starts were most of their time.
    """
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        yield copy_sqlite_template(template, tmp_path_factory.mktemp("shared") / "test.db")
        return
    if postgres_base_url() is None:
        pytest.skip(f"{POSTGRES_URL_VAR} is not set")
    with request.getfixturevalue("postgres_schemas").schema() as url:
        yield url


def _token_headers(home: Path, database_url: str, *names: str) -> list[dict[str, str]]:
    """Headers of new API tokens of the admin, one per name."""

    async def make() -> list[dict[str, str]]:
        settings = Settings(
            home=home, database=DatabaseSettings.model_validate({"url": database_url})
        )
        async with open_context(settings, upgrade=False) as ctx:
            return [await bearer_headers(ctx, token=name) for name in names]

    return asyncio.run(make())


@pytest.fixture(scope="module")
def tokens(
    tmp_path_factory: pytest.TempPathFactory, shared_database_url: str
) -> list[dict[str, str]]:
    """Headers of two API tokens of the admin (made before any server starts): ``limited``,
    which only the limit test spends, and ``watcher``."""
    return _token_headers(
        tmp_path_factory.mktemp("setup"), shared_database_url, "limited", "watcher"
    )


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, shared_database_url: str, tokens: object
) -> Iterator[list[str]]:
    """Two servers on the module's database, each with a home of its own."""
    root = tmp_path_factory.mktemp("servers")
    started = [_start(root / name, shared_database_url) for name in ("one", "two")]
    try:
        yield [base for _, base in started]
    finally:
        for process, _ in started:
            _stop(process)


def test_an_api_token_limit_is_counted_once_across_two_servers(
    servers: list[str], tokens: list[dict[str, str]]
) -> None:
    one, two = servers
    limited = tokens[0]
    statuses = [
        httpx2.get(f"{base}/api/v1/me", headers=limited, timeout=10).status_code
        for base in [one, two] * (PER_MINUTE // 2)
    ]
    assert statuses == [200] * PER_MINUTE
    for base in (one, two):
        refused = httpx2.get(f"{base}/api/v1/me", headers=limited, timeout=10)
        assert refused.status_code == 429, refused.text
        assert 0 < int(refused.headers["retry-after"]) <= 60
    # Another token has a count of its own.
    assert httpx2.get(f"{one}/api/v1/me", headers=tokens[1], timeout=10).status_code == 200


def test_a_stream_on_one_server_carries_a_write_made_through_the_other(
    servers: list[str], tokens: list[dict[str, str]]
) -> None:
    one, two = servers
    watcher = tokens[1]
    goal = "Stream the other server's write: a tide-table widget for harbour pilots"
    with httpx2.stream(
        "GET",
        f"{one}/api/v1/events/stream",
        headers=watcher,
        timeout=httpx2.Timeout(10, read=15),
    ) as stream:
        assert stream.status_code == 200
        created = httpx2.post(
            f"{two}/api/v1/missions", json={"goal": goal}, headers=watcher, timeout=30
        )
        assert created.status_code == 201, created.text
        mission_id = created.json()["id"]
        started = time.monotonic()
        for line in stream.iter_lines():
            if not line.startswith("data:"):
                continue
            event = json.loads(line.removeprefix("data:"))
            if event.get("mission_id") == mission_id and event["type"] == "mission.created":
                break
        else:  # pragma: no cover - the stream ended first
            raise AssertionError("the stream ended before the other server's event came")
    # Without a notification across processes, the stream polls the database each second.
    assert time.monotonic() - started < 5


def test_serve_with_two_workers_answers_and_counts_one_limit(
    tmp_path: Path, database_url: str
) -> None:
    (limited,) = _token_headers(tmp_path / "setup", database_url, "limited")
    metrics = f"127.0.0.1:{free_port()}"
    process, base = _start(
        tmp_path / "workers",
        database_url,
        "--workers",
        "2",
        env={"MISSIONCTL_METRICS_ADDRESS": metrics},
    )
    try:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        # uvicorn's supervisor and its two server processes (plus its own helper, if any).
        assert len(children) >= 2, children
        statuses = []
        for _ in range(PER_MINUTE + 2):  # a new connection each: either process may answer
            statuses.append(
                httpx2.get(f"{base}/api/v1/me", headers=limited, timeout=10).status_code
            )
        assert statuses == [200] * PER_MINUTE + [429, 429]
        # One process serves the metrics port; the other went on without it, and stays up.
        scraped = httpx2.get(f"http://{metrics}/metrics", timeout=10)
        assert scraped.status_code == 200 and "missionctl_" in scraped.text
        time.sleep(8)
        assert process.poll() is None
        assert httpx2.get(f"{base}/healthz", timeout=10).status_code == 200
    finally:
        _stop(process)
