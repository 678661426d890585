"""A running attempt's risk, as of the read: narrowed by how long it has run.

Real runs through the API with the embedded engine: a step that sometimes sleeps past its two
second limit. While a long attempt runs, the API and the run page
show the estimate made at dispatch and, under it, the one of now: the earlier attempts that
ran as long all ran out of time.
"""

import re
from typing import Any

import httpx2

from tests.engine.helpers import poll_json


def _waiting(seconds: float) -> dict[str, Any]:
    step = {"id": "wait", "agent": "builtin:sleep", "inputs": {"seconds": seconds}}
    return {"name": "waiting", "steps": [{**step, "timeout_s": 2.0}]}


async def _run(client: httpx2.AsyncClient, seconds: float, times: int) -> str:
    """Save ``waiting`` sleeping ``seconds`` (the next version), run it ``times`` times; its id."""
    saved = await client.post("/api/v1/workflows", json=_waiting(seconds))
    assert saved.status_code == 201, saved.text
    for _ in range(times):
        started = await client.post(f"/api/v1/workflows/{saved.json()['id']}/runs", json={})
        assert started.status_code == 202, started.text
        await poll_json(
            client,
            f"/api/v1/runs/{started.json()['id']}",
            lambda r: r["status"] in ("completed", "failed"),
        )
    workflow_id: str = saved.json()["id"]
    return workflow_id


async def test_a_long_attempt_is_estimated_again_from_the_attempts_that_ran_as_long(
    client: httpx2.AsyncClient,
) -> None:
    # A version's history is its workflow's: four quick attempts, then four out of time.
    await _run(client, 0.01, 4)
    slow = await _run(client, 5, 4)
    run = (await client.post(f"/api/v1/workflows/{slow}/runs", json={})).json()
    url = f"/api/v1/runs/{run['id']}/risks"
    risks = await poll_json(
        client, url, lambda r: bool(r["steps"]) and (r["steps"][0]["now"] or {}).get(
            "elapsed_s", 0) >= 0.6
    )  # fmt: skip
    [wait] = risks["steps"]
    now = wait["now"]
    # At dispatch: half the step's attempts ran out of time. Now, past 0.6 s: only the four
    # that ran out of time lasted this long.
    assert now["chances"]["timeout"] > wait["chances"]["timeout"] + 0.1
    assert any(
        re.fullmatch(
            r"wait's attempts that ran \d\.\d s or longer timed out 4 of 4 attempts \(100%\): "
            r"\d+% → \d+%",
            reason,
        )
        for reason in now["reasons"]
    ), now["reasons"]
    page = await client.get(f"/runs/{run['id']}")
    assert page.status_code == 200
    row = re.search(r'<tr data-now-step="wait">.*?</tr>', page.text, re.S)
    assert row is not None and "now, after" in row.group(0)
    assert "timed out 4 of 4 attempts" in row.group(0)
    # When the attempt has ended, there is no "now" any more.
    await poll_json(client, f"/api/v1/runs/{run['id']}", lambda r: r["status"] == "failed")
    ended = (await client.get(url)).json()
    assert ended["steps"][0]["now"] is None
