"""The egress bridge on its own: it starts the program, passes signals on, ends as it ended.

Run unconfined here (the sandbox tests run it confined, ``tests/coding/test_real_cli_egress.py``):
what it does with the program does not depend on the sandbox.
"""

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from missionctl.agents.egress import BRIDGE
from missionctl.agents.egress_bridge import Forwarder

PY = sys.executable


async def _bridge(tmp_path: Path, *argv: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        PY, "-I", str(BRIDGE), "--socket", str(tmp_path / "proxy.sock"), "--", *argv,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_the_program_gets_the_proxy_variables_and_its_exit_code_is_the_bridges(
    tmp_path: Path,
) -> None:
    code = (
        "import os, sys; print(os.environ['HTTPS_PROXY'], os.environ['http_proxy'], "
        "repr(os.environ['NO_PROXY'])); sys.exit(3)"
    )
    bridge = await _bridge(tmp_path, PY, "-c", code)
    out, _ = await asyncio.wait_for(bridge.communicate(), 20)
    https, http, no_proxy = out.decode().split()
    assert https == http and https.startswith("http://127.0.0.1:")
    assert no_proxy == "''"
    assert bridge.returncode == 3


async def test_a_signal_reaches_the_program_and_the_bridge_ends_by_it(tmp_path: Path) -> None:
    bridge = await _bridge(
        tmp_path, PY, "-c", "import time; print('up', flush=True); time.sleep(30)"
    )
    assert bridge.stdout is not None
    assert await asyncio.wait_for(bridge.stdout.readline(), 20) == b"up\n"
    bridge.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(bridge.wait(), 10) == -signal.SIGTERM


@pytest.mark.parametrize("delay_s", [0.0, 0.1, 0.2, 0.3, 0.5])
async def test_a_signal_at_any_moment_of_the_start_ends_the_bridge_and_leaves_no_program(
    tmp_path: Path, delay_s: float
) -> None:
    """Before the bridge has its handlers, while the program starts, or once it runs: the
    bridge ends by the signal and its pipes close at once, so no program is left holding
    them (one left behind kept them open for its whole sleep)."""
    bridge = await _bridge(tmp_path, PY, "-c", "import time; time.sleep(30)")
    await asyncio.sleep(delay_s)
    bridge.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(bridge.wait(), 10) == -signal.SIGTERM


async def test_a_signal_received_before_the_program_starts_reaches_it() -> None:
    signals = Forwarder()
    signals.received(signal.SIGTERM)
    program = await asyncio.create_subprocess_exec(PY, "-c", "import time; time.sleep(30)")
    signals.started(program)
    assert await asyncio.wait_for(program.wait(), 10) == -signal.SIGTERM


async def test_a_missing_program_is_named_and_exits_127(tmp_path: Path) -> None:
    bridge = await _bridge(tmp_path, "no-such-program-here")
    _, err = await asyncio.wait_for(bridge.communicate(), 20)
    assert bridge.returncode == 127
    assert "cannot start 'no-such-program-here'" in err.decode()


@pytest.mark.parametrize(
    "argv", [[], ["--socket"], ["--socket", "x"], ["--bogus", "x", "--", "true"]]
)
async def test_a_wrong_command_line_is_refused_with_its_usage(argv: list[str]) -> None:
    bridge = await asyncio.create_subprocess_exec(
        PY, "-I", str(BRIDGE), *argv, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(bridge.communicate(), 20)
    assert bridge.returncode == 1 and err.decode().startswith("usage: egress_bridge.py")
