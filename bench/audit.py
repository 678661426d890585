"""The provable audit log at scale: a million events, a checkpoint every thousand, one verify.

Run: `.venv/bin/python bench/audit.py` (SQLite in a temporary directory). Set
MISSIONCTL_BENCH_AUDIT_EVENTS to change the number of events (default 1,000,000) and
MISSIONCTL_BENCH_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to measure
PostgreSQL too, in a schema of its own that is dropped afterwards.

Events are appended in batches of 1,000 through the event log, as the engine appends a wide tick;
after each batch the server's checkpoint path signs the head (``write_audit_checkpoint``), so the
log ends with one signed checkpoint per 1,000 events. Then ``verify_audit_log`` checks every
event and every checkpoint, as `missionctl audit verify` does. Prints one JSON object: appends
per second, the median time to sign and write one checkpoint, and how long verification takes
in all and per million events.
"""

import asyncio
import json
import os
import statistics
import time

from _databases import backends
from missionctl.eventlog import NewEvent, append
from missionctl.services import open_context
from missionctl.services.usecases.audit import verify_audit_log, write_audit_checkpoint
from missionctl.settings import Settings

BATCH = 1000


async def _measure(settings: Settings, total: int) -> dict[str, object]:
    append_s = 0.0
    sign_times: list[float] = []
    async with open_context(settings) as ctx:
        for start in range(0, total, BATCH):
            events = [
                NewEvent("bench.tick", "system", {"i": start + i, "step": "build", "ok": True})
                for i in range(BATCH)
            ]
            began = time.perf_counter()
            async with ctx.write() as session:
                await append(session, events)
            append_s += time.perf_counter() - began
            began = time.perf_counter()
            await write_audit_checkpoint(ctx)
            sign_times.append(time.perf_counter() - began)
        began = time.perf_counter()
        report = await verify_audit_log(ctx)
        verify_s = time.perf_counter() - began
    assert report.ok, (str(report.chain), report.checkpoints)
    return {
        "events": report.chain.count,
        "checkpoints": len(sign_times),
        "append_events_per_s": round(total / append_s),
        "checkpoint_sign_and_write_ms_median": round(statistics.median(sign_times) * 1000, 2),
        "verify_s": round(verify_s, 1),
        "verify_s_per_million_events": round(verify_s * 1_000_000 / total, 1),
    }


def main() -> None:
    total = int(os.environ.get("MISSIONCTL_BENCH_AUDIT_EVENTS", "1000000"))
    figures: dict[str, object] = {"batch": BATCH}
    for name, settings in backends():
        figures[name] = asyncio.run(_measure(settings, total))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
