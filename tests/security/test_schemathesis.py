"""The JSON API against its own OpenAPI document: schemathesis, every check, both databases.

The short form of ``bench/fuzz.py`` (the same code): schemathesis' engine, as ``st run --checks
all`` runs it, sends the real app in-process its examples, coverage, fuzzing and stateful cases,
positive and negative, as an admin through a Bearer token, over every operation but the token
revoke (which would revoke the fuzzer's own token). Every check the installed schemathesis
offers runs (``bench.fuzz.all_checks``; the latency budget ``max_response_time`` aside, for the
reason given there). Generation is derandomized: the same cases every run.

The contract is the API's, and the database is part of it: a value one backend stores and the
other refuses (a NUL, a date out of range, an integer past 64 bits) is a 5xx on one only. So it
runs on SQLite and on PostgreSQL, each with a few examples per operation; the requests sent are
counted, so the test cannot pass by sending none. The coverage phase's boundary values (most of
the requests and of the time) are sent to PostgreSQL, the stricter store, and not to its stream
operations, each of whose cases holds a stream open; ``bench/fuzz.py`` sends every phase to both.

Of the coverage phase's cases that name each listed time zone of a schedule in turn (about 600
zones, once for each of the two targets a new schedule may have and once for an edit: 1,800
requests, a fifth of the run), a few are sent (:func:`_fewer_zone_cases`). Each such case names a
mission, workflow or schedule that does not exist, so every one of them was a 404 that stored
nothing, on either database: they showed only that the request's validation takes each zone, which
``test_every_listed_zone_is_taken_by_a_schedule`` checks of every zone directly, in a second.
"""

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from bench.fuzz import EXCLUDED_PATHS, all_checks, run_fuzz
from schemathesis.generation.meta import CoveragePhaseData
from schemathesis.hooks import HookContext
from schemathesis.hooks import unregister as unregister_hook

from missionctl.app import create_app
from missionctl.domain.schedules import Cron
from missionctl.schemas.schedules import ScheduleCreate, ScheduleEdit
from missionctl.services import open_context
from missionctl.settings import Settings
from tests.support.consistency import assert_consistent

# Fuzzing-phase cases per operation; a longer run is `bench/fuzz.py` or
# MISSIONCTL_TEST_FUZZ_EXAMPLES=100, on purpose.
EXAMPLES = int(os.environ.get("MISSIONCTL_TEST_FUZZ_EXAMPLES", "2"))
# Per database: how much of the coverage phase runs (bench.fuzz.COVERAGE), and the least number
# of requests that run sends (about 7,000 on PostgreSQL, 400 on SQLite).
COVERAGE = {"postgresql": "but-streams", "sqlite": "none"}
MIN_REQUESTS = {"postgresql": 6000, "sqlite": 300}


def _operations(settings: Settings) -> set[str]:
    """``METHOD /path`` of every operation the app documents but :data:`EXCLUDED_PATHS`."""
    document = create_app(settings).openapi()
    return {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        if path not in EXCLUDED_PATHS
        for method in operations
    }


ZONE_CASES = "Object with valid 'timezone' value: Enum value"
"""How the coverage phase describes a case that names one of the listed zones of a schedule."""
ZONES_KEPT_EVERY = 50
"""Of the listed zones, every 50th (in the document's order) and the longest are sent."""


def _listed_zones(settings: Settings) -> list[str]:
    """The time zones the document lists for a new schedule (the same as for an edit)."""
    schemas = create_app(settings).openapi()["components"]["schemas"]
    zones: list[str] = schemas["ScheduleCreate"]["properties"]["timezone"]["enum"]
    assert zones == schemas["ScheduleEdit"]["properties"]["timezone"]["enum"]
    return zones


def _fewer_zone_cases(zones: list[str]) -> Any:
    """A ``filter_case`` hook that lets through, of the coverage cases naming each listed zone
    in turn, those naming every :data:`ZONES_KEPT_EVERY`-th zone or the longest (the one the
    stores' column must hold); every other case passes."""
    kept = {*zones[::ZONES_KEPT_EVERY], max(zones, key=len)}

    def fewer_zone_cases(context: HookContext, case: schemathesis.Case) -> bool:
        del context
        data = None if case.meta is None else case.meta.phase.data
        if not isinstance(data, CoveragePhaseData) or not data.description.startswith(ZONE_CASES):
            return True
        return isinstance(case.body, dict) and case.body.get("timezone") in kept

    return fewer_zone_cases


def test_every_listed_zone_is_taken_by_a_schedule(tmp_path: Path) -> None:
    """Each zone the document lists is accepted for a new schedule and an edit, and a schedule
    in it has a next tick: what the contract run sent one request per zone and target to show."""
    zones = _listed_zones(Settings(home=tmp_path / "home"))
    assert len(zones) > 300 and "Europe/Paris" in zones
    now = datetime(2026, 11, 18, tzinfo=UTC)
    target = {"workflow_id": "e3e70682-c209-1cac-a29f-6fbed82c07cd"}
    for zone in zones:
        made = ScheduleCreate.model_validate(
            {"name": "nightly", "cron": "@daily", "timezone": zone, **target}
        )
        assert made.timezone == zone
        assert ScheduleEdit.model_validate({"timezone": zone}).timezone == zone
        assert Cron(made.cron, zone).next_after(now) > now


async def _check_consistency(settings: Settings) -> None:
    async with open_context(settings, upgrade=False) as ctx:
        await assert_consistent(ctx)


@pytest.mark.both_databases
# A hang guard, not a speed bound: alone the PostgreSQL run takes about four minutes, and on two
# cores shared with the rest of the suite it has taken over ten.
@pytest.mark.timeout(1200)
def test_the_api_keeps_its_documented_contract(settings: Settings, database_url: str) -> None:
    database = database_url.partition(":")[0].partition("+")[0]

    # Hooks are global to schemathesis: this one is here for this run only.
    fewer_zone_cases = _fewer_zone_cases(_listed_zones(settings))
    schemathesis.hook("filter_case")(fewer_zone_cases)
    try:
        figures = run_fuzz(settings, database, examples=EXAMPLES, coverage=COVERAGE[database])
    finally:
        unregister_hook(fewer_zone_cases)

    print(f"schemathesis on {database}: {figures.summary()}")
    assert not figures.errors, "\n\n".join(figures.errors)
    assert figures.server_errors == 0, "\n\n".join(figures.failures)
    assert set(figures.mismatches) <= set(all_checks())
    failing = {c: n for c, n in figures.mismatches.items() if n}
    assert not failing, f"{failing}\n\n" + "\n\n".join(figures.failures)
    assert figures.still_signed_in, "the fuzzer locked itself out: later requests proved nothing"
    assert figures.requests >= MIN_REQUESTS[database], figures.summary()
    # Every operation of the document was exercised, not only the easy ones.
    assert _operations(settings) <= figures.operations
    asyncio.run(_check_consistency(settings))
