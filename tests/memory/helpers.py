"""Missions about web shops, finished through the API, for the memory tests."""

import asyncio
import time
from typing import Any

import httpx2

SHOPS = [
    (
        "Candle web shop",
        "Build a web shop for handmade candles with a product catalog, a shopping cart and "
        "checkout with card payments",
    ),
    (
        "Vintage bike web shop",
        "Build a web shop selling vintage bikes with a product catalog, a shopping cart and "
        "card payments at checkout",
    ),
    (
        "Tea web shop",
        "Build a web shop for loose-leaf tea with product pages, a shopping cart and a "
        "checkout that takes card payments",
    ),
]
FOURTH = (
    "Mug web shop",
    "Build a web shop for ceramic mugs with a product catalog, a shopping cart and checkout",
)
UNRELATED = ("CSV converter", "Convert CSV files to Parquet from the command line")


async def create(http: httpx2.AsyncClient, title: str, goal: str) -> str:
    """A new mission's id."""
    response = await http.post("/api/v1/missions", json={"title": title, "goal": goal})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def wait_status(http: httpx2.AsyncClient, mission_id: str, wanted: set[str]) -> str:
    """Poll the mission until its status is one of ``wanted``."""
    deadline = time.monotonic() + 60
    while True:
        status = (await http.get(f"/api/v1/missions/{mission_id}")).json()["status"]
        if status in wanted:
            return str(status)
        assert time.monotonic() < deadline, f"mission stayed {status}"
        await asyncio.sleep(0.05)


async def finish(http: httpx2.AsyncClient, title: str, goal: str) -> str:
    """A mission planned by the local planner and run to its end; its id."""
    mission_id = await create(http, title, goal)
    planned = await http.post(f"/api/v1/missions/{mission_id}/plan")
    assert planned.status_code == 201, planned.text
    run = await http.post(f"/api/v1/missions/{mission_id}/runs")
    assert run.status_code == 202, run.text
    await wait_status(http, mission_id, {"completed", "failed"})
    return mission_id


def cited(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """The plan's (section, title) items that cite a past mission, with the mission id."""
    return [
        (item["title"], item["from_mission"])
        for section in ("decisions", "risks")
        for item in plan[section]
        if item.get("from_mission")
    ]
