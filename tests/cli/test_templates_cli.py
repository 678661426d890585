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


@pytest.mark.parametrize("mode", MODES)
def test_steps_three_workflows_repeat_are_suggested_and_saved_as_a_template(
    world: World, mode: str, tmp_path: Path
) -> None:
    noop = "agent: 'builtin:noop'"
    shared = (
        f"  - {{id: checkout-{mode}, {noop}, inputs: {{value: git clone {mode}}}}}\n"
        f"  - {{id: lint-{mode}, {noop}, depends_on: [checkout-{mode}], inputs: {{v: {mode}}}}}\n"
    )
    for own in ("api", "web", "docs"):
        path = tmp_path / f"{own}.yaml"
        path.write_text(
            f"name: {own}-{mode}\nsteps:\n{shared}"
            f"  - {{id: {own}, agent: 'builtin:noop', inputs: {{value: {own}}}}}\n"
        )
        ok(world.cli(mode, "workflow", "apply", str(path)))
    key = f"template-checkout-{mode}-lint-{mode}"
    listed = text(ok(world.cli(mode, "workflow", "suggestions", f"api-{mode}", "--diff")))
    assert key in listed and f"in 3 workflows: this one and docs-{mode}, web-{mode}" in listed
    assert "expected: steps a new workflow writes out 2 → 0" in listed
    assert f"+name: checkout-{mode}-lint-{mode}" in listed
    applied = text(ok(world.cli(mode, "workflow", "apply-suggestion", f"api-{mode}", key)))
    assert f"saved the template checkout-{mode}-lint-{mode}" in applied
    shown = text(ok(world.cli(mode, "templates", "show", f"checkout-{mode}-lint-{mode}")))
    assert f"lint-{mode}" in shown
    again = text(ok(world.cli(mode, "workflow", "suggestions", f"api-{mode}")))
    assert f"applied {key}" in again and "used 0 times since" in again
    gone = world.cli(mode, "workflow", "apply-suggestion", f"web-{mode}", key)
    assert gone.exit_code == 1 and "no suggestion" in text(gone)
