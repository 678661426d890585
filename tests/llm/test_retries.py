"""The retry policy as pure functions: which statuses, how long, what Retry-After means."""

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from missionctl.llm.retries import backoff_delay, is_retryable_status, parse_retry_after


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 529])
def test_transient_statuses_are_retryable(status: int) -> None:
    assert is_retryable_status(status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422])
def test_client_errors_are_not(status: int) -> None:
    assert not is_retryable_status(status)


@given(
    retry=st.integers(min_value=0, max_value=200),
    base=st.floats(min_value=0, max_value=10),
    cap=st.floats(min_value=0, max_value=60),
    seed=st.integers(),
)
def test_full_jitter_stays_within_the_exponential_ceiling(
    retry: int, base: float, cap: float, seed: int
) -> None:
    delay = backoff_delay(retry, base_s=base, max_s=cap, rng=random.Random(seed))

    assert 0.0 <= delay <= cap
    if retry < 64:
        assert delay <= base * 2**retry


@given(asked=st.floats(min_value=0, max_value=1e6), cap=st.floats(min_value=0, max_value=60))
def test_retry_after_is_obeyed_up_to_the_cap(asked: float, cap: float) -> None:
    assert backoff_delay(3, base_s=0.5, max_s=cap, retry_after_s=asked) == min(asked, cap)


def test_jitter_is_reproducible_with_a_seeded_rng() -> None:
    first = [backoff_delay(i, base_s=0.5, max_s=8, rng=random.Random(7)) for i in range(5)]
    again = [backoff_delay(i, base_s=0.5, max_s=8, rng=random.Random(7)) for i in range(5)]

    assert first == again


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "0"}, 0.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "-3"}, None),
        ({"retry-after": "nan"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers) == expected


def test_parse_retry_after_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    earlier = format_datetime(now - timedelta(seconds=30), usegmt=True)

    assert parse_retry_after({"Retry-After": later}, now=now) == 30.0
    assert parse_retry_after({"Retry-After": earlier}, now=now) == 0.0
