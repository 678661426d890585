"""/healthz and /openapi.json."""

import logging
from pathlib import Path

import httpx2
import pytest

from missionctl import __version__
from missionctl.app import create_app
from missionctl.db.migrate import head_revision
from missionctl.settings import Settings
from tests.support.filesystems import broken_database


async def test_healthz_checks_the_database(client: httpx2.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body.pop("log_origin") is not None  # the client's token was recorded
    disk = body.pop("disk")
    assert body == {
        "status": "ok",
        "database": {"status": "ok", "detail": "answers"},
        "schema": {"status": "current", "detail": f"at {head_revision()}"},
        "version": __version__,
    }
    # The data directory (and a SQLite file's volume) with room to spare.
    assert disk["status"] == "ok" and disk["free_min_bytes"] == 500 * 1024 * 1024
    for volume in disk["volumes"]:
        assert volume["status"] == "ok" and 0 < volume["free_bytes"] <= volume["total_bytes"]
    assert disk["volumes"][0]["name"] == "data directory"


async def test_healthz_says_a_disk_under_the_threshold_is_low_and_still_serves(
    settings: Settings,
) -> None:
    fussy = settings.model_copy(update={"disk_free_min_mb": 10_000_000})  # ten terabytes
    app = create_app(fussy)
    async with (
        app.router.lifespan_context(app),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://t") as http,
    ):
        response = await http.get("/healthz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "degraded" and body["disk"]["status"] == "low"
    assert body["disk"]["volumes"][0]["status"] == "low"


async def test_healthz_names_the_record_it_keeps_by_its_first_events_hash(
    client: httpx2.AsyncClient, settings: Settings
) -> None:
    made = await client.post("/api/v1/missions", json={"goal": "A quiz night scoreboard"})
    assert made.status_code == 201, made.text
    origin = (await client.get("/healthz")).json()["log_origin"]
    assert origin is not None and len(origin) == 64
    # Another process on the same database says the same; the hash tells nothing of the event.
    twin = create_app(settings)
    async with (
        twin.router.lifespan_context(twin),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=twin), base_url="http://t") as http,
    ):
        assert (await http.get("/healthz")).json()["log_origin"] == origin


async def test_healthz_reports_an_unreachable_database_as_503(
    client: httpx2.AsyncClient, tmp_path: Path
) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    # Point the server at a database that cannot be opened. (Its own stays as it is: disposing
    # of it here would strand a connection its scheduler may be opening meanwhile.)
    broken = broken_database(tmp_path)
    original = app.state.ctx.db
    object.__setattr__(app.state.ctx, "db", broken)
    try:
        response = await client.get("/healthz")
    finally:
        object.__setattr__(app.state.ctx, "db", original)
        await broken.dispose()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["database"]["status"] == "unavailable"
    assert body["database"]["detail"].startswith("unreachable: cannot reach the database")
    assert body["schema"]["status"] == "unknown"


async def test_openapi_documents_missions_and_the_error_shape(client: httpx2.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert {"/api/v1/missions", "/api/v1/missions/{mission_id}", "/healthz"} <= set(spec["paths"])
    create = spec["paths"]["/api/v1/missions"]["post"]
    assert create["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ErrorBody"
    )
    assert "MissionCreate" in spec["components"]["schemas"]
    assert spec["components"]["schemas"]["MissionCreate"]["additionalProperties"] is False


@pytest.mark.empty_database
async def test_start_up_logs_the_upgrade_and_probes_log_nothing(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        upgrade = [r.getMessage() for r in caplog.records if r.name.startswith("alembic")]
        assert any(m.startswith("Running upgrade") for m in upgrade), upgrade
        caplog.clear()
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
            for _ in range(3):
                assert (await http.get("/healthz")).status_code == 200
    assert [r.getMessage() for r in caplog.records if r.name.startswith("alembic")] == []
