"""/healthz and /openapi.json."""

import logging

import httpx2
import pytest

from missionctl import __version__
from missionctl.app import create_app
from missionctl.settings import Settings


async def test_healthz_checks_the_database(client: httpx2.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body.pop("log_origin") is not None  # the client's token was recorded
    assert body == {"status": "ok", "database": "ok", "schema": "current", "version": __version__}


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


async def test_healthz_reports_an_unreachable_database_as_503(client: httpx2.AsyncClient) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    # Point the server at a database that cannot be opened. (Its own stays as it is: disposing
    # of it here would strand a connection its scheduler may be opening meanwhile.)
    from missionctl.db import Database

    broken = Database("sqlite+aiosqlite:////nonexistent-dir/x.db")
    original = app.state.ctx.db
    object.__setattr__(app.state.ctx, "db", broken)
    try:
        response = await client.get("/healthz")
    finally:
        object.__setattr__(app.state.ctx, "db", original)
        await broken.dispose()
    assert response.status_code == 503
    assert response.json()["status"] == "error"


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
