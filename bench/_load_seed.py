"""The data of ``bench/load.py``: a team's history at scale, written as the product writes it.

``seed(settings, scale)`` fills an empty database:

1. Two template runs, a one-step run that succeeds (``builtin:noop``) and one that fails
   (``builtin:fail``), executed by a real engine in a scratch SQLite database: their ``runs``
   and ``step_runs`` rows and their events are the pattern every run of the history copies.
2. On a moved clock (``db.clock``, as ``missionctl demo seed`` dates its history) starting
   ``HISTORY_DAYS`` ago: the team's users with their API tokens, ``WORKFLOWS`` one-step
   workflows (one in ten fails), then the history in batches of ``RUNS_PER_BATCH`` runs, each
   batch one write transaction that inserts the copied rows (the ``usage_deltas`` triggers
   fire as for the engine's) and appends the copied events through ``eventlog.append`` (the
   product's hash chain, gapless ``seq``) dated at the batch's time. Each run gets extra
   ``step.log`` events so that the log holds about ``scale.events`` events.
3. In real time: ``MISSIONS`` missions (``PLANNED`` of them planned by the local planner), a
   busy mission whose 30-task run a real engine executes (with its report and up to 5,000
   ``step.log`` events, as ``bench/web.py``), and a live mission whose workflow of
   ``LIVE_STEPS`` command steps (four lanes; each step prints a few lines and sleeps) is
   started here and run by the benchmark's ``missionctl worker``.
4. The usage deltas are folded and every follower of the log caught up, as a server that has
   run for months would have them; PostgreSQL's tables are analysed (autovacuum would have).
   SQLite's are not: the product never runs ``ANALYZE`` there.
"""

import asyncio
import json
import sys
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text

from missionctl.agents.registry import AgentRegistry
from missionctl.db.clock import MovedClock, moved_clock
from missionctl.db.models import Event, Run, StepRun
from missionctl.domain.access import Role
from missionctl.domain.ids import new_id
from missionctl.engine.worker import Engine, EngineConfig
from missionctl.eventlog import NewEvent, append
from missionctl.planning import LocalPlanner
from missionctl.schemas.governance import AgentUpdate, AllowedProgram
from missionctl.schemas.identity import UserCreate
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext, open_context
from missionctl.services.followers import FOLLOWERS, catch_up
from missionctl.services.usecases import identity
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import plans as plan_service
from missionctl.services.usecases import sign_in_links as link_service
from missionctl.services.usecases.agents import update_agent
from missionctl.services.usecases.costs import fold_usage
from missionctl.services.usecases.reports import write_run_report
from missionctl.services.usecases.runs import read_run, start_run
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import EngineSettings, Settings

HISTORY_DAYS = 200
WORKFLOWS = 20
FAILING_EVERY = 10  # one workflow in ten runs builtin:fail
RUNS_PER_BATCH = 200
MISSIONS = 200
PLANNED = 10
BUSY_TASKS = 30
BUSY_LOGS = 5000
LIVE_STEPS = 200
LIVE_LANES = 4
ACTOR = "system"
GOALS = (
    "Build a URL shortener with click analytics and custom aliases",
    "Create a Python library for rate limiting with token buckets and Redis backing",
    "Train and deploy a churn prediction model behind an HTTP API",
    "Build a Slack bot that summarizes incident channels and drafts a postmortem",
    "Build a booking web app for a hostel: members reserve beds by date",
)
# The live run's command steps: a few lines of output (step.log events), then a pause.
PROGRAM = sys.executable
PROGRAM_CODE = """\
import sys, time
seconds, step = float(sys.argv[1]), sys.argv[2]
for chunk in range(3):
    print(f"{step}: chunk {chunk} of 3 processed, 1200 records checked", flush=True)
    time.sleep(seconds / 3)
"""


@dataclass(frozen=True)
class Scale:
    """How much to write."""

    events: int = 1_000_000
    runs: int = 100_000
    users: int = 50
    live_step_s: float = 5.0


@dataclass(frozen=True)
class Template:
    """One run as the engine left it: its row, its step's row and its events."""

    run: dict[str, Any]
    step: dict[str, Any]
    events: list[tuple[str, str, str | None, dict[str, Any]]]


@dataclass
class Seeded:
    """What was written: who signs in, the ids the pages are measured on, the counts."""

    users: list[tuple[str, str]] = field(default_factory=list)  # (name, API token secret)
    ids: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


# -- The templates ------------------------------------------------------------------------------


async def _run_to_end(ctx: ServiceContext, run_ids: Sequence[uuid.UUID]) -> None:
    """Run an engine in this process until every run of ``run_ids`` has ended."""
    engine = Engine(ctx, AgentRegistry(), config=EngineConfig(poll_s=0.01, concurrency=8))
    stop = asyncio.Event()
    worker = asyncio.create_task(engine.run(stop))
    try:
        for _ in range(6000):
            statuses = [(await read_run(ctx, run_id=r)).status for r in run_ids]
            if all(status not in ("pending", "running") for status in statuses):
                return
            await asyncio.sleep(0.02)
        raise RuntimeError(f"the seeding engine did not finish its runs: {statuses}")
    finally:
        stop.set()
        await worker


async def templates() -> tuple[Template, Template]:
    """A succeeded and a failed one-step run, executed by an engine in a scratch database."""
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), engine=EngineSettings(embedded=False))
        async with open_context(settings) as ctx:
            run_ids = []
            for agent in ("builtin:noop", "builtin:fail"):
                spec = _one_step(agent.replace(":", "-"), agent)
                workflow = await create_workflow(ctx, spec=spec, actor=ACTOR)
                run = await start_run(ctx, workflow_id=workflow.id, actor="user:template")
                run_ids.append(run.id)
            await _run_to_end(ctx, run_ids)
            async with ctx.read() as session:
                found = [await _template(session, run_id) for run_id in run_ids]
    return found[0], found[1]


async def _template(session: Any, run_id: uuid.UUID) -> Template:
    run = (await session.execute(select(Run.__table__).where(Run.id == run_id))).one()
    step = (await session.execute(select(StepRun.__table__).where(StepRun.run_id == run_id))).one()
    rows = (
        await session.execute(
            select(Event.type, Event.actor, Event.step_id, Event.payload)
            .where(Event.run_id == run_id)
            .order_by(Event.seq)
        )
    ).all()
    events = [(row.type, row.actor, row.step_id, row.payload) for row in rows]
    return Template(run=dict(run._mapping), step=dict(step._mapping), events=events)


def _one_step(name: str, agent: str) -> WorkflowSpec:
    return WorkflowSpec.model_validate({"name": name, "steps": [{"id": "only", "agent": agent}]})


# -- The history --------------------------------------------------------------------------------

_RUN_TIMES = ("created_at", "started_at", "ended_at", "updated_at")
_STEP_TIMES = ("queued_at", "started_at", "ended_at", "created_at", "updated_at")


@dataclass(frozen=True)
class _Workflow:
    id: uuid.UUID
    name: str
    template: Template


def _shifted(row: dict[str, Any], names: Sequence[str], delta: timedelta) -> dict[str, Any]:
    return {name: row[name] + delta for name in names if row.get(name) is not None}


def _log_line(run_id: uuid.UUID, n: int, k: int) -> NewEvent:
    """The ``k``-th extra log event of history run ``n``: a line its step printed."""
    line = {"level": "info", "message": f"batch {k} of run {n}: {n * 7 % 997} records checked"}
    payload = {"attempt": 1, "lines": [line]}
    return NewEvent("step.log", "system", payload, run_id=run_id, step_id="only")


def _copy(
    workflow: _Workflow, n: int, actor: str, at: datetime, logs: int
) -> tuple[dict[str, Any], dict[str, Any], list[NewEvent]]:
    """History run ``n``: the template's rows and events with new ids, ``actor`` and times."""
    template = workflow.template
    run_id = new_id()
    delta = at - template.run["created_at"]
    run = {**template.run, "id": run_id, "workflow_id": workflow.id, "created_by": actor}
    run.update(_shifted(template.run, _RUN_TIMES, delta))
    step = {**template.step, "id": new_id(), "run_id": run_id}
    step.update(_shifted(template.step, _STEP_TIMES, delta))
    events: list[NewEvent] = []
    for type_, who, step_id, payload in template.events:
        if type_ in ("step.succeeded", "step.failed"):  # the lines come before the step's end
            events += [_log_line(run_id, n, k) for k in range(logs)]
        if type_ == "run.created":
            payload = {**payload, "workflow_id": str(workflow.id), "workflow": workflow.name}
        who = actor if who == "user:template" else who
        events.append(NewEvent(type_, who, payload, run_id=run_id, step_id=step_id))
    return run, step, events


async def _team(ctx: ServiceContext, count: int) -> list[tuple[str, str]]:
    """``count`` admins, each with an API token: the benchmark's clients sign in as them."""
    users = []
    for n in range(count):
        name = f"bench-{n:03d}"
        await identity.create_user(ctx, data=UserCreate(name=name, role=Role.ADMIN), actor=ACTOR)
        _, secret = await identity.create_token(
            ctx, user_name=name, name=f"load-{n:03d}", actor=ACTOR
        )
        users.append((name, secret))
    return users


async def _workflows(ctx: ServiceContext, done: Template, failed: Template) -> list[_Workflow]:
    found = []
    for n in range(WORKFLOWS):
        fails = n % FAILING_EVERY == FAILING_EVERY - 1
        name = f"wf-{n:02d}"
        spec = _one_step(name, "builtin:fail" if fails else "builtin:noop")
        saved = await create_workflow(ctx, spec=spec, actor=ACTOR)
        found.append(_Workflow(saved.id, name, failed if fails else done))
    return found


async def history(ctx: ServiceContext, scale: Scale, seeded: Seeded) -> None:
    """Users, workflows and ``scale.runs`` runs dated over ``HISTORY_DAYS`` (moved clock)."""
    done, failed = await templates()
    start = datetime.now(UTC) - timedelta(days=HISTORY_DAYS)
    span = timedelta(days=HISTORY_DAYS - 1)
    own = len(done.events) * 0.9 + len(failed.events) * 0.1
    others = BUSY_LOGS + 3 * LIVE_STEPS + 2000  # what the missions and users append
    extra = max(0, scale.events - int(own * scale.runs) - others)
    with moved_clock(start) as clock:
        seeded.users = await _team(ctx, scale.users)
        workflows = await _workflows(ctx, done, failed)
        for first in range(0, scale.runs, RUNS_PER_BATCH):
            clock.move_to(start + span * (first / max(1, scale.runs)))
            numbers = range(first, min(scale.runs, first + RUNS_PER_BATCH))
            await _batch(ctx, clock, workflows, seeded, numbers, (extra, scale.runs))


async def _batch(
    ctx: ServiceContext,
    clock: MovedClock,
    workflows: list[_Workflow],
    seeded: Seeded,
    numbers: range,
    logs_over: tuple[int, int],
) -> None:
    """One write transaction: the rows of runs ``numbers`` and their events.

    ``logs_over`` is (extra log events, runs): each run gets its share of the extra lines.
    """
    extra, runs = logs_over
    rows, steps, events = [], [], []
    for n in numbers:
        logs = extra // runs + (1 if n < extra % runs else 0)
        actor = f"user:{seeded.users[n % len(seeded.users)][0]}"
        at = clock.now - timedelta(seconds=(numbers.stop - n) * 60)
        run, step, own = _copy(workflows[n % WORKFLOWS], n, actor, at, logs)
        rows.append(run)
        steps.append(step)
        events += own
    async with ctx.write() as session:
        await session.execute(Run.__table__.insert(), rows)
        await session.execute(StepRun.__table__.insert(), steps)
        await append(session, events)
    if numbers.start == 0:
        seeded.ids["history_run"] = str(rows[0]["id"])


# -- The missions -------------------------------------------------------------------------------


def _busy_workflow(title: str) -> WorkflowSpec:
    """30 tasks in six layers of five, each depending on two of the layer before (web.py)."""
    steps: list[dict[str, Any]] = []
    for n in range(BUSY_TASKS):
        layer, index = divmod(n, 5)
        deps = [f"task-{(layer - 1) * 5 + (index + k) % 5:02d}" for k in (0, 1)] if layer else []
        inputs = {"title": f"{title}: task {n + 1}", "role": "backend"}
        steps.append({"id": f"task-{n:02d}", "agent": "builtin:noop", "depends_on": deps,
                      "inputs": inputs})  # fmt: skip
    return WorkflowSpec.model_validate({"name": "busy-mission", "steps": steps})


def _live_workflow(step_s: float) -> WorkflowSpec:
    """``LIVE_STEPS`` command steps in ``LIVE_LANES`` lanes: each prints, then sleeps."""
    steps = []
    for n in range(LIVE_STEPS):
        lane, depth = n % LIVE_LANES, n // LIVE_LANES
        steps.append(
            {
                "id": f"s{depth:03d}-{lane}",
                "agent": "command",
                "depends_on": [f"s{depth - 1:03d}-{lane}"] if depth else [],
                "inputs": {"argv": [PROGRAM, "-c", PROGRAM_CODE, str(step_s), "${step_id}"]},
            }
        )
    return WorkflowSpec.model_validate({"name": "live-pipeline", "steps": steps})


async def _mission(ctx: ServiceContext, goal: str, *, planned: bool) -> uuid.UUID:
    mission = await mission_service.create_mission(
        ctx, data=MissionCreate(goal=goal), actor="user:bench-000"
    )
    if planned:
        await plan_service.plan_mission(
            ctx, mission_id=mission.id, actor="user:bench-000", planner=LocalPlanner()
        )
    return mission.id


async def _busy(ctx: ServiceContext, logs: int, seeded: Seeded) -> None:
    """The busy mission: planned, its 30-task run executed by an engine, its report, logs."""
    busy = await _mission(ctx, "Build a multi-tenant analytics cockpit with 30 tasks", planned=True)
    workflow = await create_workflow(
        ctx, spec=_busy_workflow("Analytics cockpit"), actor=ACTOR, mission_id=busy
    )
    run = await start_run(ctx, workflow_id=workflow.id, actor="user:bench-000", mission_id=busy)
    await _run_to_end(ctx, [run.id])
    await write_run_report(ctx, run_id=run.id)
    for first in range(0, logs, 100):  # in batches of 100, as the engine batches them
        async with ctx.write() as session:
            await append(session, [_busy_log(busy, run.id, n) for n in range(first, first + 100)])
    seeded.ids.update(busy_mission=str(busy), busy_run=str(run.id))


def _busy_log(mission_id: uuid.UUID, run_id: uuid.UUID, n: int) -> NewEvent:
    payload = {"attempt": 1, "lines": [{"level": "info", "message": f"log line {n}"}]}
    step_id = f"task-{n % BUSY_TASKS:02d}"
    return NewEvent("step.log", "agent:bench", payload, mission_id, run_id, step_id)


async def _live(ctx: ServiceContext, step_s: float, seeded: Seeded) -> None:
    """The live mission's run: started here, run by the benchmark's worker."""
    live = await _mission(ctx, "Run the nightly data pipeline over every region", planned=True)
    programs = AgentUpdate(allowed_programs={PROGRAM: AllowedProgram(tier="read")})
    await update_agent(ctx, name="command", data=programs, actor=ACTOR)  # no approver needed
    workflow = await create_workflow(ctx, spec=_live_workflow(step_s), actor=ACTOR, mission_id=live)
    run = await start_run(ctx, workflow_id=workflow.id, actor="user:bench-000", mission_id=live)
    seeded.ids.update(live_mission=str(live), live_run=str(run.id))


async def missions(ctx: ServiceContext, scale: Scale, seeded: Seeded) -> None:
    """``MISSIONS`` missions (``PLANNED`` planned), the busy one and the live one."""
    for n in range(MISSIONS):
        goal = f"{GOALS[n % len(GOALS)]} (#{n})"
        await _mission(ctx, goal, planned=n < PLANNED)
    await _busy(ctx, min(BUSY_LOGS, scale.events // 20 // 100 * 100), seeded)
    await _live(ctx, scale.live_step_s, seeded)


# -- Settling and the whole -------------------------------------------------------------------


async def settle(ctx: ServiceContext, settings: Settings, seeded: Seeded) -> None:
    """Fold the usage deltas and catch every follower up; analyse PostgreSQL's tables.

    Each follower reads the whole seeded log, from nothing: ``seeded.seconds`` gets how long
    each took (``follower_<name>_s``), the lag a burst that size leaves it with.
    """
    await fold_usage(ctx)
    loop = asyncio.get_running_loop()
    for follower in FOLLOWERS:
        started = loop.time()
        await catch_up(ctx, follower)
        seeded.seconds[f"follower_{follower.name}_s"] = round(loop.time() - started, 2)
    url = settings.database_url
    if url.startswith("sqlite"):
        return  # the product never analyses SQLite: neither does the benchmark
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).scalars()
            for table in list(tables):
                conn.execute(text(f'VACUUM ANALYZE "{table}"'))
    finally:
        engine.dispose()


async def seed(settings: Settings, scale: Scale) -> Seeded:
    """Write the whole data set into ``settings``' (empty) database; see the module."""
    seeded = Seeded()
    quiet = settings.model_copy(update={"engine": EngineSettings(embedded=False)})
    loop = asyncio.get_running_loop()
    async with open_context(quiet) as ctx:
        started = loop.time()
        await history(ctx, scale, seeded)
        seeded.seconds["history_s"] = round(loop.time() - started, 1)
        started = loop.time()
        await missions(ctx, scale, seeded)
        seeded.seconds["missions_s"] = round(loop.time() - started, 1)
        started = loop.time()
        await settle(ctx, quiet, seeded)
        seeded.seconds["followers_and_analyse_s"] = round(loop.time() - started, 1)
        async with ctx.read() as session:
            head = await session.execute(text("SELECT last_seq FROM event_log_head"))
            seeded.counts["events"] = int(head.scalar_one())
            runs = await session.execute(text("SELECT count(*) FROM runs"))
            seeded.counts["runs"] = int(runs.scalar_one())
    return seeded


async def sign_in_links(settings: Settings, names: Sequence[str]) -> list[str]:
    """A one-time sign-in link secret for each of ``names`` (``missionctl login-link``)."""
    async with open_context(settings) as ctx:
        return [await link_service.create_sign_in_link(ctx, user_name=name) for name in names]


def to_json(seeded: Seeded) -> str:
    """``seeded`` as JSON, for the clients' process."""
    return json.dumps(
        {"users": seeded.users, "ids": seeded.ids, "counts": seeded.counts}, sort_keys=True
    )
