"""Start-up time of the command line: ``missionctl --help`` against ``python -c pass``.

Run it with ``python bench/cli_startup.py [RUNS]`` (default 11 runs each) from the repository
with the virtualenv active. Prints JSON: the median wall time of each command in seconds, and
the difference, which is what Mission Control adds to a bare interpreter (target: under 0.5 s).
Both commands run as subprocesses, one after the other, so a busy machine slows both alike.

It also times a command that reads the database without a server, ``missionctl mission list
--json`` on a fresh data directory (its schema made before the first run): what a command pays
for the API in its own process (ADR 0089). Part of that is making the app: the median of
``create_app`` made ``RUNS`` times in this process after a first one (whose imports are not
counted), in milliseconds (ADR 0106).
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _missionctl() -> list[str]:
    beside = Path(sys.executable).with_name("missionctl")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("missionctl")
    return [found] if found else [sys.executable, "-c", "from missionctl.cli import main; main()"]


def _median_s(argv: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _local_read_s(runs: int) -> float:
    """The median of ``mission list --json`` on a data directory of its own."""
    with tempfile.TemporaryDirectory() as home:
        env = os.environ | {"MISSIONCTL_HOME": home}
        subprocess.run([*_missionctl(), "db", "upgrade"], check=True, env=env, capture_output=True)
        return _median_s([*_missionctl(), "mission", "list", "--json"], runs, env)


def _create_app_ms(runs: int) -> float:
    """The median time to make the app once its modules are imported, in milliseconds."""
    from missionctl.app import create_app
    from missionctl.settings import Settings

    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home))
        create_app(settings)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            create_app(settings)
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    """Measure both commands ``RUNS`` times each and print the medians as JSON."""
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 11
    help_s = _median_s([*_missionctl(), "--help"], runs)
    bare_s = _median_s([sys.executable, "-c", "pass"], runs)
    local_s = _local_read_s(runs)
    app_ms = _create_app_ms(runs)
    print(
        json.dumps(
            {
                "runs": runs,
                "missionctl_help_median_s": round(help_s, 3),
                "python_pass_median_s": round(bare_s, 3),
                "difference_s": round(help_s - bare_s, 3),
                "local_mission_list_median_s": round(local_s, 3),
                "create_app_median_ms": round(app_ms, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
