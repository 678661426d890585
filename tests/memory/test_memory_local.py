"""Mission memory through the app, with the local planner (both databases).

Three finished web shops: a fourth one's page lists them as similar past missions (outcome,
cost, lessons), its plan cites a decision and a risk of one of them, and the Memory page and
API find what they remembered.
"""

import httpx2
from markupsafe import escape

from tests.memory.helpers import FOURTH, SHOPS, UNRELATED, cited, create, finish


async def test_a_new_web_shop_recalls_three_finished_ones_and_its_plan_cites_one(
    client: httpx2.AsyncClient,
) -> None:
    past = [await finish(client, title, goal) for title, goal in SHOPS]
    other = await finish(client, *UNRELATED)
    mission_id = await create(client, *FOURTH)

    similar = (await client.get(f"/api/v1/missions/{mission_id}/similar")).json()
    assert {s["mission_id"] for s in similar} == set(past), similar
    for shown in similar:
        assert shown["outcome"] in ("completed", "failed")
        assert shown["cost_usd"] >= 0
        assert shown["lessons"] and "The mission ended" in shown["lessons"][-1]
        assert shown["url"] == f"/missions/{shown['mission_id']}"
    page = (await client.get(f"/missions/{mission_id}")).text
    assert 'id="similar-missions"' in page
    for title, _ in SHOPS:
        assert str(escape(title)) in page
    assert (
        str(escape(UNRELATED[0]))
        not in page.split('id="similar-missions"')[1].split("</section>")[0]
    )

    plan = (await client.post(f"/api/v1/missions/{mission_id}/plan")).json()
    citations = cited(plan)
    assert citations, plan["decisions"]
    assert {m for _, m in citations} <= set(past) and other not in {m for _, m in citations}
    decision = next(d for d in plan["decisions"] if d.get("from_mission"))
    assert any("finished mission" in reason for reason in decision["reasons"])
    assert any(note.startswith("Mission memory:") for note in plan["notes"])

    log = (await client.get(f"/api/v1/missions/{mission_id}/decisions")).json()
    stored = next(d for d in log if d["title"] == decision["title"])
    assert stored["from_mission"] == decision["from_mission"]
    page = (await client.get(f"/missions/{mission_id}")).text
    titles = {m["mission_id"]: m["title"] for m in similar}
    assert f'href="/missions/{decision["from_mission"]}"' in page
    assert f"from mission {escape(titles[decision['from_mission']])}" in page


async def test_memory_search_finds_decisions_risks_and_lessons_by_stem(
    client: httpx2.AsyncClient,
) -> None:
    shop = await finish(client, *SHOPS[0])
    other = await finish(client, *UNRELATED)

    found = await client.get("/api/v1/memory", params={"q": "candles"})
    assert found.status_code == 200, found.text
    body = found.json()
    assert [item["mission_id"] for item in body["items"]] == [shop]
    assert body["mode"] in ("full text", "semantic") and body["remembered"] == 2
    hit = body["items"][0]
    assert hit["outcome"] in ("completed", "failed") and hit["lessons"]
    assert any(
        part["match"] and part["text"].lower().startswith("candle")
        for h in hit["hits"]
        for part in h["snippet"]
    )

    parquet = (
        await client.get("/api/v1/memory", params={"q": "parquet", "kind": "summary"})
    ).json()
    assert [item["mission_id"] for item in parquet["items"]] == [other]
    lessons = (
        await client.get("/api/v1/memory", params={"q": "mission cost", "kind": "lesson"})
    ).json()
    assert {item["mission_id"] for item in lessons["items"]} == {shop, other}
    assert all(h["kind"] == "lesson" for item in lessons["items"] for h in item["hits"])

    page = (await client.get("/memory", params={"q": "candles"})).text
    assert "<mark>" in page and str(escape(SHOPS[0][0])) in page
    assert f'href="/missions/{shop}"' in page
