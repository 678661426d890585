"""`GET /healthz` latency while anonymous clients and a viewer flood the definition routes.

Run: `.venv/bin/python bench/preauth_flood.py [--anonymous 8] [--probes 200]` (SQLite in a
temporary directory). It serves the app with uvicorn in a child process, as `missionctl serve`
does (with its embedded engine), then:

1. `alone`: times `--probes` sequential `GET /healthz`;
2. `flood`: times them again while `--anonymous` clients without credentials post ~1 MB
   nested-list YAML bodies to `POST /api/v1/workflows` and `/api/v1/workflows/validate` in a
   loop, and a viewer (an API token) posts the same to `/validate` from three clients at once
   (one more than its two large bodies in progress allow).

Prints one JSON object: healthz p50/p95/max in milliseconds alone and under the flood, and the
flood's answers by route and status. Target: healthz p95 under the flood <= 100 ms. Before
ADR 0076 the anonymous bodies were parsed on the event loop before the 401: two of them held
`/healthz` for seconds. Parsed on threads, the viewer's megabytes still held it at p95 320-500
ms (libyaml holds the interpreter lock for 0.3-0.5 s at a stretch); parsed in a parser process
(``services.runtime.offload.in_worker``), what remains is the anonymous requests' own cost on the
loop. The viewer's answers are 422s (the body holds more values than a definition may), few of them:
its parses wait for the CPU, at a lower priority than the server.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx2

from missionctl.domain.access import Role
from missionctl.schemas.identity import UserCreate
from missionctl.services import open_context
from missionctl.services.usecases import identity
from missionctl.settings import Settings

VALIDATE = "/api/v1/workflows/validate"
SAVE = "/api/v1/workflows"
YAML = {"content-type": "application/yaml"}
ROW = "- [[1, 2, 3], [4, 5, 6], [7, 8, 9]]\n"
BODY = ("name: flood\nsteps:\n" + ROW * (990_000 // len(ROW))).encode()
VIEWER_CLIENTS = 3


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve(home: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {"MISSIONCTL_HOME": str(home)}
    argv = [sys.executable, "-m", "uvicorn", "missionctl.app:create_app", "--factory"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with log.open("wb") as output:
        return subprocess.Popen(argv, env=env, stdout=output, stderr=subprocess.STDOUT)


def _wait_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start: {log.read_text()}")
        try:
            if httpx2.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx2.TransportError:
            time.sleep(0.1)


async def _viewer_token(home: Path) -> str:
    async with open_context(Settings(home=home), upgrade=False) as ctx:
        await identity.create_user(
            ctx, data=UserCreate(name="viewer", role=Role.VIEWER), actor="system"
        )
        _, secret = await identity.create_token(
            ctx, user_name="viewer", name="bench", actor="system"
        )
        return secret


def _summary(samples: list[float]) -> dict[str, float | int]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


async def _probe(url: str, count: int) -> list[float]:
    samples = []
    async with httpx2.AsyncClient(base_url=url, timeout=120) as http:
        for _ in range(count):
            started = time.perf_counter()
            answer = await http.get("/healthz")
            samples.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
            await asyncio.sleep(0.02)
    return samples


async def _flood(
    url: str, path: str, headers: dict[str, str], stop: asyncio.Event, answers: Counter[str]
) -> None:
    async with httpx2.AsyncClient(base_url=url, timeout=300) as http:
        while not stop.is_set():
            who = "viewer" if "authorization" in headers else "anonymous"
            try:
                answer = await http.post(path, content=BODY, headers=headers)
            except httpx2.TransportError as exc:  # counted: a refusal may close the connection
                answers[f"{who} {path} {type(exc).__name__}"] += 1
                continue
            answers[f"{who} {path} {answer.status_code}"] += 1


async def _flood_all(url: str, token: str, anonymous: int, seconds: float) -> Counter[str]:
    """The flood alone (run in a process of its own, so it does not slow the probe's loop)."""
    stop, answers = asyncio.Event(), Counter[str]()
    viewer = YAML | {"authorization": f"Bearer {token}"}
    clients = [
        asyncio.create_task(_flood(url, (SAVE, VALIDATE)[i % 2], YAML, stop, answers))
        for i in range(anonymous)
    ]
    clients += [
        asyncio.create_task(_flood(url, VALIDATE, viewer, stop, answers))
        for _ in range(VIEWER_CLIENTS)
    ]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*clients)
    return answers


def _measure(url: str, token: str, anonymous: int, probes: int) -> dict[str, Any]:
    alone = asyncio.run(_probe(url, probes))
    argv = [sys.executable, __file__, "--flood", url, token, "--anonymous", str(anonymous)]
    flood = subprocess.Popen(argv, stdout=subprocess.PIPE)
    time.sleep(2.0)  # the flood is under way
    flooded = asyncio.run(_probe(url, probes))
    answers = json.loads(flood.communicate(timeout=600)[0])
    return {
        "workload": "preauth_flood",
        "database": "sqlite",
        "body_bytes": len(BODY),
        "anonymous_clients": anonymous,
        "viewer_clients": VIEWER_CLIENTS,
        "healthz_alone": _summary(alone),
        "healthz_under_flood": _summary(flooded),
        "flood_answers": answers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anonymous", type=int, default=8, help="anonymous flooding clients")
    parser.add_argument("--probes", type=int, default=200, help="healthz requests per phase")
    parser.add_argument("--flood", nargs=2, metavar=("URL", "TOKEN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.flood:  # the child process: flood while the parent probes, print the answers
        seconds = 2.0 + args.probes * 0.03 + 5.0
        url, token = args.flood
        answers = asyncio.run(_flood_all(url, token, args.anonymous, seconds))
        print(json.dumps(dict(sorted(answers.items()))))
        return
    with tempfile.TemporaryDirectory() as directory:
        home, port = Path(directory) / "home", _free_port()
        url, log = f"http://127.0.0.1:{port}", Path(directory) / "server.log"
        process = _serve(home, port, log)
        try:
            _wait_up(url, process, log)
            token = asyncio.run(_viewer_token(home))
            result = _measure(url, token, args.anonymous, args.probes)
        finally:
            process.terminate()
            process.wait(timeout=30)
            if "Traceback" in log.read_text():
                print(log.read_text()[-3000:], file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
