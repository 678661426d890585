"""A PostgreSQL cluster of a test's own, on its own port, that the test may stop and start.

The shared server must never be stopped (other tests use it), so an outage test makes a
cluster with the machine's PostgreSQL binaries (``initdb``, ``pg_ctl``) in a directory of
its own. PostgreSQL refuses to run as root: as root the commands run as the ``postgres``
user. Where the binaries or that user are missing, the test is skipped, saying so.
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

_BIN_GLOB = "/usr/lib/postgresql/*/bin"


class PrivatePostgres:
    """A cluster in a fresh directory, listening on 127.0.0.1:``port`` only."""

    def __init__(self, port: int) -> None:
        found = sorted(glob.glob(_BIN_GLOB))
        if not found:
            pytest.skip("no PostgreSQL server binaries on this machine (initdb, pg_ctl)")
        self.bin = Path(found[-1])
        self.port = port
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root without a postgres user to run PostgreSQL as")
            self._as = ["runuser", "-u", "postgres", "--"]
        self.directory = Path(tempfile.mkdtemp(prefix="mc-private-pg-"))
        if self._as:
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)
        self.data = self.directory / "data"
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of its ``postgres`` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start it and wait until it accepts connections."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.directory / "log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        """Stop it at once (``fast``: clients are disconnected, nothing is lost)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        """Stop it if it runs, and delete its directory."""
        subprocess.run(
            [*self._as, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.directory, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [*self._as, str(self.bin / program), *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=self.directory,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stdout}\n{done.stderr}")
