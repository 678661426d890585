"""Work in a parser process: answers come back, the process is reused, and a time limit holds.

A document's parse must not hold this process's interpreter lock (ADR 0076), so it runs in
another process; one that runs past its time limit is killed, and the next call gets a new one.
"""

import os
import time

import pytest

from missionctl.services.runtime.offload import WorkTimedOut, in_worker


def _ended(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_work_runs_in_another_process_which_later_calls_reuse() -> None:
    first = await in_worker(os.getpid, 60.0)
    again = await in_worker(os.getpid, 60.0)
    assert first != os.getpid()
    assert again == first
    assert await in_worker(divmod, 60.0, 17, 5) == (3, 2)


async def test_what_the_work_raises_is_raised_to_the_caller() -> None:
    with pytest.raises(ValueError, match="invalid literal for int"):
        await in_worker(int, 60.0, "seven")
    assert await in_worker(int, 60.0, "7") == 7  # the process lives on


async def test_work_past_its_time_limit_is_stopped_and_its_process_replaced() -> None:
    pid = await in_worker(os.getpid, 60.0)
    started = time.monotonic()
    with pytest.raises(WorkTimedOut, match=r"took longer than 0\.5 s") as raised:
        await in_worker(time.sleep, 0.5, 60)
    assert time.monotonic() - started < 30  # stopped, not waited for
    assert raised.value.limit_s == 0.5
    assert _ended(pid)
    replacement = await in_worker(os.getpid, 60.0)
    assert replacement not in (pid, os.getpid())
