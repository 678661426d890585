"""The decision log and risk register over the API: add, edit, supersede, stale edits, export,
the refusals (viewer, anonymous, hostile bodies) and two edits racing for one item."""

import asyncio
import io
import zipfile
from typing import Any

import httpx2

from missionctl.domain.access import Role
from tests.support.auth import bearer_headers

GOAL = "Build a URL shortener with click analytics and custom aliases"


async def _planned(client: httpx2.AsyncClient) -> str:
    created = await client.post("/api/v1/missions", json={"goal": GOAL})
    mission_id: str = created.json()["id"]
    planned = await client.post(f"/api/v1/missions/{mission_id}/plan")
    assert planned.status_code == 201, planned.text
    return mission_id


def _decision(**extra: Any) -> dict[str, Any]:
    return {"title": "Use PostgreSQL", "choice": "PostgreSQL 16", "reasons": ["JSONB"]} | extra


async def _events(client: httpx2.AsyncClient, mission_id: str, prefix: str) -> list[dict[str, Any]]:
    page = await client.get(
        "/api/v1/events", params={"mission_id": mission_id, "type": prefix, "limit": 200}
    )
    assert page.status_code == 200, page.text
    items: list[dict[str, Any]] = page.json()["items"]
    return sorted(items, key=lambda e: e["seq"])


async def test_the_planner_s_decisions_are_accepted_and_numbered(
    client: httpx2.AsyncClient,
) -> None:
    mission_id = await _planned(client)
    log = (await client.get(f"/api/v1/missions/{mission_id}/decisions")).json()
    assert log, "the local planner records decisions"
    assert [d["number"] for d in log] == list(range(1, len(log) + 1))
    assert {d["status"] for d in log} == {"accepted"}
    assert all(d["plan_id"] and d["version"] == 1 for d in log)


async def test_adding_and_editing_a_decision_records_who_changed_what(
    client: httpx2.AsyncClient,
) -> None:
    mission_id = await _planned(client)
    before = len((await client.get(f"/api/v1/missions/{mission_id}/decisions")).json())
    added = await client.post(
        f"/api/v1/missions/{mission_id}/decisions",
        json=_decision(deciders=["Ada"], context="Reads dominate", decided_on="2026-01-02"),
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert (body["number"], body["status"], body["version"]) == (before + 1, "proposed", 1)
    assert body["decided_on"] == "2026-01-02" and body["plan_id"] is None

    url = f"/api/v1/missions/{mission_id}/decisions/{body['id']}"
    edited = await client.patch(url, json={"version": 1, "status": "accepted", "title": "Use PG"})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["status"], edited.json()["version"]) == ("accepted", 2)

    events = await _events(client, mission_id, "decision.")
    assert [e["type"] for e in events] == ["decision.added", "decision.changed"]
    change = events[-1]
    assert change["actor"] == "token:tester-1"
    assert change["payload"]["changes"] == {
        "status": {"old": "proposed", "new": "accepted"},
        "title": {"old": "Use PostgreSQL", "new": "Use PG"},
    }
    same = await client.patch(url, json={"version": 2, "title": "Use PG"})
    assert same.json()["version"] == 2  # nothing changed, nothing recorded
    assert len(await _events(client, mission_id, "decision.")) == 2


async def test_superseding_marks_the_old_decision_and_refuses_self_other_mission_and_cycles(
    client: httpx2.AsyncClient,
) -> None:
    mission_id = await _planned(client)
    other_mission = await _planned(client)
    base = f"/api/v1/missions/{mission_id}/decisions"
    a = (await client.post(base, json=_decision(title="A", status="accepted"))).json()
    b = (await client.post(base, json=_decision(title="B", supersedes=a["id"]))).json()
    log = {d["id"]: d for d in (await client.get(base)).json()}
    assert log[a["id"]]["status"] == "superseded"
    assert log[a["id"]]["superseded_by"] == [b["id"]] and log[b["id"]]["supersedes"] == a["id"]
    changed = await _events(client, mission_id, "decision.changed")
    assert changed[-1]["payload"]["decision_id"] == a["id"]
    assert changed[-1]["payload"]["superseded_by"] == b["id"]

    foreign = (await client.get(f"/api/v1/missions/{other_mission}/decisions")).json()[0]
    for target, words in [
        (b["id"], "itself"),
        (foreign["id"], "not a decision of this mission"),
    ]:
        refused = await client.patch(
            f"{base}/{b['id']}", json={"version": b["version"], "supersedes": target}
        )
        # What the mission holds refuses it, not the request's shape: a 409.
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "conflict"
        assert refused.json()["error"]["field"] == "supersedes"
        assert words in refused.json()["error"]["message"]
    cycle = await client.patch(
        f"{base}/{a['id']}", json={"version": log[a["id"]]["version"], "supersedes": b["id"]}
    )
    assert cycle.status_code == 409 and "cycle" in cycle.json()["error"]["message"]
    by_hand = await client.patch(
        f"{base}/{a['id']}", json={"version": log[a["id"]]["version"], "status": "accepted"}
    )
    # Superseded is the log's state, not the request's: a 409 (ADR 0095).
    assert by_hand.status_code == 409 and by_hand.json()["error"]["field"] == "status"

    unlinked = await client.patch(f"{base}/{b['id']}", json={"version": 1, "supersedes": None})
    assert unlinked.status_code == 200, unlinked.text
    log = {d["id"]: d for d in (await client.get(base)).json()}
    assert log[a["id"]]["status"] == "accepted" and log[a["id"]]["superseded_by"] == []


async def test_a_stale_edit_is_a_409_and_changes_nothing(client: httpx2.AsyncClient) -> None:
    mission_id = await _planned(client)
    risk = (await client.get(f"/api/v1/missions/{mission_id}/risks")).json()["risks"][0]
    url = f"/api/v1/missions/{mission_id}/risks/{risk['id']}"
    first = await client.patch(url, json={"version": 1, "owner": "Ada"})
    assert first.status_code == 200, first.text
    stale = await client.patch(url, json={"version": 1, "owner": "Bob", "status": "closed"})
    assert stale.status_code == 409, stale.text
    assert stale.json()["error"]["field"] == "version"
    assert "version 2" in stale.json()["error"]["message"]
    after = (await client.get(f"/api/v1/missions/{mission_id}/risks")).json()["risks"][0]
    assert (after["owner"], after["status"], after["version"]) == ("Ada", "open", 2)


async def test_two_edits_racing_for_one_decision_one_wins_the_other_is_a_409(
    client: httpx2.AsyncClient,
) -> None:
    mission_id = await _planned(client)
    decision = (await client.get(f"/api/v1/missions/{mission_id}/decisions")).json()[0]
    url = f"/api/v1/missions/{mission_id}/decisions/{decision['id']}"
    answers = await asyncio.gather(
        client.patch(url, json={"version": 1, "title": "First"}),
        client.patch(url, json={"version": 1, "title": "Second"}),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    winner = next(a for a in answers if a.status_code == 200).json()["title"]
    stored = (await client.get(f"/api/v1/missions/{mission_id}/decisions")).json()[0]
    assert (stored["title"], stored["version"]) == (winner, 2)
    assert len(await _events(client, mission_id, "decision.changed")) == 1


async def test_risk_mitigation_tasks_must_be_tasks_of_the_newest_plan(
    client: httpx2.AsyncClient,
) -> None:
    mission_id = await _planned(client)
    plan = (await client.get(f"/api/v1/missions/{mission_id}/plan")).json()
    key = plan["tasks"][0]["key"]
    url = f"/api/v1/missions/{mission_id}/risks"
    risk = {
        "title": "Alias squatting",
        "description": "People grab aliases",
        "severity": "high",
        "likelihood": "medium",
        "mitigation": "Reserve words",
    }
    typo = await client.post(url, json=risk | {"mitigation_tasks": [key, key + "x"]})
    assert typo.status_code == 409, typo.text
    error = typo.json()["error"]
    assert error["field"] == "mitigation_tasks.1" and f"did you mean '{key}'" in error["message"]
    added = await client.post(url, json=risk | {"mitigation_tasks": [key], "owner": "Ada"})
    assert added.status_code == 201, added.text
    assert added.json()["mitigation_tasks"] == [key]
    register = (await client.get(url)).json()
    high = next(row for row in register["heat_map"] if row[0]["severity"] == "high")
    assert next(c for c in high if c["likelihood"] == "medium")["count"] >= 1
    events = await _events(client, mission_id, "risk.")
    assert events[-1]["type"] == "risk.added" and events[-1]["actor"] == "token:tester-1"
    assert events[-1]["payload"]["changes"]["owner"] == {"old": None, "new": "Ada"}


async def test_a_viewer_reads_but_cannot_write_and_anonymous_callers_get_401(
    client: httpx2.AsyncClient,
) -> None:
    mission_id = await _planned(client)
    app = client._transport.app  # type: ignore[attr-defined]
    viewer = await bearer_headers(app.state.ctx, "vic", Role.VIEWER)
    base = f"/api/v1/missions/{mission_id}"
    assert (await client.get(f"{base}/decisions", headers=viewer)).status_code == 200
    refused = await client.post(f"{base}/decisions", json=_decision(), headers=viewer)
    assert refused.status_code == 403 and "missions:write" in refused.json()["error"]["message"]
    risk = (await client.get(f"{base}/risks")).json()["risks"][0]
    patch = await client.patch(
        f"{base}/risks/{risk['id']}", json={"version": 1, "owner": "x"}, headers=viewer
    )
    assert patch.status_code == 403
    async with httpx2.AsyncClient(
        transport=client._transport, base_url="http://testserver"
    ) as anon:
        assert (await anon.get(f"{base}/decisions")).status_code == 401
        assert (await anon.post(f"{base}/risks", json={})).status_code == 401


async def test_hostile_bodies_are_refused_naming_the_field_and_secrets_are_redacted(
    client: httpx2.AsyncClient,
) -> None:
    mission_id = await _planned(client)
    base = f"/api/v1/missions/{mission_id}/decisions"
    cases: list[tuple[Any, str]] = [
        (_decision(title="x" * 301), "title"),
        (_decision(choice="y" * 100_000), "choice"),
        (_decision(unknown=1), "unknown"),
        (_decision(reasons=[]), "reasons"),
        (_decision(status="superseded"), "status"),
        (_decision(title="a\x00b"), "title"),
        (_decision(supersedes="not-a-uuid"), "supersedes"),
        ({"title": {"a": [[[[[[[[[[1]]]]]]]]]]}}, "title"),
    ]
    for body, field in cases:
        answer = await client.post(base, json=body)
        assert answer.status_code == 422, (field, answer.text)
        assert field in (answer.json()["error"]["field"] or ""), answer.text
    malformed = await client.post(
        base, content=b'{"title": [', headers={"content-type": "application/json"}
    )
    assert malformed.status_code in {400, 422}
    deep = await client.post(
        base, content=b"[" * 5000 + b"]" * 5000, headers={"content-type": "application/json"}
    )
    assert deep.status_code in {400, 413, 422}
    decision = (await client.get(base)).json()[0]
    for edit, field in [
        ({"title": "x"}, "version"),
        ({"version": 0}, "version"),
        ({"version": 2**40}, "version"),
        ({"version": 1, "title": None}, "title"),
        ({"version": "1"}, "version"),
    ]:
        answer = await client.patch(f"{base}/{decision['id']}", json=edit)
        assert answer.status_code == 422, (edit, answer.text)
        assert answer.json()["error"]["field"] == field, answer.text

    token = "sk-" + "A1b2C3d4" * 4
    added = await client.post(base, json=_decision(context=f"the key is {token}"))
    assert added.status_code == 201 and token not in added.text
    events = await _events(client, mission_id, "decision.added")
    assert token not in str(events) and "[REDACTED]" in str(events[-1]["payload"])


async def test_a_version_json_schema_calls_an_integer_is_read_as_one(
    client: httpx2.AsyncClient,
) -> None:
    # JSON Schema's integer holds 1.0; the document says integer, so the API takes it.
    mission_id = await _planned(client)
    base = f"/api/v1/missions/{mission_id}/decisions"
    decision = (await client.get(base)).json()[0]
    edited = await client.patch(f"{base}/{decision['id']}", json={"version": 1.0, "title": "x"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2
    for version in (2.5, True, "2"):
        refused = await client.patch(f"{base}/{decision['id']}", json={"version": version})
        assert refused.status_code == 422, (version, refused.text)
        assert refused.json()["error"]["field"] == "version"


async def test_setting_superseded_by_hand_is_refused_by_the_log_s_state_with_a_409(
    client: httpx2.AsyncClient,
) -> None:
    mission_id = await _planned(client)
    base = f"/api/v1/missions/{mission_id}/decisions"
    a = (await client.post(base, json=_decision(title="Store in SQLite"))).json()
    by_hand = await client.patch(f"{base}/{a['id']}", json={"version": 1, "status": "superseded"})
    assert by_hand.status_code == 409, by_hand.text
    assert by_hand.json()["error"]["field"] == "status"
    b = (await client.post(base, json=_decision(title="Use PostgreSQL", supersedes=a["id"]))).json()
    assert b["supersedes"] == a["id"]
    a = next(d for d in (await client.get(base)).json() if d["id"] == a["id"])
    assert a["status"] == "superseded"
    leave = await client.patch(
        f"{base}/{a['id']}", json={"version": a["version"], "status": "accepted"}
    )
    assert leave.status_code == 409, leave.text
    assert leave.json()["error"]["field"] == "status"
    same = await client.patch(
        f"{base}/{a['id']}", json={"version": a["version"], "status": "superseded"}
    )
    assert same.status_code == 200, same.text


async def test_the_export_names_supersession_both_ways(client: httpx2.AsyncClient) -> None:
    mission_id = await _planned(client)
    base = f"/api/v1/missions/{mission_id}/decisions"
    a = (await client.post(base, json=_decision(title="Store in SQLite"))).json()
    b = (
        await client.post(base, json=_decision(title="Move to PostgreSQL", supersedes=a["id"]))
    ).json()
    export = await client.get(f"/api/v1/missions/{mission_id}/adrs")
    assert export.status_code == 200, export.text
    assert export.headers["content-type"] == "application/zip"
    files = zipfile.ZipFile(io.BytesIO(export.content))
    names = files.namelist()
    old_name = f"{a['number']:04d}-store-in-sqlite.md"
    new_name = f"{b['number']:04d}-move-to-postgresql.md"
    assert old_name in names and new_name in names
    assert len(names) == len((await client.get(base)).json())
    old = files.read(old_name).decode()
    new = files.read(new_name).decode()
    assert (
        "Superseded\n" in old
        and f"Superseded by [ADR {b['number']}: Move to PostgreSQL]({new_name})" in old
    )
    assert f"Supersedes [ADR {a['number']}: Store in SQLite]({old_name})" in new
    assert "## Context" in new and "## Consequences" in new and "Date: " in new
