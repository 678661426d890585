"""Nothing under the data directory is readable by group or others.

After a server starts and runs a workflow whose command step writes an artifact (and a report
is written), every directory and file under the data directory (database and its ``-wal`` and
``-shm`` on SQLite, the session key, blobs, workspaces) has no group or other permission bits.
The places that create files also ask for private modes themselves, whatever the process's
file-creation mask: that is checked with a mask of ``022`` forced.
"""

import asyncio
import contextlib
import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from missionctl.app import create_app
from missionctl.blobs import BlobStore
from missionctl.db import Database
from missionctl.security.sessions import load_secret_key
from missionctl.services.usecases.artifacts import read_artifacts
from missionctl.settings import DatabaseSettings, Settings
from tests.security.approved import approve_until_done, command
from tests.web.support import start_steps

WRITE = (
    "import pathlib; d = pathlib.Path('artifacts/deep'); d.mkdir(parents=True); "
    "(d / 'out.txt').write_text('hello')"
)


def _loose(home: Path) -> list[str]:
    """Every path under ``home`` (and ``home`` itself) that group or others may use."""
    paths = [home, *home.rglob("*")]
    return [
        f"{path.relative_to(home.parent)} {stat.filemode(path.lstat().st_mode)}"
        for path in paths
        if path.lstat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    ]


@pytest.fixture
def data_settings(settings: Settings) -> Settings:
    """The test's settings, with SQLite's file in the data directory (its default place).

    Workspaces are kept after the run, so that their modes are checked too.
    """
    settings = settings.model_copy(update={"keep_workspaces": True})
    if settings.database_url.startswith("sqlite"):
        return settings.model_copy(update={"database": DatabaseSettings()})
    return settings


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


async def test_after_a_run_nothing_in_the_data_directory_is_open_to_others(
    data_settings: Settings,
) -> None:
    home = data_settings.home
    with umask(0o022):  # what a shell usually gives: the app must not depend on it
        app = create_app(data_settings)
        async with app.router.lifespan_context(app):
            ctx = app.state.ctx
            step = command("write", [sys.executable, "-c", WRITE])
            run = await start_steps(ctx, None, [step])
            done = await approve_until_done(ctx, run.id)
            assert done.status == "completed", done.steps[0].error
            deadline = time.monotonic() + 20
            while not any(a.kind == "report" for a in await read_artifacts(ctx, run_id=run.id)):
                assert time.monotonic() < deadline, "no report was written"
                await asyncio.sleep(0.05)
            names = {a.name for a in await read_artifacts(ctx, run_id=run.id)}
            assert "deep/out.txt" in names
            if data_settings.database_url.startswith("sqlite"):
                async with ctx.read() as session:  # the log and shared memory exist now
                    await session.execute(text("SELECT 1"))
                assert (home / "missionctl.db-wal").exists()
                assert (home / "missionctl.db-shm").exists()
            assert (home / "secret_key").is_file()
            assert any(p.is_file() for p in (home / "blobs").rglob("*"))
            assert (home / "workspaces" / str(run.id) / "write" / "artifacts" / "deep").is_dir()

            assert _loose(home) == []


def test_files_are_created_private_even_under_a_loose_mask(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home, database=DatabaseSettings(url=None))
    with umask(0o022):
        load_secret_key(settings)
        BlobStore(home / "blobs").put_bytes(b"content")
        database = Database(f"sqlite+aiosqlite:///{home / 'missionctl.db'}")
        with database.sync_engine.connect() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.commit()
            assert _loose(home) == []  # -wal and -shm exist while a connection is open
        database.sync_engine.dispose()
    assert (home / "missionctl.db-wal").exists() or (home / "missionctl.db").stat().st_size
    assert _loose(home) == []
