"""The stop signal: what one process writes, another reads at once; a restart keeps it."""

from pathlib import Path

import pytest

from missionctl.services.runtime.stop_signal import SIZE, StopSignal


def test_a_stop_raised_in_one_process_is_read_by_another_and_cleared_for_all(
    tmp_path: Path,
) -> None:
    path = tmp_path / "emergency-stop"
    server, worker = StopSignal(path), StopSignal(path)
    server.prepare()
    assert path.stat().st_size == SIZE and worker.pending() is None
    assert server.raise_("token:ops", "disk full") is True
    pending = worker.pending()
    assert pending is not None and (pending.actor, pending.reason) == ("token:ops", "disk full")
    assert path.stat().st_size == SIZE  # written in place, never grown
    StopSignal(path).prepare()  # a process starting now keeps the stop, not a clear file
    assert worker.pending() is not None
    worker.clear()
    assert worker.pending() is None and server.pending() is None
    assert StopSignal(path).pending() is None


def test_without_its_file_a_stop_is_held_in_memory_and_says_so(tmp_path: Path) -> None:
    signal = StopSignal(tmp_path / "missing" / "emergency-stop")
    assert signal.raise_("system", None) is False  # nowhere to write it
    assert signal.pending() is not None  # this process's engines still stop


def test_a_long_or_unusual_reason_still_fits_one_page(tmp_path: Path) -> None:
    path = tmp_path / "emergency-stop"
    signal = StopSignal(path)
    signal.prepare()
    assert signal.raise_("user:ann", "\x01\u2603" * 5000) is True
    pending = StopSignal(path).pending()
    assert pending is not None and pending.actor == "user:ann"
    assert path.stat().st_size == SIZE


def test_a_damaged_file_reads_as_clear_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "emergency-stop"
    path.write_bytes(b'{"engaged": tr' + b" " * (SIZE - 14))
    assert StopSignal(path).pending() is None
    assert "cannot be read" in caplog.text
