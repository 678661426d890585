"""How a worker that sizes itself picks its size from the queue (ADR 0115)."""

from hypothesis import given
from hypothesis import strategies as st

from missionctl.domain.autoscaling import COOL_DOWN_S, WAIT_UP_S, Autoscale, QueueFigures, resize

RANGE = Autoscale(minimum=1, maximum=8)


def _queue(queued: int, waited: float = 0.0, workers: int = 1) -> QueueFigures:
    return QueueFigures(queued=queued, oldest_wait_s=waited, workers=workers)


def test_a_queue_deeper_than_its_free_slots_grows_it_at_once_for_its_share() -> None:
    grown = resize(RANGE, concurrency=2, running=2, queue=_queue(3), since_change_s=0)
    assert grown is not None and grown.concurrency == 5  # the 2 it runs and the 3 queued
    assert grown.reason.startswith("2 → 5 steps at once: 3 queued")
    assert "1 worker, 2 running" in grown.reason and "range 1 to 8" in grown.reason


def test_the_queue_is_shared_across_the_live_workers() -> None:
    grown = resize(RANGE, concurrency=2, running=2, queue=_queue(6, workers=3), since_change_s=0)
    assert grown is not None and grown.concurrency == 4  # its third of six: two more slots
    assert "for 3 workers" in grown.reason


def test_free_slots_that_take_its_share_keep_its_size() -> None:
    assert resize(RANGE, concurrency=6, running=2, queue=_queue(4), since_change_s=0) is None


def test_a_ready_step_waiting_long_doubles_it_beyond_its_share() -> None:
    grown = resize(RANGE, concurrency=3, running=3, queue=_queue(1, WAIT_UP_S), since_change_s=0)
    assert grown is not None and grown.concurrency == 6
    assert f"the oldest waiting {WAIT_UP_S:.0f} s" in grown.reason


def test_nothing_queued_never_grows_it_even_when_it_runs_more_than_its_size() -> None:
    # Lowered to 2 while it ran 6: the 6 finish, and no queue makes it 6 again.
    assert resize(RANGE, concurrency=2, running=6, queue=_queue(0), since_change_s=0) is None


def test_it_never_grows_past_its_maximum() -> None:
    grown = resize(RANGE, concurrency=4, running=4, queue=_queue(500, 60), since_change_s=0)
    assert grown is not None and grown.concurrency == 8
    assert resize(RANGE, concurrency=8, running=8, queue=_queue(500, 60), since_change_s=0) is None


def test_an_empty_queue_halves_it_only_after_the_cool_down_and_never_below_what_it_runs() -> None:
    assert resize(RANGE, concurrency=8, running=1, queue=_queue(0), since_change_s=59) is None
    halved = resize(RANGE, concurrency=8, running=1, queue=_queue(0), since_change_s=COOL_DOWN_S)
    assert halved is not None and halved.concurrency == 4
    assert halved.reason == "8 → 4 steps at once: nothing queued, 1 running; range 1 to 8"
    busy = resize(RANGE, concurrency=8, running=6, queue=_queue(0), since_change_s=COOL_DOWN_S)
    assert busy is not None and busy.concurrency == 6
    floor = Autoscale(minimum=3, maximum=8)
    assert resize(floor, concurrency=3, running=0, queue=_queue(0), since_change_s=600) is None


def test_a_size_outside_the_range_is_brought_inside_it() -> None:
    shrunk = resize(RANGE, concurrency=32, running=0, queue=_queue(0), since_change_s=0)
    assert shrunk is not None and shrunk.concurrency == 8
    assert shrunk.reason == "32 → 8 steps at once: brought within its range 1 to 8"
    raised = resize(Autoscale(4, 8), concurrency=1, running=0, queue=_queue(0), since_change_s=0)
    assert raised is not None and raised.concurrency == 4


def test_a_worker_running_more_than_its_size_does_not_grow_with_nothing_queued() -> None:
    # Its range was narrowed while it ran five steps: halving must not raise it to five.
    assert resize(RANGE, concurrency=1, running=5, queue=_queue(0), since_change_s=600) is None


@given(
    low=st.integers(1, 50),
    span=st.integers(0, 50),
    concurrency=st.integers(1, 1000),
    running=st.integers(0, 1000),
    queued=st.integers(0, 10_000),
    waited=st.floats(0, 3600),
    workers=st.integers(1, 20),
    since=st.floats(0, 3600),
)
def test_every_size_it_takes_is_in_its_range_and_moves_the_way_the_queue_says(
    low: int,
    span: int,
    concurrency: int,
    running: int,
    queued: int,
    waited: float,
    workers: int,
    since: float,
) -> None:
    policy = Autoscale(minimum=low, maximum=low + span)
    queue = _queue(queued, waited, workers)
    change = resize(
        policy, concurrency=concurrency, running=running, queue=queue, since_change_s=since
    )
    size = concurrency if change is None else change.concurrency
    inside = policy.clamp(concurrency)
    assert policy.minimum <= size <= policy.maximum
    if size > inside:  # grew: only for a queue its free slots do not take
        assert queued > 0 and -(-queued // workers) > inside - running
    if size < inside:  # shrank: only with nothing queued, after the cool-down, not below running
        assert queued == 0 and since >= COOL_DOWN_S
        assert size >= min(running, policy.maximum)
