"""Mission memory's search, attacked: hostile queries, the lowest role, secrets, edits after the
mission finished, and two indexers at once (both databases)."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx2
import pytest
from sqlalchemy import text

from missionctl.app import create_app
from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from missionctl.services.followers import MEMORY_INDEX, catch_up
from missionctl.settings import Settings
from tests.memory.helpers import SHOPS, finish
from tests.support.auth import bearer_headers
from tests.support.consistency import assert_consistent

SECRET = "sk-" + "Q9w8E7r6" * 4


@dataclass
class Clients:
    admin: httpx2.AsyncClient
    viewer: httpx2.AsyncClient
    anonymous: httpx2.AsyncClient
    ctx: ServiceContext


@pytest.fixture
async def clients(settings: Settings) -> AsyncIterator[Clients]:
    """An admin's, a viewer's and an anonymous client of the app (with its engine)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        ctx = app.state.ctx
        transport = httpx2.ASGITransport(app=app)
        base = "http://testserver"
        admin_headers = await bearer_headers(ctx)
        viewer_headers = await bearer_headers(ctx, user="vera", role=Role.VIEWER)
        async with (
            httpx2.AsyncClient(transport=transport, base_url=base, headers=admin_headers) as admin,
            httpx2.AsyncClient(
                transport=transport, base_url=base, headers=viewer_headers
            ) as viewer,
            httpx2.AsyncClient(transport=transport, base_url=base) as anonymous,
        ):
            yield Clients(admin, viewer, anonymous, ctx)
        await assert_consistent(ctx)


async def test_hostile_queries_are_a_named_422_or_a_plain_search(clients: Clients) -> None:
    await finish(clients.admin, *SHOPS[0])
    for params, field in (
        ({"q": '"'}, "q"),
        ({"q": "*"}, "q"),
        ({"q": ":"}, "q"),
        ({"q": "x" * 10_000}, "q"),
        ({"q": "a*"}, "q"),
        ({"q": "shop", "kind": "secrets"}, "kind"),
        ({"q": "shop", "cursor": "-1"}, "cursor"),
        ({"q": "shop", "cursor": "abc"}, "cursor"),
        ({"q": "shop", "limit": 0}, "limit"),
        ({"q": "shop", "limit": 51}, "limit"),
    ):
        answer = await clients.admin.get("/api/v1/memory", params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.json()["error"]["field"] == field, answer.text
    for q in ("NEAR(candle, shop)", 'candle AND "shop', "candle OR shop:", "{title}: shop", "'"):
        answer = await clients.admin.get("/api/v1/memory", params={"q": q})
        assert answer.status_code in (200, 422), (q, answer.text)
    # FTS syntax is only words here: "candles:" is the word candles, not a column filter.
    plain = await clients.admin.get("/api/v1/memory", params={"q": "candles: OR*"})
    assert plain.status_code == 200 and len(plain.json()["items"]) == 1, plain.text
    page = await clients.admin.get("/memory", params={"q": "x" * 10_000})
    assert page.status_code == 422 and "search for at most 500" in page.text


async def test_a_viewer_searches_memory_and_a_stranger_cannot(clients: Clients) -> None:
    await finish(clients.admin, *SHOPS[0])
    assert (await clients.viewer.get("/api/v1/memory", params={"q": "candles"})).status_code == 200
    assert (await clients.viewer.get("/memory", params={"q": "candles"})).status_code == 200
    assert (
        await clients.anonymous.get("/api/v1/memory", params={"q": "candles"})
    ).status_code == 401


async def test_secrets_are_not_remembered(clients: Clients) -> None:
    goal = f"Build a web shop for candles; the payment key is {SECRET}"
    await finish(clients.admin, "Keyed candle shop", goal)
    found = await clients.admin.get("/api/v1/memory", params={"q": "payment key"})
    assert found.status_code == 200 and found.json()["items"], found.text
    assert SECRET not in found.text
    async with clients.ctx.read() as session:
        bodies = (await session.execute(text("SELECT body FROM memory_entries"))).scalars().all()
    assert bodies and not any(SECRET in body for body in bodies)


async def test_a_decision_edited_after_the_mission_finished_is_remembered_as_edited(
    clients: Clients,
) -> None:
    mission_id = await finish(clients.admin, *SHOPS[0])
    assert not (await clients.admin.get("/api/v1/memory", params={"q": "quokkadb"})).json()["items"]
    base = f"/api/v1/missions/{mission_id}/decisions"
    decision = (await clients.admin.get(base)).json()[0]
    edited = await clients.admin.patch(
        f"{base}/{decision['id']}",
        json={"version": decision["version"], "choice": "Store the orders in QuokkaDB"},
    )
    assert edited.status_code == 200, edited.text

    found = (await clients.admin.get("/api/v1/memory", params={"q": "quokkadb"})).json()

    assert [item["mission_id"] for item in found["items"]] == [mission_id]
    assert found["items"][0]["hits"][0]["kind"] == "decision"


async def test_two_indexers_at_once_remember_each_mission_once(clients: Clients) -> None:
    missions = [await finish(clients.admin, title, goal) for title, goal in SHOPS[:2]]
    async with clients.ctx.write() as session:  # forget, then catch up twice at once
        await session.execute(text("DELETE FROM memory_entries"))
        await session.execute(
            text("UPDATE follower_cursors SET last_seq = 0 WHERE name = 'memory'")
        )

    await asyncio.gather(catch_up(clients.ctx, MEMORY_INDEX), catch_up(clients.ctx, MEMORY_INDEX))

    async with clients.ctx.read() as session:
        rows = await session.execute(
            text("SELECT count(*) FROM memory_entries WHERE kind = 'summary'")
        )
        assert rows.scalar_one() == len(missions)
    both = await asyncio.gather(
        *(clients.admin.get("/api/v1/memory", params={"q": "shop"}) for _ in range(2))
    )
    assert [len(r.json()["items"]) for r in both] == [2, 2]
