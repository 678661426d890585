"""A finished mission's documents are remembered: the newest version of each kind (both
databases)."""

from tests.memory.helpers import SHOPS, finish
from tests.memory.test_memory_search import Clients, clients

__all__ = ["clients"]  # the fixture, shared with the search tests


async def test_the_newest_version_of_each_document_is_remembered(clients: Clients) -> None:
    mission_id = await finish(clients.admin, *SHOPS[1])
    base = f"/api/v1/missions/{mission_id}/documents"
    query = {"q": "executive brief", "kind": "document"}
    assert not (await clients.admin.get("/api/v1/memory", params=query)).json()["items"]

    for _ in range(2):  # two versions: one is remembered
        made = await clients.admin.post(base, json={"kind": "executive_brief"})
        assert made.status_code == 201, made.text
    found = (await clients.admin.get("/api/v1/memory", params=query)).json()

    assert [item["mission_id"] for item in found["items"]] == [mission_id]
    hits = found["items"][0]["hits"]
    assert [hit["kind"] for hit in hits] == ["document"]
    assert hits[0]["title"].startswith("Executive brief")
