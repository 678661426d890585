"""``missionctl schedule`` on the local database and through a server: add, list, show, edit,
pause, resume, run now, delete; the refusals name the option; a viewer cannot write."""

from pathlib import Path

import pytest

from tests.cli import test_cli_both_ways as both
from tests.cli.test_cli_both_ways import MODES, World, as_json, ok
from tests.cli.test_remote_cli import text

# A tick no test reaches: the server's scheduler runs beside these tests.
NEVER_SOON = "0 3 1 1 *"
world = both.world  # the module's live server on each database
DEFINITION = "name: {name}\nsteps:\n  - id: only\n    agent: builtin:noop\n"


def _workflow(world: World, mode: str, tmp_path: Path, name: str) -> str:
    definition = tmp_path / f"{name}.yaml"
    definition.write_text(DEFINITION.format(name=name))
    saved = as_json(world.cli(mode, "workflow", "apply", str(definition), "--json"))
    return str(saved["name"])


@pytest.mark.parametrize("mode", MODES)
def test_a_schedule_is_added_run_paused_resumed_and_deleted(
    world: World, mode: str, tmp_path: Path
) -> None:
    workflow = _workflow(world, mode, tmp_path, f"sched-{mode}")
    name = f"nightly-{mode}"
    added = as_json(
        world.cli(
            mode, "schedule", "add", name, "--cron", NEVER_SOON, "--tz", "Asia/Tokyo",
            "--workflow", workflow, "--budget-usd", "2", "--overlap", "queue", "--json",
        )
    )  # fmt: skip
    assert added["workflow"] == f"{workflow} v1" and added["timezone"] == "Asia/Tokyo"
    assert added["created_by"] == world.actor(mode)
    listed = as_json(world.cli(mode, "schedule", "list", "--json"))
    assert name in [s["name"] for s in listed]
    assert "Schedules" in text(ok(world.cli(mode, "schedule", "list")))
    edited = ok(world.cli(mode, "schedule", "edit", name, "--cron", "@yearly", "--no-budget"))
    assert "@yearly" in text(edited)
    assert "paused" in text(ok(world.cli(mode, "schedule", "pause", name)))
    again = world.cli(mode, "schedule", "pause", name)
    assert again.exit_code == 2 and "paused already" in text(again)
    ok(world.cli(mode, "schedule", "resume", name))
    fired = as_json(world.cli(mode, "schedule", "run-now", added["id"], "--json"))
    assert fired["last_outcome"] == "started" and fired["last_run_id"]
    run = as_json(world.cli(mode, "runs", "show", fired["last_run_id"], "--json"))
    assert run["created_by"] == f"schedule:{name}" and run["schedule_name"] == name
    shown = as_json(world.cli(mode, "schedule", "show", name, "--json"))
    assert shown["last_run_id"] == fired["last_run_id"]
    assert "deleted" in text(ok(world.cli(mode, "schedule", "delete", name)))
    gone = world.cli(mode, "schedule", "show", name)
    assert gone.exit_code == 1 and "no schedule called" in text(gone)


@pytest.mark.parametrize("mode", MODES)
def test_bad_options_are_named_and_nothing_is_stored(
    world: World, mode: str, tmp_path: Path
) -> None:
    workflow = _workflow(world, mode, tmp_path, f"bad-{mode}")
    before = as_json(world.cli(mode, "schedule", "list", "--json"))
    for option, value, expected in [
        ("--cron", "61 * * * *", "--cron"),
        ("--tz", "Mars/Olympus", "--tz"),
        ("--budget-usd", "-1", "--budget-usd"),
        ("--misfire", "sometimes", "--misfire"),
    ]:
        args = {"--cron": NEVER_SOON, "--tz": "UTC", "--budget-usd": "1", "--misfire": "skip"}
        args[option] = value
        flat = [part for pair in args.items() for part in pair]
        refused = world.cli(mode, "schedule", "add", "bad", "--workflow", workflow, *flat)
        assert refused.exit_code == 2, (option, refused.output)
        assert expected in text(refused), (option, refused.output)
    missing = world.cli(mode, "schedule", "add", "x", "--cron", NEVER_SOON, "--workflow", "nope")
    assert missing.exit_code == 1
    assert as_json(world.cli(mode, "schedule", "list", "--json")) == before


def test_a_viewer_lists_schedules_but_cannot_add_or_fire_them(world: World, tmp_path: Path) -> None:
    workflow = _workflow(world, "remote", tmp_path, "viewer-sched")
    ok(
        world.cli(
            "remote", "schedule", "add", "watched", "--cron", NEVER_SOON, "--workflow", workflow
        )
    )
    ok(world.cli("remote", "schedule", "list", token=world.viewer))
    for args in (
        ("schedule", "add", "mine", "--cron", NEVER_SOON, "--workflow", workflow),
        ("schedule", "pause", "watched"),
        ("schedule", "run-now", "watched"),
        ("schedule", "delete", "watched"),
    ):
        refused = world.cli("remote", *args, token=world.viewer)
        assert refused.exit_code == 2 and "schedules:write" in text(refused), args
