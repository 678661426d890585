"""What each more viewer of one live run page costs the server.

Run: `PYTHONPATH=src:. .venv/bin/python bench/live_viewers.py` (SQLite in a temporary
directory). For each number of viewers in `VIEWERS`, the app runs in this process with its
engine (httpx2 over an ASGI transport that streams, no network); a fresh 60-step run of
`builtin:sleep` steps (three lanes, 0.3 s each) starts, and that many admins hold the run
page's live stream open until the run ends and the streams go quiet. Prints one JSON object:
per number of viewers, the process's CPU seconds (the engine's included, the same for every
count), the bytes and messages the viewers received, and `cpu_s_per_more_viewer`: what each
viewer beyond the first added, the figure the page's sharing of reads and renders keeps low
(ADRs 0107 and 0109). Medians of `ROUNDS` rounds.
"""

import asyncio
import contextlib
import json
import logging
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2
from tests.support.auth import bearer_headers
from tests.web.support import HTMX, Inbox, StreamingASGITransport, start_steps, wait_for_run

from missionctl.app import create_app
from missionctl.settings import Settings

logging.getLogger("httpx2").setLevel(logging.WARNING)

VIEWERS = (1, 10)
ROUNDS = 3
STEPS = 60
LANES = 3
QUIET_S = 1.5


def _steps() -> list[dict[str, Any]]:
    return [
        {
            "id": f"s{i}",
            "agent": "builtin:sleep",
            "inputs": {"seconds": 0.3},
            **({"depends_on": [f"s{i - LANES}"]} if i >= LANES else {}),
        }
        for i in range(STEPS)
    ]


async def _drain(inbox: Inbox) -> tuple[int, int]:
    """Messages and bytes the stream sends until it has been quiet for ``QUIET_S``."""
    count = size = 0
    while (message := await inbox.next(QUIET_S)) is not None:
        count, size = count + 1, size + len(message.text)
    return count, size


async def watch_one_run(home: Path, viewers: int) -> dict[str, float]:
    """Start a run and hold ``viewers`` streams of its page until it ends; the figures."""
    app = create_app(Settings(home=home))
    async with app.router.lifespan_context(app):
        ctx = app.state.ctx
        headers = {**await bearer_headers(ctx), **HTMX}
        transport = StreamingASGITransport(app)
        async with (
            httpx2.AsyncClient(transport=transport, base_url="http://bench") as http,
            contextlib.AsyncExitStack() as stack,
        ):
            run = await start_steps(ctx, None, _steps())
            started = time.process_time()
            inboxes = []
            for _ in range(viewers):
                url = f"/runs/{run.id}/stream"
                response = await stack.enter_async_context(http.stream("GET", url, headers=headers))
                inboxes.append(await stack.enter_async_context(Inbox(response)))
            await wait_for_run(ctx, run.id, within_s=120)
            received = await asyncio.gather(*(_drain(inbox) for inbox in inboxes))
            cpu_s = time.process_time() - started
    return {
        "cpu_s": cpu_s,
        "messages": sum(count for count, _ in received),
        "bytes": sum(size for _, size in received),
    }


def main() -> None:
    figures: dict[int, dict[str, float]] = {}
    for viewers in VIEWERS:
        rounds = []
        for n in range(ROUNDS):
            with tempfile.TemporaryDirectory() as home:
                rounds.append(asyncio.run(watch_one_run(Path(home) / f"{viewers}-{n}", viewers)))
        figures[viewers] = {
            key: round(statistics.median(r[key] for r in rounds), 2) for key in rounds[0]
        }
    fewest, most = min(VIEWERS), max(VIEWERS)
    per_viewer = (figures[most]["cpu_s"] - figures[fewest]["cpu_s"]) / (most - fewest)
    print(
        json.dumps(
            {
                "benchmark": "live_viewers",
                "steps": STEPS,
                "rounds": ROUNDS,
                "by_viewers": figures,
                "cpu_s_per_more_viewer": round(per_viewer, 3),
                "bytes_per_viewer": round(figures[most]["bytes"] / most),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
