"""Spending caps over the API: an admin sets, changes and removes them, each with its event; the
lowest roles, hostile bodies and concurrent twins are refused or settled without a 500 and
without a change."""

import asyncio
from typing import Any

import httpx2
import pytest

from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from tests.support.auth import bearer_headers

URL = "/api/v1/spending-caps"


async def _events(client: httpx2.AsyncClient, *types: str) -> list[dict[str, Any]]:
    answer = await client.get("/api/v1/events", params={"type": list(types), "limit": 100})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_an_admin_sets_changes_and_removes_a_cap_each_with_its_event(
    client: httpx2.AsyncClient,
) -> None:
    made = await client.put(URL, json={"agent": "llm:writer", "period": "day", "cap_usd": "5"})
    assert made.status_code == 200, made.text
    cap = made.json()
    assert (cap["agent"], cap["period"], cap["cap_usd"]) == ("llm:writer", "day", 5.0)
    assert (cap["spent_usd"], cap["left_usd"], cap["held_steps"], cap["level"]) == (0, 5, 0, None)
    assert cap["reopens_at"].endswith("T00:00:00Z")

    changed = await client.put(URL, json={"agent": "llm:writer", "period": "day", "cap_usd": 7})
    assert changed.json()["id"] == cap["id"] and changed.json()["cap_usd"] == 7
    monthly = await client.put(URL, json={"agent": "*", "period": "month", "cap_usd": "100.5"})
    assert monthly.status_code == 200
    listed = (await client.get(URL)).json()
    assert [(c["agent"], c["period"]) for c in listed] == [("*", "month"), ("llm:writer", "day")]

    gone = await client.delete(f"{URL}/{cap['id']}")
    assert gone.status_code == 200 and gone.json()["cap_usd"] == 7
    assert (await client.delete(f"{URL}/{cap['id']}")).status_code == 404
    assert [c["agent"] for c in (await client.get(URL)).json()] == ["*"]
    saved = (await _events(client, "spending_cap.set", "spending_cap.removed"))[::-1]
    assert [(e["type"], e["payload"]["cap_micros"]) for e in saved] == [
        ("spending_cap.set", 5_000_000),
        ("spending_cap.set", 7_000_000),
        ("spending_cap.set", 100_500_000),
        ("spending_cap.removed", 7_000_000),
    ]
    assert saved[1]["payload"]["was_micros"] == 5_000_000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"agent": "nope:x", "period": "day", "cap_usd": 1}, "agent"),
        ({"agent": "builtin:nobody", "period": "day", "cap_usd": 1}, "agent"),
        ({"agent": "shell:*", "period": "day", "cap_usd": 1}, "agent"),
        ({"agent": "<script>alert(1)</script>", "period": "day", "cap_usd": 1}, "agent"),
        ({"agent": "llm:" + "w" * 10_000, "period": "day", "cap_usd": 1}, "agent"),
        ({"agent": "llm:writer", "period": "week", "cap_usd": 1}, "period"),
        ({"agent": "llm:writer", "period": "day", "cap_usd": 0}, "cap_usd"),
        ({"agent": "llm:writer", "period": "day", "cap_usd": -3}, "cap_usd"),
        ({"agent": "llm:writer", "period": "day", "cap_usd": "1e9"}, "cap_usd"),
        ({"agent": "llm:writer", "period": "day", "cap_usd": "0.0000001"}, "cap_usd"),
        ({"agent": "llm:writer", "period": "day", "cap_usd": "NaN"}, "cap_usd"),
        ({"agent": "llm:writer", "period": "day", "cap_usd": 1, "owner": "x"}, "owner"),
        ({"agent": {"a": [[[[1]]]]}, "period": "day", "cap_usd": 1}, "agent"),
    ],
)
async def test_a_bad_cap_is_refused_naming_its_field_and_nothing_is_stored(
    client: httpx2.AsyncClient, body: dict[str, Any], field: str
) -> None:
    refused = await client.put(URL, json=body)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert field in error["field"] and "<script>" not in refused.text
    assert (await client.get(URL)).json() == []
    assert await _events(client, "spending_cap.set") == []


async def test_only_an_admin_changes_caps_and_a_viewer_reads_them(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    body = {"agent": "llm:*", "period": "month", "cap_usd": 50}
    cap = (await client.put(URL, json=body)).json()
    for name, role in (("vera", Role.VIEWER), ("olga", Role.OPERATOR), ("alan", Role.APPROVER)):
        headers = await bearer_headers(ctx, name, role)
        assert (await client.get(URL, headers=headers)).status_code == 200
        assert (await client.put(URL, json=body, headers=headers)).status_code == 403
        assert (await client.delete(f"{URL}/{cap['id']}", headers=headers)).status_code == 403
    assert [c["cap_usd"] for c in (await client.get(URL)).json()] == [50]


async def test_two_admins_setting_the_same_cap_at_once_leave_one_cap(
    client: httpx2.AsyncClient,
) -> None:
    bodies = [{"agent": "llm:architect", "period": "day", "cap_usd": usd} for usd in (3, 4)]
    answers = await asyncio.gather(*(client.put(URL, json=b) for b in bodies))
    assert sorted(a.status_code for a in answers) in ([200, 200], [200, 409]), [
        a.text for a in answers
    ]
    [cap] = (await client.get(URL)).json()
    assert cap["cap_usd"] in (3, 4)
