"""`make run` starts the product on the embedded default: /healthz answers, and the one-time
link printed on the first start takes a new user straight into the missions page."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx2

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[1]


def test_make_run_serves_health_and_missions(tmp_path: Path) -> None:
    port = free_port()
    home = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIONCTL_")}
    env.update(MISSIONCTL_HOME=str(home), MISSIONCTL_SERVER_PORT=str(port))
    log = (tmp_path / "make-run.log").open("w+")
    process = subprocess.Popen(
        ["make", "run"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        health = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = httpx2.get(f"{base}/healthz", timeout=2)
                break
            except httpx2.TransportError:
                time.sleep(0.25)
        log.seek(0)
        assert health is not None, f"make run did not serve /healthz:\n{log.read()}"
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert httpx2.get(f"{base}/missions", timeout=5).status_code in (303, 401)  # not open
        log.seek(0)
        output = log.read()
        links = re.findall(rf"{re.escape(base)}/sign-in\?token=mcl_[\w-]+", output)
        assert len(links) == 1, f"the first start prints one sign-in link:\n{output}"
        with httpx2.Client(timeout=5, follow_redirects=True) as browser:
            page = browser.get(links[0])
            assert page.status_code == 200 and str(page.url) == f"{base}/missions"
            assert "New mission" in page.text and "admin" in page.text
        assert (home / "missionctl.db").is_file()  # the embedded SQLite under MISSIONCTL_HOME
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
