"""The board page: its columns and cards, actions only for the roles that may take them, the
filters of the URL (a bad one is a 422 naming it), and the live stream's columns."""

import re
import uuid

import httpx2

from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from missionctl.services.usecases.board import read_board
from tests.support.auth import bearer_headers
from tests.web.support import HTMX, planned_mission, start_steps

GOAL = "A maintenance log for a community bike workshop with parts stock"


async def test_a_viewer_sees_every_column_and_its_cards_but_no_action(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, GOAL)
    viewer = await bearer_headers(ctx, "vic", Role.VIEWER)
    answer = await client.get("/board", headers=viewer)
    assert answer.status_code == 200, answer.text
    html = answer.text
    assert re.findall(r'data-column="([a-z_]+)"', html) == [
        "planned", "queued", "running", "awaiting_approval", "blocked", "failed", "canceled",
        "done",
    ]  # fmt: skip
    assert re.findall(r'class="board__heading" id="column-canceled">([^<]+?) <', html) == [
        "Canceled or skipped"
    ]
    board = await read_board(ctx)
    planned = board.columns[0].cards
    assert html.count('class="board-card"') == len(planned) > 0
    assert f'href="/missions/{mission.id}"' in html
    assert 'data-control="retry-' not in html and 'data-control="cancel-' not in html
    # The keys between cards come from a file of their own (no inline script: the CSP).
    assert '<script src="/static/js/board.js' in html and "<script>" not in html
    assert (await client.get("/static/js/board.js")).status_code == 200


async def test_an_operator_cancels_a_run_from_its_card_and_the_card_moves_to_canceled(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, GOAL)
    run = await start_steps(
        ctx, mission.id, [{"id": "wait", "agent": "builtin:sleep", "inputs": {"seconds": 60}}]
    )
    viewer = await bearer_headers(ctx, "vic", Role.VIEWER)
    assert 'data-control="cancel-wait"' not in (await client.get("/board", headers=viewer)).text
    operator = await bearer_headers(ctx, "ola", Role.OPERATOR)
    html = (await client.get("/board", headers=operator)).text
    assert f'action="/runs/{run.id}/cancel"' in html and 'data-control="cancel-wait"' in html
    canceled = await client.post(f"/runs/{run.id}/cancel", headers=operator | HTMX)
    assert canceled.status_code < 400, canceled.text
    board = await read_board(ctx, mission_id=mission.id)
    columns = {column.name: column.cards for column in board.columns}
    assert [(c.key, c.status) for c in columns["canceled"]] == [("wait", "canceled")]
    assert not columns["failed"], "a canceled task did not fail"
    # On the page too, with nothing to retry: the step did not fail, its run was canceled.
    html = (await client.get("/board", headers=operator)).text
    canceled = re.search(r'data-column="canceled">(.*?)</section>', html, re.S)
    assert canceled and f'data-card="{mission.id}:wait"' in canceled.group(1)
    assert 'data-control="retry-wait"' not in html


async def test_filters_live_in_the_url_and_a_bad_one_is_a_422_naming_it(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, GOAL)
    only = await client.get("/board", params={"mission": str(mission.id), "role": "qa"})
    assert only.status_code == 200
    assert set(re.findall(r'class="board-card__role">([^<]+)<', only.text)) == {"qa"}
    fragment = await client.get("/board", params={"role": "qa"}, headers=HTMX)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert 'id="board"' in fragment.text
    for params, field in [
        ({"mission": "not-an-id"}, "mission"),
        ({"outcome": "succeeded"}, "outcome"),
        ({"role": "x" * 1000}, "role"),
    ]:
        refused = await client.get("/board", params=params, headers={"accept": "application/json"})
        assert refused.status_code == 422, (params, refused.text[:200])
        assert field in refused.text
    missing = await client.get("/board", params={"mission": str(uuid.uuid4())})
    assert missing.status_code == 404


async def test_the_epic_filter_keeps_its_missions_cards_and_the_stream_keeps_the_filter(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    inside = await planned_mission(ctx, GOAL)
    outside = await planned_mission(ctx, "A seed library's lending log for a village hall")
    made = await client.post(
        "/api/v1/epics", json={"name": "Workshop", "mission_ids": [str(inside.id)]}
    )
    epic_id = made.json()["id"]
    page = await client.get("/board", params={"epic": epic_id})
    assert page.status_code == 200, page.text[:300]
    shown = set(re.findall(r'data-card="([0-9a-f-]{36}):', page.text))
    assert shown == {str(inside.id)} and str(outside.id) not in shown
    assert f'<option value="{epic_id}" selected>Workshop</option>' in page.text
    assert f"/board/stream?epic={epic_id}" in page.text, "the live stream keeps the filter"
    for params, status in [({"epic": "not-an-id"}, 422), ({"epic": str(uuid.uuid4())}, 404)]:
        refused = await client.get("/board", params=params, headers={"accept": "application/json"})
        assert refused.status_code == status, (params, refused.text[:200])
        assert "epic" in refused.text
