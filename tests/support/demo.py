"""Seeded demo histories for the tests that need a populated cockpit (ADR 0071).

A seed takes half a minute or more (the engine runs every step), so each of the two shared
homes (with and without the injected anomalies) is seeded once per test session,
whichever xdist worker asks first, under a file lock; every worker then works on a copy of
its own, so that no test sees another's writes. ``seed_home`` writes a shorter history into a
new home for the tests that check the seeding itself.
"""

import asyncio
import fcntl
import os
import shutil
import threading
from datetime import date
from pathlib import Path

import pytest

from missionctl.demo.seed import DemoSummary, seed
from missionctl.services import ServiceContext, open_context
from missionctl.settings import Settings

DEMO_TODAY = date(2026, 11, 18)
"""The day the shared histories end before (a Wednesday in the past): their cohorts' weeks and
the detector's windows fall the same whatever day the suite runs."""
SHORT_DAYS = 28
SHARED_DAYS = 63
"""The shared homes' length: nine weeks, the least that holds every window of the anomaly
detector (four weeks before the last, eight of weekday factors, the cohorts of three and four
weeks ago and three before them). The default 90 days find the same anomalies, in more time."""

SEEDING = pytest.mark.timeout(600)
"""The mark of a test that seeds a history, or uses a shared home another worker may be seeding:
a seed of the shared homes' length takes one to two minutes on a busy two-core machine, past
the suite's per-test limit (which is there to catch hangs). A seed cut short would also leave
its moved clock installed, and every later seed in that worker would be refused."""


async def seed_context(
    ctx: ServiceContext,
    *,
    days: int = SHORT_DAYS,
    today: date = DEMO_TODAY,
    anomalies: bool = True,
) -> DemoSummary:
    """Seed ``ctx``'s empty database (seed 42)."""
    return await seed(ctx, days=days, seed=42, anomalies=anomalies, today=today)


def seed_home(
    home: Path, *, days: int = SHORT_DAYS, today: date = DEMO_TODAY, anomalies: bool = True
) -> Settings:
    """Seed a new SQLite home at ``home``; its settings.

    Runs on a thread of its own, so a caller inside an event loop (Playwright's) may call it.
    """
    settings = Settings(home=home)

    async def write() -> None:
        async with open_context(settings) as ctx:
            await seed_context(ctx, days=days, today=today, anomalies=anomalies)

    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(write())
        except BaseException as exc:  # handed to the caller's thread
            failures.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failures:
        raise failures[0]
    return settings


def shared_demo_home(factory: pytest.TempPathFactory, *, anomalies: bool) -> Settings:
    """A copy, for this worker, of the session's shared demo home (seeded on first use)."""
    base = factory.getbasetemp()
    # Under xdist each worker's base is a child of the session's: the parent is shared.
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    name = "demo-anomalies" if anomalies else "demo-plain"
    master = root / name
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (master / "seeded").exists():
            shutil.rmtree(master, ignore_errors=True)
            seed_home(master / "home", days=SHARED_DAYS, anomalies=anomalies)
            (master / "seeded").touch()
    mine = factory.mktemp(name) / "home"
    shutil.copytree(master / "home", mine)
    return Settings(home=mine)
