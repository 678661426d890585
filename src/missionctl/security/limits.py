"""Rate limits at the edge (ADR 0010): sign-ins, API tokens, and what anonymous clients record.

Failed sign-ins are counted per account and per address (:meth:`EdgeLimits.sign_in_checks`).
A browser the account signed in on before (its known-device cookie, ADR 0077) is not held to
the account's count, which anyone who knows the name can fill: it has a count of its own, per
account and device, beside the address's. So the owner's known browser keeps signing in while
guesses from elsewhere are refused.

They are in-process (``domain.access.RateLimiter``): with several server processes each
limits on its own, which still bounds guessing to a small multiple of the configured rate.

Requests without an identity can append to the event log, which is append-only and never
cleaned: a refusal (``access.denied``) and a failed sign-in (``user.sign_in_failed``). Each kind
is recorded at most ``RECORDS_PER_MINUTE`` times per client per minute, a client being an IPv4
address or an IPv6 /64 network (:func:`client_key`: one host commonly holds a whole /64 and
can rotate through it). All anonymous clients together get at most
``ANONYMOUS_RECORDS_PER_MINUTE`` records a minute, so many addresses cannot flood the log
either. The records left out are counted, and the next event of that kind recorded carries
``dropped``: how many of this client's were left out since its previous one, plus how many
the cap on all clients left out since the previous event of that kind. Every record left out
is so counted once, in one ``dropped`` (while the counts fit in memory, ``MAX_DROP_COUNTS``).
The answers to the client do not change (401, 403, 429).
"""

import ipaddress
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from missionctl.domain.access import RateLimiter
from missionctl.settings import ServerSettings

# A client may knock at most this often per minute before its denials (or failed sign-ins)
# stop being recorded; this keeps the append-only log from being flooded.
RECORDS_PER_MINUTE = 30
# All anonymous clients together, per minute: ten clients knocking at their own limit. Enough
# that every refusal of an ordinary incident (a few stale links, a misconfigured script) is
# recorded, while a botnet or one host rotating addresses adds at most 300 events a minute.
ANONYMOUS_RECORDS_PER_MINUTE = 300
# The prefix an IPv6 client is counted by: a /64 is one subnet, usually one host or one site.
IPV6_CLIENT_PREFIX = 64
# An address may fail this many times more than one account may: several people can share an
# address, but one address should not try passwords across many accounts.
ADDRESS_FACTOR = 5
# Clients whose drops are remembered at once; beyond it the oldest count is forgotten (its
# client's next record then says nothing was dropped), so memory stays bounded.
MAX_DROP_COUNTS = 100_000
# Callbacks of external HTTP agents a client may post per minute (ADR 0061): far more than one
# agent answering its steps needs, few enough that guessing a 256-bit token stays hopeless and
# a flood costs little.
CALLBACKS_PER_MINUTE = 600


def _records_limiter() -> RateLimiter:
    return RateLimiter(limit=RECORDS_PER_MINUTE, window_s=60.0)


def _anonymous_limiter() -> RateLimiter:
    return RateLimiter(limit=ANONYMOUS_RECORDS_PER_MINUTE, window_s=60.0)


def _device_limiter() -> RateLimiter:
    return RateLimiter(limit=10, window_s=300.0)


def _callbacks_limiter() -> RateLimiter:
    return RateLimiter(limit=CALLBACKS_PER_MINUTE, window_s=60.0)


def client_key(address: str | None) -> str:
    """The client a record counts against: an IPv4 address, or an IPv6 address's /64 network.

    An IPv4-mapped IPv6 address counts as its IPv4 address; anything that is not an address
    (``None``, a test client's name) counts as itself.
    """
    if address is None:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_CLIENT_PREFIX), strict=False))
    return str(ip)


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
    anonymous_records: RateLimiter = field(default_factory=_anonymous_limiter)
    dropped: DropCounts = field(default_factory=DropCounts)
    callbacks: RateLimiter = field(default_factory=_callbacks_limiter)
    # The defaults' count and window; ``from_settings`` gives it the configured ones.
    sign_in_device: RateLimiter = field(default_factory=_device_limiter)

    @classmethod
    def from_settings(cls, server: ServerSettings) -> "EdgeLimits":
        """Limiters with the configured windows."""
        window = float(server.sign_in_window_s)
        return cls(
            sign_in_account=RateLimiter(limit=server.sign_in_attempts, window_s=window),
            sign_in_device=RateLimiter(limit=server.sign_in_attempts, window_s=window),
            sign_in_address=RateLimiter(
                limit=server.sign_in_attempts * ADDRESS_FACTOR, window_s=window
            ),
            api_token=RateLimiter(limit=server.api_requests_per_minute, window_s=60.0),
            denial_records=_records_limiter(),
            sign_in_failure_records=_records_limiter(),
        )

    def sign_in_checks(
        self, *, account: str, address: str | None, device_id: str | None
    ) -> list[tuple[RateLimiter, str]]:
        """The limiters, with their keys, that a password sign-in of ``account`` counts against.

        The address's (its :func:`client_key`) always; the account's, or, from a browser known
        to ``account`` (``device_id``), that account-and-device pair's instead.
        """
        if device_id is None:
            personal = (self.sign_in_account, account)
        else:
            personal = (self.sign_in_device, f"{account}|{device_id}")
        return [personal, (self.sign_in_address, client_key(address))]

    def admit_denial(self, actor: str | None, address: str | None) -> int | None:
        """Whether to record an ``access.denied`` of ``actor`` (``None``: anonymous) at ``address``.

        Counted per actor and client (:func:`client_key`); anonymous ones also against the cap
        on all anonymous clients.

        Returns:
            ``None``: do not record it (it is counted); otherwise record it with this many
            ``dropped`` (see the module docstring).
        """
        key = f"{actor}|{client_key(address)}"
        return self._admit(self.denial_records, "access.denied", key, anonymous=actor is None)

    def admit_sign_in_failure(self, address: str | None) -> int | None:
        """Whether to record a ``user.sign_in_failed`` from ``address``; as ``admit_denial``."""
        return self._admit(
            self.sign_in_failure_records,
            "user.sign_in_failed",
            client_key(address),
            anonymous=True,
        )

    def _admit(self, limiter: RateLimiter, kind: str, key: str, *, anonymous: bool) -> int | None:
        client = f"{kind}|{key}"
        if not limiter.hit(client).allowed:
            self.dropped.drop(client)
            return None
        if not anonymous:
            return self.dropped.take(client)
        everyone = f"{kind}|*"
        if not self.anonymous_records.hit("anonymous").allowed:
            self.dropped.drop(everyone)
            return None
        return self.dropped.take(client) + self.dropped.take(everyone)
