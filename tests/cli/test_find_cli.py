"""``missionctl find``: the palette's search in the terminal, both back-ends, roles, bad input."""

import uuid

import pytest

from tests.cli import test_cli_both_ways
from tests.cli.test_cli_both_ways import MODES, World, as_json, ok

world = test_cli_both_ways.world  # the module-scoped live server and homes


@pytest.mark.parametrize("mode", MODES)
def test_find_ranks_a_mission_by_letters_in_order_and_lists_actions_by_role(
    world: World, mode: str
) -> None:
    marker = f"qx{uuid.uuid4().hex[:8]}"
    mission = as_json(world.cli(mode, "mission", "create", f"Index the {marker} archive", "--json"))

    found = as_json(world.cli(mode, "find", marker, "--json"))
    shown = ok(world.cli(mode, "find", marker)).stdout
    blank = as_json(world.cli(mode, "find", "--limit", "50", "--json"))

    assert found["items"][0]["kind"] == "mission"
    assert found["items"][0]["url"] == f"/missions/{mission['id']}"
    assert f"/missions/{mission['id']}" in shown and marker in shown
    assert any(item["kind"] == "action" for item in blank["items"])
    if mode == "remote":  # a viewer's token finds places and is offered no action
        seen = as_json(world.cli(mode, "find", "--limit", "50", "--json", token=world.viewer))
        assert seen["items"] and all(item["kind"] != "action" for item in seen["items"])


@pytest.mark.parametrize("mode", MODES)
def test_a_query_over_the_limit_exits_2_naming_it(world: World, mode: str) -> None:
    result = world.cli(mode, "find", "x" * 101)

    assert result.exit_code == 2, result.output
    assert "q" in result.output and "at most 100" in result.output
    assert world.cli(mode, "find", "nothing-like-this-zz", "--limit", "0").exit_code == 2
