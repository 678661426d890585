"""``missionctl audit search|export``, on the local database and through a server's API."""

import csv
import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workflows import create_workflow
from tests.cli.test_cli_both_ways import MODES, World, as_json, ok, world
from tests.cli.test_remote_cli import text

__all__ = ["world"]


def _runs_of(world: World, name: str, agent: str, count: int) -> set[str]:
    """``count`` runs of a new workflow ``name`` whose one step runs ``agent``."""

    async def make(ctx: Any) -> set[str]:
        spec = WorkflowSpec.model_validate({"name": name, "steps": [{"id": "s", "agent": agent}]})
        wf = await create_workflow(ctx, spec=spec, actor="user:test")
        runs = [await start_run(ctx, workflow_id=wf.id, actor="user:carol") for _ in range(count)]
        return {str(r.id) for r in runs}

    ids: set[str] = world.service(make)
    return ids


@pytest.mark.parametrize("mode", MODES)
def test_search_and_export_narrow_to_the_filters(world: World, mode: str, tmp_path: Path) -> None:
    name = f"audit-{mode}-{uuid.uuid4().hex[:6]}"
    mine = _runs_of(world, name, "builtin:noop", 2)
    _runs_of(world, name + "-other", "builtin:noop", 1)

    runs = as_json(world.cli(mode, "audit", "search", "--workflow", name, "--json"))
    assert {r["id"] for r in runs["items"]} == mine and runs["total"] == 2
    by_actor = as_json(
        world.cli(mode, "audit", "search", "--actor", "user:carol", "--workflow", name, "--json")
    )
    assert {r["id"] for r in by_actor["items"]} == mine
    table = text(ok(world.cli(mode, "audit", "search", "--workflow", name)))
    assert all(run_id in table for run_id in mine)

    events = as_json(
        world.cli(
            mode,
            "audit",
            "search",
            "--kind",
            "events",
            "--workflow",
            name,
            "--type",
            "run.",
            "--limit",
            "500",
            "--json",
        )
    )
    assert events["items"] and {e["run_id"] for e in events["items"]} <= mine
    assert all(e["type"].startswith("run.") for e in events["items"])

    target = tmp_path / "events.jsonl"
    ok(
        world.cli(
            mode,
            "audit",
            "export",
            "--format",
            "jsonl",
            "-o",
            str(target),
            "--workflow",
            name,
            "--type",
            "run.",
        )
    )
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert sorted(e["seq"] for e in events["items"]) == [e["seq"] for e in lines]

    runs_csv = tmp_path / "runs.csv"
    ok(
        world.cli(
            mode,
            "audit",
            "export",
            "--kind",
            "runs",
            "--format",
            "csv",
            "-o",
            str(runs_csv),
            "--workflow",
            name,
        )
    )
    rows = list(csv.DictReader(io.StringIO(runs_csv.read_text())))
    assert {r["id"] for r in rows} == mine and {r["created_by"] for r in rows} == {"user:carol"}


@pytest.mark.parametrize("mode", MODES)
def test_bad_filters_exit_2_naming_the_option(world: World, mode: str, tmp_path: Path) -> None:
    late = world.cli(mode, "audit", "search", "--since", "yesterday")
    assert late.exit_code == 2 and "since" in text(late) and "ISO 8601" in text(late)
    wrong = world.cli(mode, "audit", "search", "--kind", "runs", "--type", "step.")
    assert wrong.exit_code == 2 and "type" in text(wrong)
    target = tmp_path / "never.csv"
    bad = world.cli(mode, "audit", "export", "-o", str(target), "--severity", "fatal")
    assert bad.exit_code == 2 and "severity" in text(bad)
    assert not target.exists() and not (tmp_path / "never.csv.partial").exists()
