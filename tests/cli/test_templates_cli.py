"""``missionctl templates`` on the local database and through a server: list, show, use (a
workflow, a run, a mission), save, delete; refusals name the input or option; a viewer cannot
write."""

from pathlib import Path

import pytest

from tests.cli import test_cli_both_ways as both
from tests.cli.test_cli_both_ways import MODES, World, as_json, ok
from tests.cli.test_remote_cli import text

world = both.world  # the module's live server on each database


@pytest.mark.parametrize("mode", MODES)
def test_templates_are_listed_shown_used_saved_and_deleted(world: World, mode: str) -> None:
    listed = as_json(world.cli(mode, "templates", "list", "--json"))
    assert {"sop-phases", "release-with-approval"} <= {t["name"] for t in listed}
    assert "Implementation → Review" in text(ok(world.cli(mode, "templates", "list")))
    shown = text(ok(world.cli(mode, "templates", "show", "sop-phases")))
    assert "input approver" in shown and "gate: example" not in shown
    used = as_json(
        world.cli(
            mode, "templates", "use", "release-with-approval", "--input", "version=3.1",
            "--input", "approver=alice", "--workflow-name", f"rel-{mode}", "--json",
        )
    )  # fmt: skip
    assert used["workflow_name"] == f"rel-{mode}" and used["run_id"] is None
    name = f"mine-{mode}"
    saved = as_json(
        world.cli(mode, "templates", "save", name, "--workflow", used["workflow_id"], "--json")
    )
    assert saved["source"] == "saved" and saved["saved_by"] == world.actor(mode)
    again = world.cli(mode, "templates", "save", name, "--workflow", used["workflow_id"])
    assert again.exit_code != 0 and "exists" in text(again)
    shipped = world.cli(mode, "templates", "delete", "sop-phases")
    assert shipped.exit_code != 0 and "cannot be deleted" in text(shipped)
    assert "Deleted" in text(ok(world.cli(mode, "templates", "delete", name)))


@pytest.mark.parametrize("mode", MODES)
def test_a_mission_starts_from_a_template(world: World, mode: str) -> None:
    used = as_json(
        world.cli(
            mode, "templates", "use", "bug-triage", "--mission", "Exports time out",
            "--input", "bug=Exports time out", "--input", "approver=alice", "--json",
        )
    )  # fmt: skip
    assert used["mission_id"] and used["run_id"]
    mission = as_json(world.cli(mode, "mission", "show", used["mission_id"], "--json"))
    assert mission["status"] == "running"


@pytest.mark.parametrize("mode", MODES)
def test_bad_inputs_and_options_are_named(world: World, mode: str, tmp_path: Path) -> None:
    unknown = world.cli(mode, "templates", "use", "sop-phases", "--input", "nope=1")
    assert unknown.exit_code != 0 and "inputs.nope" in text(unknown)
    malformed = world.cli(mode, "templates", "use", "sop-phases", "--input", "novalue")
    assert malformed.exit_code == 2 and "--input" in text(malformed)
    bad_name = world.cli(mode, "templates", "save", "Bad Name", "--workflow", "x")
    assert bad_name.exit_code == 2 and "NAME" in text(bad_name)
    missing = world.cli(mode, "templates", "show", "nope")
    assert missing.exit_code == 1 and "no template called" in text(missing)


def test_a_viewer_cannot_save_use_or_delete(world: World) -> None:
    for args in (
        ("templates", "use", "sop-phases", "--input", "goal=x", "--input", "approver=a"),
        ("templates", "delete", "sop-phases"),
    ):
        refused = world.cli("remote", *args, token=world.viewer)
        assert refused.exit_code != 0 and "workflows:write" in text(refused)
    assert as_json(world.cli("remote", "templates", "list", "--json", token=world.viewer))
