"""Who may do what: roles, permissions, identities and rate-limit decisions, as pure data.

Roles are ordered ``viewer < operator < approver < admin``; each role holds every permission of
the roles below it plus its own grants (``GRANTS``). ``ROLE_PERMISSIONS`` is derived from that
table, so the ladder cannot be broken by editing one row. A credential never acts above its
owner's role, and an API token never above its ceiling either (:func:`ceiling`).

Nothing here reads the clock or the database: :class:`RateLimiter` takes its clock as an
argument, so tests drive time by hand.
"""

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, NamedTuple

__all__ = [
    "GRANTS",
    "NAME_PATTERN",
    "ROLES",
    "ROLE_PERMISSIONS",
    "Identity",
    "Permission",
    "RateDecision",
    "RateLimiter",
    "Role",
    "allows",
    "ceiling",
    "is_valid_name",
    "rank",
]


class Role(StrEnum):
    """A user's role; the declaration order is the order of power."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    APPROVER = "approver"
    ADMIN = "admin"


ROLES: Final[tuple[Role, ...]] = tuple(Role)


class Permission(StrEnum):
    """One thing a route or command may require. ``area:verb``."""

    # Reading (viewer)
    MISSIONS_READ = "missions:read"
    WORKFLOWS_READ = "workflows:read"
    RUNS_READ = "runs:read"
    ARTIFACTS_READ = "artifacts:read"
    APPROVALS_READ = "approvals:read"
    AGENTS_READ = "agents:read"
    AUDIT_READ = "audit:read"
    PRICES_READ = "prices:read"
    METRICS_READ = "metrics:read"  # /metrics for a Prometheus scraper's token
    ANALYTICS_READ = "analytics:read"  # the product's own activity (ADR 0068)
    # Doing (operator)
    MISSIONS_WRITE = "missions:write"
    WORKFLOWS_WRITE = "workflows:write"
    RUNS_CONTROL = "runs:control"  # start, cancel, retry, rerun
    EMERGENCY_STOP = "emergency:stop"
    WORKERS_CONTROL = "workers:control"  # drain, resume, stop, change concurrency
    SCHEDULES_WRITE = "schedules:write"  # add, pause, resume, delete, run now
    # Deciding (approver)
    APPROVALS_DECIDE = "approvals:decide"
    # Administering (admin)
    USERS_ADMIN = "users:admin"
    TOKENS_ADMIN = "tokens:admin"
    PRICES_ADMIN = "prices:admin"
    POLICIES_ADMIN = "policies:admin"
    AGENTS_ADMIN = "agents:admin"
    EMERGENCY_RELEASE = "emergency:release"
    WEBHOOKS_ADMIN = "webhooks:admin"  # subscriptions hold signing secrets and endpoints


# What each role adds to the one below it (viewer reads; operator creates, runs,
# cancels and retries; approver also approves and rejects; admin does everything).
GRANTS: Final[Mapping[Role, frozenset[Permission]]] = {
    Role.VIEWER: frozenset(
        {
            Permission.MISSIONS_READ,
            Permission.WORKFLOWS_READ,
            Permission.RUNS_READ,
            Permission.ARTIFACTS_READ,
            Permission.APPROVALS_READ,
            Permission.AGENTS_READ,
            Permission.AUDIT_READ,
            Permission.PRICES_READ,
            Permission.METRICS_READ,
            Permission.ANALYTICS_READ,
        }
    ),
    Role.OPERATOR: frozenset(
        {
            Permission.MISSIONS_WRITE,
            Permission.WORKFLOWS_WRITE,
            Permission.RUNS_CONTROL,
            # Whoever may start work may also stop all of it; only an admin may let it resume.
            Permission.EMERGENCY_STOP,
            Permission.WORKERS_CONTROL,
            Permission.SCHEDULES_WRITE,
        }
    ),
    Role.APPROVER: frozenset({Permission.APPROVALS_DECIDE}),
    Role.ADMIN: frozenset(
        {
            Permission.USERS_ADMIN,
            Permission.TOKENS_ADMIN,
            Permission.PRICES_ADMIN,
            Permission.POLICIES_ADMIN,
            Permission.AGENTS_ADMIN,
            Permission.EMERGENCY_RELEASE,
            Permission.WEBHOOKS_ADMIN,
        }
    ),
}


def _cumulative() -> dict[Role, frozenset[Permission]]:
    table: dict[Role, frozenset[Permission]] = {}
    held: frozenset[Permission] = frozenset()
    for role in ROLES:
        held = held | GRANTS[role]
        table[role] = held
    return table


ROLE_PERMISSIONS: Final[Mapping[Role, frozenset[Permission]]] = _cumulative()

# User and token names: a lower-case slug, so that ``user:NAME`` and ``token:NAME`` are valid
# event actors and read the same in URLs, shells and logs.
# Match with ``fullmatch`` (``is_valid_name``): ``$`` would accept a trailing newline.
NAME_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")

# How long a one-time sign-in link stays valid unless its maker says otherwise (15 minutes):
# the first start's link, `missionctl login-link`'s and the Users page's. Messages that state a
# link's lifetime are worded from it (``services.usecases.sign_in_links.lifetime_words``).
SIGN_IN_LINK_TTL_S: Final = 900

# Event types of this area (ADR 0010; no payload carries a password, hash or secret).
USER_CREATED: Final = "user.created"
USER_ROLE_CHANGED: Final = "user.role_changed"
USER_DISABLED: Final = "user.disabled"
USER_PASSWORD_SET: Final = "user.password_set"
USER_SIGNED_IN: Final = "user.signed_in"
TOKEN_CREATED: Final = "token.created"
TOKEN_REVOKED: Final = "token.revoked"
SIGN_IN_LINK_CREATED: Final = "sign_in_link.created"
USER_SIGN_IN_FAILED: Final = "user.sign_in_failed"
USER_SIGNED_OUT: Final = "user.signed_out"
ACCESS_DENIED: Final = "access.denied"


def is_valid_name(name: str) -> bool:
    """Whether ``name`` is a valid user or token name (a lower-case slug of 1 to 63 chars)."""
    return NAME_PATTERN.fullmatch(name) is not None


def rank(role: Role) -> int:
    """The role's position in the order of power (viewer is 0)."""
    return ROLES.index(role)


def allows(role: Role, permission: Permission) -> bool:
    """Whether ``role`` holds ``permission``."""
    return permission in ROLE_PERMISSIONS[role]


def ceiling(role: Role, token_ceiling: Role | None) -> Role:
    """The role a credential acts with: its owner's ``role``, capped at ``token_ceiling``.

    A token never exceeds its owner's role (a demoted owner demotes their tokens at once) nor
    its own ceiling. ``None`` means no ceiling beyond the owner's role.
    """
    if token_ceiling is None:
        return role
    return min(role, token_ceiling, key=rank)


@dataclass(frozen=True, slots=True)
class Identity:
    """Someone authenticated: who acts (the event actor), for which user, with which role.

    ``actor`` is ``user:NAME`` for a person signed in (password or one-time link) and
    ``token:NAME`` for an API token; ``role`` is the effective role after any token ceiling.
    ``SYSTEM_IDENTITY`` is Mission Control itself, which is no user (``user_name`` empty).
    """

    actor: str
    user_name: str
    role: Role

    def allows(self, permission: Permission) -> bool:
        """Whether this identity holds ``permission``."""
        return allows(self.role, permission)

    @property
    def person(self) -> str | None:
        """The user who acts, or ``None`` for the system (a decision it makes is no one's)."""
        return self.user_name or None


SYSTEM_ACTOR: Final = "system"
SYSTEM_IDENTITY: Final = Identity(actor=SYSTEM_ACTOR, user_name="", role=Role.ADMIN)
"""Mission Control itself: a command on this machine's database acts as it (ADR 0010)."""


class RateDecision(NamedTuple):
    """A rate-limit answer: ``allowed``, else how many seconds until an attempt may succeed."""

    allowed: bool
    retry_after_s: float


class RateLimiter:
    """A sliding-window log: at most ``limit`` recorded attempts per key in any ``window_s``.

    Use :meth:`hit` where every attempt counts (API requests per token): it records the attempt
    when allowed and refuses it otherwise. Use :meth:`check` then :meth:`hit` where only failures
    count (sign-in per account and per address): check before verifying, hit after a failure;
    a correct password is then refused too while the window is full, so guessing cannot continue
    by interleaving a known-good attempt. :meth:`reset` forgets a key.

    Refused attempts are not recorded, so a client that keeps knocking is not locked out for
    longer than the window. Memory is bounded: keys whose attempts all left the window are
    dropped, and beyond ``max_keys`` the least recently used key is forgotten.

    Args:
        limit: attempts allowed per window (at least 1).
        window_s: window length in seconds (positive).
        clock: monotonic seconds (injectable for tests).
        max_keys: most keys remembered at once.
    """

    def __init__(
        self,
        *,
        limit: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if window_s <= 0:
            raise ValueError("window_s must be positive")
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> deque[float] | None:
        hits = self._hits.get(key)
        if hits is None:
            return None
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return None
        return hits

    def _decide(self, hits: deque[float] | None, now: float) -> RateDecision:
        if hits is None or len(hits) < self.limit:
            return RateDecision(True, 0.0)
        # The attempt that frees a slot is the oldest of the last ``limit`` ones.
        return RateDecision(False, max(0.0, hits[-self.limit] + self.window_s - now))

    def check(self, key: str) -> RateDecision:
        """Whether an attempt for ``key`` would be allowed now (records nothing)."""
        with self._lock:
            now = self._clock()
            return self._decide(self._live(key, now), now)

    def hit(self, key: str) -> RateDecision:
        """Record an attempt for ``key`` if it is allowed now; say whether it was."""
        with self._lock:
            now = self._clock()
            hits = self._live(key, now)
            decision = self._decide(hits, now)
            if not decision.allowed:
                return decision
            if hits is None:
                hits = self._hits[key] = deque()
            else:  # most recently used keys go last
                self._hits[key] = self._hits.pop(key)
            hits.append(now)
            self._evict(now)
            return decision

    def reset(self, key: str) -> None:
        """Forget every attempt recorded for ``key``."""
        with self._lock:
            self._hits.pop(key, None)

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._hits)

    def _evict(self, now: float) -> None:
        if len(self._hits) <= self._max_keys:
            return
        for key in list(self._hits):
            self._live(key, now)
        while len(self._hits) > self._max_keys:
            del self._hits[next(iter(self._hits))]
