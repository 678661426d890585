"""Writing the demo history through the services, on a moved clock (ADR 0071).

``seed`` plans the history (``demo.history``), installs a moved clock at its first morning,
claims the empty log, and plays each session in time order: people are created and sign in
with one-time links, create missions that the local planner plans, start runs of the demo's
workflows that a real engine executes with ``llm`` agents against the scripted model
(``demo.model_server``), and download reports. The clock moves to each session's time and
forward by each model call's duration, so runs last what the plan says and every event is
dated in the history. One run at a time, so the history is the same whatever the machine.
"""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from missionctl.db.clock import MovedClock, moved_clock
from missionctl.db.types import utcnow
from missionctl.demo.history import (
    DemoHistory,
    Injection,
    PlannedRun,
    Session,
    check_days,
    counted,
    plan_history,
)
from missionctl.demo.model_server import ScriptedCall, ScriptedModel, serve_model
from missionctl.demo.parameters import PARAMETERS
from missionctl.domain import events as ev
from missionctl.domain.access import Role
from missionctl.engine.worker import Engine, EngineConfig
from missionctl.errors import Problem, ValidationFailed
from missionctl.eventlog.broadcast import Subscription
from missionctl.llm.openai_client import OpenAICompatibleClient
from missionctl.planning import LocalPlanner
from missionctl.schemas.identity import UserCreate
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.routing import CatalogueChange
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import build_agents
from missionctl.services.usecases import (
    identity,
    missions,
    model_catalogue,
    plans,
    reports,
    runs,
    sign_in_links,
    workflows,
)
from missionctl.services.usecases.demo import DemoClaim, claim_empty_log
from missionctl.settings import Settings

ACTOR = "system"
# The history's first event is dated this early on its first day, before anyone signs in.
_MORNING = time(6, 0)
# Seconds between a session's steps: signing in, writing a goal, starting a run, reading.
_PAUSE_S = {"sign_in": 20.0, "goal": 90.0, "plan": 15.0, "run": 120.0, "read": 60.0}
# No lease may run out while the clock jumps over a step's duration (at most an hour or so).
_LEASE_S = 7 * 86_400.0
_WAIT_S = 5.0
_RUN_DEADLINE_S = 300.0
_RUN_ENDS = frozenset({ev.RUN_COMPLETED, ev.RUN_FAILED, ev.RUN_CANCELED, ev.RUN_ABORTED})


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What a seed wrote: counts of people's acts (test users' left out), days, injections."""

    first_day: date
    last_day: date
    days: int
    seed: int
    people: int
    test_users: int
    missions: int
    runs: int
    completed_runs: int
    failed_runs: int
    downloads: int
    injections: tuple[Injection, ...]
    admin: str
    """The history's admin: whom to sign in as to look (``missionctl login-link``)."""


@dataclass(slots=True)
class _Tally:
    missions: int = 0
    runs: int = 0
    completed: int = 0
    failed: int = 0
    downloads: int = 0


async def seed(
    ctx: ServiceContext,
    *,
    days: int = 90,
    seed: int = 42,
    anomalies: bool = True,
    today: date | None = None,
) -> DemoSummary:
    """Write ``days`` days of history ending the day before ``today`` into an empty log.

    ``today`` defaults to the current UTC day. The same ``days``, ``seed``, ``anomalies`` and
    ``today`` write the same history (the same facts for analytics); only ids and secrets
    differ.

    Raises:
        ValidationFailed: ``days`` outside 28..366 (field ``days``); nothing is written.
        Conflict: the event log is not empty (field ``home``), or another history is being
            written in this process; nothing is written.
    """
    try:
        check_days(days)
    except ValueError as exc:
        raise ValidationFailed([Problem("days", str(exc))]) from None
    history = plan_history(
        PARAMETERS, days=days, seed=seed, anomalies=anomalies, today=today or utcnow().date()
    )
    claim = DemoClaim(history.first_day, history.last_day, seed, anomalies)
    first_morning = datetime.combine(history.first_day, _MORNING, UTC)
    with _configured_model(ctx.settings, PARAMETERS.model), moved_clock(first_morning) as clock:
        await claim_empty_log(ctx, claim=claim)
        model = ScriptedModel(clock)
        async with serve_model(model) as base_url, _engine(ctx, base_url) as ended:
            roles = {person.name: person.role for person in history.people}
            testers = frozenset(p.name for p in history.people if p.test)
            player = _Player(ctx, clock, model, ended, await _save_workflows(ctx), roles, testers)
            for session in history.sessions:
                await player.play(session)
        await _allow_the_trial_model(ctx)
    return _summary(history, days, seed, player.tally)


def _summary(history: DemoHistory, days: int, seed: int, tally: _Tally) -> DemoSummary:
    people = counted(history.people)
    return DemoSummary(
        first_day=history.first_day,
        last_day=history.last_day,
        days=days,
        seed=seed,
        people=len(people),
        test_users=len(history.people) - len(people),
        missions=tally.missions,
        runs=tally.runs,
        completed_runs=tally.completed,
        failed_runs=tally.failed,
        downloads=tally.downloads,
        injections=history.injections,
        admin=next(p.name for p in people if p.role is Role.ADMIN),
    )


@contextmanager
def _configured_model(settings: Settings, model: str) -> Iterator[None]:
    """While the history is written, ``model`` is the configured model.

    The demo's engine runs every ``llm:`` step on it, whatever the home configures; runs are
    then routed (the trial's pins) and priced as they would be where it is configured.
    """
    before = settings.llm
    settings.llm = before.model_copy(update={"model": model})
    try:
        yield
    finally:
        settings.llm = before


async def _save_workflows(ctx: ServiceContext) -> dict[tuple[str, bool], uuid.UUID]:
    """Save the demo's workflows; their ids by name and whether the version is the trial's.

    Each is saved twice: first pinned to the trial model (version 1), then as it is (version 2,
    the one people start from now).
    """
    saved = {}
    for trial in (True, False):
        for workflow in PARAMETERS.runs.workflows:
            spec = workflow.spec.model_copy(
                update={"model": PARAMETERS.trial.model if trial else None}
            )
            stored = await workflows.create_workflow(ctx, spec=spec, actor=ACTOR)
            saved[(workflow.spec.name, trial)] = stored.id
    return saved


async def _allow_the_trial_model(ctx: ServiceContext) -> None:
    """After the trial, an admin lets routing choose its model; its record decides the roles."""
    await model_catalogue.change_model(
        ctx,
        model=PARAMETERS.trial.model,
        change=CatalogueChange(routable=True),
        actor=ACTOR,
    )


class _RunEnds:
    """Waits for a run to end, from the events the engine publishes (or a read, if none came)."""

    def __init__(self, ctx: ServiceContext, subscription: Subscription) -> None:
        self._ctx = ctx
        self._subscription = subscription

    async def __call__(self, run_id: uuid.UUID) -> str:
        """The status ``run_id`` ended with.

        Raises:
            RuntimeError: the run has not ended after ``_RUN_DEADLINE_S`` seconds (a demo run
                takes well under one: the engine is stuck, and its log says why).
        """
        deadline = asyncio.get_running_loop().time() + _RUN_DEADLINE_S
        while asyncio.get_running_loop().time() < deadline:
            records = await self._subscription.get_many_within(_WAIT_S)
            for record in records:
                if record.run_id == run_id and record.type in _RUN_ENDS:
                    return record.type.removeprefix("run.")
            if not records:
                status = (await runs.read_run(self._ctx, run_id=run_id)).status.value
                if f"run.{status}" in _RUN_ENDS:
                    return status
        raise RuntimeError(f"demo run {run_id} did not end within {_RUN_DEADLINE_S:g} s")


@asynccontextmanager
async def _engine(ctx: ServiceContext, base_url: str) -> AsyncIterator[_RunEnds]:
    """A real engine whose ``llm`` agents call the scripted model, working for the block.

    One step at a time, so the model's script is read in one order; leases long enough that
    no jump of the clock makes a running step look abandoned.
    """
    client = OpenAICompatibleClient(
        base_url=base_url, api_key=None, model=PARAMETERS.model, timeout_s=60.0, max_retries=0
    )
    engine = Engine(
        ctx,
        build_agents(client),
        config=EngineConfig(concurrency=1, lease_s=_LEASE_S, heartbeat_s=3600.0, poll_s=1.0),
        worker_id=f"demo-seed-{uuid.uuid4().hex[:6]}",
    )
    # The registry of workers judges liveness by heartbeat age: on the moved clock, which
    # jumps by a step's duration between a heartbeat and the sweep after it, the engine would
    # find itself offline. Its heartbeats keep the machine's time.
    engine.presence.clock = _machine_time
    stop = asyncio.Event()
    async with ctx.broadcaster.subscribe() as subscription:
        working = asyncio.create_task(engine.run(stop))
        try:
            yield _RunEnds(ctx, subscription)
        finally:
            stop.set()
            await working
            await client.aclose()


def _machine_time() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Player:
    """Plays sessions through the services, keeping each person's newest mission."""

    ctx: ServiceContext
    clock: MovedClock
    model: ScriptedModel
    ended: _RunEnds
    workflow_ids: dict[tuple[str, bool], uuid.UUID]
    roles: dict[str, Role]
    testers: frozenset[str]
    tally: _Tally = field(default_factory=_Tally)
    # What test users do is not counted: they count nowhere in analytics either.
    untallied: _Tally = field(default_factory=_Tally)
    newest_mission: dict[str, tuple[uuid.UUID, str]] = field(default_factory=dict)
    newest_report: uuid.UUID | None = None

    async def play(self, session: Session) -> None:
        """Sign the person in (creating them first if they join) and do what they came for."""
        self.clock.move_to(session.at)
        actor = f"user:{session.person}"
        if session.joins:
            await self._join(session.person)
        secret = await sign_in_links.create_sign_in_link(self.ctx, user_name=session.person)
        self.clock.advance(_PAUSE_S["sign_in"])
        await sign_in_links.redeem_sign_in_link(self.ctx, secret=secret)
        for goal in session.goals:
            await self._mission(session.person, actor, goal)
        for planned in session.runs:
            await self._run(session.person, actor, planned)
        if session.download_latest and self.newest_report is not None:
            await self._download(session.person, self.newest_report)

    async def _join(self, name: str) -> None:
        role = self.roles[name]
        await identity.create_user(self.ctx, data=UserCreate(name=name, role=role), actor=ACTOR)
        self.clock.advance(_PAUSE_S["sign_in"])

    async def _mission(self, name: str, actor: str, goal: str) -> None:
        self.clock.advance(_PAUSE_S["goal"])
        mission = await missions.create_mission(
            self.ctx, data=MissionCreate(goal=goal), actor=actor
        )
        self.clock.advance(_PAUSE_S["plan"])
        await plans.plan_mission(
            self.ctx, mission_id=mission.id, actor=actor, planner=LocalPlanner()
        )
        self.newest_mission[name] = (mission.id, goal)
        self._tally(name).missions += 1

    async def _run(self, name: str, actor: str, planned: PlannedRun) -> None:
        mission_id, goal = self.newest_mission[name]
        self.clock.advance(_PAUSE_S["run"])
        self.model.expect(_script(planned, goal))
        run = await runs.start_run(
            self.ctx,
            workflow_id=self.workflow_ids[(planned.workflow, planned.trial)],
            actor=actor,
            mission_id=mission_id,
        )
        status = await self.ended(run.id)
        self.model.forget()
        tally = self._tally(name)
        tally.runs += 1
        if status == "completed":
            tally.completed += 1
            self.newest_report = run.id
            if planned.download:
                await self._download(name, run.id)
        else:
            tally.failed += 1

    def _tally(self, name: str) -> _Tally:
        return self.untallied if name in self.testers else self.tally

    async def _download(self, name: str, run_id: uuid.UUID) -> None:
        """Fetch the run's report as Markdown, as the run page's Report menu does."""
        self.clock.advance(_PAUSE_S["read"])
        report = await reports.build_run_report(self.ctx, run_id=run_id)
        await reports.record_download(
            self.ctx, report=report, actor=f"user:{name}", format="markdown"
        )
        self._tally(name).downloads += 1


def _script(planned: PlannedRun, goal: str) -> list[ScriptedCall]:
    """The model's answers for a run's steps, in order, up to the one that is refused."""
    spec = _spec(planned.workflow)
    calls = []
    for index, (step, call) in enumerate(zip(spec.steps, planned.calls, strict=True)):
        if planned.fails_at == index:
            refusal = "the request was refused by the provider's content policy"
            calls.append(ScriptedCall(call.seconds, 0, 0, refusal=refusal))
            break
        title = str(step.inputs.get("title", step.id))
        content = {
            "summary": f"{title}: done for “{goal}”.",
            "artifacts": [],
            "log": [f"{title}: finished"],
            "risks": [],
            "next_steps": [],
        }
        calls.append(
            ScriptedCall(
                call.seconds, call.prompt_tokens, call.completion_tokens, json.dumps(content)
            )
        )
    return calls


def _spec(name: str) -> WorkflowSpec:
    return next(w.spec for w in PARAMETERS.runs.workflows if w.spec.name == name)


__all__ = ["DemoSummary", "seed"]
