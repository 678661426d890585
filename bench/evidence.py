"""What it costs to prove a run: output digests, ``audit verify``'s output check, run receipts.

Seeds a team's history as ``bench/load.py`` does (``bench/_load_seed.py``: runs executed by a
real engine, copied with their events through the product's hash chain), then measures, on that
database:

- ``outputs_digest_us``: the digest the engine adds to each step's terminal event (median of a
  step's typical outputs, microseconds);
- ``check_outputs_s``: every step run's stored outputs checked against the chain, as
  ``audit verify`` does after the chain itself (``chain_s``);
- ``receipt_issue_ms`` and ``receipt_verify_ms``: a run's receipt signed by the server and
  checked offline (medians over ``--samples`` runs of the history, and for the busiest run).

Usage: ``python bench/evidence.py [--events N] [--runs N] [--samples N]``; the defaults are a
million events and a hundred thousand runs. SQLite always, PostgreSQL too when
``MISSIONCTL_BENCH_POSTGRES_URL`` names a server. Prints one JSON object per database.
"""

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from typing import Any

from sqlalchemy import text

from _databases import backends
from _load_seed import Scale, seed
from missionctl.eventlog import verify_chain
from missionctl.eventlog.receipts import outputs_digest, verify_receipt
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.audit import signing_key
from missionctl.services.usecases.evidence import check_outputs
from missionctl.services.usecases.receipts import issue_receipt
from missionctl.settings import Settings

TYPICAL_OUTPUTS = {
    "summary": "Wrote the migration and its test; 14 files changed.",
    "files_changed": [f"src/app/module_{n}.py" for n in range(14)],
    "tests_exit_code": 0,
    "documents": [{"name": "design.md", "words": 1200}],
}


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def _digest_us() -> float:
    times = []
    for _ in range(2000):
        started = time.perf_counter()
        outputs_digest(TYPICAL_OUTPUTS)
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1e6, 1)


async def _runs(ctx: ServiceContext, samples: int) -> tuple[list[uuid.UUID], uuid.UUID]:
    """``samples`` runs spread over the history, and the run with the most events."""
    async with ctx.read() as session:
        ids = (await session.execute(text("SELECT id FROM runs ORDER BY id"))).scalars().all()
        busiest = (
            await session.execute(
                text(
                    "SELECT run_id FROM events WHERE run_id IS NOT NULL GROUP BY run_id "
                    "ORDER BY count(*) DESC LIMIT 1"
                )
            )
        ).scalar_one()
    step = max(1, len(ids) // samples)
    return [uuid.UUID(str(i)) for i in ids[::step][:samples]], uuid.UUID(str(busiest))


async def _receipts(ctx: ServiceContext, runs: list[uuid.UUID]) -> tuple[list[float], list[float]]:
    key = await asyncio.to_thread(signing_key, ctx.settings)
    keys = {key.key_id: key.public_key}
    issued, verified = [], []
    for run_id in runs:
        started = time.perf_counter()
        document = await issue_receipt(ctx, run_id=run_id)
        issued.append(time.perf_counter() - started)
        started = time.perf_counter()
        check = verify_receipt(document, keys)
        verified.append(time.perf_counter() - started)
        assert check.ok, check.problems
    return issued, verified


async def measure(settings: Settings, samples: int) -> dict[str, Any]:
    """The figures, on ``settings``' seeded database."""
    figures: dict[str, Any] = {"outputs_digest_us": _digest_us()}
    async with open_context(settings, upgrade=False) as ctx:
        started = time.perf_counter()
        async with ctx.read() as session:
            chain = await verify_chain(session)
        figures["chain_s"] = round(time.perf_counter() - started, 2)
        assert chain.ok, str(chain)
        started = time.perf_counter()
        outputs = await check_outputs(ctx)
        figures["check_outputs_s"] = round(time.perf_counter() - started, 2)
        figures["outputs_checked"] = outputs.matched
        figures["outputs_problems"] = len(outputs.problems)
        sample, busiest = await _runs(ctx, samples)
        issued, verified = await _receipts(ctx, sample)
        figures["receipt_issue_ms"] = _median_ms(issued)
        figures["receipt_verify_ms"] = _median_ms(verified)
        issued, verified = await _receipts(ctx, [busiest])
        figures["busiest_run_receipt_issue_ms"] = _median_ms(issued)
        figures["busiest_run_receipt_verify_ms"] = _median_ms(verified)
    return figures


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=20)
    return parser.parse_args(argv)


async def one_database(name: str, settings: Settings, given: argparse.Namespace) -> dict[str, Any]:
    """Seed ``settings``' empty database, measure, and return the figures with the scale."""
    seeded = await seed(settings, Scale(events=given.events, runs=given.runs))
    figures = await measure(settings, given.samples)
    return {"database": name, **seeded.counts, **seeded.seconds, **figures}


def main(argv: list[str]) -> None:
    """Print the figures of every database :func:`backends` names, one JSON object each."""
    given = _arguments(argv)
    for name, settings in backends():
        print(json.dumps(asyncio.run(one_database(name, settings, given))), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
