"""Anonymous clients cannot grow the append-only log: 300 knocks are at most 31 events.

The attack of the security review: 300 ``GET /sign-in?token=x…`` in a few seconds, with no
session and no CSRF token, appended 300 ``user.sign_in_failed`` events. Now each client gets
at most 30 such records a minute, and the first one recorded after the window rolls says how
many were left out (``dropped``). The same holds for ``access.denied``. A client is an IPv4
address or an IPv6 /64, so rotating through one's /64 gains nothing, and all anonymous clients
together get at most 300 records a minute, so many addresses cannot flood the log either. The
clock of the record limiters is the test's, so the window rolls without waiting.
"""

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from missionctl.app import create_app
from missionctl.domain.access import RateLimiter
from missionctl.security.limits import (
    ANONYMOUS_RECORDS_PER_MINUTE,
    RECORDS_PER_MINUTE,
    DropCounts,
    EdgeLimits,
    ProcessLimiter,
    client_key,
)
from missionctl.services.usecases.audit import read_event_page
from missionctl.settings import Settings
from tests.support.consistency import assert_consistent

KNOCKS = 300


class Clock:
    """Seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclasses.dataclass
class Knocker:
    app: Any
    http: httpx2.AsyncClient
    clock: Clock

    async def events(self, kind: str) -> list[dict[str, Any]]:
        page = await read_event_page(self.app.state.ctx, limit=100_000)
        return [e.payload for e in page if e.type == kind]

    async def get_from(self, address: str, url: str, **params: str) -> int:
        """Status of ``GET url`` sent from ``address``."""
        transport = httpx2.ASGITransport(app=self.app, client=(address, 40000))
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return (await http.get(url, params=params)).status_code


def _counting(limit: int, clock: Clock) -> ProcessLimiter:
    """A limiter of ``limit`` a minute in memory, on ``clock``."""
    return ProcessLimiter(RateLimiter(limit=limit, window_s=60, clock=clock))


def _limits(clock: Clock) -> EdgeLimits:
    """Record limiters on ``clock`` (the others do not matter here)."""
    return dataclasses.replace(
        EdgeLimits.from_settings(Settings().server),
        denial_records=_counting(RECORDS_PER_MINUTE, clock),
        sign_in_failure_records=_counting(RECORDS_PER_MINUTE, clock),
        anonymous_records=_counting(ANONYMOUS_RECORDS_PER_MINUTE, clock),
    )


@pytest.fixture
async def knocker(settings: Settings) -> AsyncIterator[Knocker]:
    app = create_app(settings)
    clock = Clock()
    async with app.router.lifespan_context(app):
        limits: EdgeLimits = app.state.limits
        app.state.limits = dataclasses.replace(
            limits,
            denial_records=_counting(RECORDS_PER_MINUTE, clock),
            sign_in_failure_records=_counting(RECORDS_PER_MINUTE, clock),
            anonymous_records=_counting(ANONYMOUS_RECORDS_PER_MINUTE, clock),
        )
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Knocker(app, http, clock)
        await assert_consistent(app.state.ctx)


async def test_three_hundred_bad_sign_in_links_add_at_most_31_events(knocker: Knocker) -> None:
    statuses = [
        (await knocker.http.get("/sign-in", params={"token": "x" * 40 + str(n)})).status_code
        for n in range(KNOCKS)
    ]
    # Every answer is still a refusal (401, then 429 once the address is limited).
    assert set(statuses) <= {401, 429} and statuses[0] == 401 and statuses[-1] == 429
    recorded = await knocker.events("user.sign_in_failed")
    assert len(recorded) == RECORDS_PER_MINUTE
    assert not any("dropped" in payload for payload in recorded)

    knocker.clock.now += 61  # the window rolls: the next failure says what was left out
    await knocker.http.get("/sign-in", params={"token": "x" * 40})

    recorded = await knocker.events("user.sign_in_failed")
    assert len(recorded) <= RECORDS_PER_MINUTE + 1
    assert recorded[-1]["dropped"] == KNOCKS - RECORDS_PER_MINUTE


async def test_anonymous_api_calls_add_at_most_31_denials(knocker: Knocker) -> None:
    for _ in range(KNOCKS):
        assert (await knocker.http.get("/api/v1/missions")).status_code == 401
    knocker.clock.now += 61
    await knocker.http.get("/api/v1/missions")

    denials = await knocker.events("access.denied")
    assert len(denials) == RECORDS_PER_MINUTE + 1
    assert denials[-1]["dropped"] == KNOCKS - RECORDS_PER_MINUTE
    assert {d["identity"] for d in denials} == {"anonymous"}


def test_drop_counts_stay_bounded() -> None:
    counts = DropCounts(max_keys=3)
    for key in "abcde":
        counts.drop(key)
    counts.drop("e")

    assert [counts.take(k) for k in "abcde"] == [0, 0, 1, 1, 2]
    assert counts.take("e") == 0  # taking resets


async def test_an_ipv6_client_rotating_through_its_64_gets_no_fresh_records(
    knocker: Knocker,
) -> None:
    statuses = [
        await knocker.get_from(f"2001:db8:1:2::{n + 1:x}", "/sign-in", token="x" * 41)
        for n in range(KNOCKS // 3)
    ]
    # The /64 is one client to the sign-in limit as well: its addresses share one allowance.
    assert set(statuses) == {401, 429} and statuses[0] == 401 and statuses[-1] == 429
    assert len(await knocker.events("user.sign_in_failed")) == RECORDS_PER_MINUTE
    # Another /64 is another client.
    await knocker.get_from("2001:db8:1:3::1", "/sign-in", token="x" * 41)
    assert len(await knocker.events("user.sign_in_failed")) == RECORDS_PER_MINUTE + 1

    knocker.clock.now += 61
    await knocker.get_from("2001:db8:1:2:ffff::9", "/sign-in", token="x" * 41)
    recorded = await knocker.events("user.sign_in_failed")
    assert recorded[-1]["dropped"] == KNOCKS // 3 - RECORDS_PER_MINUTE
    assert recorded[-1]["address"] == "2001:db8:1:2:ffff::9"  # the event keeps the address


def test_clients_are_ipv4_addresses_and_ipv6_64s() -> None:
    assert client_key("203.0.113.7") == "203.0.113.7"
    assert client_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::1")
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert client_key("testclient") == "testclient"
    assert client_key(None) == "unknown"


async def test_all_anonymous_clients_together_are_capped_and_their_drops_reported() -> None:
    clock = Clock()
    limits = _limits(clock)
    clients = ANONYMOUS_RECORDS_PER_MINUTE + 100
    # Each address knocks once, far below its own limit; sign-in failures share the cap.
    admitted = [
        await limits.admit_denial(None, f"10.0.{n // 250}.{n % 250}") for n in range(clients)
    ]
    assert admitted.count(0) == ANONYMOUS_RECORDS_PER_MINUTE
    assert admitted.count(None) == 100
    assert await limits.admit_sign_in_failure("192.0.2.1") is None
    # An identified actor's refusals are not anonymous: the cap does not apply to them.
    assert await limits.admit_denial("user:ann", "10.9.9.9") == 0

    clock.now += 61
    # The next anonymous record of each kind reports what the cap left out of that kind,
    # whichever client it comes from: every record left out is counted once.
    assert await limits.admit_denial(None, "198.51.100.1") == 100
    assert await limits.admit_denial(None, "198.51.100.2") == 0
    assert await limits.admit_sign_in_failure("192.0.2.1") == 1
