"""The task board over the API: columns by the engine's states (a column claims no more than
its steps did), filters, the lowest role and hostile filters, and cards that move as the engine
runs the steps."""

import asyncio
import uuid
from typing import Any

import httpx2

from missionctl.domain.access import Role
from missionctl.domain.board import COLUMNS
from missionctl.services import ServiceContext
from missionctl.services.usecases.runs import cancel_run
from tests.engine.helpers import wait_for_run, wait_for_step
from tests.support.auth import bearer_headers
from tests.web.support import start_steps

GOALS = (
    "A field-service app where technicians log repairs and customers sign on a tablet",
    "A CLI that converts bank statements to a ledger file",
)


async def _planned(client: httpx2.AsyncClient, goal: str) -> str:
    created = await client.post("/api/v1/missions", json={"goal": goal})
    assert created.status_code == 201, created.text
    mission_id: str = created.json()["id"]
    planned = await client.post(f"/api/v1/missions/{mission_id}/plan")
    assert planned.status_code == 201, planned.text
    return mission_id


async def _board(client: httpx2.AsyncClient, **params: Any) -> dict[str, list[dict[str, Any]]]:
    answer = await client.get("/api/v1/board", params=params)
    assert answer.status_code == 200, answer.text
    return {column["name"]: column["cards"] for column in answer.json()["columns"]}


async def test_planned_tasks_wait_in_planned_and_a_run_moves_them_to_done_with_outcomes(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    field_service = await _planned(client, GOALS[0])
    ledger = await _planned(client, GOALS[1])
    board = await _board(client)
    assert list(board) == list(COLUMNS)  # every column, empty ones too, left to right
    planned = {(c["mission_id"], c["key"]) for c in board["planned"]}
    assert {m for m, _ in planned} == {field_service, ledger}
    plan = (await client.get(f"/api/v1/missions/{ledger}/plan")).json()
    assert [c["key"] for c in board["planned"] if c["mission_id"] == ledger] == [
        t["key"] for t in plan["tasks"]
    ]

    started = await client.post(f"/api/v1/missions/{ledger}/runs")
    assert started.status_code == 202, started.text
    board = await _board(client, mission_id=ledger)
    assert not board["planned"], "a started run has every task of its plan as a step"
    # The app's own engine runs it.
    run = await wait_for_run(ctx, uuid.UUID(started.json()["id"]), within_s=60)
    assert run.status == "completed", [(s.step_id, s.status, s.error) for s in run.steps]
    board = await _board(client, mission_id=ledger)
    done = board["done"]
    assert {c["key"] for c in done} == {t["key"] for t in plan["tasks"]}
    assert all(c["status"] == "succeeded" and c["run_id"] for c in done)
    # What the record says they produced: the builtin specialists write documents.
    assert {c["outcome"] for c in done} <= {"documented", "ran"}
    assert sum(len(cards) for name, cards in board.items() if name != "done") == 0
    # The other mission was never run: all its tasks are still planned.
    others = await _board(client, mission_id=field_service)
    assert others["planned"] and sum(len(v) for v in others.values()) == len(others["planned"])


async def test_a_column_claims_no_more_than_its_steps_did(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    """Done holds successes only and Failed failures only: a skipped step is not done and a
    canceled one did not fail, so both wait in "Canceled or skipped"."""
    mission_id = await _planned(client, GOALS[1])
    steps = [
        {"id": "wrote", "agent": "builtin:noop"},
        {"id": "never", "agent": "builtin:noop", "depends_on": ["wrote"], "when": "false"},
        {"id": "broken", "agent": "builtin:fail", "inputs": {"retryable": False}},
        {"id": "wait", "agent": "builtin:sleep", "inputs": {"seconds": 60}},
    ]
    run = await start_steps(ctx, uuid.UUID(mission_id), steps)
    # The app's own engine runs it; "wait" is still sleeping when the others have ended.
    for step_id, status in [
        ("wrote", "succeeded"),
        ("never", "skipped"),
        ("broken", "failed"),
        ("wait", "running"),
    ]:
        await wait_for_step(ctx, run.id, step_id, status, within_s=60)
    await cancel_run(ctx, run_id=run.id, actor="user:test")

    board = await _board(client, mission_id=mission_id)
    placed = {c["key"]: (name, c["status"]) for name, cards in board.items() for c in cards}
    assert placed == {
        "wrote": ("done", "succeeded"),
        "never": ("canceled", "skipped"),
        "broken": ("failed", "failed"),
        "wait": ("canceled", "canceled"),
    }
    assert "never" not in {c["key"] for c in board["done"]}, "a skipped task is not done"
    assert "wait" not in {c["key"] for c in board["failed"]}, "a canceled task did not fail"
    columns = (await client.get("/api/v1/board")).json()["columns"]
    names = [column["name"] for column in columns]
    assert names.index("failed") < names.index("canceled") < names.index("done")
    assert columns[names.index("canceled")]["label"] == "Canceled or skipped"


async def test_filters_combine_and_a_bad_one_is_a_422_naming_it(
    client: httpx2.AsyncClient,
) -> None:
    mission_id = await _planned(client, GOALS[0])
    board = await _board(client, mission_id=mission_id, role="backend")
    cards = [card for cards in board.values() for card in cards]
    assert cards and {c["role"] for c in cards} == {"backend"}
    assert not [c for v in (await _board(client, role="no-such-role")).values() for c in v]
    for params, field in [
        ({"outcome": "succeeded"}, "outcome"),
        ({"missions": 0}, "missions"),
        ({"missions": 10**6}, "missions"),
        ({"mission_id": "not-an-id"}, "mission_id"),
        ({"agent": "x" * 10_000}, "agent"),
        ({"role": "a\x00b"}, None),
        ({"column": "done"}, "column"),  # not a filter the board takes
    ]:
        answer = await client.get("/api/v1/board", params=params)
        assert answer.status_code == 422, (params, answer.text)
        if field:
            assert field in (answer.json()["error"]["field"] or ""), answer.text
    missing = await client.get("/api/v1/board", params={"mission_id": str(uuid.uuid4())})
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "mission_id"


async def test_a_viewer_reads_the_board_and_no_one_anonymous_does(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    await _planned(client, GOALS[1])
    viewer = await bearer_headers(ctx, "vera", Role.VIEWER)
    seen = await client.get("/api/v1/board", headers=viewer)
    assert seen.status_code == 200, seen.text
    assert sum(len(c["cards"]) for c in seen.json()["columns"]) > 0
    async with httpx2.AsyncClient(
        transport=client._transport, base_url="http://testserver"
    ) as anon:
        assert (await anon.get("/api/v1/board")).status_code == 401


async def test_two_readers_at_once_see_the_same_board(client: httpx2.AsyncClient) -> None:
    await _planned(client, GOALS[0])
    first, second = await asyncio.gather(_board(client), _board(client))
    assert first == second
