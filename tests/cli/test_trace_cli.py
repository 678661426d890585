"""``missionctl mission trace``: the gaps and the table, on both back-ends, and the same JSON."""

import pytest

from tests.cli import test_cli_both_ways
from tests.cli.test_cli_both_ways import MODES, World, as_json, ok, text

world = test_cli_both_ways.world  # the module-scoped live server and homes
GOAL = "Build a URL shortener with click analytics"


@pytest.mark.parametrize("mode", MODES)
def test_trace_prints_the_gaps_and_the_table(world: World, mode: str) -> None:
    mission_id = as_json(world.cli(mode, "mission", "create", GOAL, "--json"))["id"]
    early = world.cli(mode, "mission", "trace", mission_id)
    assert early.exit_code != 0 and "plan it first" in text(early)
    ok(world.cli(mode, "mission", "plan", mission_id))

    shown = text(ok(world.cli(mode, "mission", "trace", mission_id)))
    mapped = as_json(
        world.cli(mode, "mission", "trace", mission_id, "--json", "--plan-version", "1")
    )

    assert "Traceability of plan v1" in shown and "Requirement" in shown and "R1" in shown
    assert mapped["plan_version"] == 1 and mapped["nodes"][0]["kind"] == "goal"
    assert all(g["message"][:20] in " ".join(shown.split()) for g in mapped["gaps"])
    missing = world.cli(mode, "mission", "trace", mission_id, "--plan-version", "9")
    assert missing.exit_code != 0 and "no plan version 9" in text(missing)
