"""What the backtests on the demo history share: their arguments, their home, their JSON.

``run(benchmark, doc, seed, backtest)`` reads ``--days``, ``--seed`` and ``--home``; without
``--home`` it seeds ``--days`` days of the demo history (``seed(home, days, seed)``) into a
temporary home. It runs ``backtest(home)`` on that home (or the one given) and prints its
figures as JSON, after the benchmark's name and the seed.
"""

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

Seed = Callable[[Path, int, int], None]
Backtest = Callable[[Path], Coroutine[Any, Any, dict[str, Any]]]


def run(benchmark: str, doc: str, seed: Seed, backtest: Backtest) -> None:
    """Parse the arguments, seed a home unless one is given, backtest it, print the JSON."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--home", type=Path, help="a home the demo was seeded into already")
    given = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        home = given.home or Path(scratch)
        if given.home is None:
            print(f"seeding {given.days} days (seed {given.seed})", file=sys.stderr, flush=True)
            seed(home, given.days, given.seed)
        result = asyncio.run(backtest(home))
    print(json.dumps({"benchmark": benchmark, "seed": given.seed, **result}, indent=2))
