"""A seeded demo history for tests that need a populated cockpit (ADR 0071).

``seed_home(home)`` writes a short history (35 days by default, ~10 s) into a new SQLite home
and returns its settings; call it from a session-scoped fixture and share the home, e.g.::

    @pytest.fixture(scope="session")
    def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
        return seed_home(tmp_path_factory.mktemp("demo") / "home")

``tests/demo/conftest.py`` has that fixture as ``demo_settings``.
"""

import asyncio
import threading
from datetime import date
from pathlib import Path

from missionctl.demo.seed import DemoSummary, seed
from missionctl.services import ServiceContext, open_context
from missionctl.settings import Settings

DEMO_DAYS = 35


async def seed_context(
    ctx: ServiceContext, *, days: int = DEMO_DAYS, today: date | None = None, anomalies: bool = True
) -> DemoSummary:
    """Seed ``ctx``'s empty database (seed 42)."""
    return await seed(ctx, days=days, seed=42, anomalies=anomalies, today=today)


def seed_home(home: Path, *, days: int = DEMO_DAYS, today: date | None = None) -> Settings:
    """Seed a new SQLite home at ``home``; its settings.

    Runs on a thread of its own, so a caller inside an event loop (Playwright's) may call it.
    """
    settings = Settings(home=home)

    async def write() -> None:
        async with open_context(settings) as ctx:
            await seed_context(ctx, days=days, today=today)

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
