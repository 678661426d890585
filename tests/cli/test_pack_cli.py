"""``missionctl pack``: the folder and the zip, locally and through a server, and refusals."""

import io
import zipfile
from pathlib import Path

import pytest

from missionctl.cli import pack as pack_command
from missionctl.schemas.plans import MAX_PLAN_VERSION
from tests.cli import test_cli_both_ways
from tests.cli.test_cli_both_ways import MODES, World, as_json, ok, text

# The live server of test_cli_both_ways (one per database for this module too).
world = test_cli_both_ways.world

GOAL = "Build a URL shortener with click analytics and custom aliases"


def folder_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def zip_files(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("mode", MODES)
def test_pack_writes_the_folder_and_the_zip_and_refuses_to_overwrite(
    world: World, mode: str, tmp_path: Path
) -> None:
    mission_id = as_json(world.cli(mode, "mission", "create", GOAL, "--json"))["id"]
    early = world.cli(mode, "pack", mission_id, "-o", str(tmp_path / "early"))
    assert early.exit_code == 2 and "plan it first" in text(early)
    assert not (tmp_path / "early").exists()
    ok(world.cli(mode, "mission", "plan", mission_id))
    folder, archive = tmp_path / "pack", tmp_path / "pack.zip"

    written = ok(world.cli(mode, "pack", mission_id, "-o", str(folder), "--zip", str(archive)))

    assert "files to" in text(written) and "wrote the zip" in text(written)
    files = folder_files(folder)
    assert files == zip_files(archive.read_bytes())
    assert "AGENTS.md" in files and "plan.json" in files
    assert any(name.startswith("tasks/01-") for name in files)
    again = world.cli(mode, "pack", mission_id, "-o", str(folder))
    assert again.exit_code == 2 and "is not empty; add --force" in text(again)
    zip_again = world.cli(mode, "pack", mission_id, "--zip", str(archive))
    assert zip_again.exit_code == 2 and "exists; add --force" in text(zip_again)
    forced = world.cli(
        mode, "pack", mission_id, "-o", str(folder), "--zip", str(archive), "--force"
    )
    ok(forced)
    assert folder_files(folder) == files and zip_files(archive.read_bytes()) == files
    assert not world.remote_home.exists(), "a remote command touched a local home"


def test_the_local_and_the_remote_zip_are_the_same_bytes(world: World, tmp_path: Path) -> None:
    mission_id = as_json(world.cli("local", "mission", "create", GOAL, "--json"))["id"]
    ok(world.cli("local", "mission", "plan", mission_id))
    local, remote = tmp_path / "local.zip", tmp_path / "remote.zip"
    ok(world.cli("local", "pack", mission_id, "--zip", str(local), "--plan-version", "1"))
    ok(world.cli("remote", "pack", mission_id, "--zip", str(remote), token=world.viewer))
    assert local.read_bytes() == remote.read_bytes()


@pytest.mark.parametrize("mode", MODES)
def test_bad_arguments_are_refused_before_anything_is_written(
    world: World, mode: str, tmp_path: Path
) -> None:
    mission_id = as_json(world.cli(mode, "mission", "create", GOAL, "--json"))["id"]
    ok(world.cli(mode, "mission", "plan", mission_id))
    nowhere = world.cli(mode, "pack", mission_id)
    assert nowhere.exit_code == 2 and "give -o DIR" in text(nowhere)
    zero = world.cli(mode, "pack", mission_id, "-o", str(tmp_path / "x"), "--plan-version", "0")
    assert zero.exit_code == 2
    missing = world.cli(mode, "pack", mission_id, "-o", str(tmp_path / "y"), "--plan-version", "9")
    assert missing.exit_code == 1 and "no plan version 9" in text(missing)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    not_a_folder = world.cli(mode, "pack", mission_id, "-o", str(a_file))
    assert not_a_folder.exit_code == 2
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_the_plan_version_limit_is_the_apis() -> None:
    assert pack_command.MAX_PLAN_VERSION == MAX_PLAN_VERSION


def test_a_pack_with_an_unsafe_name_writes_nothing(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("AGENTS.md", "ok")
        archive.writestr("../escape.md", "no")
    with pytest.raises(Exception) as refused:  # typer.Exit(2), after the message
        pack_command._entries(buffer.getvalue())
    assert getattr(refused.value, "exit_code", None) == 2
    assert not (tmp_path / "escape.md").exists()
