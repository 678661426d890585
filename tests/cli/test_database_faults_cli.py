"""A fault around a command is one line naming the cause and the fix, with a documented exit code.

Every fault is made for real: a PostgreSQL port nothing listens on, a URL of no supported
database, a SQLite file in a directory that does not exist, a file that is not a database,
a data directory where a file stands, a full disk and a read-only volume (a small filesystem
the test mounts), a server that does not answer. Each is tried on the commands that start
something (``serve``, ``worker``, ``db upgrade``) and on data commands; the answer is one line
on stderr, no traceback, exit 3 (2 for a setting that is itself invalid), and the password
never shows. ``--debug`` keeps the traceback for whoever needs it.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.support.filesystems import fill, remount_read_only, small_filesystem

EXIT_INVALID = 2
EXIT_UNAVAILABLE = 3
JUNK = b"this is a shopping list, not a database\n" * 40


def _missionctl(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "MISSIONCTL_HOME": str(home), "COLUMNS": "400", **env}
    for name in ("MISSIONCTL_URL", "MISSIONCTL_TOKEN", "MISSIONCTL_DATABASE_URL"):
        if name not in env:
            environment.pop(name, None)
    # ``serve`` gets a port nothing uses: the test must not meet another server.
    args = tuple(str(free_port()) if arg == "PORT" else arg for arg in args)
    return subprocess.run(
        [sys.executable, "-c", "from missionctl.cli import main; main()", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def _one_line(done: subprocess.CompletedProcess[str], code: int) -> str:
    """The single stderr line of a command that exited ``code`` without a traceback."""
    assert done.returncode == code, (done.returncode, done.stderr[-3000:])
    assert "Traceback" not in done.stderr and "Exception" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


START_COMMANDS = [("serve", "--port", "PORT"), ("worker",), ("db", "upgrade"), ("mission", "list")]


@pytest.mark.parametrize("command", START_COMMANDS, ids=lambda c: " ".join(c))
def test_an_unreachable_postgresql_is_one_line_with_the_password_hidden(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    port = free_port()  # nothing listens there: the connection is refused at once
    url = f"postgresql+psycopg://ann:s3cret-pw@127.0.0.1:{port}/x"
    done = _missionctl(tmp_path / "home", *command, MISSIONCTL_DATABASE_URL=url)
    line = _one_line(done, EXIT_UNAVAILABLE)
    assert line.startswith("error: cannot reach the database")
    assert "MISSIONCTL_DATABASE_URL" in line
    assert f"ann:***@127.0.0.1:{port}/x" in line and "s3cret-pw" not in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url at all", "not a database URL"),
        ("mysql://ann:s3cret-pw@db.internal/app", "the driver 'mysql' is not supported"),
    ],
)
def test_a_database_url_of_no_supported_database_names_the_setting_and_the_forms(
    tmp_path: Path, url: str, says: str
) -> None:
    done = _missionctl(tmp_path / "home", "db", "upgrade", MISSIONCTL_DATABASE_URL=url)
    assert done.returncode == EXIT_INVALID, done.stderr
    assert "Traceback" not in done.stderr and "s3cret-pw" not in done.stderr
    text = " ".join(done.stderr.split())
    assert text.startswith(f"setting MISSIONCTL_DATABASE_URL: {says}")
    assert "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE" in text


def test_a_bare_postgresql_scheme_means_the_driver_the_product_uses(tmp_path: Path) -> None:
    from missionctl.settings import DatabaseSettings

    settings = DatabaseSettings(url="postgres://ann:pw@db.internal:5432/app")  # type: ignore[arg-type]
    assert settings.url is not None
    assert settings.url.get_secret_value() == "postgresql+psycopg://ann:pw@db.internal:5432/app"


@pytest.mark.parametrize("command", START_COMMANDS, ids=lambda c: " ".join(c))
def test_a_sqlite_file_in_a_missing_directory_names_the_directory(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    missing = tmp_path / "gone" / "deeper"
    url = f"sqlite+aiosqlite:///{missing}/mc.db"
    done = _missionctl(tmp_path / "home", *command, MISSIONCTL_DATABASE_URL=url)
    line = _one_line(done, EXIT_UNAVAILABLE)
    assert f"its directory {missing} does not exist" in line
    assert not missing.exists()  # nothing was made where the setting is wrong


@pytest.mark.parametrize("command", START_COMMANDS, ids=lambda c: " ".join(c))
def test_a_file_that_is_not_a_database_says_restore_it(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "missionctl.db").write_bytes(JUNK)
    done = _missionctl(home, *command)
    line = _one_line(done, EXIT_UNAVAILABLE)
    assert "the database file is damaged or is not a database" in line
    assert "restore it from a backup" in line
    assert (home / "missionctl.db").read_bytes() == JUNK  # left as it was found


def test_a_file_where_the_data_directory_should_be_is_named(tmp_path: Path) -> None:
    in_the_way = tmp_path / "home"
    in_the_way.write_text("notes")
    done = _missionctl(in_the_way, "db", "upgrade")
    line = _one_line(done, EXIT_UNAVAILABLE)
    assert str(in_the_way) in line and "a file stands where a directory should be" in line


def test_a_full_disk_and_a_read_only_volume_are_one_line_each(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "volume", size_mb=8) as volume:
        home = volume / "home"
        assert _missionctl(home, "db", "upgrade").returncode == 0
        filler = fill(volume)
        done = _missionctl(home, "mission", "create", "A recipe app for a bakery")
        line = _one_line(done, EXIT_UNAVAILABLE)
        assert "full" in line and "free space" in line, line

        filler.unlink()
        remount_read_only(volume)
        done = _missionctl(home, "mission", "create", "A recipe app for a bakery")
        assert "read-only" in _one_line(done, EXIT_UNAVAILABLE)
        done = _missionctl(volume / "new-home", "db", "upgrade")
        line = _one_line(done, EXIT_UNAVAILABLE)
        assert f"cannot use {volume / 'new-home'}" in line and "read-only filesystem" in line
        # Reading what is there still works: the record is intact.
        listed = _missionctl(home, "mission", "list")
        assert listed.returncode == 0, listed.stderr
        assert "no missions yet" in listed.stdout


def test_an_unreachable_server_is_one_line_exit_3(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = _missionctl(
        tmp_path / "home", "mission", "list", MISSIONCTL_URL=url, MISSIONCTL_TOKEN="mc_x"
    )
    line = _one_line(done, EXIT_UNAVAILABLE)
    assert line.startswith(f"error: cannot reach the Mission Control server at {url}")


@pytest.mark.parametrize("how", ["--debug", "MISSIONCTL_LOG_LEVEL=DEBUG"])
def test_debug_shows_the_traceback_as_well(tmp_path: Path, how: str) -> None:
    url = f"postgresql+psycopg://ann:s3cret-pw@127.0.0.1:{free_port()}/x"
    args = ("--debug", "mission", "list") if how == "--debug" else ("mission", "list")
    extra = {"MISSIONCTL_LOG_LEVEL": "DEBUG"} if how != "--debug" else {}
    done = _missionctl(tmp_path / "home", *args, MISSIONCTL_DATABASE_URL=url, **extra)
    assert done.returncode == EXIT_UNAVAILABLE, done.stderr
    assert "Traceback" in done.stderr and "OperationalError" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: cannot reach the database")


def test_the_emergency_stop_holds_on_a_full_disk_and_is_recorded_once_space_returns(
    tmp_path: Path,
) -> None:
    with small_filesystem(tmp_path / "volume", size_mb=8) as volume:
        home = volume / "home"
        assert _missionctl(home, "db", "upgrade").returncode == 0
        filler = fill(volume)
        pressed = _missionctl(home, "stop", "--emergency", "--reason", "disk full")
        assert pressed.returncode == 0, pressed.stderr
        said = " ".join(pressed.stdout.split())
        assert "emergency stop engaged by system, not recorded yet" in said
        assert "The stop holds on every engine that shares this data directory" in said
        filler.unlink()
        shown = _missionctl(home, "controls", "--json")
        assert shown.returncode == 0, shown.stderr
        assert '"emergency_stop": true' in shown.stdout and '"recorded": false' in shown.stdout
        released = _missionctl(home, "release", "--reason", "space is back")
        assert released.returncode == 0, released.stderr
        events = _missionctl(home, "events", "--json")
        assert events.returncode == 0, events.stderr
        types = [t for t in ("emergency.stopped", "emergency.released") if t in events.stdout]
        assert types == ["emergency.stopped", "emergency.released"]
        assert "held_since" in events.stdout  # the log says since when the stop held


def test_a_stop_that_can_be_held_nowhere_is_an_error_not_a_claim(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "volume", size_mb=8) as volume:
        home = volume / "home"
        assert _missionctl(home, "db", "upgrade").returncode == 0
        (home / "emergency-stop").unlink()  # as if made by an older version: no room for it
        fill(volume)
        pressed = _missionctl(home, "stop", "--emergency")
        line = _one_line(pressed, EXIT_UNAVAILABLE)
        assert "full" in line and "engaged" not in pressed.stdout
