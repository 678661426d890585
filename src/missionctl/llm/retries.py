"""When to retry a model call and how long to wait first.

Pure functions, so the policy is tested without a server: which HTTP statuses are transient,
exponential backoff with full jitter, and how a server's ``Retry-After`` overrides it.
"""

import math
import random
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# 408 and 429 say "not now"; 5xx say "not my fault". Every other 4xx is a request that will fail
# the same way again (bad key, unknown model, malformed body), so retrying only burns time.
_RETRYABLE_4XX = frozenset({408, 429})


def is_retryable_status(status_code: int) -> bool:
    """Whether a response with this status may succeed if the same request is sent again."""
    return status_code in _RETRYABLE_4XX or status_code >= 500


def backoff_delay(
    retry: int,
    *,
    base_s: float,
    max_s: float,
    retry_after_s: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``retry`` (0 for the first retry).

    Without ``retry_after_s`` this is "full jitter" backoff: a uniform draw from
    ``[0, min(max_s, base_s * 2**retry)]``, which spreads concurrent clients out instead of
    making them retry in lockstep. A server's ``retry_after_s`` is obeyed as given but never
    beyond ``max_s``, so a hostile or confused header cannot park a worker for an hour.

    Args:
        retry: Zero-based index of the retry about to happen.
        base_s: Ceiling of the first retry's wait.
        max_s: Upper bound of every wait.
        retry_after_s: What the server asked for, if anything.
        rng: Source of the jitter (a seeded one makes tests deterministic).

    Returns:
        A delay in seconds, ``0 <= delay <= max_s``.
    """
    if retry_after_s is not None:
        return min(max(retry_after_s, 0.0), max_s)
    # 2**retry overflows float for absurd retry counts; the cap makes the exact value moot.
    ceiling = max_s if retry >= 64 else min(max_s, base_s * 2.0**retry)
    return (rng or random).uniform(0.0, max(ceiling, 0.0))


def parse_retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Read how long the server wants us to wait, in seconds, from response headers.

    Understands ``retry-after-ms`` (sent by OpenAI), ``Retry-After: <seconds>`` and
    ``Retry-After: <HTTP-date>``. Header names are matched case-insensitively.

    Returns:
        Non-negative seconds, or None when no usable header is present.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    millis = _parse_float(lowered.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000.0
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    seconds = _parse_float(raw)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def _parse_float(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return value
