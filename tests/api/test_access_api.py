"""Users and API tokens over HTTP, as an admin: secrets shown once, events name the admin."""

import httpx2

from missionctl.services.usecases.audit import read_event_page


async def test_an_admin_adds_a_user_and_a_token_that_works_until_revoked(
    client: httpx2.AsyncClient,
) -> None:
    created = await client.post(
        "/api/v1/users", json={"name": "ada", "role": "operator", "display_name": "Ada"}
    )
    assert created.status_code == 201 and created.json()["role"] == "operator"
    assert (await client.post("/api/v1/users", json={"name": "ada"})).status_code == 409

    made = await client.post(
        "/api/v1/tokens",
        json={"name": "ada-ci", "user_name": "ada", "role_ceiling": "viewer", "expires_in_days": 7},
    )
    assert made.status_code == 201
    secret = made.json()["secret"]
    assert secret.startswith("mc_") and made.json()["token"]["prefix"] == secret[:8]

    listed = (await client.get("/api/v1/tokens")).text
    assert "ada-ci" in listed and secret not in listed

    as_ada = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/api/v1/missions", headers=as_ada)).status_code == 200
    # The ceiling holds: an operator's viewer token cannot create.
    refused = await client.post("/api/v1/missions", json={"goal": "x" * 10}, headers=as_ada)
    assert refused.status_code == 403

    revoked = await client.post("/api/v1/tokens/ada-ci/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert (await client.get("/api/v1/missions", headers=as_ada)).status_code == 401

    role = await client.put("/api/v1/users/ada/role", json={"role": "approver"})
    assert role.json()["role"] == "approver"
    disabled = await client.post("/api/v1/users/ada/disable")
    assert disabled.json()["disabled"] is True

    app = client._transport.app  # type: ignore[attr-defined]
    events = await read_event_page(app.state.ctx, limit=1000)
    by_admin = {e.type for e in events if e.actor == "token:tester-1"}
    assert {"user.created", "token.created", "token.revoked", "user.role_changed"} <= by_admin
    assert all(secret not in str(e.payload) for e in events)


async def test_bad_input_names_the_field_and_stores_nothing(client: httpx2.AsyncClient) -> None:
    bad = await client.post("/api/v1/tokens", json={"name": "Not A Slug", "user_name": "nobody"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "name"
    missing = await client.post("/api/v1/tokens", json={"name": "t1", "user_name": "nobody"})
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "user_name"
    # By name: the list's other fields (ids, times) may hold the two characters by chance.
    assert "t1" not in [t["name"] for t in (await client.get("/api/v1/tokens")).json()]
    unknown = await client.post("/api/v1/tokens/no-such-token/revoke")
    assert unknown.status_code == 404
