"""The rate limits the edge applies (ADR 0010): sign-in, API tokens, and denial records.

They are in-process (``domain.access.RateLimiter``): with several server processes each
limits on its own, which still bounds guessing to a small multiple of the configured rate.
"""

from dataclasses import dataclass

from missionctl.domain.access import RateLimiter
from missionctl.settings import ServerSettings

# A client may knock at most this often per minute before its denials stop being recorded
# (each one still gets its 401 or 403); this keeps the append-only log from being flooded.
DENIALS_RECORDED_PER_MINUTE = 30
# An address may fail this many times more than one account may: several people can share an
# address, but one address should not try passwords across many accounts.
ADDRESS_FACTOR = 5


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    """The limiters one app uses, built from the server settings."""

    sign_in_account: RateLimiter
    sign_in_address: RateLimiter
    api_token: RateLimiter
    denial_records: RateLimiter

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
            denial_records=RateLimiter(limit=DENIALS_RECORDED_PER_MINUTE, window_s=60.0),
        )
