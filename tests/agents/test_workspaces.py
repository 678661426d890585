"""The sweep removes the workspaces of runs that ended elsewhere, and only those.

An engine removes a run's workspaces when it hears the run end (``tests/security/
test_no_secret_on_disk.py``); the sweep covers runs ended in another process. It must leave
running runs alone, finish removals cut short, get through directories a program locked, and
never follow a symbolic link out of a workspace.
"""

import uuid
from pathlib import Path

from missionctl.engine.worker import EngineConfig
from missionctl.services import ServiceContext
from missionctl.services.usecases.runs import cancel_run
from missionctl.services.usecases.workspaces import sweep_workspaces, workspaces_of
from tests.engine.helpers import running_engine, start, step


def _fill(directory: Path, outside: Path) -> None:
    """What a program may leave: files, a locked directory and links out of the workspace."""
    (directory / "write" / "locked" / "deep").mkdir(parents=True)
    (directory / "write" / "locked" / "deep" / "token.txt").write_text("secret")
    (directory / "write" / "locked").chmod(0o000)
    (directory / "write" / "link-to-outside").symlink_to(outside, target_is_directory=True)
    (directory / "write" / "file-link").symlink_to(outside / "keep.txt")


async def test_the_sweep_removes_ended_runs_workspaces_only(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    outside.chmod(0o755)  # whatever the process umask
    (outside / "keep.txt").write_text("not the workspace's")
    ended = await start(ctx, [step("write", "builtin:sleep", inputs={"seconds": 60})])
    await cancel_run(ctx, run_id=ended.id, actor="user:test")
    running = await start(ctx, [step("write", "builtin:sleep", inputs={"seconds": 60})])
    busy = await start(ctx, [step("write", "builtin:sleep", inputs={"seconds": 60})])
    await cancel_run(ctx, run_id=busy.id, actor="user:test")  # ended, but its program still dies
    workspaces = workspaces_of(ctx)
    for run in (ended, running, busy):
        _fill(workspaces.run_dir(run.id), outside)
    unknown = workspaces.run_dir(uuid.uuid4())  # a run this database does not know
    unknown.mkdir()
    cut_short = workspaces.root / ".removing-00000000-0000-0000-0000-000000000000-abcdef01"
    (cut_short / "write").mkdir(parents=True)

    removed = await sweep_workspaces(ctx, workspaces, busy=lambda run_id: run_id == busy.id)

    assert removed == 1
    assert sorted(p.name for p in workspaces.root.iterdir()) == sorted(
        [str(running.id), str(busy.id), unknown.name]
    )
    assert (outside / "keep.txt").read_text() == "not the workspace's"
    assert (outside.stat().st_mode & 0o777) == 0o755

    # Once its program is gone, the next sweep takes the canceled run's directory too.
    assert await sweep_workspaces(ctx, workspaces) == 1
    assert not workspaces.run_dir(busy.id).exists()
    assert workspaces.run_dir(running.id).is_dir()


async def test_keep_workspaces_turns_the_sweep_off(ctx: ServiceContext) -> None:
    ended = await start(ctx, [step("write", "builtin:sleep", inputs={"seconds": 60})])
    await cancel_run(ctx, run_id=ended.id, actor="user:test")
    kept = workspaces_of(ctx)
    kept.keep = True
    (kept.run_dir(ended.id) / "write").mkdir(parents=True)

    assert await sweep_workspaces(ctx, kept) == 0
    assert kept.run_dir(ended.id).is_dir()


async def test_an_engine_sweeps_once_more_when_it_stops(ctx: ServiceContext) -> None:
    """A run whose end the engine did not hear (stopped at once, as `missionctl run` does)."""
    ended = await start(ctx, [step("write", "builtin:sleep", inputs={"seconds": 60})])
    await cancel_run(ctx, run_id=ended.id, actor="user:test")
    workspaces = workspaces_of(ctx)
    (workspaces.run_dir(ended.id) / "write").mkdir(parents=True)
    no_maintenance = EngineConfig(heartbeat_s=3600, poll_s=0.05)  # no periodic sweep runs

    async with running_engine(ctx, no_maintenance):
        pass

    assert not workspaces.run_dir(ended.id).exists()
