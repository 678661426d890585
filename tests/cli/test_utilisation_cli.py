"""``missionctl agents utilisation`` on the local database and through a server, alike."""

import pytest

from tests.cli.test_cli_both_ways import MODES, World, as_json, ok, world  # noqa: F401
from tests.cli.test_remote_cli import text
from tests.engine.helpers import FINISHED, start, step


@pytest.mark.parametrize("mode", MODES)
def test_utilisation_counts_the_steps_that_ran(world: World, mode: str) -> None:  # noqa: F811
    run = world.service(lambda ctx: start(ctx, [step("a"), step("b", "builtin:noop", "a")]))
    world.wait_run(run.id, FINISHED)
    report = as_json(world.cli(mode, "agents", "utilisation", "--window", "1h", "--json"))
    assert report["window_s"] == 3600
    [noop] = [line for line in report["agents"] if line["agent"] == "builtin:noop"]
    assert noop["executions"] >= 2 and noop["failure_rate"] == 0
    table = ok(world.cli(mode, "agents", "utilisation"))
    assert "Agent utilisation, last 24h" in text(table) and "builtin:noop" in table.stdout
    bad = world.cli(mode, "agents", "utilisation", "--window", "2h")
    assert bad.exit_code == 2 and "2h" in text(bad)
