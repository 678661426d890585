"""UUIDv7 ids: layout, order across and within milliseconds, threads."""

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from missionctl.domain.ids import UuidV7Factory, new_id, timestamp_ms


class FakeClock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def fixed_bits(value: int) -> Callable[[int], int]:
    """A ``randbits`` that returns ``value`` cut to the bits asked for."""
    return lambda bits: value & ((1 << bits) - 1)


def test_version_and_variant_bits() -> None:
    for _ in range(1_000):
        value = new_id()
        assert value.version == 7
        assert value.variant == uuid.RFC_4122
        assert (value.int >> 76) & 0xF == 0x7
        assert (value.int >> 62) & 0b11 == 0b10
        assert str(value)[14] == "7"
        assert str(value)[19] in "89ab"


def test_timestamp_is_the_current_unix_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    value = new_id()
    after = time.time_ns() // 1_000_000
    assert before <= timestamp_ms(value) <= after


def test_exact_layout() -> None:
    make = UuidV7Factory(clock_ms=FakeClock(0x0123_4567_89AB), randbits=fixed_bits(-1))
    value = make()
    # ts | 7 | counter seeded with 11 one-bits | variant 10 | 62 one-bits
    assert str(value) == "01234567-89ab-77ff-bfff-ffffffffffff"
    assert timestamp_ms(value) == 0x0123_4567_89AB


def test_ids_sort_by_creation_time_across_milliseconds() -> None:
    clock = FakeClock(1_700_000_000_000)
    make = UuidV7Factory(clock_ms=clock)
    made: list[uuid.UUID] = []
    for step in range(200):
        clock.ms += step % 3  # several ids per millisecond, then a jump
        made.append(make())
    assert sorted(made) == made
    assert sorted(made, key=str) == made
    assert sorted(made, key=lambda value: value.bytes) == made
    assert len(set(made)) == len(made)
    assert [timestamp_ms(value) for value in made] == sorted(timestamp_ms(v) for v in made)


def test_new_id_sorts_across_real_milliseconds() -> None:
    first = new_id()
    time.sleep(0.002)
    second = new_id()
    assert timestamp_ms(first) < timestamp_ms(second)
    assert first < second


def test_ids_increase_within_one_millisecond_even_when_random_bits_fall() -> None:
    falling: Iterator[int] = iter(range(10_000, 0, -1))
    make = UuidV7Factory(clock_ms=FakeClock(5), randbits=lambda bits: next(falling) % (1 << bits))
    made = [make() for _ in range(100)]
    assert sorted(made) == made
    assert {timestamp_ms(value) for value in made} == {5}


def test_counter_overflow_borrows_the_next_millisecond() -> None:
    make = UuidV7Factory(clock_ms=FakeClock(10), randbits=fixed_bits(-1))
    made = [make() for _ in range(0x1000 - 0x7FF + 1)]
    assert sorted(made) == made
    assert timestamp_ms(made[-2]) == 10
    assert timestamp_ms(made[-1]) == 11


def test_a_clock_going_backwards_keeps_the_order() -> None:
    clock = FakeClock(1_000)
    make = UuidV7Factory(clock_ms=clock)
    first = make()
    clock.ms = 900
    second = make()
    assert first < second
    assert timestamp_ms(second) == 1_000


def test_ids_from_many_threads_are_unique_and_each_thread_sees_them_increase() -> None:
    results: list[list[uuid.UUID]] = [[] for _ in range(8)]

    def work(out: list[uuid.UUID]) -> None:
        out.extend(new_id() for _ in range(2_000))

    threads = [threading.Thread(target=work, args=(out,)) for out in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [value for out in results for value in out]
    assert len(set(everything)) == len(everything)
    for out in results:
        assert sorted(out) == out


def test_timestamp_ms_refuses_other_versions() -> None:
    with pytest.raises(ValueError, match="is not a UUIDv7 \\(version 4\\)"):
        timestamp_ms(uuid.uuid4())
