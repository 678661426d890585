"""Refusing an endless input: ``missionctl workflow validate /dev/zero``, time and peak memory.

Run it with ``python bench/bounded_reads.py [RUNS]`` (default 5 runs) from the repository with
the virtualenv active. Prints JSON: for ``validate /dev/zero``, ``validate -`` fed by
``/dev/zero`` and, for comparison, ``--help``, the median wall time in seconds and the largest
peak resident size in MB over the runs (from ``wait4``; a child forked from this small process
starts its peak at this process's size, a few MB). Targets: under 1 s and under 50 MB, exit 2.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

_ARGV = [sys.executable, "-c", "from missionctl.cli import main; main()"]


def _once(args: list[str], stdin_path: str | None, env: dict[str, str]) -> tuple[int, float, int]:
    """One run: its exit code, wall time in seconds and peak resident size in kB."""
    with open(stdin_path or os.devnull, "rb") as stdin:
        started = time.perf_counter()
        child = subprocess.Popen(
            [*_ARGV, *args],
            stdin=stdin,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait
    return child.returncode, seconds, usage.ru_maxrss


def _measure(args: list[str], runs: int, stdin_path: str | None = None) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as home:
        env = os.environ | {"MISSIONCTL_HOME": home}
        results = [_once(args, stdin_path, env) for _ in range(runs)]
    return {
        "exit_codes": sorted({code for code, _, _ in results}),
        "median_s": round(statistics.median(s for _, s, _ in results), 3),
        "peak_rss_mb": round(max(kb for _, _, kb in results) / 1024, 1),
    }


def main() -> None:
    """Measure each command ``RUNS`` times and print the figures as JSON."""
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(
        json.dumps(
            {
                "runs": runs,
                "validate_dev_zero": _measure(["workflow", "validate", "/dev/zero"], runs),
                "validate_stdin_dev_zero": _measure(
                    ["workflow", "validate", "-"], runs, stdin_path="/dev/zero"
                ),
                "help": _measure(["--help"], runs),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
