"""Anonymous clients cannot grow the append-only log: 300 knocks are at most 31 events.

The attack of the security review: 300 ``GET /sign-in?token=x…`` in a few seconds, with no
session and no CSRF token, appended 300 ``user.sign_in_failed`` events. Now each client gets
at most 30 such records a minute, and the first one recorded after the window rolls says how
many were left out (``dropped``). The same holds for ``access.denied``. The clock of the
record limiters is the test's, so the window rolls without waiting.
"""

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from missionctl.app import create_app
from missionctl.domain.access import RateLimiter
from missionctl.security.limits import RECORDS_PER_MINUTE, DropCounts, EdgeLimits
from missionctl.services.audit import read_event_page
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
    http: httpx.AsyncClient
    clock: Clock

    async def events(self, kind: str) -> list[dict[str, Any]]:
        page = await read_event_page(self.app.state.ctx, limit=100_000)
        return [e.payload for e in page if e.type == kind]


@pytest.fixture
async def knocker(settings: Settings) -> AsyncIterator[Knocker]:
    app = create_app(settings)
    clock = Clock()
    async with app.router.lifespan_context(app):
        limits: EdgeLimits = app.state.limits
        app.state.limits = dataclasses.replace(
            limits,
            denial_records=RateLimiter(limit=RECORDS_PER_MINUTE, window_s=60, clock=clock),
            sign_in_failure_records=RateLimiter(limit=RECORDS_PER_MINUTE, window_s=60, clock=clock),
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
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
