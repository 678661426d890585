"""A database the command cannot reach is one line naming it (password hidden), exit 2."""

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port


def test_an_unreachable_postgresql_is_one_line_with_the_fix(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there: the connection is refused at once
    env = {
        **os.environ,
        "MISSIONCTL_HOME": str(tmp_path / "home"),
        "MISSIONCTL_DATABASE_URL": f"postgresql+psycopg://ann:s3cret-pw@127.0.0.1:{port}/x",
        "COLUMNS": "200",
    }
    env.pop("MISSIONCTL_URL", None)
    env.pop("MISSIONCTL_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-c", "from missionctl.cli import main; main()", "mission", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("error: cannot reach the database")
    assert f"ann:***@127.0.0.1:{port}/x" in lines[0] and "s3cret-pw" not in done.stderr
    assert done.stdout == ""
