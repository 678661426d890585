"""The clients of ``bench/load.py``, in a process of their own (not the server's).

Run by ``bench/load.py`` as ``python bench/_load_client.py PLAN.json ANSWER.json``; it reads
what to do from the plan and writes its figures to the answer, both JSON:

- ``capture``: sign every client in with its one-time link (``GET /sign-in?token=``, as a
  browser does) and keep its session cookie; fetch every path once as the first client and
  keep its answer (status, headers, body) in its answer, for the floor server.
- ``measure``: ``rounds`` rounds, each of four phases: ``phase_seconds`` with nothing but the
  worker (the server's baseline CPU), then the SSE streams opened: ``STREAMS_SETTLE_S`` while
  they open and send their first state (their opening CPU), then ``phase_seconds`` with them
  open (their CPU as they follow the busy run),
  ``seconds`` of the closed-loop clients on the real server with the streams still open, then,
  streams closed, ``seconds`` of the same clients on the floor server, then ``idle_seconds``
  with no client (the server's resident memory is read before and after). Then, if ``probes``,
  the probe: the first client alone asks every path in turn, ``probes`` times over, of the
  real server and then of the floor (the worker still busy): each path's own cost, with no
  other client's requests queued beside it.

Each client is a person of the team: a browser (its session cookie) for pages and a script
(its API token) for the API, each one keep-alive connection, cycling through every path from
its own starting point, one request at a time (closed loop); a phase runs on past its seconds
until every path has been answered once (short runs). CPU shares are read from
``/proc/<pid>/stat`` (percent of one core) for the server, the worker, the floor server and
this process.
"""

import asyncio
import base64
import contextlib
import html
import json
import math
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

TICKS = os.sysconf("SC_CLK_TCK")
# Headers the server stack writes for itself (the floor's uvicorn writes its own).
OWN_HEADERS = frozenset({"date", "server", "content-length", "transfer-encoding", "set-cookie"})
TIMEOUT = httpx2.Timeout(60.0)
STREAM_TIMEOUT = httpx2.Timeout(10.0, read=None)
SSE_CONNECT = re.compile(r'hx-sse:connect="([^"]+)"')


def family(pid: int) -> list[int]:
    """``pid`` and every process under it (``serve --workers N`` answers from its children)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            with contextlib.suppress(OSError):
                pending.extend(int(child) for child in (task / "children").read_text().split())
    return found


def _own_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def cpu_ticks(pid: int) -> int:
    """User and system clock ticks ``pid`` and the processes under it have used so far."""
    return sum(_own_ticks(member) for member in family(pid))


def _own_rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def rss_mb(pid: int) -> float:
    """The resident memory of ``pid`` and the processes under it, in MiB (``VmRSS``)."""
    return round(sum(_own_rss_kb(member) for member in family(pid)) / 1024, 1)


class CpuWatch:
    """CPU shares of some processes over a phase, in percent of one core."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.started = time.monotonic()
        self.ticks = {name: cpu_ticks(pid) for name, pid in pids.items()}

    def shares(self) -> dict[str, float]:
        wall = time.monotonic() - self.started
        return {
            f"{name}_cpu_pct": round(100 * (cpu_ticks(pid) - self.ticks[name]) / TICKS / wall, 1)
            for name, pid in self.pids.items()
        }


# -- Signing in and capturing -------------------------------------------------------------------


async def sign_in(base_url: str, link: str) -> dict[str, str]:
    """The session cookies a browser gets by opening a one-time sign-in link."""
    async with httpx2.AsyncClient(base_url=base_url, timeout=TIMEOUT) as http:
        answer = await http.get("/sign-in", params={"token": link})
        if answer.status_code != 303:
            raise RuntimeError(f"the sign-in link answered {answer.status_code}")
        return dict(http.cookies.items())


async def capture(plan: dict[str, Any]) -> dict[str, Any]:
    """Sign every client in; keep each path's answer to the first client for the floor."""
    cookies = [await sign_in(plan["base_url"], c["link"]) for c in plan["clients"]]
    first = plan["clients"][0]
    answers: dict[str, Any] = {}
    statuses: dict[str, int] = {}
    async with (
        _browser(plan["base_url"], cookies[0]) as page,
        _script(plan["base_url"], first["token"]) as api,
    ):
        for path in plan["paths"]:
            http = page if path["kind"] == "page" else api
            answer = await http.get(path["url"])
            statuses[path["name"]] = answer.status_code
            headers = [
                [key.decode("latin-1"), value.decode("latin-1")]
                for key, value in answer.headers.raw
                if key.decode("latin-1").lower() not in OWN_HEADERS
            ]
            answers[path["url"]] = {
                "status": answer.status_code,
                "headers": headers,
                "body": base64.b64encode(answer.content).decode("ascii"),
            }
    return {"cookies": cookies, "statuses": statuses, "answers": answers}


def _browser(base_url: str, cookies: dict[str, str]) -> httpx2.AsyncClient:
    limits = httpx2.Limits(max_connections=1, max_keepalive_connections=1)
    return httpx2.AsyncClient(base_url=base_url, cookies=cookies, timeout=TIMEOUT, limits=limits)


def _script(base_url: str, token: str) -> httpx2.AsyncClient:
    limits = httpx2.Limits(max_connections=1, max_keepalive_connections=1)
    headers = {"Authorization": f"Bearer {token}"}
    return httpx2.AsyncClient(base_url=base_url, headers=headers, timeout=TIMEOUT, limits=limits)


# -- The closed loop ----------------------------------------------------------------------------


@dataclass
class Samples:
    """What the clients saw in one phase, per path name."""

    ms: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, dict[str, int]] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # a connection error, by path

    def add(self, name: str, ms: float, status: str, size: int) -> None:
        self.ms.setdefault(name, []).append(ms)
        counts = self.statuses.setdefault(name, {})
        counts[status] = counts.get(status, 0) + 1
        self.bytes[name] = self.bytes.get(name, 0) + size


async def _one_client(
    base_url: str, client: dict[str, Any], paths: list[dict[str, Any]], start: int, until: float,
    samples: Samples,
) -> None:  # fmt: skip
    """One person: page and API requests in turn from ``paths[start]``, one at a time."""
    async with (
        _browser(base_url, client["cookies"]) as page,
        _script(base_url, client["token"]) as api,
    ):
        n = start
        # A phase lasts its seconds, and on until every path has been answered at least once.
        while time.monotonic() < until or len(samples.ms) < len(paths):
            path = paths[n % len(paths)]
            n += 1
            http = page if path["kind"] == "page" else api
            began = time.perf_counter()
            try:
                answer = await http.get(path["url"])
                status, size = str(answer.status_code), len(answer.content)
            except httpx2.HTTPError as exc:
                status, size = "error", 0
                samples.failures[path["name"]] = repr(exc)
            samples.add(path["name"], (time.perf_counter() - began) * 1000, status, size)


async def load(base_url: str, plan: dict[str, Any], seconds: float) -> dict[str, Any]:
    """Every client in a closed loop on ``base_url`` for ``seconds``; the figures."""
    samples = Samples()
    paths = plan["paths"]
    clients = plan["clients"]
    until = time.monotonic() + seconds
    began = time.monotonic()
    await asyncio.gather(
        *(
            _one_client(base_url, c, paths, n * len(paths) // len(clients), until, samples)
            for n, c in enumerate(clients)
        )
    )
    return summary(samples, time.monotonic() - began)


def _cut(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, -(-len(ordered) * 95 // 100) - 1)], 1),
        "max_ms": round(ordered[-1], 1),
    }


def summary(samples: Samples, wall: float) -> dict[str, Any]:
    """Per path: requests, requests/s, p50/p95/max, statuses, bytes; and the totals."""
    paths = {
        name: {
            "requests": len(ms),
            "rps": round(len(ms) / wall, 2),
            **_cut(ms),
            "statuses": samples.statuses[name],
            "bytes_per_answer": samples.bytes[name] // len(ms),
        }
        for name, ms in sorted(samples.ms.items())
    }
    every = [ms for values in samples.ms.values() for ms in values]
    statuses: dict[str, int] = {}
    for counts in samples.statuses.values():
        for status, count in counts.items():
            statuses[status] = statuses.get(status, 0) + count
    total = {"requests": len(every), "rps": round(len(every) / wall, 1), "statuses": statuses}
    if every:
        total.update(_cut(every))
    return {"seconds": round(wall, 1), "total": total, "paths": paths,
            "failures": samples.failures}  # fmt: skip


# -- The streams --------------------------------------------------------------------------------


@dataclass
class StreamCount:
    """What one SSE stream received."""

    name: str
    status: int = 0
    lines: int = 0
    bytes: int = 0
    error: str | None = None


async def _hold(base_url: str, stream: dict[str, Any], client: dict[str, Any],
                count: StreamCount) -> None:  # fmt: skip
    """Hold ``stream`` open as ``client`` (cookie for a page's, token for the API's)."""
    limits = httpx2.Limits(max_connections=1)
    options: dict[str, Any] = {"base_url": base_url, "timeout": STREAM_TIMEOUT, "limits": limits}
    if stream["kind"] == "page":
        options["cookies"] = client["cookies"]
    else:
        options["headers"] = {"Authorization": f"Bearer {client['token']}"}
    try:
        async with httpx2.AsyncClient(**options) as http:
            url = stream["url"] if stream["kind"] == "api" else await _stream_of(http, stream)
            await _read(http, url, count)
    except httpx2.HTTPError as exc:
        count.error = repr(exc)


async def _stream_of(http: httpx2.AsyncClient, stream: dict[str, Any]) -> str:
    """The stream a page opens (``hx-sse:connect``, with the page's cursor ``after``)."""
    page = await http.get(stream["url"])
    found = SSE_CONNECT.search(page.text)
    if found is None:
        raise httpx2.HTTPError(f"{stream['url']} names no stream ({page.status_code})")
    return html.unescape(found.group(1))


async def _read(http: httpx2.AsyncClient, url: str, count: StreamCount) -> None:
    async with http.stream("GET", url, headers={"Accept": "text/event-stream"}) as answer:
        count.status = answer.status_code
        async for chunk in answer.aiter_bytes():
            count.bytes += len(chunk)
            count.lines += chunk.count(b"\n")


def open_streams(plan: dict[str, Any]) -> tuple[list[StreamCount], list[asyncio.Task[None]]]:
    """Open every stream of the plan (each as one client in turn); returns counts and tasks."""
    counts, tasks = [], []
    for n, stream in enumerate(plan["streams"]):
        count = StreamCount(stream["name"])
        client = plan["clients"][n % len(plan["clients"])]
        tasks.append(asyncio.create_task(_hold(plan["base_url"], stream, client, count)))
        counts.append(count)
    return counts, tasks


async def close_streams(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


def stream_figures(counts: list[StreamCount], seconds: float) -> dict[str, Any]:
    by_name: dict[str, dict[str, Any]] = {}
    for count in counts:
        entry = by_name.setdefault(count.name, {"streams": 0, "lines": 0, "bytes": 0})
        entry["streams"] += 1
        entry["lines"] += count.lines
        entry["bytes"] += count.bytes
        entry["statuses"] = sorted({*entry.get("statuses", []), count.status})
        if count.error:
            entry["error"] = count.error
    return {
        "open_seconds": round(seconds, 1),
        "streams": len(counts),
        "lines": sum(c.lines for c in counts),
        "bytes": sum(c.bytes for c in counts),
        "by_stream": by_name,
    }


# -- A round and the whole ----------------------------------------------------------------------

STREAMS_SETTLE_S = 3.0
"""How long the streams' opening is measured apart: each reads and renders its page's state
once, which a viewer pays once per page view, not for as long as the stream stays open."""


async def one_round(plan: dict[str, Any]) -> dict[str, Any]:
    """Baseline, streams alone, the real server under load with streams, then the floor."""
    pids = {"server": plan["pids"]["server"], "worker": plan["pids"]["worker"],
            "client": os.getpid()}  # fmt: skip
    phase = plan["phase_seconds"]
    watch = CpuWatch(pids)
    await asyncio.sleep(phase)
    baseline = watch.shares()
    counts, tasks = open_streams(plan)
    opened = time.monotonic()
    watch = CpuWatch(pids)
    await asyncio.sleep(STREAMS_SETTLE_S)
    opening = watch.shares()
    watch = CpuWatch(pids)
    await asyncio.sleep(phase)
    streams_alone = watch.shares()
    watch = CpuWatch(pids)
    real = await load(plan["base_url"], plan, plan["seconds"])
    real["cpu"] = watch.shares()
    streams = stream_figures(counts, time.monotonic() - opened)
    await close_streams(tasks)
    streams.update(cpu_baseline=baseline, cpu_opening=opening, cpu_with_streams=streams_alone)
    watch = CpuWatch({"floor": plan["pids"]["floor"], "worker": pids["worker"],
                      "client": pids["client"]})  # fmt: skip
    floor = await load(plan["floor_url"], plan, plan["seconds"])
    floor["cpu"] = watch.shares()
    rss = {"end": rss_mb(pids["server"])}
    await asyncio.sleep(plan["idle_seconds"])
    rss["after_idle"] = rss_mb(pids["server"])
    return {"real": real, "floor": floor, "streams": streams, "server_rss_mb": rss}


async def probe(plan: dict[str, Any]) -> dict[str, Any]:
    """Every path ``probes`` times by one client, real then floor; the fastest answer of each,
    and the real server's p95 (the pages with no load beside them, the worker still busy).

    The paths are asked in turn, ``probes`` passes over them all, so that a moment the server
    is busy (a follower's batch, a collection) slows one answer of a path, not all of them.
    """
    client, times = plan["clients"][0], {}
    for side in ("real", "floor"):
        base_url = plan["base_url" if side == "real" else "floor_url"]
        async with (
            _browser(base_url, client["cookies"]) as page,
            _script(base_url, client["token"]) as api,
        ):
            for _ in range(plan["probes"]):
                for path in plan["paths"]:
                    http = page if path["kind"] == "page" else api
                    began = time.perf_counter()
                    await http.get(path["url"])
                    ms = (time.perf_counter() - began) * 1000
                    times.setdefault(path["name"], {}).setdefault(side, []).append(ms)
    return {
        name: {
            **{f"{side}_min_ms": round(min(ms), 2) for side, ms in sides.items()},
            "real_p95_ms": round(nearest_rank(sides["real"], 0.95), 2),
        }
        for name, sides in times.items()
    }


def nearest_rank(values: list[float], share: float) -> float:
    """The ``share`` quantile of ``values`` by nearest rank (of five, p95 is the slowest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


async def measure(plan: dict[str, Any]) -> dict[str, Any]:
    rounds = [await one_round(plan) for _ in range(plan["rounds"])]
    return {"rounds": rounds, "probe": await probe(plan) if plan["probes"] else {}}


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text())
    work = capture if plan["mode"] == "capture" else measure
    try:
        import uvloop  # the server's loop: the clients should cost as little as it does

        answer = uvloop.run(work(plan))
    except ImportError:
        answer = asyncio.run(work(plan))
    Path(sys.argv[2]).write_text(json.dumps(answer))


if __name__ == "__main__":
    main()
