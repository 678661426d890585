"""Links printed by commands point where ``serve`` listens, even on a port of its own choosing."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from missionctl.cli import _serving as serving
from tests.conftest import free_port

MISSIONCTL = str(Path(sys.executable).with_name("missionctl"))


def _env(home: Path) -> dict[str, str]:
    """A user's environment with only the data directory set (SQLite, default port 8000)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIONCTL_")}
    return env | {"MISSIONCTL_HOME": str(home), "MISSIONCTL_ENGINE_EMBEDDED": "false"}


def _login_link(home: Path, name: str = "admin") -> str:
    done = subprocess.run(
        [MISSIONCTL, "login-link", name], env=_env(home), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _wait_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx2.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx2.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"the server on {base} did not start")


def test_login_link_points_at_the_port_serve_was_given(tmp_path: Path) -> None:
    """``serve --port P`` then ``login-link``: the link is on P, and opens the sign-in page.

    Once the server stops, the link goes back to the configured address.
    """
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    port = free_port()
    process = subprocess.Popen(
        [MISSIONCTL, "serve", "--port", str(port)],
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process)
        link = _login_link(home)
        assert link.startswith(f"{base}/sign-in?token=mcl_"), link
        signed_in = httpx2.get(link, timeout=10)  # the link signs the user in, on this server
        assert signed_in.status_code == 303 and signed_in.cookies, signed_in.text
        assert (home / serving.SERVING_FILE).stat().st_mode & 0o077 == 0
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert not (home / serving.SERVING_FILE).exists()
    assert _login_link(home).startswith("http://127.0.0.1:8000/sign-in?token=mcl_")


def test_a_record_left_by_a_server_that_is_gone_is_ignored(tmp_path: Path) -> None:
    """A killed server's record (a process that no longer exists) or a mangled one names no one."""
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    record = tmp_path / serving.SERVING_FILE
    record.write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": int(gone.stdout)}))
    assert serving.served_url(tmp_path) is None
    for mangled in ("{", "[]", '{"url": 5, "pid": 1}', '{"url": "http://x", "pid": "1"}'):
        record.write_text(mangled)
        assert serving.served_url(tmp_path) is None
    serving.announce(tmp_path, serving.listening_url("0.0.0.0", 8791))
    assert serving.served_url(tmp_path) == "http://127.0.0.1:8791"
    assert serving.listening_url("::1", 8791) == "http://[::1]:8791"
    serving.withdraw(tmp_path)
    assert not record.exists()
