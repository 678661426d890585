"""Commands stop reading a file or standard input at its limit, whatever feeds it.

An operator found ``missionctl workflow validate /dev/zero`` growing to 2.9 GB in two seconds:
the limit was checked once the whole input was in memory. Now every file and stream a command
reads is refused one byte past its limit (``missionctl.bounded_reads``), with the exit code and
the kind of message of any input over its limit: the field, the source, the limit and the fix.

The child processes run with their address space capped, so that a regression fails these
tests with a ``MemoryError`` instead of taking the machine's memory.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from missionctl.cli import _report_files, app
from missionctl.domain.workflows import MAX_DEFINITION_BYTES
from missionctl.schemas.identity import PASSWORD_MAX_CHARS
from missionctl.schemas.specs import SPEC_BODY_MAX_CHARS
from tests.support.filesystems import endless_fifo as writing_fifo

EXIT_INVALID = 2  # the documented exit code of a usage or input error
PEAK_RSS_LIMIT_KB = 50 * 1024
ADDRESS_SPACE_CAP = 2 * 1024**3  # bytes: far above a command's needs, far below a runaway read
LIMIT_ERROR = f"larger than {MAX_DEFINITION_BYTES} bytes; split it into smaller parts"
VALID = "name: sized\nsteps:\n  - id: a\n    agent: builtin:noop\n"


@dataclass(frozen=True, slots=True)
class Finished:
    """A child ``missionctl``'s outcome, with its peak memory."""

    exit_code: int
    stderr: str
    peak_rss_kb: int


# The child's peak RSS is measured by a small launcher that forks it and reads its rusage
# (``wait4``). Forked from pytest itself, the child would report pytest's size: Linux starts a
# forked process's peak at its parent's resident size, and keeps it across ``exec``.
_LAUNCHER = """
import os, resource, sys
cap = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[3], sys.argv[3:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[2], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_missionctl(tmp_path: Path, *args: str, stdin: int | None = None) -> Finished:
    """``missionctl ARGS`` in a child process: its exit code, stderr and own peak RSS."""
    env = os.environ | {"MISSIONCTL_HOME": str(tmp_path / "home"), "COLUMNS": "300"}
    rss_file = tmp_path / "peak-rss-kb"
    argv = [sys.executable, "-c", "from missionctl.cli import main; main()", *args]
    launcher = [sys.executable, "-c", _LAUNCHER, str(ADDRESS_SPACE_CAP), str(rss_file)]
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(
            [*launcher, *argv],
            env=env,
            stdin=subprocess.DEVNULL if stdin is None else stdin,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,  # one group: a hung read is killed with its launcher
        )
        try:
            exit_code = child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            raise
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return Finished(exit_code, stderr, int(rss_file.read_text()))  # Linux: kilobytes


def test_validate_dev_zero_ends_at_once_with_the_size_error_in_little_memory(
    tmp_path: Path,
) -> None:
    done = run_missionctl(tmp_path, "workflow", "validate", "/dev/zero")
    assert done.exit_code == EXIT_INVALID, done.stderr[-2000:]
    assert f"error: definition: /dev/zero is {LIMIT_ERROR}" in done.stderr
    assert done.peak_rss_kb < PEAK_RSS_LIMIT_KB, done.peak_rss_kb
    # Its time (about 0.5 s) is measured by bench/bounded_reads.py, not asserted here; a read
    # without end would be killed at 60 s and fail the exit code.


def test_validate_refuses_endless_standard_input(tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as zero:
        done = run_missionctl(tmp_path, "workflow", "validate", "-", stdin=zero.fileno())
    assert done.exit_code == EXIT_INVALID, done.stderr[-2000:]
    assert f"error: definition: standard input is {LIMIT_ERROR}" in done.stderr
    assert done.peak_rss_kb < PEAK_RSS_LIMIT_KB, done.peak_rss_kb


def test_a_password_line_without_end_is_refused(tmp_path: Path) -> None:
    # /dev/zero has no newline: an unbounded readline would read until memory runs out.
    with open("/dev/zero", "rb") as zero:
        done = run_missionctl(
            tmp_path, "user", "add", "ada", "--password-stdin", stdin=zero.fileno()
        )
    assert done.exit_code == EXIT_INVALID, done.stderr[-2000:]
    assert f"--password-stdin: the password must be 12 to {PASSWORD_MAX_CHARS} characters" in (
        done.stderr
    )
    assert done.peak_rss_kb < PEAK_RSS_LIMIT_KB, done.peak_rss_kb


@pytest.fixture
def endless_fifo(tmp_path: Path) -> Iterator[Path]:
    """A FIFO whose writer writes Markdown until its reader goes away."""
    with writing_fifo(tmp_path / "spec.md", b"# Spec\n\nMore to say.\n" * 1024) as fifo:
        yield fifo


def test_spec_write_refuses_a_fifo_that_never_ends(tmp_path: Path, endless_fifo: Path) -> None:
    mission = str(uuid.uuid4())  # whole: no lookup; the body is refused before any request
    done = run_missionctl(tmp_path, "specs", "write", mission, "T1", "--file", str(endless_fifo))
    assert done.exit_code == EXIT_INVALID, done.stderr[-2000:]
    assert (
        f"error: body: {endless_fifo} is larger than {4 * SPEC_BODY_MAX_CHARS} bytes; a spec's "
        f"body is at most {SPEC_BODY_MAX_CHARS} characters: shorten it"
    ) in done.stderr
    assert not (tmp_path / "home").exists()  # refused before the database was opened


def _definition_of(size: int) -> str:
    """A valid definition of exactly ``size`` bytes (a comment fills it up)."""
    padding = size - len(VALID) - len("#\n")
    return VALID + "#" + "x" * padding + "\n"


def test_a_definition_of_exactly_the_limit_is_read_and_one_byte_more_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISSIONCTL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "300")
    at_limit = tmp_path / "at-limit.yaml"
    at_limit.write_text(_definition_of(MAX_DEFINITION_BYTES))
    assert at_limit.stat().st_size == MAX_DEFINITION_BYTES
    accepted = CliRunner().invoke(app, ["workflow", "validate", str(at_limit)])
    assert accepted.exit_code == 0, accepted.output
    assert "OK sized: 1 steps" in accepted.stdout

    over = tmp_path / "over.yaml"
    over.write_text(_definition_of(MAX_DEFINITION_BYTES + 1))
    refused = CliRunner().invoke(app, ["workflow", "validate", str(over)])
    assert refused.exit_code == EXIT_INVALID
    assert f"error: definition: {over} is {LIMIT_ERROR}" in refused.stderr


def test_spec_write_refuses_one_byte_over_before_opening_anything(tmp_path: Path) -> None:
    body = tmp_path / "spec.md"
    body.write_bytes(b"a" * (4 * SPEC_BODY_MAX_CHARS + 1))
    done = run_missionctl(tmp_path, "specs", "write", str(uuid.uuid4()), "T1", "--file", str(body))
    assert done.exit_code == EXIT_INVALID, done.stderr[-2000:]
    assert f"error: body: {body} is larger than {4 * SPEC_BODY_MAX_CHARS} bytes" in done.stderr
    assert not (tmp_path / "home").exists()


def test_a_report_file_past_its_limit_makes_its_directorys_owner_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A report.json is read back only to learn whose directory it is; one past the limit (here
    # lowered, so as not to write 64 MiB) is not read whole, and the mission gets its own.
    monkeypatch.setattr(_report_files, "REPORT_MAX_BYTES", 200)
    home, mission = tmp_path / "home", uuid.uuid4()
    first = _report_files.mission_report_dir(home, title="Shop", mission_id=mission)
    report = json.dumps({"mission": {"id": str(mission)}})
    (first / _report_files.JSON_NAME).write_text(report + " " * (200 - len(report)))
    assert _report_files.mission_report_dir(home, title="Shop", mission_id=mission) == first
    (first / _report_files.JSON_NAME).write_text(report + " " * (201 - len(report)))
    again = _report_files.mission_report_dir(home, title="Shop", mission_id=mission)
    assert again.name == f"shop-{mission.hex[-8:]}"
