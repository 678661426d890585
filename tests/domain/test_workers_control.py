"""The registry's rules: status words, the commands a worker takes, and utilisation."""

from datetime import UTC, datetime, timedelta

import pytest

from missionctl.domain.workers import (
    MAX_CONCURRENCY,
    OFFLINE_S,
    STALE_S,
    DesiredState,
    SlotMeter,
    WorkerCommand,
    WorkerStatus,
    check_concurrency,
    command_target,
    worker_status,
)
from missionctl.errors import Conflict, ValidationFailed

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def status(
    silent_s: float,
    *,
    state: str = "running",
    stopped_at: datetime | None = None,
    offline_reported_at: datetime | None = None,
) -> WorkerStatus:
    return worker_status(
        last_heartbeat_at=NOW - timedelta(seconds=silent_s),
        stopped_at=stopped_at,
        offline_reported_at=offline_reported_at,
        state=state,
        now=NOW,
    )


def test_status_follows_the_heartbeat_age_and_what_the_engine_reports() -> None:
    assert status(0) is WorkerStatus.online
    assert status(STALE_S) is WorkerStatus.online  # the boundary still counts
    assert status(0, state="draining") is WorkerStatus.draining
    assert status(STALE_S + 0.1) is WorkerStatus.stale
    assert status(STALE_S + 1, state="draining") is WorkerStatus.stale
    assert status(OFFLINE_S) is WorkerStatus.stale
    assert status(OFFLINE_S + 0.1) is WorkerStatus.offline
    # Once reported offline it stays offline, even if a heartbeat were to land.
    assert status(0, offline_reported_at=NOW) is WorkerStatus.offline
    # A clean stop wins over everything.
    assert status(OFFLINE_S * 10, stopped_at=NOW) is WorkerStatus.stopped
    assert status(0, stopped_at=NOW, offline_reported_at=NOW) is WorkerStatus.stopped


@pytest.mark.parametrize(
    ("desired", "command", "target"),
    [
        (DesiredState.run, WorkerCommand.drain, DesiredState.drain),
        (DesiredState.run, WorkerCommand.stop, DesiredState.stop),
        (DesiredState.drain, WorkerCommand.stop, DesiredState.stop),
        (DesiredState.drain, WorkerCommand.resume, DesiredState.run),
        (DesiredState.stop, WorkerCommand.resume, DesiredState.run),
    ],
)
def test_commands_move_the_desired_state(
    desired: DesiredState, command: WorkerCommand, target: DesiredState
) -> None:
    for alive in (WorkerStatus.online, WorkerStatus.draining, WorkerStatus.stale):
        got = command_target(name="w", status=alive, desired=desired, command=command)
        assert got is target


@pytest.mark.parametrize(
    ("desired", "command", "said"),
    [
        (DesiredState.drain, WorkerCommand.drain, "already asked to drain"),
        (DesiredState.stop, WorkerCommand.stop, "already asked to stop"),
        (DesiredState.stop, WorkerCommand.drain, "asked to stop, which drains it first"),
        (DesiredState.run, WorkerCommand.resume, "nothing to resume"),
    ],
)
def test_a_command_that_changes_nothing_is_refused(
    desired: DesiredState, command: WorkerCommand, said: str
) -> None:
    with pytest.raises(Conflict, match=said) as refused:
        command_target(name="w", status=WorkerStatus.online, desired=desired, command=command)
    assert refused.value.field == "worker_id"


@pytest.mark.parametrize("gone", [WorkerStatus.offline, WorkerStatus.stopped])
@pytest.mark.parametrize("command", list(WorkerCommand))
def test_a_gone_worker_takes_no_command(gone: WorkerStatus, command: WorkerCommand) -> None:
    with pytest.raises(Conflict, match=f"worker host:1:a is {gone}") as refused:
        command_target(name="host:1:a", status=gone, desired=DesiredState.drain, command=command)
    assert "missionctl worker" in refused.value.message
    with pytest.raises(Conflict, match=f"is {gone}"):
        check_concurrency(name="host:1:a", status=gone, concurrency=4, current=2)


@pytest.mark.parametrize("bad", [0, -1, MAX_CONCURRENCY + 1, 10**12])
def test_concurrency_out_of_bounds_names_the_field_and_the_bounds(bad: int) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_concurrency(name="w", status=WorkerStatus.online, concurrency=bad, current=2)
    [problem] = refused.value.problems
    assert problem.field == "concurrency"
    assert f"between 1 and {MAX_CONCURRENCY}" in problem.message


def test_concurrency_that_changes_nothing_is_refused() -> None:
    check_concurrency(name="w", status=WorkerStatus.online, concurrency=1, current=2)
    check_concurrency(name="w", status=WorkerStatus.stale, concurrency=MAX_CONCURRENCY, current=2)
    with pytest.raises(Conflict, match="already runs 2"):
        check_concurrency(name="w", status=WorkerStatus.online, concurrency=2, current=2)


def test_utilisation_is_busy_over_available_slot_seconds_in_the_window() -> None:
    meter = SlotMeter(slots=4, now=0.0)
    assert meter.utilisation(300, 0.0) is None  # no time has passed
    meter.begin("a", 0.0)
    meter.begin("b", 10.0)
    meter.end("a", 20.0)
    # 0..40 s: a busy 20 s, b busy 30 s (still running) of 4 x 40 slot-seconds.
    assert meter.utilisation(300, 40.0) == pytest.approx(100 * 50 / 160, abs=0.06)
    meter.end("b", 40.0)
    meter.end("never-started", 40.0)  # ignored
    meter.sample(40.0)
    # Idle since. The 5-minute window starts at the newest sample at least 300 s old: at
    # 339 s that is the start (the sample at 40 s is too young), at 340 s the sample at 40 s.
    assert meter.utilisation(300, 339.0) == pytest.approx(100 * 50 / (4 * 339), abs=0.06)
    assert meter.utilisation(300, 340.0) == 0.0
    meter.sample(340.0)
    meter.sample(700.0)
    # The sample at 340 s starts the 5-minute window: nothing was busy since.
    assert meter.utilisation(300, 700.0) == 0.0
    assert meter.utilisation(3600, 700.0) == pytest.approx(100 * 50 / (4 * 700), abs=0.06)


def test_utilisation_follows_a_change_of_concurrency_and_caps_at_100() -> None:
    meter = SlotMeter(slots=2, now=0.0)
    meter.begin("a", 0.0)
    meter.begin("b", 0.0)
    meter.set_slots(1, 10.0)  # lowered while both still run
    assert meter.totals(20.0) == (40.0, 30.0)
    assert meter.utilisation(300, 20.0) == 100.0  # 40 busy of 30 available: capped


def test_old_samples_are_forgotten_but_the_hour_stays_exact() -> None:
    meter = SlotMeter(slots=1, now=0.0)
    meter.begin("a", 0.0)
    for second in range(10, 7300, 10):
        meter.sample(float(second))
    assert len(meter._samples) <= 3600 / 10 + 2
    meter.end("a", 7300.0)
    assert meter.utilisation(3600, 7300.0) == 100.0
