"""The short load run of the test suite, and the regression gate it holds every path to.

`tests/bench/test_load_short.py` runs `SHORT` (`bench/load.py` with tiny numbers, on SQLite)
and fails when a path's `probe_ratio` is more than `GATE` times its ratio in
`bench/load_short_baseline.json`. The probe ratio is the fastest of the real server's answers
to one client asking every path in turn, `probes` times over, divided by the floor's, in the
same run. A ratio, never an absolute time: a slower machine slows the floor too. The fastest
of a few answers spread over the probe, not the p50 under load: a short run answers each path
only a few times under load, and one request that waits behind a heavy neighbour moves that
p50 more than three times.

The baseline holds, per path, the median probe ratio of `--runs` short runs made on a 2-core
machine while other work shared it (as the suite's second process does); across such runs a
path's probe ratio moved by at most 1.6 times. Paths whose ratio is under `LEAST_RATIO` there
are held to `GATE * LEAST_RATIO` instead: they answer in a few milliseconds, where one
scheduling hiccup is a large share.

Refresh the baseline after a change that makes pages faster on purpose, or adds a path to
`load.PAGES` / `load.APIS`:

    PYTHONPATH=src:. .venv/bin/python bench/_load_gate.py --runs 3
"""

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

try:  # imported as bench._load_gate (the tests), or run as a script from bench/
    from bench import load
except ModuleNotFoundError:
    import load  # type: ignore[no-redef]

BASELINE = Path(__file__).resolve().parent / "load_short_baseline.json"
GATE = 3.0
LEAST_RATIO = 5.0

SHORT = load.Options(
    events=2000,
    runs=200,
    clients=4,
    streams=2,
    rounds=1,
    seconds=4.0,
    phase_seconds=1.0,
    idle_seconds=1.0,
    # The gate reads each path's fastest answer: ten tries find one in a quiet moment of a
    # suite that keeps both cores busy, where five were sometimes all slowed alike.
    probes=10,
    database="sqlite",
)


def ratios(figures: dict[str, Any]) -> dict[str, float]:
    """Each path's `probe_ratio` on SQLite in ``figures`` (`load.run`'s answer)."""
    sqlite = figures["databases"]["sqlite"]
    paths = {**sqlite["pages"], **sqlite["api"]}
    return {name: path["probe_ratio"] for name, path in paths.items()}


def read_baseline(path: Path = BASELINE) -> dict[str, float]:
    """Each path's baseline ratio."""
    baseline: dict[str, float] = json.loads(path.read_text())["probe_ratio"]
    return baseline


def regressions(measured: dict[str, float], baseline: dict[str, float]) -> list[str]:
    """A sentence for each path whose ratio is over its limit (none when all hold).

    A path without a baseline is one: the baseline must be refreshed to gate it.
    """
    found = []
    for name, ratio in sorted(measured.items()):
        if name not in baseline:
            found.append(f"{name}: no baseline (refresh it: bench/_load_gate.py)")
            continue
        limit = GATE * max(baseline[name], LEAST_RATIO)
        if ratio > limit:
            found.append(
                f"{name}: {ratio:.1f} times the floor, over {limit:.1f} "
                f"({GATE:g} times its baseline {max(baseline[name], LEAST_RATIO):.1f})"
            )
    return found


def main(argv: list[str] | None = None) -> None:
    """Run `SHORT` ``--runs`` times and write each path's median ratio to the baseline."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", type=Path, default=BASELINE)
    args = parser.parse_args(argv)
    runs = args.runs
    seen: dict[str, list[float]] = {}
    for n in range(runs):
        load.progress(f"short run {n + 1} of {runs}")
        for name, ratio in ratios(load.run(SHORT)).items():
            seen.setdefault(name, []).append(ratio)
    medians = {name: statistics.median(values) for name, values in sorted(seen.items())}
    baseline = {
        "about": "bench/_load_gate.py: each path's median probe_ratio over the runs",
        "runs": runs,
        "probe_ratio": {name: round(ratio, 1) for name, ratio in medians.items()},
    }
    args.output.write_text(json.dumps(baseline, indent=1) + "\n")
    json.dump(baseline, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
