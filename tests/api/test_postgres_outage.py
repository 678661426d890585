"""PostgreSQL stopped mid-run: the server says 503 and waits, quietly; started again, all goes on.

A real server (uvicorn, its embedded engine on) runs on a PostgreSQL cluster of the test's
own, a run of five one-second steps under way, when the cluster is stopped. While it is down,
every API request on a kept-alive connection answers 503 with ``Retry-After`` (the
connection is not reset), a page says the database is unavailable and reloads itself, and
the log has at most one line per cause and component, no traceback. The cluster is started
again and nothing restarts: requests succeed, the run completes with every step succeeded
exactly once, the log says the database is back, and the outage is in the record.
"""

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr

from missionctl.services import open_context
from missionctl.settings import DatabaseSettings, EngineSettings, Settings
from tests.conftest import LiveServer, free_port
from tests.support.auth import bearer_headers
from tests.support.private_postgres import PrivatePostgres

pytestmark = pytest.mark.one_database  # the test's own cluster is the subject

STEPS = 5
WORKFLOW = {
    "name": "outage-drill",
    "steps": [
        {
            "id": f"s{i}",
            "agent": "builtin:sleep",
            "inputs": {"seconds": 1},
            "depends_on": [f"s{i - 1}"] if i else [],
        }
        for i in range(STEPS)
    ],
}


@pytest.fixture
def cluster() -> Iterator[PrivatePostgres]:
    postgres = PrivatePostgres(free_port())
    try:
        postgres.start()
        yield postgres
    finally:
        postgres.remove()


def _in_thread(work: Any) -> Any:
    """Run the coroutine ``work`` on a loop of its own thread (the server has the test's)."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(work)))
    thread.start()
    thread.join(timeout=120)
    return result[0]


async def _admin_headers(settings: Settings) -> dict[str, str]:
    async with open_context(settings, upgrade=False) as ctx:
        return await bearer_headers(ctx, user="oncall")


def _wait(check: Any, within_s: float, what: str) -> Any:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {within_s} s")


def test_postgresql_stopped_mid_run_is_503_quietly_and_the_run_completes_once_it_is_back(
    cluster: PrivatePostgres, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        database=DatabaseSettings(url=SecretStr(cluster.url)),
        engine=EngineSettings(poll_s=0.05, heartbeat_s=0.5, lease_s=5.0),
    )
    caplog.set_level(logging.INFO)  # the line saying the database is back is INFO
    server = LiveServer(settings)
    server.start()
    try:
        headers = _in_thread(_admin_headers(settings))
        sign_in = server.sign_in_url("oncall")
        with httpx2.Client(base_url=server.url, headers=headers, timeout=30) as http:
            saved = http.post("/api/v1/workflows", json=WORKFLOW)
            assert saved.status_code == 201, saved.text
            run = http.post(f"/api/v1/workflows/{saved.json()['id']}/runs", json={})
            assert run.status_code == 202, run.text
            run_id = run.json()["id"]
            browser = httpx2.Client(base_url=server.url, timeout=30, follow_redirects=True)
            assert browser.get(sign_in).status_code == 200

            def step_running() -> bool:
                steps = http.get(f"/api/v1/runs/{run_id}").json()["steps"]
                return any(s["status"] == "running" for s in steps)

            _wait(step_running, 20, "a step runs")
            with caplog.at_level(logging.INFO):
                cluster.stop()
                outage = _during_the_outage(http, browser)
                time.sleep(3)  # engine ticks, heartbeats and followers meet the outage too
                said = [r for r in caplog.records if r.name.startswith("missionctl")]
                cluster.start()
                back = _wait(
                    lambda: (r := http.get("/api/v1/missions")).status_code == 200 and r,
                    30,
                    "the API answers again",
                )
            assert back.json()["total"] == 0
            done = _wait(
                lambda: (
                    (r := http.get(f"/api/v1/runs/{run_id}").json())["status"]
                    in ("completed", "failed", "aborted", "canceled")
                    and r
                ),
                60,
                "the run ends",
            )
            events = http.get("/api/v1/events", params={"limit": 500}).json()["items"]
            browser.close()
    finally:
        server.stop()

    assert outage["api"] == {503}, outage
    assert outage["retry_after"] and outage["page"] == (503, "5")
    assert "database" in outage["page_text"].lower()
    _assert_quiet(said)
    assert done["status"] == "completed", done
    succeeded = Counter(e["step_id"] for e in events if e["type"] == "step.succeeded")
    assert succeeded == {f"s{i}": 1 for i in range(STEPS)}, succeeded
    recovered = [e for e in events if e["type"] == "database.recovered"]
    assert recovered and {"unreachable"} <= set(recovered[0]["payload"]["causes"])
    assert any(e["type"] == "database.unavailable" for e in events)
    assert any("database available again" in r.getMessage() for r in caplog.records)


def _during_the_outage(http: httpx2.Client, browser: httpx2.Client) -> dict[str, Any]:
    """Ten API requests on the kept-alive connection and one page, while the cluster is down."""
    answers = [http.get("/api/v1/missions") for _ in range(10)]  # a reset would raise here
    page = browser.get("/missions", headers={"accept": "text/html"})
    return {
        "api": {a.status_code for a in answers},
        "retry_after": all(a.headers.get("retry-after") for a in answers),
        "page": (page.status_code, page.headers.get("refresh")),
        "page_text": page.text,
    }


def _assert_quiet(records: list[logging.LogRecord]) -> None:
    """At most one line per cause and logger while the database is down, and no traceback."""
    traces = [r for r in records if r.exc_info]
    assert not traces, [f"{r.name}: {r.getMessage()}" for r in traces]
    lines = Counter(
        (r.name, r.getMessage().split(":")[0]) for r in records if r.levelno >= logging.WARNING
    )
    assert all(count == 1 for count in lines.values()), lines
