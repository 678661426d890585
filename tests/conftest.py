"""Fixtures: settings → database (SQLite and PostgreSQL) → service context → app → client.

Every test that asks for ``database_url`` (directly or through ``settings``, ``ctx``, ``client``)
runs once per backend. SQLite gets a fresh file per test; PostgreSQL gets a fresh schema per test
in the database named by ``MISSIONCTL_TEST_POSTGRES_URL``. Both come already migrated, from a
template made once per session; ``empty_database_url`` gives an unmigrated one. Without that
variable the PostgreSQL variants are skipped (a laptop without a server); with it, a server that
cannot be reached fails them (CI must never skip silently).
"""

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from missionctl.app import create_app
from missionctl.services import ServiceContext, open_context
from missionctl.settings import DatabaseSettings, EngineSettings, Settings
from tests.support import connection_leaks
from tests.support.auth import bearer_headers, sign_in_link_secret
from tests.support.consistency import assert_consistent
from tests.support.databases import (
    PostgresSchemas,
    RecordedStatement,
    compact_catalogs,
    copy_sqlite_template,
    migrate_sqlite_template,
    record_postgres_migration,
    schema_url,
)

# pytest-xdist starts its workers with an 80x24 terminal size in COLUMNS and LINES. The CLI's
# console reads them once, when it is first imported, so a test that sets COLUMNS for itself
# would be ignored: a worker leaves the size to each test, as a single process does.
if "PYTEST_XDIST_WORKER" in os.environ:
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)

POSTGRES_URL_VAR = "MISSIONCTL_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"]

# The scripted OpenAI-compatible server (`openai_server`) for every test that needs one.
pytest_plugins = ["tests.support.fixtures", "tests.support.s3_server"]


def postgres_base_url() -> str | None:
    """The PostgreSQL URL tests should use, or None when PostgreSQL tests are off."""
    return os.environ.get(POSTGRES_URL_VAR) or None


# Test folders whose subject is not the database: pages (`web`, `browser`), the terminal (`cli`),
# the HTTP boundary's defences (`security`), the faces made from each declared operation
# (`operations`), and what agents and coding steps do (`agents`, `coding`). Their reads and
# writes go through the services, repositories and engine that `api`, `services`, `engine`,
# `db` and the rest test on both backends, so their PostgreSQL twins checked nothing new and
# cost a quarter of the suite's time (ADR 0083). A test there whose subject is the database
# after all (two writers at once, a follower reading behind a writer, a callback's row) is
# marked ``both_databases``.
SQLITE_ONLY_FOLDERS = frozenset(
    {"agents", "browser", "cli", "coding", "operations", "security", "web"}
)
DATABASE_FIXTURES = ("database_url", "empty_database_url", "module_settings")
"""The fixtures parametrised by backend (``BACKENDS``)."""


def is_needless_postgresql_twin(item: pytest.Item) -> bool:
    """Whether ``item`` is a PostgreSQL variant that should run on SQLite only.

    That is a test marked ``one_database`` (its subject is something else: a real coding CLI,
    which takes seconds a run), or one in :data:`SQLITE_ONLY_FOLDERS` not marked
    ``both_databases`` that leaves its database to the fixture's parameters (one that
    parametrises ``database_url`` itself chose PostgreSQL on purpose).
    """
    spec = getattr(item, "callspec", None)
    if spec is None or "postgresql" not in (spec.params.get(f) for f in DATABASE_FIXTURES):
        return False
    if item.get_closest_marker("one_database") is not None:
        return True
    if any(
        set(_argnames(mark)) & set(DATABASE_FIXTURES) for mark in item.iter_markers("parametrize")
    ):
        return False  # it names its database itself (`parametrize("database_url", …)`)
    folder = item.path.relative_to(Path(__file__).parent).parts[0]
    return folder in SQLITE_ONLY_FOLDERS and item.get_closest_marker("both_databases") is None


LONG_TIMEOUT_S = 300
"""A test allowed this long or longer (a seed, a chaos run) is started first."""


def declared_long(item: pytest.Item) -> bool:
    """Whether ``item`` carries a ``timeout`` mark of :data:`LONG_TIMEOUT_S` or more."""
    mark = item.get_closest_marker("timeout")
    return mark is not None and bool(mark.args) and mark.args[0] >= LONG_TIMEOUT_S


def _argnames(mark: pytest.Mark) -> list[str]:
    """The argument names of a ``parametrize`` mark ("a, b" or ["a", "b"])."""
    names = mark.args[0] if mark.args else mark.kwargs.get("argnames", [])
    return [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the PostgreSQL variants of tests whose subject is not the database, and put
    the tests declared long first.

    xdist's work stealing hands each worker a run of the list and lets an idle worker take the
    far end of a busy one's; a minutes-long seed left near the end kept one worker busy while
    the others had nothing left to take. Started first, it runs while there is work to share.
    """
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        (dropped if is_needless_postgresql_twin(item) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = sorted(kept, key=lambda item: not declared_long(item))  # stable: order kept


def pytest_sessionstart(session: pytest.Session) -> None:
    """Watch for leaked connections (every process); compact PostgreSQL's catalogs before the
    run's workers start (the controller only).

    The suite creates and drops hundreds of schemas; where autovacuum is off, their dead
    catalog rows pile up from run to run (pg_attribute reached 117 MB) and every schema's
    creation and every query's planning slows down. Compacting them takes about two seconds.
    """
    connection_leaks.watch(_base_temp(session.config))
    base = postgres_base_url()
    if base is None or "PYTEST_XDIST_WORKER" in os.environ:
        return
    compact_catalogs(base)


def pytest_runtest_setup(item: pytest.Item) -> None:
    connection_leaks.running(item.nodeid)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """List the connections collected while open, by the test that opened them."""
    leaks = connection_leaks.report(_base_temp(config))
    if leaks:
        terminalreporter.section("Connections and subprocess transports collected while open")
        for line in leaks:
            terminalreporter.line(line)


def _base_temp(config: pytest.Config) -> Path:
    """This process's temporary directory (a worker's is inside the controller's)."""
    factory: pytest.TempPathFactory = config._tmp_path_factory  # type: ignore[attr-defined]
    return factory.getbasetemp()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the head revision once per session (copied by each test).

    Migrated on a thread of its own: the first test of a process to ask may be a browser test
    (through ``sqlite_settings``), whose thread runs Playwright's event loop, and the
    migration's own loop cannot start there.
    """
    path = tmp_path_factory.mktemp("template") / "template.db"
    failures: list[BaseException] = []

    def migrate() -> None:
        try:
            migrate_sqlite_template(path)
        except BaseException as exc:  # handed to the fixture's thread below
            failures.append(exc)

    thread = threading.Thread(target=migrate)
    thread.start()
    thread.join()
    if failures:
        raise failures[0]
    return path


@pytest.fixture(scope="session")
def postgres_template() -> list[RecordedStatement]:
    """The statements that migrate an empty PostgreSQL schema, recorded once per session."""
    base = postgres_base_url()
    assert base is not None, "only asked for when PostgreSQL tests are on"
    return record_postgres_migration(base)


@pytest.fixture(scope="session")
def postgres_schemas(postgres_template: list[RecordedStatement]) -> Iterator[PostgresSchemas]:
    """This process's migrated PostgreSQL schemas, reused by test after test while unchanged."""
    base = postgres_base_url()
    assert base is not None, "only asked for when PostgreSQL tests are on"
    schemas = PostgresSchemas(base, postgres_template)
    yield schemas
    schemas.close()


@contextmanager
def empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database of ``backend``; a PostgreSQL schema is dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip(f"{POSTGRES_URL_VAR} is not set")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)  # psycopg 3 serves both sync and async URLs
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # with the variable set, an unreachable server is a failure
        admin.dispose()
        pytest.fail(f"{POSTGRES_URL_VAR} is set but PostgreSQL is unreachable: {exc}")
    try:
        yield schema_url(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database of each backend (for the tests of the migration chain)."""
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of a database of each backend, migrated to the head revision and holding no rows.

    The database comes from a per-session template (``tests/support/databases.py``); a test
    marked ``empty_database`` gets it unmigrated (to watch the app migrate it).
    """
    unmigrated = request.node.get_closest_marker("empty_database") is not None
    if request.param == "postgresql" and not unmigrated and postgres_base_url() is not None:
        with request.getfixturevalue("postgres_schemas").schema() as url:
            yield url
        return
    with empty_database(request.param, tmp_path) as url:
        if unmigrated:
            yield url
        else:
            template = request.getfixturevalue("sqlite_template")
            yield copy_sqlite_template(template, tmp_path / "test.db")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings pointing at the test database and a private data directory."""
    return Settings(
        home=tmp_path / "home",
        database=DatabaseSettings(url=SecretStr(database_url)),
        # Tests wait for runs: an idle engine looks for work often. A heartbeat writes the
        # worker's row; one a second keeps that from costing a tenth of a short test's time.
        engine=EngineSettings(poll_s=0.05, heartbeat_s=1.0, lease_s=5.0),
    )


@pytest.fixture
async def ctx(settings: Settings, request: pytest.FixtureRequest) -> AsyncIterator[ServiceContext]:
    """A service context on a freshly migrated database (checked for consistency afterwards)."""
    async with open_context(settings) as context:
        yield context
        tampered = request.node.get_closest_marker("chain_tampered") is not None
        await assert_consistent(context, verify_chain=not tampered)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with its lifespan running and no engine: runs stay as the test leaves them."""
    quiet = settings.model_copy(update={"engine": EngineSettings(embedded=False)})
    application = create_app(quiet)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx2.AsyncClient]:
    """An HTTP client talking to the app in-process, with the app's lifespan running.

    It acts as the admin ``tester`` through an API token (every route needs an identity).
    """
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        headers = await bearer_headers(app.state.ctx)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as http:
            yield http
        await assert_consistent(app.state.ctx)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """The real app under uvicorn in a background thread, on a loopback port."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start serving; returns once the server accepts connections."""
        config = uvicorn.Config(
            create_app(self.settings), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)

    def sign_in_url(self, user: str = "tester") -> str:
        """A one-time sign-in URL for ``user`` (an admin, created if missing)."""
        secrets: list[str] = []

        async def make() -> None:
            async with open_context(self.settings, upgrade=False) as ctx:
                secrets.append(await sign_in_link_secret(ctx, user))

        # A thread of its own: the caller's thread may be running an event loop (Playwright's).
        thread = threading.Thread(target=lambda: asyncio.run(make()))
        thread.start()
        thread.join(timeout=60)
        return f"{self.url}/sign-in?token={secrets[0]}"

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=20)


@pytest.fixture
def sqlite_settings(tmp_path: Path, sqlite_template: Path) -> Settings:
    """Settings on the embedded default (SQLite under a private home).

    The home's database file is a copy of the session's migrated template, as every
    ``database_url`` is: a server started on it finds the head revision instead of running the
    whole chain, a third of a second of CPU at each of the fifty live servers' starts (the
    migration tests and ``make run`` start from an empty home).
    """
    home = tmp_path / "home"
    home.mkdir()
    copy_sqlite_template(sqlite_template, home / "missionctl.db")
    return Settings(home=home, engine=EngineSettings(poll_s=0.05, heartbeat_s=0.2, lease_s=5.0))


@pytest.fixture
def live_server(sqlite_settings: Settings) -> Iterator[LiveServer]:
    """The app served over real HTTP on the embedded default."""
    server = LiveServer(sqlite_settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A SQLite home holding the demo history with its anomalies (seed 42, ``SHARED_DAYS``),
    ending the day before ``tests.support.demo.DEMO_TODAY``: seeded once per session, copied
    per module. A module that serves it (the insights page in a browser) writes sign-ins and
    heartbeats into its copy; no other module sees them."""
    from tests.support.demo import shared_demo_home  # the demo imports the engine: only if used

    return shared_demo_home(tmp_path_factory, anomalies=True)
