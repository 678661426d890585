"""Rate limits at the edge (ADR 0010): sign-ins, API tokens, and what anonymous clients record.

They are in-process (``domain.access.RateLimiter``): with several server processes each
limits on its own, which still bounds guessing to a small multiple of the configured rate.

Requests without an identity can append to the event log, which is append-only and never
cleaned: a refusal (``access.denied``) and a failed sign-in (``user.sign_in_failed``). Each kind
is recorded at most ``RECORDS_PER_MINUTE`` times per client per minute; the rest are counted,
and the next event of that kind recorded for that client carries ``dropped``: how many were
left out since the previous one. The answers to the client do not change (401, 403, 429).
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from missionctl.domain.access import RateLimiter
from missionctl.settings import ServerSettings

# A client may knock at most this often per minute before its denials (or failed sign-ins)
# stop being recorded; this keeps the append-only log from being flooded.
RECORDS_PER_MINUTE = 30
DENIALS_RECORDED_PER_MINUTE = RECORDS_PER_MINUTE
# An address may fail this many times more than one account may: several people can share an
# address, but one address should not try passwords across many accounts.
ADDRESS_FACTOR = 5
# Clients whose drops are remembered at once; beyond it the oldest count is forgotten (its
# client's next record then says nothing was dropped), so memory stays bounded.
MAX_DROP_COUNTS = 100_000


def _records_limiter() -> RateLimiter:
    return RateLimiter(limit=RECORDS_PER_MINUTE, window_s=60.0)


class DropCounts:
    """How many records each key had refused since its last recorded one (thread-safe)."""

    def __init__(self, max_keys: int = MAX_DROP_COUNTS) -> None:
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._max_keys = max_keys
        self._lock = threading.Lock()

    def drop(self, key: str) -> None:
        """Count one refused record of ``key``."""
        with self._lock:
            self._counts[key] = self._counts.pop(key, 0) + 1
            while len(self._counts) > self._max_keys:
                self._counts.popitem(last=False)

    def take(self, key: str) -> int:
        """The count of ``key``, reset to zero."""
        with self._lock:
            return self._counts.pop(key, 0)


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    """The limiters one app uses, built from the server settings."""

    sign_in_account: RateLimiter
    sign_in_address: RateLimiter
    api_token: RateLimiter
    denial_records: RateLimiter
    sign_in_failure_records: RateLimiter = field(default_factory=_records_limiter)
    dropped: DropCounts = field(default_factory=DropCounts)

    @classmethod
    def from_settings(cls, server: ServerSettings) -> "EdgeLimits":
        """Limiters with the configured windows."""
        window = float(server.sign_in_window_s)
        return cls(
            sign_in_account=RateLimiter(limit=server.sign_in_attempts, window_s=window),
            sign_in_address=RateLimiter(
                limit=server.sign_in_attempts * ADDRESS_FACTOR, window_s=window
            ),
            api_token=RateLimiter(limit=server.api_requests_per_minute, window_s=60.0),
            denial_records=_records_limiter(),
            sign_in_failure_records=_records_limiter(),
        )

    def admit_denial(self, client: str) -> int | None:
        """Whether to record an ``access.denied`` of ``client`` (identity and address).

        Returns:
            ``None``: do not record it (it is counted); otherwise record it with this many
            ``dropped`` since the last one recorded for ``client``.
        """
        return self._admit(self.denial_records, f"access.denied|{client}")

    def admit_sign_in_failure(self, address: str) -> int | None:
        """Whether to record a ``user.sign_in_failed`` from ``address``; as ``admit_denial``."""
        return self._admit(self.sign_in_failure_records, f"user.sign_in_failed|{address}")

    def _admit(self, limiter: RateLimiter, key: str) -> int | None:
        if not limiter.hit(key).allowed:
            self.dropped.drop(key)
            return None
        return self.dropped.take(key)
