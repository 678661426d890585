"""One appender of ``bench/scale.py``'s append part, in a process of its own.

Run by ``bench/scale.py`` as ``python bench/_scale_appender.py`` with ``MISSIONCTL_HOME`` and
``MISSIONCTL_DATABASE_URL`` set (its schema, already migrated). It opens the product's service
context, appends a few events to warm up, prints ``ready``, then obeys one JSON command per
line of its standard input:

- ``{"mode": "chain", "begin": T0, "start": T1, "end": T2, "batch": B}``: from ``T0`` to
  ``T2`` (seconds since the epoch), appends ``B`` events per transaction, one transaction after
  another, the way a service appends (``ctx.write()`` and ``eventlog.append``: the chain head
  is locked, the events hashed and inserted, the transaction committed);
- ``{"mode": "plain", ...}``: the same transactions without the chain: ``B`` rows of the same
  payload inserted into ``scale_plain``, a table with nothing that serialises its writers;
- ``{"mode": "quit"}``: exits.

After a command it prints one JSON line: for each transaction that ended at or after ``T1``,
when it ended (seconds since the epoch) and how long it took (milliseconds). The transactions
from ``T0`` warm the connection (one that rested is checked first, ``db.liveness``).
"""

import asyncio
import json
import sys
import time
from typing import Any

from sqlalchemy import text

from missionctl.eventlog import NewEvent, append
from missionctl.services import ServiceContext, open_context
from missionctl.settings import Settings

TEXT = "x" * 64  # a payload about the size of a step's event
_PLAIN = text("INSERT INTO scale_plain (payload) VALUES (:payload)")


async def _one(ctx: ServiceContext, mode: str, batch: int, n: int) -> None:
    """One transaction of ``mode``: ``batch`` events (or plain rows), committed."""
    payloads = [{"i": n + i, "text": TEXT} for i in range(batch)]
    async with ctx.write() as session:
        if mode == "chain":
            await append(session, [NewEvent("bench.append", "system", p) for p in payloads])
        else:
            rows = [{"payload": json.dumps(p, separators=(",", ":"))} for p in payloads]
            await session.execute(_PLAIN, rows)


async def _run(ctx: ServiceContext, command: dict[str, Any]) -> dict[str, list[float]]:
    """Append as ``command`` says; the end time and latency of each measured transaction."""
    mode, batch = command["mode"], int(command["batch"])
    await asyncio.sleep(max(0.0, command["begin"] - time.time()))
    ends: list[float] = []
    latencies: list[float] = []
    n = 0
    while (now := time.time()) < command["end"]:
        started = time.perf_counter()
        await _one(ctx, mode, batch, n)
        took = time.perf_counter() - started
        n += batch
        if now + took >= command["start"]:
            ends.append(round(now + took, 6))
            latencies.append(round(took * 1000, 3))
    return {"ends": ends, "latencies_ms": latencies}


async def main() -> None:
    """Warm up, say ``ready``, then obey the commands until ``quit`` or the end of input."""
    async with open_context(Settings(), upgrade=False) as ctx:
        for mode in ("chain", "plain", "chain"):
            await _one(ctx, mode, 1, 0)
        print("ready", flush=True)
        while line := await asyncio.to_thread(sys.stdin.readline):
            command = json.loads(line)
            if command["mode"] == "quit":
                break
            print(json.dumps(await _run(ctx, command)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
