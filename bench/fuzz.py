"""The JSON API against its own OpenAPI document: schemathesis, every check, every operation.

What ``st run --checks all`` does to a deployed server, in-process: schemathesis' engine (its
examples, coverage, fuzzing and stateful phases, positive and negative data) sends requests to
the real app through its ASGI transport, with the app's lifespan (database, embedded engine)
running, as an admin through a Bearer token. Every operation of ``/openapi.json`` is fuzzed but
``POST /api/v1/tokens/{name}/revoke``: it would revoke the fuzzer's own token and leave every
later request a 401. For the same reason a case that would disable or demote the fuzzer's own
user is aimed at another name (``spare_the_fuzzer``), and the run fails unless the token still
works at the end. Before the run a mission is planned and run to its end, so that the ids the
engine learns from listings (missions, runs, steps, artifacts) reach past the 404s.

Every check of the installed schemathesis runs (``schemathesis.checks.CHECKS``): no 5xx, the
documented statuses, content types, headers and bodies, schema-valid data accepted and
schema-breaking data refused, required headers and authentication enforced, undeclared methods
refused with 405 and ``Allow``, deleted resources gone, created ones available. The one check
not run is ``max_response_time``: it is a latency budget, not part of the contract, and takes a
limit this benchmark has no reason to pick.

Some schema-valid requests are refused by rules a JSON Schema cannot state (``since`` before
``until``, a password's quality); each operation lists its own under ``x-refusals``
(``missionctl.api.refusals``). For those operations alone a 422 to schema-valid data passes
``positive_data_acceptance``, and one more check, ``refusal_documented``, fails it unless every
field the 422 names is one the operation lists.

It prints one JSON line: per database the requests sent, the 5xx answers, the mismatches per
check (distinct failures of each scenario: one found again in another phase counts again), the
errors schemathesis met generating cases, the operations tested, the answers by status, and the
seconds. Exit status 1 unless every figure of trouble is 0. ``--verbose`` prints each failure,
with the request that shows it and the start of the answer, to stderr.

Run: ``.venv/bin/python bench/fuzz.py [--database sqlite|postgresql|both] [--examples N]
[--seed N] [--coverage all|but-streams|none]``. PostgreSQL needs ``--postgres-url``, else
``MISSIONCTL_BENCH_POSTGRES_URL`` or ``MISSIONCTL_TEST_POSTGRES_URL``; the run works in a
schema of its own, dropped at the end. ``--examples`` is the cases per operation in the fuzzing
phase (hypothesis' ``max_examples``); the default, 50, takes 3 to 4 minutes per database (about
13,500 requests each). ``--coverage`` narrows the coverage phase (:data:`COVERAGE`).
``tests/security/test_schemathesis.py`` runs the same code with two examples on both databases,
the coverage phase on PostgreSQL only.
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

import requests
import schemathesis
from pydantic import SecretStr
from schemathesis.checks import CHECKS, CheckContext, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.transport import Response
from schemathesis.engine import Status, events
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.hooks import HookContext
from schemathesis.hooks import unregister as unregister_hook
from schemathesis.python import asgi
from sqlalchemy import create_engine, text

from missionctl.app import create_app
from missionctl.domain.access import Role
from missionctl.domain.refusals import EXTENSION, covers
from missionctl.schemas.identity import UserCreate
from missionctl.services import open_context
from missionctl.services.usecases import identity
from missionctl.settings import DatabaseSettings, EngineSettings, ServerSettings, Settings

FUZZER = "fuzzer"
EXCLUDED_PATHS = ("/api/v1/tokens/{name}/revoke",)
"""Operations not fuzzed, and why: revoking a token could revoke the fuzzer's own."""
SELF_HARM_PATHS = frozenset({"/api/v1/users/{name}/disable", "/api/v1/users/{name}/role"})
"""Operations fuzzed with any user's name but :data:`FUZZER`'s: the engine learns the names
from ``GET /users``, and disabling or demoting the fuzzer's own user turned every later request
into a 401 (a run of 50 examples lost its last 4,000 requests so)."""
OTHER_USER = "fuzzer-other"
NOT_RUN_CHECKS = frozenset({"max_response_time"})
"""Checks of schemathesis not run (see the module's docstring)."""
DEFAULT_EXAMPLES = 50
ANSWER_SHOWN = 400
"""Bytes of a failing answer's body shown with the failure."""
STREAM_CUT_S = 1.5
"""A live stream never ends: the client keeps what it sent this long (its documented status,
content type and events are checked as for any answer). Without a limit each stream case waits
for schemathesis' request timeout. The cut covers the answer's start too: on two loaded cores a
stream whose filters are valid (it opens, reading the log's head first) took over 0.5 s."""
REQUEST_TIMEOUT_S = 60
"""Long enough for any answer on a busy machine: latency is not this run's subject (a parse of
a megabyte workflow shares two cores with the rest of the suite)."""
STREAM_PATHS = r"/events/stream$|/runs/\{run_id\}/events$"
COVERAGE = ("all", "but-streams", "none")
"""How much of the coverage phase runs: every operation, all but the streams (each of whose
coverage cases holds a stream open :data:`STREAM_CUT_S`), or none."""
RUN_ENDS = frozenset({"completed", "failed", "aborted", "canceled"})


def all_checks() -> list[str]:
    """The names of every check the installed schemathesis offers, but :data:`NOT_RUN_CHECKS`."""
    load_all_checks()
    return [name for name in CHECKS.get_all_names() if name not in NOT_RUN_CHECKS]


@dataclass
class Figures:
    """What one database's run found."""

    database: str
    requests: int = 0
    server_errors: int = 0
    mismatches: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    operations: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    seconds: float = 0.0
    still_signed_in: bool = False
    """Whether the fuzzer's token still worked at the end (no check can fail on a 401 it
    documents: a fuzzer that disabled its own user would test nothing past that point)."""

    def record(self, recorder: ScenarioRecorder) -> None:
        """Count one scenario's requests, answers and failed checks (each failure once)."""
        self.operations.add(recorder.label)
        for interaction in recorder.interactions.values():
            self.requests += 1
            if interaction.response is not None:
                self.statuses[interaction.response.status_code] += 1
                self.server_errors += interaction.response.status_code >= 500
        seen: set[tuple[str, str]] = set()
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.status != Status.FAILURE or check.failure_info is None:
                    continue
                failure = check.failure_info.failure
                key = (check.name, failure.title + failure.message)
                if key in seen:
                    continue
                seen.add(key)
                self.mismatches[check.name] += 1
                self.failures.append(
                    f"{recorder.label} [{check.name}] {failure.title}: {failure.message}\n"
                    f"    {check.failure_info.code_sample}\n    -> {_answer(recorder, case_id)}"
                )

    def summary(self) -> dict[str, Any]:
        """The figures as JSON-ready values."""
        return {
            "requests": self.requests,
            "server_errors": self.server_errors,
            "mismatches": {name: self.mismatches[name] for name in all_checks()},
            "errors": len(self.errors),
            "operations": len(self.operations),
            "still_signed_in": self.still_signed_in,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "seconds": round(self.seconds, 1),
        }

    @property
    def sound(self) -> bool:
        """Whether the run found no 5xx, no mismatch and no error, and ended signed in."""
        trouble = self.server_errors or sum(self.mismatches.values()) or self.errors
        return not trouble and self.still_signed_in


def _answer(recorder: ScenarioRecorder, case_id: str) -> str:
    """The status and the start of the body of the answer to ``case_id``."""
    interaction = recorder.interactions.get(case_id)
    if interaction is None or interaction.response is None:
        return "no answer"
    response = interaction.response
    return f"{response.status_code} {response.content[:ANSWER_SHOWN].decode(errors='replace')}"


def fuzz_settings(settings: Settings) -> Settings:
    """``settings`` with an API rate limit the fuzzer cannot reach, counted in memory.

    Counted in the database (ADR 0113), each request of one token would count the rows of its
    window: thousands, where the limits a server is given allow a few hundred a minute.
    """
    server = ServerSettings(api_requests_per_minute=1_000_000, rate_limits="process")
    return settings.model_copy(update={"server": server})


async def _admin_token(settings: Settings) -> str:
    """A new API token of the admin :data:`FUZZER` (created if missing)."""
    async with open_context(settings) as ctx:
        names = {user.name for user in await identity.list_users(ctx)}
        if FUZZER not in names:
            data = UserCreate(name=FUZZER, role=Role.ADMIN)
            await identity.create_user(ctx, data=data, actor="system")
        name = f"{FUZZER}-{uuid.uuid4().hex[:8]}"
        _, secret = await identity.create_token(ctx, user_name=FUZZER, name=name, actor="system")
        return secret


def seed_objects(client: asgi.ASGIClient, headers: dict[str, str]) -> None:
    """A planned mission with a finished run (and so a report artifact) for the engine to find."""

    def call(method: str, path: str, **kwargs: Any) -> Any:
        response: requests.Response = client.request(method, path, headers=headers, **kwargs)
        assert response.status_code < 300, (path, response.status_code, response.text)
        return response.json()

    mission = call("POST", "/api/v1/missions", json={"goal": "Build a tiny todo API"})
    call("POST", f"/api/v1/missions/{mission['id']}/plan")
    run = call("POST", f"/api/v1/missions/{mission['id']}/runs")
    deadline = time.monotonic() + 30
    while run["status"] not in RUN_ENDS:
        assert time.monotonic() < deadline, f"run did not end: {run['status']}"
        time.sleep(0.05)
        run = call("GET", f"/api/v1/runs/{run['id']}")
    while not call("GET", f"/api/v1/runs/{run['id']}/artifacts"):
        assert time.monotonic() < deadline, "no artifact appeared"  # written after the end
        time.sleep(0.05)


# schemathesis' own list of the statuses that reject schema-breaking data.
# What positive_data_acceptance accepts by default (schemathesis' own list): 5xx are
# not_a_server_error's to judge.
_ACCEPTANCES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
_REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429", "5xx"]


def engine_config(
    headers: dict[str, str],
    *,
    examples: int,
    seed: int,
    coverage: str = "all",
    refusing: Iterable[tuple[str, str]] = (),
) -> SchemathesisConfig:
    """Every check (but :data:`NOT_RUN_CHECKS`), positive and negative data, every phase.

    ``coverage`` (one of :data:`COVERAGE`) narrows the coverage phase alone: ``"but-streams"``
    leaves out the stream operations, ``"none"`` runs no coverage case. ``refusing`` names the
    operations (method, path) that list refusals (:func:`refusing_operations`): a 422 to
    schema-valid data is expected of them, as long as ``refusal_documented`` holds.

    One worker: the app's own concurrency is not this run's subject, and hypothesis' lambda
    descriptions (``ast.parse``) are not thread-safe on Python 3.11.
    """
    checks: dict[str, Any] = {name: {"enabled": True} for name in all_checks()}
    # A body past the size limit is refused with 413 before it is parsed: a rejection too.
    checks["negative_data_rejection"]["expected-statuses"] = [*_REJECTIONS, "413"]
    accepted = [*_ACCEPTANCES, "422"]
    return SchemathesisConfig.from_dict(
        {
            "seed": seed,
            "headers": headers,
            "workers": 1,
            "request-timeout": REQUEST_TIMEOUT_S,
            "continue-on-failure": True,
            "suppress-health-check": ["all"],
            "generation": {"mode": "all", "max-examples": examples, "deterministic": True},
            "checks": checks,
            "phases": {"coverage": {"enabled": coverage != "none"}},
            "operations": [
                {
                    "include-path-regex": STREAM_PATHS,
                    "request-timeout": STREAM_CUT_S,
                    "phases": {"coverage": {"enabled": coverage == "all"}},
                },
                *(
                    {
                        "include-method": method,
                        "include-path": path,
                        "checks": {"positive_data_acceptance": {"expected-statuses": accepted}},
                    }
                    for method, path in refusing
                ),
            ],
        }
    )


def refusing_operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(METHOD, path) of every operation of ``document`` that lists refusals."""
    return [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get(EXTENSION)
    ]


@schemathesis.check
def refusal_documented(ctx: CheckContext, response: Response, case: schemathesis.Case) -> None:
    """A 422 to schema-valid data names only fields its operation lists under ``x-refusals``.

    Operations that list none are left to ``positive_data_acceptance``, which fails such a 422.
    """
    del ctx
    meta = case.meta
    listed = [rule["field"] for rule in case.operation.definition.raw.get(EXTENSION, [])]
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return
    if not listed:
        return
    details = response.json().get("error", {}).get("details", [])
    # A capped list ends with a count of the problems left out, which names no field.
    named = [str(detail["field"]) for detail in details if detail.get("field") is not None]
    unlisted = [name for name in named if not covers(listed, name)]
    if unlisted or not named:
        raise AssertionError(
            f"schema-valid data refused for {unlisted or 'no field'}, which x-refusals does not "
            f"list (it lists {listed})"
        )


def spare_the_fuzzer(context: HookContext, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    """Aim a case of :data:`SELF_HARM_PATHS` at :data:`OTHER_USER`, not the fuzzer's own user.

    A ``before_call`` hook. The other user does not exist: a 404, checked as any answer.
    """
    del context, kwargs
    if case.operation.path in SELF_HARM_PATHS and case.path_parameters.get("name") == FUZZER:
        case.path_parameters["name"] = OTHER_USER


def run_fuzz(
    settings: Settings, database: str, *, examples: int, seed: int = 1, coverage: str = "all"
) -> Figures:
    """Fuzz the app on ``settings``' database; what was sent and what it found.

    ``coverage`` is :func:`engine_config`'s.
    """
    settings = fuzz_settings(settings)
    headers = {"Authorization": f"Bearer {asyncio.run(_admin_token(settings))}"}
    figures = Figures(database=database)
    started = time.monotonic()
    app = create_app(settings)
    # ``before_call`` hooks are global to schemathesis: this one is here for this run only.
    schemathesis.hook("before_call")(spare_the_fuzzer)
    try:
        with asgi.ASGIClient(app) as client:
            seed_objects(client, headers)
            refusing = refusing_operations(app.openapi())
            config = engine_config(
                headers, examples=examples, seed=seed, coverage=coverage, refusing=refusing
            )
            schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
            schema = schema.exclude(path=list(EXCLUDED_PATHS))
            for event in schemathesis.engine.from_schema(schema).execute():
                _record(figures, event)
            me = client.get("/api/v1/me", headers=headers)
            figures.still_signed_in = me.status_code == HTTPStatus.OK
    finally:
        unregister_hook(spare_the_fuzzer)
        asgi.shutdown_lifespans()
    figures.seconds = time.monotonic() - started
    return figures


def _record(figures: Figures, event: events.EngineEvent) -> None:
    if isinstance(event, events.ScenarioFinished):
        figures.record(event.recorder)
    elif isinstance(event, events.NonFatalError):
        figures.errors.append(f"{event.label}: {event.info.message}")
    elif isinstance(event, events.FatalError):
        figures.errors.append(f"fatal: {event.exception!r}")
    elif isinstance(event, events.EngineFinished):
        for failure in event.failures:
            figures.mismatches[failure.checks[0] if failure.checks else "after_run"] += 1
            figures.failures.append(f"{failure.operation}: {failure.title}: {failure.message}")


@contextmanager
def sqlite_settings() -> Iterator[Settings]:
    """Settings on SQLite in a temporary data directory."""
    with tempfile.TemporaryDirectory() as home:
        yield Settings(home=Path(home), engine=EngineSettings(poll_s=0.05))


@contextmanager
def postgres_settings(base: str) -> Iterator[Settings]:
    """Settings on a PostgreSQL schema of their own, dropped afterwards."""
    schema = f"fuzz_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
        with tempfile.TemporaryDirectory() as home:
            database = DatabaseSettings(url=SecretStr(url))
            yield Settings(home=Path(home), database=database, engine=EngineSettings(poll_s=0.05))
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--coverage", choices=COVERAGE, default="all")
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--verbose", action="store_true", help="print every failure to stderr")
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    base = (
        args.postgres_url
        or os.environ.get("MISSIONCTL_BENCH_POSTGRES_URL")
        or os.environ.get("MISSIONCTL_TEST_POSTGRES_URL")
    )
    wanted = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    if "postgresql" in wanted and not base:
        if args.database == "postgresql":
            sys.exit("PostgreSQL needs --postgres-url or MISSIONCTL_BENCH_POSTGRES_URL")
        wanted.remove("postgresql")
    results: dict[str, Any] = {"examples": args.examples, "seed": args.seed}
    sound = True
    for database in wanted:
        opened = sqlite_settings() if database == "sqlite" else postgres_settings(str(base))
        with opened as settings:
            figures = run_fuzz(
                settings, database, examples=args.examples, seed=args.seed, coverage=args.coverage
            )
        results[database] = figures.summary()
        sound = sound and figures.sound
        if args.verbose:
            print("\n\n".join(figures.failures + figures.errors), file=sys.stderr)
    print(json.dumps(results))
    sys.exit(0 if sound else 1)


if __name__ == "__main__":
    main()
