"""``missionctl costs`` on the local database and through a server, with the same answers."""

import uuid

import pytest

from tests.cli.test_cli_both_ways import MODES, World, as_json, ok, world  # noqa: F401
from tests.cli.test_remote_cli import text
from tests.engine.helpers import FINISHED, start, step


@pytest.mark.parametrize("mode", MODES)
def test_costs_of_a_run_a_workflow_and_the_system(world: World, mode: str) -> None:  # noqa: F811
    name = f"costed-{mode}-{uuid.uuid4().hex[:8]}"
    run = world.service(
        lambda ctx: start(ctx, [step("a"), step("b", "builtin:noop", "a")], name=name)
    )
    done = world.wait_run(run.id, FINISHED)
    of_run = as_json(world.cli(mode, "costs", "--run", str(run.id), "--json"))
    assert of_run["scope"] == "run" and of_run["cost_usd"] == done.spent_usd
    assert [(line["key"], line["steps"]) for line in of_run["by_agent"]] == [("builtin:noop", 2)]
    assert of_run["by_requirement"] == [
        {
            "key": "(no requirement)",
            "label": "(no requirement)",
            "steps": 2,
            "input_tokens": 0,
            "output_tokens": 0,
            "cost_micros": 0,
            "cost_usd": 0.0,
        }
    ]
    table = ok(world.cli(mode, "costs", "--workflow", name, "--by", "role"))
    assert "Cost by role" in text(table) and "noop" in table.stdout
    system = as_json(world.cli(mode, "costs", "--bucket", "day", "--json"))
    assert system["scope"] == "system" and len(system["over_time"]) == 31
    by_requirement = ok(world.cli(mode, "costs", "--by", "requirement"))
    assert "no breakdown by requirement for scope system" in text(by_requirement)


@pytest.mark.parametrize("mode", MODES)
def test_bad_options_are_named_and_missing_things_are_not_found(
    world: World,  # noqa: F811
    mode: str,
) -> None:
    ghost = str(uuid.uuid4())
    missing = world.cli(mode, "costs", "--mission", ghost)
    assert missing.exit_code == 1 and ghost in text(missing), missing.output
    for args, named in (
        (("--run", "12"), "is not a run id"),
        (("--run", ghost, "--workflow", "w"), "at most one of"),
        (("--since", "2026-02-01", "--until", "2026-01-01"), "since"),
        (("--since", "2000-01-01", "--until", "2026-01-01"), "buckets"),
        (("--bucket", "week"), "week"),
    ):
        bad = world.cli(mode, "costs", *args)
        assert bad.exit_code == 2, (args, bad.output)
        assert named in text(bad), (args, bad.output)
        assert "Traceback" not in bad.output
