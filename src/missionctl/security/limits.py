"""Rate limits at the edge (ADR 0010): sign-ins, API tokens, and what anonymous clients record.

Failed sign-ins are counted per account and per address (:meth:`EdgeLimits.sign_in_checks`).
A browser the account signed in on before (its known-device cookie, ADR 0077) is not held to
the account's count, which anyone who knows the name can fill: it has a count of its own, per
account and device, beside the address's. So the owner's known browser keeps signing in while
guesses from elsewhere are refused.

Every limiter is a :class:`Limiter`. With ``MISSIONCTL_SERVER_RATE_LIMITS=database`` (the
default on PostgreSQL and under ``serve --workers``) each is a :class:`SharedLimiter`, whose
attempts are rows every server process of the database counts (ADR 0113): two servers behind
a load balancer allow the configured rate, not twice it. Otherwise each is a
:class:`ProcessLimiter` in this process's memory (``domain.access.RateLimiter``), which costs
no write per request.

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

import hashlib
import ipaddress
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from missionctl.domain.access import RateDecision, RateLimiter
from missionctl.services import ServiceContext
from missionctl.services.usecases import rate_limits
from missionctl.settings import ServerSettings, Settings

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


# How often a process deletes the shared attempts every window has forgotten.
PURGE_EVERY_S = 60.0


class Limiter(Protocol):
    """At most ``limit`` recorded attempts per key in any ``window_s`` (``RateLimiter``'s rules).

    :meth:`hit` records an allowed attempt and refuses one beyond the limit; :meth:`check`
    records nothing; :meth:`reset` forgets a key.
    """

    @property
    def limit(self) -> int:
        """Attempts allowed per window."""
        ...

    @property
    def window_s(self) -> float:
        """The window's length in seconds."""
        ...

    async def hit(self, key: str) -> RateDecision:
        """Record an attempt for ``key`` if it is allowed now; say whether it was."""
        ...

    async def check(self, key: str) -> RateDecision:
        """Whether an attempt for ``key`` would be allowed now (records nothing)."""
        ...

    async def reset(self, key: str) -> None:
        """Forget every attempt recorded for ``key``."""
        ...


class ProcessLimiter:
    """A :class:`Limiter` in this process's memory."""

    def __init__(self, counts: RateLimiter) -> None:
        self.counts = counts

    @property
    def limit(self) -> int:
        """Attempts allowed per window."""
        return self.counts.limit

    @property
    def window_s(self) -> float:
        """The window's length in seconds."""
        return self.counts.window_s

    async def hit(self, key: str) -> RateDecision:
        """As ``RateLimiter.hit``."""
        return self.counts.hit(key)

    async def check(self, key: str) -> RateDecision:
        """As ``RateLimiter.check``."""
        return self.counts.check(key)

    async def reset(self, key: str) -> None:
        """As ``RateLimiter.reset``."""
        self.counts.reset(key)


class SharedCounts:
    """Where the :class:`SharedLimiter` of one app count: the database of ``context()``.

    ``context`` is called at each attempt (the app's context exists once its lifespan has
    begun); ``clock`` is wall-clock seconds, which every process of the database shares.
    Every ``PURGE_EVERY_S`` one attempt also deletes the attempts older than the longest
    window (a day, the longest a sign-in window may be).
    """

    def __init__(
        self, context: Callable[[], ServiceContext], *, clock: Callable[[], float] = time.time
    ) -> None:
        self.context = context
        self.clock = clock
        self.longest_window_s = 86_400.0
        self._next_purge = 0.0

    def purge_before(self, now: float) -> float | None:
        """The time before which this attempt should purge, or ``None`` (not due yet)."""
        if now < self._next_purge:
            return None
        self._next_purge = now + PURGE_EVERY_S
        return now - self.longest_window_s


class SharedLimiter:
    """A :class:`Limiter` whose attempts every process of the database counts (ADR 0113).

    A key's attempts are the rows of its bucket: the SHA-256 of the limiter's ``name`` and the
    key, so the table holds no account name or address.
    """

    def __init__(self, counts: SharedCounts, name: str, *, limit: int, window_s: float) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("limit must be at least 1 and window_s positive")
        self.counts = counts
        self.name = name
        self.limit = limit
        self.window_s = window_s

    def bucket(self, key: str) -> str:
        """The bucket of ``key``'s attempts."""
        return hashlib.sha256(f"{self.name}\n{key}".encode()).hexdigest()

    async def hit(self, key: str) -> RateDecision:
        """As ``RateLimiter.hit``, counted in the database."""
        now = self.counts.clock()
        return await rate_limits.hit(
            self.counts.context(),
            self.bucket(key),
            limit=self.limit,
            window_s=self.window_s,
            now=now,
            purge_before=self.counts.purge_before(now),
        )

    async def check(self, key: str) -> RateDecision:
        """As ``RateLimiter.check``, counted in the database."""
        return await rate_limits.check(
            self.counts.context(),
            self.bucket(key),
            limit=self.limit,
            window_s=self.window_s,
            now=self.counts.clock(),
        )

    async def reset(self, key: str) -> None:
        """As ``RateLimiter.reset``."""
        await rate_limits.reset(self.counts.context(), self.bucket(key))


def shares_limits(settings: Settings) -> bool:
    """Whether the server's rate limits count in the database (``MISSIONCTL_SERVER_RATE_LIMITS``).

    ``auto``: on PostgreSQL (a database several servers can share) and when ``serve`` runs
    several worker processes.
    """
    chosen = settings.server.rate_limits
    if chosen != "auto":
        return chosen == "database"
    return settings.database_url.startswith("postgresql") or settings.server.workers > 1


def _records_limiter() -> Limiter:
    return ProcessLimiter(RateLimiter(limit=RECORDS_PER_MINUTE, window_s=60.0))


def _anonymous_limiter() -> Limiter:
    return ProcessLimiter(RateLimiter(limit=ANONYMOUS_RECORDS_PER_MINUTE, window_s=60.0))


def _device_limiter() -> Limiter:
    return ProcessLimiter(RateLimiter(limit=10, window_s=300.0))


def _callbacks_limiter() -> Limiter:
    return ProcessLimiter(RateLimiter(limit=CALLBACKS_PER_MINUTE, window_s=60.0))


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


async def blocked(checks: list[tuple[Limiter, str]]) -> float | None:
    """Seconds until every limiter of ``checks`` would allow an attempt; ``None``: all allow one."""
    waits = []
    for limiter, key in checks:
        decision = await limiter.check(key)
        if not decision.allowed:
            waits.append(decision.retry_after_s)
    return max(waits) if waits else None


async def count_failure(checks: list[tuple[Limiter, str]]) -> None:
    """Count a failed attempt against every limiter of ``checks``."""
    for limiter, key in checks:
        await limiter.hit(key)


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

    sign_in_account: Limiter
    sign_in_address: Limiter
    api_token: Limiter
    denial_records: Limiter
    sign_in_failure_records: Limiter = field(default_factory=_records_limiter)
    anonymous_records: Limiter = field(default_factory=_anonymous_limiter)
    dropped: DropCounts = field(default_factory=DropCounts)
    callbacks: Limiter = field(default_factory=_callbacks_limiter)
    # The defaults' count and window; ``from_settings`` gives it the configured ones.
    sign_in_device: Limiter = field(default_factory=_device_limiter)

    @classmethod
    def from_settings(
        cls, server: ServerSettings, *, shared: SharedCounts | None = None
    ) -> "EdgeLimits":
        """Limiters with the configured windows: in the database of ``shared``, else in memory."""
        window = float(server.sign_in_window_s)

        def limiter(name: str, limit: int, window_s: float) -> Limiter:
            if shared is None:
                return ProcessLimiter(RateLimiter(limit=limit, window_s=window_s))
            return SharedLimiter(shared, name, limit=limit, window_s=window_s)

        return cls(
            sign_in_account=limiter("sign_in_account", server.sign_in_attempts, window),
            sign_in_device=limiter("sign_in_device", server.sign_in_attempts, window),
            sign_in_address=limiter(
                "sign_in_address", server.sign_in_attempts * ADDRESS_FACTOR, window
            ),
            api_token=limiter("api_token", server.api_requests_per_minute, 60.0),
            denial_records=limiter("denial_records", RECORDS_PER_MINUTE, 60.0),
            sign_in_failure_records=limiter("sign_in_failure_records", RECORDS_PER_MINUTE, 60.0),
            anonymous_records=limiter("anonymous_records", ANONYMOUS_RECORDS_PER_MINUTE, 60.0),
            callbacks=limiter("callbacks", CALLBACKS_PER_MINUTE, 60.0),
        )

    def sign_in_checks(
        self, *, account: str, address: str | None, device_id: str | None
    ) -> list[tuple[Limiter, str]]:
        """The limiters, with their keys, that a password sign-in of ``account`` counts against.

        The address's (its :func:`client_key`) always; the account's, or, from a browser known
        to ``account`` (``device_id``), that account-and-device pair's instead.
        """
        if device_id is None:
            personal = (self.sign_in_account, account)
        else:
            personal = (self.sign_in_device, f"{account}|{device_id}")
        return [personal, (self.sign_in_address, client_key(address))]

    async def admit_denial(self, actor: str | None, address: str | None) -> int | None:
        """Whether to record an ``access.denied`` of ``actor`` (``None``: anonymous) at ``address``.

        Counted per actor and client (:func:`client_key`); anonymous ones also against the cap
        on all anonymous clients.

        Returns:
            ``None``: do not record it (it is counted); otherwise record it with this many
            ``dropped`` (see the module docstring).
        """
        key = f"{actor}|{client_key(address)}"
        return await self._admit(self.denial_records, "access.denied", key, anonymous=actor is None)

    async def admit_sign_in_failure(self, address: str | None) -> int | None:
        """Whether to record a ``user.sign_in_failed`` from ``address``; as ``admit_denial``."""
        return await self._admit(
            self.sign_in_failure_records,
            "user.sign_in_failed",
            client_key(address),
            anonymous=True,
        )

    async def _admit(self, limiter: Limiter, kind: str, key: str, *, anonymous: bool) -> int | None:
        client = f"{kind}|{key}"
        if not (await limiter.hit(client)).allowed:
            self.dropped.drop(client)
            return None
        if not anonymous:
            return self.dropped.take(client)
        everyone = f"{kind}|*"
        if not (await self.anonymous_records.hit("anonymous")).allowed:
            self.dropped.drop(everyone)
            return None
        return self.dropped.take(client) + self.dropped.take(everyone)
