"""The real server under a team's load, beside a floor that answers the same bytes from memory.

Run: `PYTHONPATH=src:. .venv/bin/python bench/load.py` (SQLite in a temporary directory; add
`--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test`, or set
MISSIONCTL_BENCH_POSTGRES_URL, for PostgreSQL too, in a schema of its own dropped at the end;
`--database sqlite|postgresql|both`). `--help` lists the other flags; the defaults are the
measurement, smaller numbers a quick try (`--events 20000 --runs 2000 --clients 10 --rounds 1
--seconds 5 --idle-seconds 5`). Prints one JSON object on stdout (progress goes to stderr).

For each database:

1. **Data at scale** (`bench/_load_seed.py`): about `--events` events (1,000,000) and `--runs`
   runs (100,000) over 200 days, copied from runs a real engine executed and appended through
   the product's event log (its hash chain); missions with plans, a busy mission whose 30-task
   run an engine executed, with 5,000 log events, and a live mission whose 200 command steps
   the worker runs during the measurement. One admin with an API token per client. The
   followers of the log are caught up. Seeding time is reported apart from the figures.
2. **The server as users run it**: `missionctl serve` on 127.0.0.1 (a free port; uvicorn,
   uvloop, httptools, the default settings but the data directory and the database) with
   `MISSIONCTL_ENGINE_EMBEDDED=false`, and one `missionctl worker` busy with the live run.
   `--server-workers N` (1) serves with `serve --workers N`: the server's CPU and memory are
   then those of all its processes.
3. **Clients** (`bench/_load_client.py`, a process of its own): each client signs in with a
   one-time link (`missionctl login-link`) for a session cookie; `--clients` (50) closed-loop
   clients cycle through every page (`PAGES`) with the cookie and its API twin (`APIS`) with
   the API token, while `--streams` (10) SSE streams (`STREAMS`: the live pages', each opened
   at the URL its page names, cursor included, as a browser does, and `/api/v1/events/stream`)
   stay open, counting the lines and bytes they receive.
4. **The floor** (`bench/_load_floor.py`): each path's answer is captured from the real server
   first, then served by path from memory by a bare ASGI app on the same stack and options,
   and measured with the same clients: `ratio_p50` is real/floor per path.

After the rounds, the probe (`--probes`, 5): one client asks every path in turn, that many
times over, of the real server and then of the floor, the worker still busy; `probe_ratio` is the
fastest real answer over the fastest floor answer, the path's own cost with no queue beside
it (the suite's regression gate, `bench/_load_gate.py`, holds each path to it), and
`probe_p95_ms` the real answers' p95 with no load beside them (`slowest_probe_p95` lists the
highest; `--probes 20` or more for a p95 that is not simply the slowest of a few).

A round (`--rounds`, 5) is: `--phase-seconds` with only the worker (the server's baseline
CPU), 3 s while the streams open and send their first state (their opening CPU, apart), then
`--phase-seconds` with the streams open (their CPU as they follow the run), `--seconds` (20)
of clients on the real server, streams still open, `--seconds` on the floor, then
`--idle-seconds` (60) with no client (the worker still busy). Figures are medians over rounds.
CPU is percent of one core, from `/proc/<pid>/stat`. The server's RSS is read after it starts,
and in each round after its clients and after its idle time; `growth_pct` is each round's idle
figure against the round before's (memory that comes back stays within 10 %).

The machine has few cores (the output says how many): the server, the worker, the floor and
the clients' process share them, so each figure is the product with that company. The clients'
CPU is reported: near 100 % means they, not the server, bounded the requests per second.
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

try:  # imported as bench.load (the tests), or run as a script from bench/
    from bench._databases import backends
    from bench._load_client import STREAMS_SETTLE_S, rss_mb

    from bench import _load_seed as seeding
except ModuleNotFoundError:
    import _load_seed as seeding  # type: ignore[no-redef]
    from _databases import backends  # type: ignore[no-redef]
    from _load_client import STREAMS_SETTLE_S, rss_mb  # type: ignore[no-redef]

from missionctl.settings import Settings

BENCH = Path(__file__).resolve().parent
PAGES = (
    "/",
    "/missions",
    "/missions/{busy_mission}",
    "/missions/{live_mission}",
    "/runs",
    "/runs/{busy_run}",
    "/runs/{live_run}",
    "/runs/{history_run}",
    "/insights",
    "/approvals",
    "/costs",
    "/events",
    "/audit",
    "/memory",
    "/search?q=records",
    "/workers",
    "/agents",
    "/workflows",
    "/schedules",
    "/templates",
    "/webhooks",
    "/users",
    "/tokens",
    "/sessions",
    "/settings",
    "/account",
    "/docs",
)
APIS = (
    "/api/v1/missions",
    "/api/v1/missions/{busy_mission}",
    "/api/v1/missions/{busy_mission}/plan",
    "/api/v1/runs",
    "/api/v1/runs/{busy_run}",
    "/api/v1/runs/{live_run}",
    "/api/v1/runs/{history_run}",
    "/api/v1/analytics/insights",
    "/api/v1/analytics/funnel",
    "/api/v1/analytics/trends",
    "/api/v1/analytics/retention",
    "/api/v1/approvals",
    "/api/v1/costs",
    "/api/v1/events",
    "/api/v1/audit/runs",
    "/api/v1/memory?q=pipeline",
    "/api/v1/search?q=records",
    "/api/v1/workers",
    "/api/v1/agents",
    "/api/v1/workflows",
    "/api/v1/schedules",
    "/api/v1/templates",
    "/api/v1/webhooks",
    "/api/v1/users",
    "/api/v1/tokens",
    "/api/v1/health/summary",
    "/api/v1/me",
)
# A page's stream is opened as a browser opens it: at the URL the page names (its cursor).
STREAMS = (
    "/events",
    "/runs",
    "/missions",
    "/missions/{live_mission}",
    "/runs/{live_run}",
    "/api/v1/events/stream",
)
LIVE_LAYERS = seeding.LIVE_STEPS // seeding.LIVE_LANES


@dataclass(frozen=True)
class Options:
    """The command line."""

    events: int = 1_000_000
    runs: int = 100_000
    clients: int = 50
    streams: int = 10
    rounds: int = 5
    seconds: float = 20.0
    phase_seconds: float = 5.0
    idle_seconds: float = 60.0
    probes: int = 5
    server_workers: int = 1
    database: str = "both"
    postgres_url: str | None = None

    def measuring_s(self) -> float:
        """How long the rounds take: the live run must last longer."""
        round_s = 2 * self.phase_seconds + STREAMS_SETTLE_S + 2 * self.seconds + self.idle_seconds
        return self.rounds * round_s


def parse_args(argv: list[str] | None = None) -> Options:
    """The command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    defaults = Options()
    for name in ("events", "runs", "clients", "streams", "rounds", "probes", "server_workers"):
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, type=int, default=getattr(defaults, name))
    for name in ("seconds", "phase_seconds", "idle_seconds"):
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, type=float, default=getattr(defaults, name))
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("MISSIONCTL_BENCH_POSTGRES_URL") or None
    )
    return Options(**vars(parser.parse_args(argv)))


_STARTED = time.monotonic()


def progress(message: str) -> None:
    print(f"[load {time.monotonic() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


# -- Processes ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_env(settings: Settings) -> dict[str, str]:
    """The environment of the server and the worker: defaults but the data and the database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIONCTL_")}
    env.update(
        MISSIONCTL_HOME=str(settings.home),
        MISSIONCTL_DATABASE_URL=settings.database_url,
        MISSIONCTL_ENGINE_EMBEDDED="false",
    )
    return env


class Processes:
    """The processes a measurement starts, stopped (by their pids) when it ends."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> int:
        with (self.logs / f"{name}.log").open("ab") as log:
            self.started[name] = subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        return self.started[name].pid

    def pid(self, name: str) -> int:
        return self.started[name].pid

    def check(self, name: str) -> None:
        if self.started[name].poll() is not None:
            tail = (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name} exited ({self.started[name].returncode}):\n{tail}")

    def stop(self, name: str, timeout_s: float = 30.0) -> None:
        process = self.started.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop_all(self) -> None:
        for name in list(self.started):
            self.stop(name)

    def log_problems(self, name: str) -> dict[str, int]:
        """How many lines of ``name``'s log are errors, warnings or tracebacks."""
        text = (self.logs / f"{name}.log").read_text(errors="replace")
        return {
            "errors": text.count(" ERROR "),
            "warnings": text.count(" WARNING "),
            "tracebacks": text.count("Traceback (most recent call last)"),
        }


def wait_until_up(processes: Processes, name: str, url: str, timeout_s: float = 180) -> None:
    """Return once ``url`` answers (any status); fail if ``name`` exits first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        processes.check(name)
        with contextlib.suppress(httpx2.HTTPError):
            if httpx2.get(url, timeout=5).status_code < 600:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{name} did not answer {url} in {timeout_s} s")


def wait_for_worker(base_url: str, token: str, run_id: str, timeout_s: float = 120) -> None:
    """Return once the live run has a step running (the worker is busy)."""
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = httpx2.get(f"{base_url}/api/v1/runs/{run_id}", headers=headers, timeout=10).json()
        if any(step["status"] == "running" for step in run.get("steps", [])):
            return
        time.sleep(0.5)
    raise RuntimeError(f"the worker ran no step of the live run in {timeout_s} s")


def run_clients(plan: dict[str, Any], work: Path) -> dict[str, Any]:
    """Run ``bench/_load_client.py`` on ``plan`` in a process of its own; its answer."""
    plan_file, answer_file = work / f"{plan['mode']}-plan.json", work / f"{plan['mode']}.json"
    plan_file.write_text(json.dumps(plan))
    script = str(BENCH / "_load_client.py")
    subprocess.run([sys.executable, script, str(plan_file), str(answer_file)], check=True)
    answer: dict[str, Any] = json.loads(answer_file.read_text())
    return answer


# -- One database -------------------------------------------------------------------------------


def live_step_s(options: Options) -> float:
    """How long each live step works, so that the live run outlasts the measurement."""
    return round(max(0.5, (1.3 * options.measuring_s() + 60) / LIVE_LAYERS), 2)


def make_plan(base_url: str, floor_url: str, seeded: seeding.Seeded, links: list[str],
              options: Options) -> dict[str, Any]:  # fmt: skip
    """What the clients' process does: who signs in, which paths and streams, how long."""

    def entry(template: str, kind: str) -> dict[str, str]:
        return {"name": template, "url": template.format(**seeded.ids), "kind": kind}

    paths = [entry(p, "page") for p in PAGES] + [entry(p, "api") for p in APIS]
    streams = [
        entry(s, "api" if s.startswith("/api/") else "page")
        for s in (STREAMS[n % len(STREAMS)] for n in range(options.streams))
    ]
    clients = [
        {"name": name, "token": token, "link": link}
        for (name, token), link in zip(seeded.users, links, strict=True)
    ]
    return {
        "base_url": base_url,
        "floor_url": floor_url,
        "clients": clients,
        "paths": paths,
        "streams": streams,
        "rounds": options.rounds,
        "seconds": options.seconds,
        "phase_seconds": options.phase_seconds,
        "probes": options.probes,
        "idle_seconds": options.idle_seconds,
    }


def serve_and_measure(
    processes: Processes, settings: Settings, seeded: seeding.Seeded, options: Options
) -> dict[str, Any]:
    """Start the server and the worker, capture the answers, start the floor, measure."""
    env, port, floor_port = process_env(settings), free_port(), free_port()
    base, floor = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{floor_port}"
    missionctl = str(Path(sys.executable).parent / "missionctl")
    links = asyncio.run(seeding.sign_in_links(settings, [name for name, _ in seeded.users]))
    serve = [missionctl, "serve", "--port", str(port), "--workers", str(options.server_workers)]
    server = processes.start("server", serve, env)
    wait_until_up(processes, "server", f"{base}/healthz")
    rss = {"start": rss_mb(server)}
    progress("the server answers; starting the worker")
    processes.start("worker", [missionctl, "worker"], env)
    wait_for_worker(base, seeded.users[0][1], seeded.ids["live_run"])
    plan = make_plan(base, floor, seeded, links, options)
    progress("capturing every answer for the floor")
    captured = run_clients({**plan, "mode": "capture"}, processes.logs)
    plan["paths"] = [p for p in plan["paths"] if captured["statuses"][p["name"]] < 400]
    for client, cookies in zip(plan["clients"], captured["cookies"], strict=True):
        client["cookies"] = cookies
    floor_argv = [
        sys.executable,
        str(BENCH / "_load_floor.py"),
        str(processes.logs / "capture.json"),
    ]
    level = settings.log_level.lower()
    processes.start("floor", [*floor_argv, str(floor_port), level], env)
    wait_until_up(processes, "floor", f"{floor}/")
    plan["pids"] = {name: processes.pid(name) for name in ("server", "worker", "floor")}
    progress(f"measuring: {options.rounds} rounds of {options.seconds} s, real then floor")
    measured = run_clients({**plan, "mode": "measure"}, processes.logs)
    processes.check("server")
    rss.update(memory_figures([r["server_rss_mb"] for r in measured["rounds"]]))
    not_measured = {k: v for k, v in captured["statuses"].items() if v >= 400}
    return {
        **summarise(measured["rounds"], measured["probe"]),
        "server_rss_mb": rss,
        "not_measured": not_measured,
        "server_log": processes.log_problems("server"),
    }


def measure_database(name: str, settings: Settings, options: Options) -> dict[str, Any]:
    """Seed ``settings``' database, then serve it and measure it."""
    scale = seeding.Scale(options.events, options.runs, options.clients, live_step_s(options))
    progress(f"{name}: seeding {options.events} events, {options.runs} runs")
    started = time.perf_counter()
    seeded = asyncio.run(seeding.seed(settings, scale))
    seeding_s = round(time.perf_counter() - started, 1)
    progress(f"{name}: seeded in {seeding_s} s: {seeded.counts}")
    work = settings.home / "load"
    work.mkdir()
    processes = Processes(work)
    try:
        figures = serve_and_measure(processes, settings, seeded, options)
    finally:
        processes.stop_all()
    seeding_figures = {"seconds": seeding_s, **seeded.seconds, **seeded.counts}
    return {"database": name, "seeding": seeding_figures, **figures}


# -- The figures --------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 2) if values else 0.0


def _summed(counts: list[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for one in counts:
        for key, count in one.items():
            total[key] = total.get(key, 0) + count
    return total


def _ratio(real: float, floor: float) -> float | None:
    return round(real / floor, 1) if floor > 0 else None


def path_figures(rounds: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """One path over the rounds: medians of the real server's and the floor's figures."""
    real = [r["real"]["paths"][name] for r in rounds if name in r["real"]["paths"]]
    floor = [r["floor"]["paths"][name] for r in rounds if name in r["floor"]["paths"]]
    figures = {key: _median([one[key] for one in real]) for key in ("p50_ms", "p95_ms", "rps")}
    figures["max_ms"] = max(one["max_ms"] for one in real)
    figures["requests"] = sum(one["requests"] for one in real)
    figures["statuses"] = _summed([one["statuses"] for one in real])
    figures["bytes"] = real[-1]["bytes_per_answer"]
    for key in ("p50_ms", "p95_ms", "rps"):
        figures[f"floor_{key}"] = _median([one[key] for one in floor])
    figures["ratio_p50"] = _ratio(figures["p50_ms"], figures["floor_p50_ms"])
    figures["ratio_p95"] = _ratio(figures["p95_ms"], figures["floor_p95_ms"])
    return figures


def memory_figures(rounds: list[dict[str, float]]) -> dict[str, Any]:
    """The server's memory over the rounds (after its clients, then idle), and each idle
    figure's growth over the round before's, in percent."""
    idle = [r["after_idle"] for r in rounds]
    growth = [round(100 * (now - before) / before, 1) for before, now in itertools.pairwise(idle)]
    return {"end": rounds[-1]["end"], "after_idle": idle[-1], "rounds": rounds,
            "growth_pct": growth}  # fmt: skip


def probe_figures(probe: dict[str, Any], name: str) -> dict[str, Any]:
    """One path's probe: its fastest answer and p95, the floor's fastest, and the ratio of the
    fastest (none unprobed)."""
    if name not in probe:
        return {}
    real, floor = probe[name]["real_min_ms"], probe[name]["floor_min_ms"]
    return {
        "probe_min_ms": real,
        "probe_p95_ms": probe[name]["real_p95_ms"],
        "probe_floor_min_ms": floor,
        "probe_ratio": _ratio(real, floor),
    }


def total_figures(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Every request together, real and floor, with their CPU shares."""
    figures: dict[str, Any] = {}
    for side in ("real", "floor"):
        totals = [r[side]["total"] for r in rounds]
        figures[side] = {
            "requests": sum(t["requests"] for t in totals),
            "statuses": _summed([t["statuses"] for t in totals]),
            **{key: _median([t[key] for t in totals]) for key in ("rps", "p50_ms", "p95_ms")},
            "max_ms": max(t["max_ms"] for t in totals),
            "cpu_pct": {
                key: _median([r[side]["cpu"][key] for r in rounds])
                for key in rounds[0][side]["cpu"]
            },
        }
    real, floor = figures["real"], figures["floor"]
    figures["ratio_p50"] = _ratio(real["p50_ms"], floor["p50_ms"])
    figures["ratio_p95"] = _ratio(real["p95_ms"], floor["p95_ms"])
    figures["rps_share_of_floor"] = round(real["rps"] / floor["rps"], 3) if floor["rps"] else None
    return figures


def stream_summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The streams over the rounds: lines and bytes received, the server's CPU with them."""
    streams = [r["streams"] for r in rounds]
    return {
        "streams": streams[0]["streams"],
        "open_seconds": _median([s["open_seconds"] for s in streams]),
        "lines": _median([s["lines"] for s in streams]),
        "bytes": _median([s["bytes"] for s in streams]),
        "by_stream_last_round": streams[-1]["by_stream"],
        "cpu_pct_without_streams": _cpu_medians(streams, "cpu_baseline"),
        "cpu_pct_opening_streams": _cpu_medians(streams, "cpu_opening"),
        "cpu_pct_with_streams_only": _cpu_medians(streams, "cpu_with_streams"),
    }


def _cpu_medians(phases: list[dict[str, Any]], key: str) -> dict[str, float]:
    return {name: _median([phase[key][name] for phase in phases]) for name in phases[0][key]}


def summarise(rounds: list[dict[str, Any]], probe: dict[str, Any]) -> dict[str, Any]:
    """The rounds' figures and the probe's: per page and API path, totals, streams, the
    slowest."""
    names = sorted({name for r in rounds for name in r["real"]["paths"]})
    paths = {name: path_figures(rounds, name) | probe_figures(probe, name) for name in names}
    by_p95 = sorted(paths, key=lambda name: paths[name]["p95_ms"], reverse=True)
    by_ratio = sorted(paths, key=lambda name: paths[name]["ratio_p50"] or 0, reverse=True)
    failures = _summed(
        [dict.fromkeys(r[s]["failures"], 1) for r in rounds for s in ("real", "floor")]
    )
    return {
        "pages": {name: paths[name] for name in names if not name.startswith("/api/")},
        "api": {name: paths[name] for name in names if name.startswith("/api/")},
        "total": total_figures(rounds),
        "streams": stream_summary(rounds),
        "slowest_p95": {name: paths[name]["p95_ms"] for name in by_p95[:8]},
        "highest_ratio_p50": {name: paths[name]["ratio_p50"] for name in by_ratio[:8]},
        "slowest_probe_p95": _slowest(paths, "probe_p95_ms"),
        "connection_failures": failures,
    }


def _slowest(paths: dict[str, dict[str, Any]], key: str) -> dict[str, float]:
    """The eight paths with the highest ``key`` (those that have it), highest first."""
    have = [name for name in paths if key in paths[name]]
    return {name: paths[name][key] for name in sorted(have, key=lambda n: -paths[n][key])[:8]}


def run(options: Options) -> dict[str, Any]:
    """Measure every database ``options`` names; the whole JSON object."""
    if options.postgres_url:
        os.environ["MISSIONCTL_BENCH_POSTGRES_URL"] = options.postgres_url
    else:
        os.environ.pop("MISSIONCTL_BENCH_POSTGRES_URL", None)
    if options.database == "postgresql" and not options.postgres_url:
        raise SystemExit(
            "--database postgresql needs --postgres-url or MISSIONCTL_BENCH_POSTGRES_URL"
        )
    figures: dict[str, Any] = {
        "benchmark": "load",
        "machine": {
            "cpus": os.cpu_count(),
            "note": "the server, the worker, the floor and the clients' process share these cores",
        },
        "options": {k: v for k, v in vars(options).items() if k != "postgres_url"},
        "live_step_s": live_step_s(options),
        "databases": {},
    }
    for name, settings in backends():
        if options.database in (name, "both"):
            figures["databases"][name] = measure_database(name, settings, options)
    return figures


def main(argv: list[str] | None = None) -> None:
    print(json.dumps(run(parse_args(argv)), indent=2))


if __name__ == "__main__":
    main()
