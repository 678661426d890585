"""Workflows over the API: check, save (YAML or JSON), list, read versions, run a version."""

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx2
import yaml

from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.audit import read_event_page
from missionctl.services.usecases.workflow_checks import MAX_DEFINITION_BYTES
from tests.support.definitions import TANGLED, TANGLED_PROBLEMS

WORKFLOWS = "/api/v1/workflows"
YAML = {"Content-Type": "application/yaml"}
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "workflow.schema.json"

SEQUENTIAL = """\
name: release
description: Build, test, publish.
steps:
  - id: a
    agent: builtin:noop
  - id: b
    agent: builtin:noop
    depends_on: [a]
  - id: c
    agent: builtin:noop
    depends_on: [b]
"""


def step(step_id: str, *deps: str, **fields: Any) -> dict[str, Any]:
    return {"id": step_id, "agent": "builtin:noop", "depends_on": list(deps), **fields}


def details(
    response: httpx2.Response, status: int = 422, code: str = "validation_failed"
) -> dict[str, str]:
    """``{field: message}`` of a refusal (every problem is there, each with its field).

    A 422 by default; inputs a stored workflow does not declare are a 409 (``conflict``).
    """
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["code"] == code
    return {d["field"]: d["message"] for d in body["details"]}


async def _saved_events(ctx: ServiceContext) -> list[dict[str, Any]]:
    return [
        e.payload for e in await read_event_page(ctx, limit=10_000) if e.type == "workflow.saved"
    ]


async def _wait_run(client: httpx2.AsyncClient, run_id: str, within_s: float = 30) -> Any:
    deadline = time.monotonic() + within_s
    while True:
        run = (await client.get(f"/api/v1/runs/{run_id}")).json()
        if run["status"] in ("completed", "failed", "canceled", "aborted"):
            return run
        assert time.monotonic() < deadline, f"run stayed {run['status']}"
        await asyncio.sleep(0.05)


async def test_sequential_workflow_is_saved_from_yaml_with_its_graph(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    saved = await client.post(WORKFLOWS, content=SEQUENTIAL, headers=YAML)
    assert saved.status_code == 201, saved.text
    workflow = saved.json()
    assert (workflow["name"], workflow["version"]) == ("release", 1)
    assert workflow["graph"] == {"layers": [["a"], ["b"], ["c"]], "edges": [["a", "b"], ["b", "c"]]}
    assert workflow["created_by"] == "token:tester-1"
    assert [s["id"] for s in workflow["definition"]["steps"]] == ["a", "b", "c"]

    again = (await client.get(f"{WORKFLOWS}/{workflow['id']}")).json()
    assert again == workflow
    assert (await client.get(f"{WORKFLOWS}/by-name/release")).json()["id"] == workflow["id"]
    listed = (await client.get(WORKFLOWS)).json()
    assert [(w["name"], w["version"], w["steps"], w["runs"]) for w in listed] == [
        ("release", 1, 3, 0)
    ]
    assert await _saved_events(ctx) == [
        {"workflow_id": workflow["id"], "name": "release", "version": 1, "steps": 3}
    ]


async def test_parallel_block_fans_out_and_in(client: httpx2.AsyncClient) -> None:
    definition = {
        "name": "fan",
        "steps": [
            step("a"),
            step("b", "a"),
            step("c", "a"),
            step("d", "a"),
            step("e", "b", "c", "d"),
        ],
    }
    saved = await client.post(WORKFLOWS, json=definition)
    assert saved.status_code == 201, saved.text
    graph = saved.json()["graph"]
    assert graph["layers"] == [["a"], ["b", "c", "d"], ["e"]]
    assert graph["edges"] == [
        ["a", "b"],
        ["a", "c"],
        ["a", "d"],
        ["b", "e"],
        ["c", "e"],
        ["d", "e"],
    ]


async def test_a_cycle_is_rejected_by_name_and_nothing_is_stored(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    definition = {"name": "loop", "steps": [step("a", "c"), step("b", "a"), step("c", "b")]}
    response = await client.post(WORKFLOWS, json=definition)
    problems = details(response)
    assert "a → b → c → a" in problems["steps.0.depends_on"]
    assert (await client.get(WORKFLOWS)).json() == []
    assert (await client.get(f"{WORKFLOWS}/by-name/loop")).status_code == 404
    assert await _saved_events(ctx) == []


async def test_a_name_another_address_answers_to_is_refused_and_nothing_is_stored(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    # ``…/by-name/team/versions`` lists the versions of ``team``: that name could not be read.
    response = await client.post(WORKFLOWS, json={"name": "team/versions", "steps": [step("a")]})
    assert details(response)["name"].startswith("a name ending in '/versions' is the address")
    assert (await client.get(WORKFLOWS)).json() == []
    assert await _saved_events(ctx) == []


async def test_every_problem_is_reported_together_with_its_field(
    client: httpx2.AsyncClient,
) -> None:
    definition = """\
name: deploy
inputs:
  version: {type: string, required: true}
steps:
  - id: build
    agent: builtin:nope
  - id: ship
    agent: command
    depends_on: [build]
    inputs:
      argv: ["deploy", "--version={{ inputs.verison }}", "{{ steps.test.outputs.ok }}"]
"""
    problems = details(await client.post(WORKFLOWS, content=definition, headers=YAML))
    assert "unknown agent 'builtin:nope'" in problems["steps.0.agent"]
    assert "did you mean 'builtin:noop'" in problems["steps.0.agent"]
    assert "unknown input 'verison'" in problems["steps.1.inputs.argv.1"]
    assert "did you mean 'version'" in problems["steps.1.inputs.argv.1"]
    assert "unknown step 'test'" in problems["steps.1.inputs.argv.2"]
    assert (await client.get(WORKFLOWS)).json() == []


async def test_client_mistakes_are_4xx_with_the_error_shape(client: httpx2.AsyncClient) -> None:
    bad_yaml = await client.post(
        WORKFLOWS, content="name: x\nsteps:\n  - id: a\n  agent: b\n", headers=YAML
    )
    assert "line 4, column 3" in details(bad_yaml)["definition"]
    bad_json = await client.post(
        WORKFLOWS, content=b'{"name": "x",', headers={"Content-Type": "application/json"}
    )
    assert "line 1, column 14" in details(bad_json)["definition"]
    not_a_mapping = await client.post(WORKFLOWS, json=[1, 2])
    assert "a workflow is a mapping" in details(not_a_mapping)["definition"]
    empty = await client.post(WORKFLOWS, content=b"", headers=YAML)
    assert "got nothing" in details(empty)["definition"]
    not_utf8 = await client.post(WORKFLOWS, content=b"name: \xff\n", headers=YAML)
    assert "not UTF-8" in details(not_utf8)["definition"]
    schema = await client.post(WORKFLOWS, json={"name": "x", "steps": [{"id": "A"}], "extra": 1})
    problems = details(schema)
    assert set(problems) == {"steps.0.id", "steps.0.agent", "extra"}
    assert "a step id is 1-63 lower-case letters" in problems["steps.0.id"]

    wrong_type = await client.post(
        WORKFLOWS, content=b"<workflow/>", headers={"Content-Type": "application/xml"}
    )
    assert wrong_type.status_code == 415
    assert "application/json" in wrong_type.json()["error"]["message"]
    huge = "name: big\n" + "#" * MAX_DEFINITION_BYTES
    too_large = await client.post(WORKFLOWS, content=huge, headers=YAML)
    assert too_large.status_code == 413
    assert str(MAX_DEFINITION_BYTES) in too_large.json()["error"]["message"]

    assert (
        await client.get(f"{WORKFLOWS}/01234567-89ab-7def-8123-456789abcdef")
    ).status_code == 404
    assert (await client.get(f"{WORKFLOWS}/by-name/nothing/versions")).status_code == 404
    assert (await client.get(WORKFLOWS)).json() == []


async def test_a_schema_error_and_graph_problems_are_reported_together(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    expected = TANGLED_PROBLEMS
    checked = await client.post(f"{WORKFLOWS}/validate", content=TANGLED, headers=YAML)
    assert checked.status_code == 200, checked.text
    assert checked.json()["valid"] is False
    assert [(p["field"], p["message"]) for p in checked.json()["problems"]] == expected

    saved = await client.post(WORKFLOWS, content=TANGLED, headers=YAML)
    assert list(details(saved).items()) == expected
    assert await _saved_events(ctx) == []


async def test_validate_checks_without_saving(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    definition = {
        "name": "gated",
        "steps": [
            step("plan"),
            step("apply", "plan", risk_tier="write", when="steps.plan.status == 'succeeded'"),
        ],
    }
    ok = await client.post(
        f"{WORKFLOWS}/validate", content=yaml.safe_dump(definition), headers=YAML
    )
    assert ok.status_code == 200, ok.text
    check = ok.json()
    assert check["valid"] is True and check["problems"] == [] and check["name"] == "gated"
    assert check["graph"] == {"layers": [["plan"], ["apply"]], "edges": [["plan", "apply"]]}
    assert [(s["id"], s["gated"]) for s in check["steps"]] == [("plan", False), ("apply", True)]

    broken = {**definition, "steps": [step("plan", "apply"), step("apply", "plan")]}
    bad = (await client.post(f"{WORKFLOWS}/validate", json=broken)).json()
    assert bad["valid"] is False
    assert any("plan → apply → plan" in p["message"] for p in bad["problems"])
    as_text = await client.post(
        f"{WORKFLOWS}/validate",
        content="name: t\nsteps: [{id: a, agent: command}]\n",
        headers={"Content-Type": "text/plain"},
    )
    assert as_text.json()["problems"] == [
        {
            "field": "steps.0.inputs.argv",
            "message": "a command step needs inputs.argv, a non-empty list of strings "
            '(e.g. ["python", "-m", "pytest"])',
        }
    ]
    # A body that is no definition at all is a 422 naming where it broke.
    syntax = await client.post(f"{WORKFLOWS}/validate", content="steps: [", headers=YAML)
    assert "line 2, column 1" in details(syntax)["definition"]
    assert (
        "a workflow is a mapping"
        in details(await client.post(f"{WORKFLOWS}/validate", json=[]))["definition"]
    )
    assert (await client.get(WORKFLOWS)).json() == []
    assert await _saved_events(ctx) == []


async def test_each_save_is_a_new_version(client: httpx2.AsyncClient) -> None:
    first = (await client.post(WORKFLOWS, content=SEQUENTIAL, headers=YAML)).json()
    changed = SEQUENTIAL.replace("Build, test, publish.", "Now with notes.")
    second = (
        await client.post(WORKFLOWS, content=changed, headers={"Content-Type": "text/yaml"})
    ).json()
    assert (first["version"], second["version"]) == (1, 2)
    assert first["id"] != second["id"]

    newest = (await client.get(f"{WORKFLOWS}/by-name/release")).json()
    assert newest["id"] == second["id"] and newest["definition"]["description"] == "Now with notes."
    old = (await client.get(f"{WORKFLOWS}/by-name/release", params={"version": 1})).json()
    assert old["id"] == first["id"] and old["definition"]["description"] == "Build, test, publish."
    versions = (await client.get(f"{WORKFLOWS}/by-name/release/versions")).json()
    assert [v["version"] for v in versions] == [2, 1]
    assert (await client.get(WORKFLOWS)).json()[0]["versions"] == 2
    missing = await client.get(f"{WORKFLOWS}/by-name/release", params={"version": 3})
    assert missing.status_code == 404


async def test_concurrent_saves_of_one_name_get_distinct_versions(
    client: httpx2.AsyncClient,
) -> None:
    saves = [client.post(WORKFLOWS, content=SEQUENTIAL, headers=YAML) for _ in range(6)]
    responses = await asyncio.gather(*saves)
    assert [r.status_code for r in responses] == [201] * 6
    assert sorted(r.json()["version"] for r in responses) == [1, 2, 3, 4, 5, 6]


async def test_a_run_pins_the_version_it_started_from(client: httpx2.AsyncClient) -> None:
    definition = {
        "name": "greet",
        "inputs": {
            "who": {"type": "string", "required": True},
            "times": {"type": "integer", "default": 1},
        },
        "steps": [
            step(
                "hello",
                inputs={"text": "hello {{ inputs.who }} x{{ inputs.times }} ({{ run.trigger }})"},
            ),
            step("bye", "hello", when="inputs.times > 1"),
        ],
    }
    v1 = (await client.post(WORKFLOWS, json=definition)).json()
    started = await client.post(f"{WORKFLOWS}/{v1['id']}/runs", json={"inputs": {"who": "ada"}})
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    v2 = (await client.post(WORKFLOWS, json={**definition, "description": "v2"})).json()
    assert v2["version"] == 2

    run = await _wait_run(client, run_id)
    assert run["workflow_id"] == v1["id"] and run["trigger"] == "api"
    assert run["created_by"] == "token:tester-1"
    assert run["status"] == "completed", run
    steps = {s["step_id"]: s for s in run["steps"]}
    assert steps["hello"]["inputs"]["text"] == "hello ada x1 (api)"
    assert steps["bye"]["status"] == "skipped"
    versions = (await client.get(f"{WORKFLOWS}/by-name/greet/versions")).json()
    assert [(v["version"], v["runs"]) for v in versions] == [(2, 0), (1, 1)]


async def test_bad_run_inputs_are_named(client: httpx2.AsyncClient) -> None:
    definition = {
        "name": "typed",
        "inputs": {
            "n": {"type": "integer", "required": True},
            "flag": {"type": "boolean"},
            "note": {"type": "string"},
        },
        "steps": [step("a")],
    }
    workflow = (await client.post(WORKFLOWS, json=definition)).json()
    url = f"{WORKFLOWS}/{workflow['id']}/runs"
    given = {"inputs": {"flag": "yes", "extra": 1}}
    problems = details(await client.post(url, json=given), 409, "conflict")
    assert "required" in problems["inputs.n"]
    assert "boolean" in problems["inputs.flag"]
    assert "unknown input 'extra'" in problems["inputs.extra"]
    assert "inputs.budget_usd" not in problems
    negative = details(await client.post(url, json={"inputs": {"n": 1}, "budget_usd": -1}))
    assert "budget_usd" in negative
    unstorable = details(
        await client.post(
            url,
            content=b'{"inputs": {"n": 1, "note": "\\ud800"}}',
            headers={"Content-Type": "application/json"},
        )
    )
    assert "surrogate" in unstorable["inputs.note"]
    stored = (await client.get("/api/v1/runs", params={"workflow": "typed"})).json()
    assert stored["total"] == 0  # every refused request left nothing behind
    unknown = await client.post(f"{WORKFLOWS}/01234567-89ab-7def-8123-456789abcdef/runs", json={})
    assert unknown.status_code == 404


async def test_the_schema_is_published_and_committed(client: httpx2.AsyncClient) -> None:
    published = (await client.get(f"{WORKFLOWS}/schema")).json()
    assert published == WorkflowSpec.model_json_schema()
    committed = json.loads(SCHEMA_FILE.read_text())
    assert committed == published, (
        "docs/workflow.schema.json is out of date; regenerate it with "
        "`missionctl workflow schema > docs/workflow.schema.json`"
    )
