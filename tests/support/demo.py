"""Seeded demo histories for the tests that need a populated cockpit (ADR 0071).

A seed takes half a minute or more (the engine runs every step), so each of the two shared
homes (with and without the injected anomalies) is seeded once per test session,
whichever xdist worker asks first, under a file lock; every worker then works on a copy of
its own, so that no test sees another's writes. ``seed_home`` writes a shorter history into a
new home for the tests that check the seeding itself. ``cli_seeded_home`` is the home that
``missionctl demo seed`` writes, run once per session in the same way: the command's test reads
what it printed, and the seeding's test on PostgreSQL compares its own seed with it.
"""

import asyncio
import fcntl
import os
import shutil
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from missionctl.db.models import Event
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


CLI_SEED = 7
"""The seed the tests give ``missionctl demo seed``: not the default 42, so that the option is
seen to be read."""


async def seed_context(
    ctx: ServiceContext,
    *,
    days: int = SHORT_DAYS,
    today: date = DEMO_TODAY,
    anomalies: bool = True,
    seed_number: int = 42,
) -> DemoSummary:
    """Seed ``ctx``'s empty database (seed 42 unless ``seed_number`` says otherwise)."""
    return await seed(ctx, days=days, seed=seed_number, anomalies=anomalies, today=today)


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


def _session_root(factory: pytest.TempPathFactory) -> Path:
    """The temporary directory every process of the session shares."""
    base = factory.getbasetemp()
    # Under xdist each worker's base is a child of the session's: the parent is shared.
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_demo_home(factory: pytest.TempPathFactory, *, anomalies: bool) -> Settings:
    """A copy, for this worker, of the session's shared demo home (seeded on first use)."""
    root = _session_root(factory)
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


@dataclass(frozen=True)
class CliSeeded:
    """What ``missionctl demo seed --days 28 --seed 7 --home folder/new/home`` did, run from
    ``folder`` once per session: its exit code and output, and a copy of the home it wrote.

    ``folder`` and ``home`` are the session's, shared by every test that asks: read them, never
    write to them. ``copy`` is the caller's own.
    """

    exit_code: int
    output: str
    folder: Path
    home: Path
    copy: Path

    @property
    def settings(self) -> Settings:
        """Settings on the caller's copy of the home."""
        return Settings(home=self.copy)


@dataclass(frozen=True)
class DemoArguments:
    """The arguments a demo history was written with, as its first event records them."""

    days: int
    seed_number: int
    anomalies: bool
    today: date


async def seeded_arguments(settings: Settings) -> DemoArguments:
    """The arguments of the history in ``settings``' database (its ``demo.seeded`` event)."""
    async with open_context(settings) as ctx, ctx.read() as session:
        claim = (await session.scalars(select(Event).where(Event.seq == 1))).one()
    assert claim.type == "demo.seeded", claim.type
    first = date.fromisoformat(claim.payload["first_day"])
    last = date.fromisoformat(claim.payload["last_day"])
    return DemoArguments(
        days=(last - first).days + 1,
        seed_number=claim.payload["seed"],
        anomalies=claim.payload["anomalies"],
        today=last + timedelta(days=1),
    )


def cli_seeded_home(factory: pytest.TempPathFactory) -> CliSeeded:
    """``missionctl demo seed`` into a new SQLite home, run once per session (whichever worker
    asks first, under a file lock), and a copy of that home for the caller.

    The command's test (tests/demo/test_demo_cli.py) checks what it printed and wrote; the
    seeding's test on PostgreSQL (tests/demo/test_seed.py) seeds the same arguments and compares
    the facts. Each seeded a history of its own before, a quarter of a minute more a session.
    """
    root = _session_root(factory)
    master = root / "demo-cli"
    folder, home = master / "folder", master / "folder" / "new" / "home"
    with (root / "demo-cli.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (master / "seeded").exists():
            shutil.rmtree(master, ignore_errors=True)
            folder.mkdir(parents=True)
            exit_code, output = _run_cli_seed(folder, home)
            (master / "output.txt").write_text(output)
            (master / "exit_code").write_text(str(exit_code))
            (master / "seeded").touch()
    copy = factory.mktemp("demo-cli") / "home"
    if home.is_dir():  # a failed seed may have made none: the tests say so from the output
        shutil.copytree(home, copy)
    return CliSeeded(
        exit_code=int((master / "exit_code").read_text()),
        output=(master / "output.txt").read_text(),
        folder=folder,
        home=home,
        copy=copy,
    )


def _run_cli_seed(folder: Path, home: Path) -> tuple[int, str]:
    """Run ``missionctl demo seed`` (in this process, as ``CliRunner`` does) from ``folder``.

    On a thread of its own, as ``seed_home`` is: the command runs an event loop, which cannot
    start on a thread where one runs already. The home's own SQLite, whatever database the
    environment names; the working directory is ``folder``, so that the test can check that
    ``--home`` is the only directory made.
    """
    from typer.testing import CliRunner  # the CLI imports everything: only if used

    from missionctl.cli import app

    args = ["demo", "seed", "--days", str(SHORT_DAYS), "--seed", str(CLI_SEED)]
    results: list[tuple[int, str]] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            done = CliRunner().invoke(app, [*args, "--home", str(home)], catch_exceptions=False)
            results.append((done.exit_code, done.output))
        except BaseException as exc:  # handed to the caller's thread
            failures.append(exc)

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MISSIONCTL_DATABASE_URL", raising=False)
        patch.chdir(folder)
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
    if failures:
        raise failures[0]
    return results[0]
