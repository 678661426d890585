"""Epics over the API: a named group of missions with an owner, a target date and a budget,
whose roll-up is what its missions' records say; the board filtered to it; the lowest role,
hostile bodies and concurrent twins refused without a change."""

import asyncio
import uuid
from typing import Any

import httpx2

from missionctl.domain.access import Role
from missionctl.domain.board import COLUMNS
from missionctl.services import ServiceContext
from tests.engine.helpers import wait_for_run, wait_for_step
from tests.support.auth import TEST_ADMIN, bearer_headers
from tests.web.support import start_steps

GOALS = (
    "A booking tool for a climbing gym's route-setting sessions",
    "An inventory sync between a bakery's till and its supplier orders",
    "A status page for a small hosting company with incident timelines",
)


async def _planned(client: httpx2.AsyncClient, goal: str) -> str:
    created = await client.post("/api/v1/missions", json={"goal": goal})
    assert created.status_code == 201, created.text
    mission_id: str = created.json()["id"]
    planned = await client.post(f"/api/v1/missions/{mission_id}/plan")
    assert planned.status_code == 201, planned.text
    return mission_id


async def _epic(client: httpx2.AsyncClient, **body: Any) -> dict[str, Any]:
    made = await client.post("/api/v1/epics", json=body)
    assert made.status_code == 201, made.text
    epic: dict[str, Any] = made.json()
    return epic


async def _events(client: httpx2.AsyncClient, *types: str) -> list[dict[str, Any]]:
    answer = await client.get("/api/v1/events", params={"type": list(types), "limit": 100})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_an_epic_rolls_up_its_missions_tasks_cost_and_risks_and_filters_the_board(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    gym, bakery, outside = [await _planned(client, goal) for goal in GOALS]
    epic = await _epic(
        client,
        name="Spring launches",
        target_date="2030-04-30",
        budget_usd="12.50",
        mission_ids=[gym, bakery],
    )
    assert epic["owner"] == TEST_ADMIN, "the maker owns it unless another user is named"
    assert (epic["missions"], epic["budget_usd"], epic["late"]) == (2, 12.5, False)
    assert epic["missions_by_status"] == {"planned": 2}

    detail = (await client.get(f"/api/v1/epics/{epic['id']}")).json()
    plans = [(await client.get(f"/api/v1/missions/{m}/plan")).json() for m in (gym, bakery)]
    tasks = sum(len(plan["tasks"]) for plan in plans)
    assert detail["tasks"]["total"] == tasks
    assert list(detail["tasks"]["by_column"]) == list(COLUMNS)
    assert detail["tasks"]["by_column"]["planned"] == tasks
    assert {row["id"] for row in detail["mission_list"]} == {gym, bakery}
    assert detail["board_url"] == f"/board?epic={epic['id']}"
    planned_risks = sum(len(plan["risks"]) for plan in plans)
    assert detail["open_risks"] == planned_risks > 0
    assert [r["severity"] for r in detail["risks"]] == sorted(
        (r["severity"] for r in detail["risks"]),
        key=["critical", "high", "medium", "low"].index,
    )

    board = (await client.get("/api/v1/board", params={"epic_id": epic["id"]})).json()
    on_board = {c["mission_id"] for column in board["columns"] for c in column["cards"]}
    assert on_board == {gym, bakery} and outside not in on_board
    assert board["missions"] == 2

    started = await client.post(f"/api/v1/missions/{bakery}/runs")
    assert started.status_code == 202, started.text
    run = await wait_for_run(ctx, uuid.UUID(started.json()["id"]), within_s=60)
    assert run.status == "completed"
    detail = (await client.get(f"/api/v1/epics/{epic['id']}")).json()
    bakery_tasks = len(plans[1]["tasks"])
    assert detail["tasks"]["by_column"]["done"] == bakery_tasks
    assert sum(detail["tasks"]["by_outcome"].values()) == bakery_tasks
    assert detail["missions_by_status"] == {"planned": 1, "completed": 1}
    missions = [(await client.get(f"/api/v1/missions/{m}")).json() for m in (gym, bakery)]
    assert detail["spent_usd"] == sum(m["spent_usd"] for m in missions)


async def test_changes_are_events_and_an_archived_epic_is_read_only_until_restored(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    mission = await _planned(client, GOALS[0])
    await bearer_headers(ctx, "olga", Role.OPERATOR)
    epic = await _epic(client, name="Gym", description="Everything for the gym")
    renamed = await client.patch(
        f"/api/v1/epics/{epic['id']}",
        json={"name": "Climbing gym", "owner": "olga", "budget_usd": 3, "target_date": None},
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["owner"]) == ("Climbing gym", "olga")
    added = await client.post(
        f"/api/v1/epics/{epic['id']}/missions", json={"mission_ids": [mission]}
    )
    assert added.json()["missions"] == 1
    listed = (await client.get("/api/v1/epics")).json()
    assert [e["name"] for e in listed] == ["Climbing gym"]

    archived = await client.post(f"/api/v1/epics/{epic['id']}/archive")
    assert archived.json()["archived"] is True
    assert (await client.get("/api/v1/epics")).json() == []
    assert [e["id"] for e in (await client.get("/api/v1/epics?state=archived")).json()] == [
        epic["id"]
    ]
    for refused in (
        await client.patch(f"/api/v1/epics/{epic['id']}", json={"name": "Other"}),
        await client.post(
            f"/api/v1/epics/{epic['id']}/missions/remove", json={"mission_ids": [mission]}
        ),
        await client.post(f"/api/v1/epics/{epic['id']}/archive"),
    ):
        assert refused.status_code == 409, refused.text
        assert "archived" in refused.text
    # Its name is free again while it is archived; restoring it then is refused by name.
    twin = await _epic(client, name="Climbing gym")
    clash = await client.post(f"/api/v1/epics/{epic['id']}/restore")
    assert clash.status_code == 409 and clash.json()["error"]["field"] == "name"
    await client.patch(f"/api/v1/epics/{twin['id']}", json={"name": "Gym two"})
    restored = await client.post(f"/api/v1/epics/{epic['id']}/restore")
    assert restored.status_code == 200 and restored.json()["missions"] == 1
    remove = f"/api/v1/epics/{epic['id']}/missions/remove"
    both = await client.post(remove, json={"mission_ids": [mission, str(uuid.uuid4())]})
    assert both.status_code == 404 and both.json()["error"]["field"] == "mission_ids"
    assert (await client.get(f"/api/v1/epics/{epic['id']}")).json()["missions"] == 1
    removed = await client.post(remove, json={"mission_ids": [mission]})
    assert removed.json()["missions"] == 0
    gone = await client.post(remove, json={"mission_ids": [mission]})
    assert gone.status_code == 404

    events = await _events(client, "epic.saved", "epic.mission_added", "epic.mission_removed")
    mine = sorted(
        (e for e in events if e["payload"]["epic_id"] == epic["id"]), key=lambda e: e["seq"]
    )
    assert [e["type"] for e in mine] == [
        "epic.saved", "epic.saved", "epic.mission_added", "epic.mission_removed"
    ]  # fmt: skip
    assert mine[1]["payload"]["changed"] == ["budget_usd", "name", "owner", "target_date"]
    assert mine[2]["mission_id"] == mission, "the mission's own history shows it"


async def test_a_mission_is_in_one_epic_and_a_refused_change_changes_nothing(
    client: httpx2.AsyncClient,
) -> None:
    mission = await _planned(client, GOALS[1])
    first = await _epic(client, name="First", mission_ids=[mission])
    second = await _epic(client, name="Second")
    moved = await client.post(
        f"/api/v1/epics/{second['id']}/missions", json={"mission_ids": [mission]}
    )
    assert moved.status_code == 409
    assert "'First'" in moved.text and moved.json()["error"]["field"] == "mission_ids"
    unknown = str(uuid.uuid4())
    missing = await client.post(
        f"/api/v1/epics/{second['id']}/missions", json={"mission_ids": [unknown]}
    )
    assert missing.status_code == 404 and unknown in missing.text
    taken = await client.post("/api/v1/epics", json={"name": "First", "mission_ids": [mission]})
    assert taken.status_code == 409
    nobody = await client.post("/api/v1/epics", json={"name": "Third", "owner": "no-such-user"})
    assert nobody.status_code == 422 and nobody.json()["error"]["field"] == "owner"
    names = [e["name"] for e in (await client.get("/api/v1/epics")).json()]
    assert names == ["First", "Second"]
    assert (await client.get(f"/api/v1/epics/{first['id']}")).json()["missions"] == 1
    assert (await client.get(f"/api/v1/epics/{second['id']}")).json()["missions"] == 0


async def test_hostile_bodies_are_422s_naming_the_field(client: httpx2.AsyncClient) -> None:
    epic = await _epic(client, name="Target")
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", "/api/v1/epics", {"name": "a\x00b"}, "name"),
        ("POST", "/api/v1/epics", {"name": "x" * 101}, "name"),
        ("POST", "/api/v1/epics", {"name": "   "}, "name"),
        ("POST", "/api/v1/epics", {"name": "ok", "description": "d" * 2001}, "description"),
        ("POST", "/api/v1/epics", {"name": "ok", "budget_usd": "0.0000001"}, "budget_usd"),
        ("POST", "/api/v1/epics", {"name": "ok", "target_date": "next week"}, "target_date"),
        ("POST", "/api/v1/epics", {"name": "ok", "target_date": 0}, "target_date"),
        ("PATCH", f"/api/v1/epics/{epic['id']}", {"target_date": -5.9e-45}, "target_date"),
        ("POST", "/api/v1/epics", {"name": "ok", "owner": "Robert'); DROP"}, "owner"),
        ("POST", "/api/v1/epics", {"name": "ok", "secret": "sk-live-123"}, "secret"),
        (
            "POST",
            f"/api/v1/epics/{epic['id']}/missions",
            {"mission_ids": [str(uuid.uuid4()) for _ in range(101)]},
            "mission_ids",
        ),
        ("POST", f"/api/v1/epics/{epic['id']}/missions", {"mission_ids": []}, "mission_ids"),
        ("PATCH", f"/api/v1/epics/{epic['id']}", {"name": None}, "name"),
        ("PATCH", f"/api/v1/epics/{epic['id']}", {"owner": "nobody-here"}, "owner"),
    ]
    for method, path, body, field in cases:
        answer = await client.request(method, path, json=body)
        assert answer.status_code == 422, (body, answer.text)
        fields = {(d["field"] or "").split(".")[0] for d in answer.json()["error"]["details"]}
        assert field in fields | {answer.json()["error"]["field"]}, answer.text
        assert "sk-live-123" not in answer.text
    deep: Any = "x"
    for _ in range(200):
        deep = {"a": deep}
    answer = await client.post("/api/v1/epics", json={"name": "deep", "description": deep})
    assert answer.status_code == 422
    assert [e["name"] for e in (await client.get("/api/v1/epics")).json()] == ["Target"]


async def test_a_viewer_reads_epics_but_changes_none_and_no_one_anonymous_reads(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    epic = await _epic(client, name="Readable")
    viewer = await bearer_headers(ctx, "vera", Role.VIEWER)
    assert (await client.get("/api/v1/epics", headers=viewer)).status_code == 200
    assert (await client.get(f"/api/v1/epics/{epic['id']}", headers=viewer)).status_code == 200
    for method, path in (
        ("POST", "/api/v1/epics"),
        ("PATCH", f"/api/v1/epics/{epic['id']}"),
        ("POST", f"/api/v1/epics/{epic['id']}/archive"),
    ):
        answer = await client.request(method, path, json={"name": "Mine"}, headers=viewer)
        assert answer.status_code == 403, answer.text
    anonymous = await client.get("/api/v1/epics", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert [e["name"] for e in (await client.get("/api/v1/epics")).json()] == ["Readable"]


async def test_concurrent_twins_one_name_and_one_mission_each_win_once(
    client: httpx2.AsyncClient,
) -> None:
    made = await asyncio.gather(
        *(client.post("/api/v1/epics", json={"name": "Twin"}) for _ in range(4))
    )
    assert sorted(a.status_code for a in made) == [201, 409, 409, 409]
    mission = await _planned(client, GOALS[2])
    epics = [await _epic(client, name=f"Rival {i}") for i in range(3)]
    adds = await asyncio.gather(
        *(
            client.post(f"/api/v1/epics/{e['id']}/missions", json={"mission_ids": [mission]})
            for e in epics
        )
    )
    assert sorted(a.status_code for a in adds) == [200, 409, 409]
    holding = [(await client.get(f"/api/v1/epics/{e['id']}")).json()["missions"] for e in epics]
    assert sorted(holding) == [0, 0, 1]


async def test_waiting_approvals_of_its_missions_show_on_the_epic(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    mission = await _planned(client, GOALS[0])
    epic = await _epic(client, name="Gated", mission_ids=[mission])
    run = await start_steps(
        ctx, uuid.UUID(mission), [{"id": "deploy", "agent": "builtin:noop", "risk_tier": "write"}]
    )
    await wait_for_step(ctx, run.id, "deploy", "awaiting_approval")
    detail = (await client.get(f"/api/v1/epics/{epic['id']}")).json()
    assert detail["approvals_waiting"] == 1
    assert detail["approvals"][0]["step_id"] == "deploy"
    assert detail["approvals"][0]["mission_id"] == mission
    cancel = await client.post(f"/api/v1/runs/{run.id}/cancel")
    assert cancel.status_code in (200, 202), cancel.text
    await wait_for_run(ctx, run.id, within_s=30)
    after = (await client.get(f"/api/v1/epics/{epic['id']}")).json()
    assert after["approvals_waiting"] == 0, "a canceled run's request waits for no one"
