"""A step secret a program writes into its workspace does not outlive the run on disk.

The program gets a step secret (``secret_env``), writes it into a file of its workspace (not an
artifact), into an artifact and to stdout. Whatever the run's end — completed, failed, canceled,
aborted by the emergency stop — once it has ended, no file under the data directory (blobs,
workspaces, the SQLite database and its log) and no row of any table holds the value.
``MISSIONCTL_KEEP_WORKSPACES=true`` keeps the workspace, as it says, secret and all.
"""

import asyncio
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from missionctl.db.base import Base
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.controls import engage_emergency_stop, release_emergency_stop
from missionctl.services.usecases.runs import cancel_run
from missionctl.settings import Settings
from tests.engine.helpers import allow, run_events, running_engine, start, step, wait_for_run

SECRET_NAME = "disk_canary"
# Writes the secret into a workspace file, an artifact and stdout; then exits with the code
# given, or (``sleep``) waits to be stopped.
PROGRAM = (
    "import os, pathlib, sys, time\n"
    "value = os.environ['TOKEN']\n"
    "pathlib.Path('notes').mkdir(exist_ok=True)\n"
    "pathlib.Path('notes/config.ini').write_text('[auth]\\ntoken = ' + value + '\\n')\n"
    "pathlib.Path('artifacts').mkdir(exist_ok=True)\n"
    "pathlib.Path('artifacts/used.txt').write_text('used ' + value + '\\n')\n"
    "print('token is', value, flush=True)\n"
    "if sys.argv[1] == 'sleep':\n"
    "    pathlib.Path('ready').write_text('yes')\n"
    "    time.sleep(60)\n"
    "sys.exit(int(sys.argv[1]))\n"
)


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """The step secret's value, set in the worker's environment."""
    value = f"disk-canary-{uuid.uuid4().hex}"
    monkeypatch.setenv(f"MISSIONCTL_SECRET_{SECRET_NAME.upper()}", value)
    return value


def _writer(step_id: str, mode: str) -> dict[str, object]:
    return step(
        step_id,
        "command",
        inputs={
            "argv": [sys.executable, "-c", PROGRAM, mode],
            "secret_env": {"TOKEN": SECRET_NAME},
        },
    )


def _workspace(settings: Settings, run_id: uuid.UUID) -> Path:
    return settings.home / "workspaces" / str(run_id)


def _exists(path: Path) -> bool:
    return path.exists()  # a stat: too quick to be worth a thread


async def _gone(path: Path, within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while _exists(path):
        assert time.monotonic() < deadline, f"{path} is still there"
        await asyncio.sleep(0.05)


async def _appears(path: Path, within_s: float = 15.0) -> None:
    deadline = time.monotonic() + within_s
    while not _exists(path):
        assert time.monotonic() < deadline, f"{path} never appeared"
        await asyncio.sleep(0.05)


def _files_holding(top: Path, value: str) -> list[str]:
    """Every file under ``top`` (recursively, as bytes) that holds ``value``."""
    needle = value.encode()
    return [
        str(path.relative_to(top))
        for path in sorted(top.rglob("*"))
        if path.is_file() and not path.is_symlink() and needle in path.read_bytes()
    ]


async def _rows_holding(ctx: ServiceContext, value: str) -> list[str]:
    """Every table whose rows (every column, as text) hold ``value``."""
    found = []
    async with ctx.read() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            assert table.name != "events" or rows, "the event log is empty: the search is vacuous"
            if value in repr([tuple(row) for row in rows]):
                found.append(table.name)
    return found


async def _assert_nowhere(ctx: ServiceContext, tmp_path: Path, value: str) -> None:
    # tmp_path holds the data directory and, on SQLite, the database file and its -wal.
    assert _files_holding(tmp_path, value) == []
    assert await _rows_holding(ctx, value) == []


async def test_a_secret_written_into_a_workspace_is_gone_after_the_run(
    ctx: ServiceContext, settings: Settings, tmp_path: Path, secret: str
) -> None:
    await allow(ctx, sys.executable, env=("TOKEN",))
    async with running_engine(ctx):
        completed = await start(ctx, [_writer("write", "0")])
        failed = await start(ctx, [_writer("write", "3")])
        runs = [await wait_for_run(ctx, r.id) for r in (completed, failed)]
        assert [r.status for r in runs] == ["completed", "failed"]
        for run in runs:
            await _gone(_workspace(settings, run.id))

    # The program did see the value and write it: the records say so, redacted.
    events = await run_events(ctx, completed.id)
    logged = [
        line["message"] for e in events if e.type == "step.log" for line in e.payload["lines"]
    ]
    assert "token is [REDACTED]" in logged
    assert any(settings.blob_dir.rglob("*")), "no artifact was stored: the search is vacuous"
    assert (settings.home / "workspaces").is_dir()
    await _assert_nowhere(ctx, tmp_path, secret)


async def test_canceled_and_aborted_runs_leave_no_workspace(
    ctx: ServiceContext, settings: Settings, tmp_path: Path, secret: str
) -> None:
    await allow(ctx, sys.executable, env=("TOKEN",))
    async with running_engine(ctx):
        canceled = await start(ctx, [_writer("write", "sleep")])
        await _appears(_workspace(settings, canceled.id) / "write" / "ready")
        await cancel_run(ctx, run_id=canceled.id, actor="user:test")
        assert (await wait_for_run(ctx, canceled.id)).status == "canceled"
        await _gone(_workspace(settings, canceled.id))

        aborted = await start(ctx, [_writer("write", "sleep")])
        await _appears(_workspace(settings, aborted.id) / "write" / "ready")
        await engage_emergency_stop(ctx, actor="user:ops", reason="test")
        assert (await wait_for_run(ctx, aborted.id)).status == "aborted"
        await _gone(_workspace(settings, aborted.id))
        await release_emergency_stop(ctx, actor="user:ops")

    await _assert_nowhere(ctx, tmp_path, secret)


async def test_keep_workspaces_keeps_them_secret_and_all(
    settings: Settings, tmp_path: Path, secret: str
) -> None:
    kept = settings.model_copy(update={"keep_workspaces": True})
    async with open_context(kept) as ctx:
        await allow(ctx, sys.executable, env=("TOKEN",))
        async with running_engine(ctx):
            run = await start(ctx, [_writer("write", "0")])
            assert (await wait_for_run(ctx, run.id)).status == "completed"
            await asyncio.sleep(0.5)  # several heartbeats: the sweep leaves it too
        config = _workspace(kept, run.id) / "write" / "notes" / "config.ini"
        assert config.read_text() == f"[auth]\ntoken = {secret}\n"
        # Only the kept workspace holds it.
        assert set(_files_holding(tmp_path, secret)) == {
            str(config.relative_to(tmp_path)),
            str((config.parent.parent / "artifacts" / "used.txt").relative_to(tmp_path)),
        }
        assert await _rows_holding(ctx, secret) == []
