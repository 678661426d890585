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
"""

import asyncio
import os

import pytest
from bench.fuzz import EXCLUDED_PATHS, all_checks, run_fuzz

from missionctl.app import create_app
from missionctl.services import open_context
from missionctl.settings import Settings
from tests.support.consistency import assert_consistent

# Fuzzing-phase cases per operation; a longer run is `bench/fuzz.py` or
# MISSIONCTL_TEST_FUZZ_EXAMPLES=100, on purpose.
EXAMPLES = int(os.environ.get("MISSIONCTL_TEST_FUZZ_EXAMPLES", "2"))
# Per database: how much of the coverage phase runs (bench.fuzz.COVERAGE), and the least number
# of requests that run sends (about 8,100 on PostgreSQL, 400 on SQLite).
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


async def _check_consistency(settings: Settings) -> None:
    async with open_context(settings, upgrade=False) as ctx:
        await assert_consistent(ctx)


@pytest.mark.both_databases
# A hang guard, not a speed bound: alone the PostgreSQL run takes about four minutes, and on two
# cores shared with the rest of the suite it has taken over ten.
@pytest.mark.timeout(1200)
def test_the_api_keeps_its_documented_contract(settings: Settings, database_url: str) -> None:
    database = database_url.partition(":")[0].partition("+")[0]

    figures = run_fuzz(settings, database, examples=EXAMPLES, coverage=COVERAGE[database])

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
