"""Where the CLI keeps its data when ``MISSIONCTL_HOME`` is not set.

The nearest ``.missionctl`` in the current directory or its parents is the home. Without one,
only the commands that start something (``serve``, ``worker``, ``run``, ``db upgrade``) create
``./.missionctl`` and say so; every other command exits 2 naming the fix and creates nothing.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from typer.testing import CliRunner, Result

from missionctl.cli import app
from missionctl.settings import find_home
from tests.conftest import free_port

MISSIONCTL = str(Path(sys.executable).with_name("missionctl"))


@pytest.fixture
def invoke(database_url: str, monkeypatch: pytest.MonkeyPatch) -> object:
    """``invoke(*args)`` runs ``missionctl`` in-process with no MISSIONCTL_HOME.

    On SQLite the database is the home's own ``missionctl.db`` (so finding the right home is
    finding the right data); on PostgreSQL it is the test's schema.
    """
    monkeypatch.delenv("MISSIONCTL_HOME", raising=False)
    monkeypatch.delenv("MISSIONCTL_SERVER_PUBLIC_URL", raising=False)
    if database_url.startswith("sqlite"):
        monkeypatch.delenv("MISSIONCTL_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("MISSIONCTL_DATABASE_URL", database_url)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _said(result: Result) -> str:
    return " ".join(result.stderr.split())  # Rich wraps long messages at the console width


def test_a_subdirectory_uses_the_data_directory_above_it(
    invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    project = tmp_path / "project"
    deep = project / "src" / "module"
    deep.mkdir(parents=True)
    monkeypatch.chdir(project)
    upgraded = invoke("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert f"created data directory at {project / '.missionctl'}" in _said(upgraded)
    assert invoke("user", "add", "viewer1", "--role", "viewer").exit_code == 0

    monkeypatch.chdir(deep)
    monkeypatch.setenv("MISSIONCTL_SERVER_PORT", "9137")
    before = _tree(tmp_path)
    link = invoke("login-link", "viewer1")
    assert link.exit_code == 0, link.output
    assert link.stdout.startswith("http://127.0.0.1:9137/sign-in?token=mcl_")  # its port
    assert "created" not in link.stderr
    again = invoke("db", "upgrade")  # a command that may create one finds this one too
    assert again.exit_code == 0 and "created" not in again.stderr
    assert _tree(tmp_path) == before  # nothing new, in the subdirectory or anywhere
    if not os.environ.get("MISSIONCTL_DATABASE_URL"):
        assert (project / ".missionctl" / "missionctl.db").is_file()

    monkeypatch.setenv("MISSIONCTL_SERVER_PUBLIC_URL", "https://mc.example.com/ops/")
    public = invoke("login-link", "viewer1")
    assert public.exit_code == 0, public.output
    assert public.stdout.startswith("https://mc.example.com/ops/sign-in?token=mcl_")


def test_elsewhere_commands_exit_2_and_create_nothing(
    invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert find_home(elsewhere) is None  # no .missionctl above the test's directory
    monkeypatch.chdir(elsewhere)
    before = _tree(tmp_path)
    for args in (
        ["login-link", "viewer1"],
        ["mission", "list"],
        ["user", "list"],
        ["db", "current"],
        ["config", "show"],
        ["audit", "verify"],
    ):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        said = _said(result)
        assert "no data directory" in said and "MISSIONCTL_HOME" in said, said
        assert str(elsewhere) in said
        for creator in ("serve", "worker", "run", "db upgrade"):
            assert creator in said
        assert "does not exist" not in said  # not the misleading answer of an empty database
    assert _tree(tmp_path) == before


def test_serve_creates_the_data_directory_and_says_where(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIONCTL_")}
    if not database_url.startswith("sqlite"):
        env["MISSIONCTL_DATABASE_URL"] = database_url
    env |= {"MISSIONCTL_SERVER_PORT": str(port), "MISSIONCTL_ENGINE_EMBEDDED": "false"}
    cwd = tmp_path / "fresh"
    cwd.mkdir()
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen(
        [MISSIONCTL, "serve"],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        health = None
        while health is None and time.monotonic() < deadline and process.poll() is None:
            try:
                health = httpx2.get(f"{base}/healthz", timeout=2)
            except httpx2.TransportError:
                time.sleep(0.2)
        log.seek(0)
        output = log.read()
        assert health is not None and health.status_code == 200, output
        home = cwd / ".missionctl"
        assert output.count("created data directory at") == 1
        assert f"created data directory at {home}\n" in output
        assert re.search(rf"{re.escape(base)}/sign-in\?token=mcl_", output), output
        assert home.is_dir() and (home / "secret_key").is_file()  # the server's own home
        assert [p.name for p in tmp_path.rglob(".missionctl")] == [".missionctl"]
        if database_url.startswith("sqlite"):
            assert (home / "missionctl.db").is_file()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def test_worker_creates_the_data_directory_and_says_where(
    database_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIONCTL_")}
    if not database_url.startswith("sqlite"):
        env["MISSIONCTL_DATABASE_URL"] = database_url
    cwd = tmp_path / "fresh"
    cwd.mkdir()
    process = subprocess.Popen(
        [MISSIONCTL, "worker"],
        cwd=cwd,
        env=env | {"COLUMNS": "300"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        started = process.stdout.readline()  # waits for the worker to be running
        assert first == f"created data directory at {cwd / '.missionctl'}\n"
        assert "Ctrl-C stops it" in started, started
    finally:
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
    assert "worker stopped" in rest and process.returncode == 0
    assert (cwd / ".missionctl").is_dir()
