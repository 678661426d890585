"""The pure access rules: the role ladder, every role and permission, ceilings, rate limits."""

import itertools

import pytest

from missionctl.domain.access import (
    GRANTS,
    ROLE_PERMISSIONS,
    ROLES,
    Identity,
    Permission,
    RateDecision,
    RateLimiter,
    Role,
    allows,
    ceiling,
    is_valid_name,
    rank,
)

# The specification, written independently of the tables: the least role that holds each
# permission. A permission missing here fails `test_every_permission_is_specified`.
LEAST_ROLE: dict[str, Role] = {
    "missions:read": Role.VIEWER,
    "workflows:read": Role.VIEWER,
    "runs:read": Role.VIEWER,
    "artifacts:read": Role.VIEWER,
    "approvals:read": Role.VIEWER,
    "analytics:read": Role.VIEWER,
    "agents:read": Role.VIEWER,
    "audit:read": Role.VIEWER,
    "prices:read": Role.VIEWER,
    "metrics:read": Role.VIEWER,
    "missions:write": Role.OPERATOR,
    "workflows:write": Role.OPERATOR,
    "runs:control": Role.OPERATOR,
    "emergency:stop": Role.OPERATOR,
    "workers:control": Role.OPERATOR,
    "schedules:write": Role.OPERATOR,
    "approvals:decide": Role.APPROVER,
    "users:admin": Role.ADMIN,
    "tokens:admin": Role.ADMIN,
    "prices:admin": Role.ADMIN,
    "policies:admin": Role.ADMIN,
    "agents:admin": Role.ADMIN,
    "emergency:release": Role.ADMIN,
    "webhooks:admin": Role.ADMIN,
}


def test_roles_are_ordered_viewer_operator_approver_admin() -> None:
    assert [r.value for r in ROLES] == ["viewer", "operator", "approver", "admin"]
    assert [rank(r) for r in ROLES] == [0, 1, 2, 3]


def test_every_permission_is_specified() -> None:
    assert {p.value for p in Permission} == set(LEAST_ROLE)


@pytest.mark.parametrize(
    ("role", "permission"),
    list(itertools.product(ROLES, Permission)),
    ids=lambda v: str(v),
)
def test_role_permission_matrix(role: Role, permission: Permission) -> None:
    expected = rank(role) >= rank(LEAST_ROLE[permission.value])
    assert allows(role, permission) is expected
    assert Identity(actor="user:x", user_name="x", role=role).allows(permission) is expected


def test_each_role_holds_everything_below_it() -> None:
    for lower, higher in itertools.pairwise(ROLES):
        assert ROLE_PERMISSIONS[lower] < ROLE_PERMISSIONS[higher]


def test_admin_holds_every_permission_and_grants_do_not_overlap() -> None:
    assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)
    for a, b in itertools.combinations(ROLES, 2):
        assert not GRANTS[a] & GRANTS[b]


def test_viewer_only_reads() -> None:
    assert all(p.value.endswith(":read") for p in ROLE_PERMISSIONS[Role.VIEWER])


@pytest.mark.parametrize(
    ("owner", "cap"), list(itertools.product(ROLES, [*ROLES, None])), ids=lambda v: str(v)
)
def test_a_token_never_exceeds_its_owner_or_its_ceiling(owner: Role, cap: Role | None) -> None:
    effective = ceiling(owner, cap)
    assert rank(effective) <= rank(owner)
    if cap is None:
        assert effective == owner
    else:
        assert rank(effective) <= rank(cap)
        assert effective in (owner, cap)
        assert ROLE_PERMISSIONS[effective] == ROLE_PERMISSIONS[owner] & ROLE_PERMISSIONS[cap]


@pytest.mark.parametrize("name", ["ada", "a", "ci-bot", "build.server_2", "0day", "x" * 63])
def test_names_that_are_slugs(name: str) -> None:
    assert is_valid_name(name)


@pytest.mark.parametrize(
    "name", ["", "Ada", "-ada", ".ada", "ada lovelace", "ada:x", "é", "x" * 64, "ada\n"]
)
def test_names_that_are_not(name: str) -> None:
    assert not is_valid_name(name)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_ten_wrong_attempts_limit_the_eleventh_until_the_window_passes() -> None:
    clock = FakeClock()
    limiter = RateLimiter(limit=10, window_s=300, clock=clock)
    for _ in range(10):
        assert limiter.check("account:ada").allowed
        limiter.hit("account:ada")  # a wrong password
        clock.now += 1
    # The 11th attempt (even with the right password) must wait for the first to leave.
    decision = limiter.check("account:ada")
    assert decision == RateDecision(False, pytest.approx(290.0))
    allowed, retry_after = limiter.hit("account:ada")
    assert not allowed and retry_after == pytest.approx(290.0)
    clock.now += retry_after - 0.001
    assert not limiter.check("account:ada").allowed
    clock.now += 0.001
    assert limiter.check("account:ada") == RateDecision(True, 0.0)


def test_keys_are_independent_and_reset_forgets() -> None:
    clock = FakeClock()
    limiter = RateLimiter(limit=2, window_s=60, clock=clock)
    assert limiter.hit("a").allowed and limiter.hit("a").allowed
    assert not limiter.hit("a").allowed
    assert limiter.hit("b").allowed
    limiter.reset("a")
    assert limiter.hit("a").allowed


def test_refused_attempts_do_not_extend_the_lockout() -> None:
    clock = FakeClock()
    limiter = RateLimiter(limit=3, window_s=10, clock=clock)
    for _ in range(3):
        limiter.hit("k")
    for _ in range(50):
        clock.now += 0.1
        assert not limiter.hit("k").allowed
    clock.now = 1010.0
    assert limiter.hit("k").allowed


def test_sliding_window_frees_one_slot_at_a_time() -> None:
    clock = FakeClock()
    limiter = RateLimiter(limit=2, window_s=10, clock=clock)
    limiter.hit("k")  # t=1000
    clock.now = 1004.0
    limiter.hit("k")  # t=1004
    assert limiter.check("k") == RateDecision(False, 6.0)
    clock.now = 1010.0
    assert limiter.hit("k").allowed  # the t=1000 attempt left; t=1004 and t=1010 remain
    assert limiter.check("k") == RateDecision(False, 4.0)


def test_memory_is_bounded() -> None:
    clock = FakeClock()
    limiter = RateLimiter(limit=1, window_s=10, clock=clock, max_keys=3)
    for key in "abcde":
        limiter.hit(key)
    assert len(limiter) == 3
    clock.now += 11
    limiter.hit("f")
    assert len(limiter) == 1  # expired keys are dropped first


@pytest.mark.parametrize(
    "kwargs",
    [
        {"limit": 0, "window_s": 1},
        {"limit": 1, "window_s": 0},
        {"limit": 1, "window_s": 1, "max_keys": 0},
    ],
)
def test_limiter_arguments_are_checked(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RateLimiter(**kwargs)  # type: ignore[arg-type]
