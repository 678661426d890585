"""An ``llm:`` step's temperature and seed over the API: a bad one is a 422 naming its field."""

import httpx2

from missionctl.domain.sampling import MAX_SEED

WORKFLOWS = "/api/v1/workflows"
JSON = {"Content-Type": "application/json"}


def _definition(knobs: str) -> bytes:
    return (
        '{"name": "knobs", "steps": [{"id": "write", "agent": "llm:writer", '
        f'"inputs": {{"title": "Write", {knobs}}}}}]}}'
    ).encode()


async def test_bad_knobs_are_refused_with_their_fields_and_nothing_is_stored(
    client: httpx2.AsyncClient,
) -> None:
    for knobs, fields in [
        ('"temperature": 2.5, "seed": -1', {"temperature", "seed"}),
        ('"temperature": NaN', {"temperature"}),
        ('"temperature": 1e400', {"temperature"}),
        ('"temperature": true', {"temperature"}),
        ('"temperature": "0.7"', {"temperature"}),
        (f'"seed": {MAX_SEED + 1}', {"seed"}),
        ('"seed": 4.5', {"seed"}),
        (f'"seed": {"9" * 500}', {"seed"}),
    ]:
        for path in (WORKFLOWS, f"{WORKFLOWS}/validate"):
            response = await client.post(path, content=_definition(knobs), headers=JSON)
            body = response.json()
            if response.status_code == 422:  # saving; or checking data JSON cannot hold
                problems = body["error"]["details"]
            else:  # checking answers 200 with the verdict
                assert path.endswith("/validate") and response.status_code == 200, response.text
                assert body["valid"] is False
                problems = body["problems"]
            assert {p["field"] for p in problems} == {f"steps.0.inputs.{f}" for f in fields}
    assert (await client.get(WORKFLOWS)).json() == []


async def test_good_knobs_are_saved_as_written(client: httpx2.AsyncClient) -> None:
    saved = await client.post(
        WORKFLOWS, content=_definition(f'"temperature": 0, "seed": {MAX_SEED}'), headers=JSON
    )
    assert saved.status_code == 201, saved.text
    inputs = saved.json()["definition"]["steps"][0]["inputs"]
    assert inputs["temperature"] == 0 and inputs["seed"] == MAX_SEED
