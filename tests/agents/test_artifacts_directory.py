"""``${workspace}/artifacts`` exists before a command step's program starts.

A program that writes its report there from its first line (``> artifacts/report.txt``) used
to fail with "Directory nonexistent". Mission Control makes the directory, and never through a
link a previous attempt's program left under that name.
"""

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from missionctl.agents.command import make_artifacts_directory
from missionctl.db.models import Artifact
from missionctl.services import ServiceContext
from tests.engine.helpers import allow, running_engine, start, step, wait_for_run

# Its subject is the step's workspace, not the database (tests/conftest.py).
pytestmark = pytest.mark.one_database


async def test_a_program_writes_into_artifacts_without_making_it(ctx: ServiceContext) -> None:
    await allow(ctx, "sh")
    argv = ["sh", "-c", "echo ready > artifacts/report.txt"]
    run = await start(ctx, [step("report", "command", inputs={"argv": argv})])
    async with running_engine(ctx):
        done = await wait_for_run(ctx, run.id, within_s=30)
    assert done.status == "completed", done.steps[0].error
    async with ctx.read() as session:
        artifacts = (await session.scalars(select(Artifact).where(Artifact.run_id == run.id))).all()
    assert [a.name for a in artifacts] == ["report.txt"]
    assert ctx.blobs.read_bytes(artifacts[0].sha256) == b"ready\n"


def test_a_link_left_in_its_place_is_neither_followed_nor_replaced(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "artifacts").symlink_to(elsewhere / "made")
    make_artifacts_directory(workspace)
    assert os.readlink(workspace / "artifacts") == str(elsewhere / "made")
    assert not (elsewhere / "made").exists(), "nothing made where the link points"
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    make_artifacts_directory(fresh)
    make_artifacts_directory(fresh)  # a retried attempt: already there
    assert (fresh / "artifacts").is_dir() and (fresh / "artifacts").stat().st_mode & 0o777 == 0o700
