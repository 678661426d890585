"""Time-ordered ids: UUIDv7 (RFC 9562, section 5.7).

Layout of the 128 bits, most significant first::

    48 bits  unix_ts_ms   milliseconds since the Unix epoch
     4 bits  ver          0b0111
    12 bits  rand_a       a counter, seeded at random each millisecond (RFC 9562 §6.2, method 1)
     2 bits  var          0b10
    62 bits  rand_b       fresh random bits for every id

Ids made by one process sort (as UUIDs, as strings, or as bytes) in the order they were made,
even within one millisecond: the counter increases until it would overflow, and then the id
borrows the next millisecond. If the clock goes backwards, ids keep the last timestamp used,
so the order still holds. Ids from different processes are ordered by millisecond only.
"""

import secrets
import threading
import time
import uuid
from collections.abc import Callable

__all__ = ["UuidV7Factory", "new_id", "timestamp_ms"]

_COUNTER_MAX = 0xFFF
# Seeds use 11 of the 12 counter bits so that at least 2,048 ids fit in each millisecond
# before the counter overflows into the next one.
_SEED_BITS = 11


def _clock_ms() -> int:
    return time.time_ns() // 1_000_000


class UuidV7Factory:
    """Make UUIDv7 values that increase strictly, safely from several threads.

    Args:
        clock_ms: Returns the current Unix time in milliseconds (injectable for tests).
        randbits: Returns that many random bits as an int (injectable for tests).
    """

    def __init__(
        self,
        clock_ms: Callable[[], int] = _clock_ms,
        randbits: Callable[[int], int] = secrets.randbits,
    ) -> None:
        self._clock_ms = clock_ms
        self._randbits = randbits
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0

    def __call__(self) -> uuid.UUID:
        """Return a new UUIDv7, greater than every one this factory returned before."""
        with self._lock:
            now = self._clock_ms()
            if now > self._last_ms:
                self._last_ms = now
                self._counter = self._randbits(_SEED_BITS)
            elif self._counter < _COUNTER_MAX:
                self._counter += 1
            else:
                self._last_ms += 1
                self._counter = self._randbits(_SEED_BITS)
            unix_ts_ms, counter = self._last_ms, self._counter
        value = (
            (unix_ts_ms & 0xFFFF_FFFF_FFFF) << 80
            | 0x7 << 76
            | counter << 64
            | 0b10 << 62
            | self._randbits(62)
        )
        return uuid.UUID(int=value)


_default_factory = UuidV7Factory()


def new_id() -> uuid.UUID:
    """Return a new UUIDv7; later calls in this process return greater ids."""
    return _default_factory()


def timestamp_ms(value: uuid.UUID) -> int:
    """Return the Unix time in milliseconds stored in a UUIDv7.

    Raises:
        ValueError: If ``value`` is not a version 7 UUID.
    """
    if value.version != 7:
        raise ValueError(f"{value} is not a UUIDv7 (version {value.version})")
    return value.int >> 80
