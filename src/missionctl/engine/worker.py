"""The engine: claims ready steps, runs their agents, records results, keeps leases alive.

One ``Engine`` is one worker. ``missionctl serve`` runs one inside the server; ``missionctl
worker`` runs one alone; both use this code. Any number of engines may share a database: claims
are leased (owner, token, expiry), renewed by heartbeat, and fenced on write, so a step is
executed at least once and its completion is recorded exactly once.

The loop, each tick:
1. take the results and log lines collected since the last tick;
2. ``services.usecases.execution.tick`` — one transaction: record them, claim queued work up to the
free
   capacity, promote dependents (claiming those that are ready at once, ADR 12), finish runs;
3. start an asyncio task per claimed step (agent call under ``asyncio.timeout``);
4. sleep until a task finishes, an event says there is new work (``step.queued``, a run started
   or was canceled), or ``poll_s`` passes (work queued by another process).
Lease renewal, expired-lease recovery and the SQLite log checkpoint run every ``heartbeat_s``.

While the event log refuses appends (``EventLogUnavailable``: a stored row contradicts the chain
head), nothing can be recorded, so nothing is dispatched either: a tick's claims are rolled back
with its events. The engine keeps the results of the steps it runs, renews their leases, and
tries again every ``LOG_RETRY_S``; it says so once.
"""

import asyncio
import contextlib
import dataclasses
import logging
import os
import random as random_module
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from missionctl.agents.base import AgentError, AgentResult, Callback, LogLevel, StepContext
from missionctl.agents.registry import AgentRegistry
from missionctl.db.faults import OutageLog
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.autoscaling import Autoscale
from missionctl.domain.budget import Price
from missionctl.domain.workers import (
    UTILISATION_WINDOWS_S,
    DesiredState,
    EngineState,
    HeartbeatReport,
    HeldStep,
    Orders,
    SlotMeter,
    WorkerKind,
    heartbeat_interval,
)
from missionctl.engine.metrics import count_billed, observe_step
from missionctl.engine.plans import PlanCache
from missionctl.engine.presence import Presence
from missionctl.engine.tracing import step_tracing
from missionctl.errors import EventLogUnavailable
from missionctl.eventlog import EventRecord
from missionctl.llm import LLMUsage
from missionctl.schemas.plans import PlanRead
from missionctl.services import ServiceContext
from missionctl.services.runtime.stop_signal import PendingStop
from missionctl.services.usecases import callbacks as callback_service
from missionctl.services.usecases import controls, execution
from missionctl.services.usecases.artifacts import put_blob
from missionctl.services.usecases.execution import (
    ClaimedStep,
    DagCache,
    LogLine,
    PolicyCache,
    StepOutcome,
    StoredArtifact,
)
from missionctl.services.usecases.missions import read_mission
from missionctl.services.usecases.outages import watch_recovery
from missionctl.services.usecases.packs import task_file
from missionctl.services.usecases.reports import unreported_runs
from missionctl.services.usecases.workspaces import WorkspaceCleaner
from missionctl.settings import EngineSettings

log = logging.getLogger(__name__)

PRICE_CACHE_S = 60.0
LOG_RETRY_S = 30.0
# How often an engine with a run-finished hook looks for runs left without a report.
REPORT_SWEEP_EVERY_S = 30.0
_WAKE_EVENTS = {ev.STEP_QUEUED, ev.RUN_STARTED, ev.STEP_RETRIED, ev.RUN_RESUMED}
_WAKE_EVENTS |= {ev.APPROVAL_APPROVED, ev.EMERGENCY_RELEASED, ev.AGENT_UPDATED, ev.STEP_RELEASED}
_WAKE_EVENTS |= {ev.SPENDING_CAP_SET, ev.SPENDING_CAP_REMOVED}
_STOP_EVENTS = {ev.RUN_CANCELED, ev.RUN_ABORTED, ev.STEP_CANCELED}
_FINISH_EVENTS = {ev.RUN_COMPLETED, ev.RUN_FAILED, ev.RUN_CANCELED, ev.RUN_ABORTED}


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """How hard one engine works.

    ``autoscale``: the range it sizes itself within from its start (``concurrency`` is then in
    it, so that it claims no more before its first heartbeat).
    """

    concurrency: int = 32
    lease_s: float = 30.0
    heartbeat_s: float = 5.0
    poll_s: float = 1.0
    max_log_lines_per_tick: int = 5000
    autoscale: Autoscale | None = None

    @classmethod
    def from_settings(cls, settings: EngineSettings) -> "EngineConfig":
        """The configuration ``MISSIONCTL_ENGINE_*`` asks for."""
        autoscale = None if (span := settings.autoscale_range) is None else Autoscale(*span)
        return cls(
            # Within its range from its first claim: a heartbeat would bring it there too late.
            concurrency=settings.concurrency
            if autoscale is None
            else autoscale.clamp(settings.concurrency),
            lease_s=settings.lease_s,
            heartbeat_s=settings.heartbeat_s,
            poll_s=settings.poll_s,
            autoscale=autoscale,
        )


RunFinishedHook = Callable[[uuid.UUID], Awaitable[None]]


def default_worker_id() -> str:
    """``host:pid:random`` — unique per process, readable in lease columns and events."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True)
class _StepCallbacks:
    """The callbacks of one claimed attempt (``agents.base.CallbackChannel``), in the database.

    The row, not this process, is what a callback reaches: the server that receives the answer
    may be another process than the engine that waits for it (ADR 0061).
    """

    ctx: ServiceContext
    claim: ClaimedStep

    async def open(self, *, expires_in_s: float) -> Callback:
        """Open a callback for this attempt of the step run."""
        opened = await callback_service.open_callback(
            self.ctx,
            step_run_id=self.claim.step_run_id,
            attempt=self.claim.attempt,
            expires_in_s=expires_in_s,
        )
        return Callback(id=opened.id, token=opened.token)

    async def answer(self, callback_id: uuid.UUID) -> dict[str, Any] | None:
        """The answer posted to the callback, if one came."""
        return await callback_service.read_callback_answer(self.ctx, callback_id=callback_id)


class Engine:
    """One worker over a ``ServiceContext``."""

    def __init__(
        self,
        ctx: ServiceContext,
        agents: AgentRegistry,
        *,
        config: EngineConfig | None = None,
        worker_id: str | None = None,
        random: Callable[[], float] = random_module.random,
        on_run_finished: RunFinishedHook | None = None,
        kind: WorkerKind = WorkerKind.worker,
    ) -> None:
        """Create an idle engine; ``run()`` starts it.

        ``kind`` says where it runs, in the registry of workers it joins while it runs
        (``engine.presence``).

        ``on_run_finished(run_id)`` is awaited (in a task of its own) after this engine records
        the end of a run — completed, failed or canceled in this process — to write the run's
        report (``engine.hooks``, as every program that runs an engine passes). Its failures
        are logged, never raised. An engine killed before its hook ran leaves the run without a
        report: with a hook, the engine also awaits it for every run that ended more than a
        lease ago and still has none (``services.usecases.reports.unreported_runs``), at its
        first lease upkeep, every ``REPORT_SWEEP_EVERY_S`` and when it stops.
        """
        self.ctx = ctx
        self.agents = agents
        self.config = config or EngineConfig()
        self.worker_id = worker_id or default_worker_id()
        self._random = random
        self._dags = DagCache(ctx.dags)
        self._plans = PlanCache(ctx)
        self._policy = PolicyCache()
        self._inflight: dict[uuid.UUID, tuple[ClaimedStep, asyncio.Task[None]]] = {}
        self._outcomes: list[StepOutcome] = []
        self._logs: list[LogLine] = []
        self._wake = asyncio.Event()
        self._prices: dict[str, tuple[float, Price | None]] = {}
        self.tick_failures = 0
        # An outage fails every tick: one line per cause and a count every 30 s, not a trace
        # twice a second; any other failure keeps its traceback.
        self._outages = OutageLog(log, "engine ticks failed")
        self._recovery: asyncio.Task[None] | None = None  # records an outage once it is over
        # Whether the event log refused appends, since no tick appended events.
        self.log_unavailable = False
        self._on_run_finished = on_run_finished
        self._next_report_sweep = 0.0  # the first sweep is due at the first lease upkeep
        # What the control plane asks, obeyed at each heartbeat (``_obey``, ADR 0058): run up
        # to ``_concurrency`` steps at once, claim nothing while draining, and, for a worker
        # process asked to stop, end the loop once drained.
        self.kind = kind
        self._concurrency = self.config.concurrency
        self.draining = False
        self._exit_when_drained = False
        self._meter = SlotMeter(slots=self._concurrency, now=time.monotonic())
        self._hooks: set[asyncio.Task[None]] = set()
        self._checkpoint: asyncio.Task[None] | None = None
        self._poll_timer: asyncio.Handle | None = None
        self._poll_at = 0.0  # when the poll timer fires, on the loop's clock
        # Removes a run's workspaces when it ends (MISSIONCTL_KEEP_WORKSPACES keeps them).
        self._cleaner = WorkspaceCleaner(ctx)
        self.presence = Presence(
            ctx,
            name=self.worker_id,
            kind=kind,
            concurrency=self.config.concurrency,
            interval_s=heartbeat_interval(self.config.heartbeat_s),
            capabilities=agents.names(),
            autoscale=self.config.autoscale,
            report=self._heartbeat_report,
            obey=self._obey,
        )
        # Spans of steps and runs, while tracing is on (ADR 0045); None costs nothing.
        self._tracing = step_tracing(ctx)

    @property
    def inflight(self) -> int:
        """Steps running now."""
        return len(self._inflight)

    @property
    def concurrency(self) -> int:
        """Steps it runs at once now (its setting, or what the control plane asked)."""
        return self._concurrency

    def _heartbeat_report(self) -> HeartbeatReport:
        """What the next heartbeat writes: state, concurrency, held steps, utilisation."""
        now = time.monotonic()
        self._meter.sample(now)
        held = tuple(
            HeldStep(step_run_id=str(c.step_run_id), run_id=str(c.run_id), step_id=c.step_id)
            for c, _ in self._inflight.values()
        )
        five_minutes, hour = (self._meter.utilisation(w, now) for w in UTILISATION_WINDOWS_S)
        return HeartbeatReport(
            state=EngineState.draining if self.draining else EngineState.running,
            concurrency=self._concurrency,
            held=held,
            utilisation_5m=five_minutes,
            utilisation_1h=hour,
        )

    def _obey(self, orders: Orders) -> bool:
        """Apply what the worker's row asks; whether anything changed.

        Drain and stop both end claiming. Stop also ends a worker process once it holds
        nothing (``_loop``); the server's own engine never ends the server, so there it only
        stops claiming, and says so.
        """
        concurrency = orders.desired_concurrency or self.config.concurrency
        draining = orders.desired_state is not DesiredState.run
        exit_when_drained = orders.desired_state is DesiredState.stop and (
            self.kind is not WorkerKind.embedded
        )
        changed = (concurrency, draining, exit_when_drained) != (
            self._concurrency,
            self.draining,
            self._exit_when_drained,
        )
        if not changed:
            return False
        if concurrency != self._concurrency:
            self._meter.set_slots(concurrency, time.monotonic())
        self._concurrency, self.draining = concurrency, draining
        self._exit_when_drained = exit_when_drained
        log.info(
            "worker %s: %s, %d at once", self.worker_id, _doing(orders, self.kind), concurrency
        )
        self._wake.set()  # claim (or stop claiming) now, not at the next poll
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set, then cancel in-flight steps and return.

        Steps cancelled by a stop are not recorded: their leases expire and another worker
        (or this one, restarted) runs them again with ``attempt + 1``. The garbage collector
        is the process's, not the engine's: a program that runs an engine tunes it first
        (``engine.heap.freeze_startup_heap``).
        """
        async with self.ctx.broadcaster.subscribe() as subscription:
            listener = asyncio.create_task(self._listen(subscription))
            stopper = asyncio.create_task(self._wake_on(stop))
            presence = asyncio.create_task(self.presence.run(stop))
            try:
                await self._loop(stop)
            finally:
                await self._leave_registry(presence, stop)
                if self._poll_timer is not None:
                    self._poll_timer.cancel()
                if self._hooks:
                    await asyncio.gather(*self._hooks, return_exceptions=True)
                # After its own hooks: a run this engine ended just now has its report.
                await self._report_unreported(utcnow())
                listener.cancel()
                stopper.cancel()
                if self._recovery is not None:  # an outage not over yet stays unrecorded
                    self._recovery.cancel()
                await self._cancel_all()
                await self._cleaner.close()
                if self._tracing is not None:
                    await self._tracing.close()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
                with contextlib.suppress(asyncio.CancelledError):
                    await stopper

    async def _leave_registry(self, presence: "asyncio.Task[None]", stop: asyncio.Event) -> None:
        """A clean stop marks the worker stopped; anything else leaves it to stop heartbeating."""
        if not stop.is_set():
            presence.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await presence

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    async def _loop(self, stop: asyncio.Event) -> None:
        next_maintenance = time.monotonic() + self.config.heartbeat_s
        with contextlib.suppress(EventLogUnavailable):  # the first tick finds it too
            await execution.recover_expired_leases(self.ctx, dags=self._dags, random=self._random)
        while not stop.is_set():
            self._wake.clear()
            if (pending := self.ctx.stop_signal.pending()) is not None:
                await self._hold_for_stop(pending, stop)
                continue
            outcomes, self._outcomes = self._outcomes, []
            logs = self._logs[: self.config.max_log_lines_per_tick]
            del self._logs[: len(logs)]
            capacity = 0 if self.draining else max(0, self._concurrency - len(self._inflight))
            try:
                claimed = await execution.tick(
                    self.ctx,
                    worker=self.worker_id,
                    outcomes=outcomes,
                    logs=logs,
                    capacity=capacity,
                    lease_s=self.config.lease_s,
                    dags=self._dags,
                    policy=self._policy,
                    random=self._random,
                )
            except EventLogUnavailable:
                # Nothing can be recorded until the log is repaired (the cause was logged where
                # it was found): keep the results, dispatch nothing, and look again later.
                self._outcomes[:0] = outcomes
                self._logs[:0] = logs
                if not self.log_unavailable:
                    log.error("the engine dispatches nothing while the event log refuses appends")
                self.log_unavailable = True
                await self._wait_for_log(stop)
                continue
            except Exception as failure:
                # Keep what we could not write and try again: a database hiccup must not lose
                # a finished step's result (the lease keeps it ours meanwhile).
                self.tick_failures += 1
                self._failed(failure, "engine tick")
                self._outcomes[:0] = outcomes
                self._logs[:0] = logs
                await asyncio.sleep(min(1.0, self.config.poll_s))
                continue
            if claimed or outcomes:  # events were appended: the log works
                self.log_unavailable = False
            self._dispatch(claimed)
            if self._exit_when_drained and not (self._inflight or self._outcomes or self._logs):
                log.info("worker %s drained: stopping, as asked", self.worker_id)
                stop.set()  # a clean stop: the presence marks the worker stopped
                break
            if time.monotonic() >= next_maintenance:
                await self._maintain()
                next_maintenance = time.monotonic() + self.config.heartbeat_s
            if self._outcomes or self._logs:
                continue  # results arrived while we were writing: record them right away
            # Otherwise sleep until a task finishes (or work arrives). Tasks started just now
            # run first — they were scheduled before this wait — so fast steps finish together
            # and their results share the next tick.
            self._arm_poll(next_maintenance)
            await self._wake.wait()

    def _dispatch(self, claimed: list[ClaimedStep]) -> None:
        """Start the steps just claimed; stop every running one if the emergency stop is on."""
        if self._policy.halted and self._inflight:
            # The emergency stop is on (perhaps set from another process): stop everything
            # this engine runs. The stop aborted their runs, so their results are fenced out.
            for step_run_id in list(self._inflight):
                self._stop_step(step_run_id, "emergency stop")
        started = time.monotonic() if claimed else 0.0
        for claim in claimed:
            task = asyncio.create_task(self._execute(claim))
            self._inflight[claim.step_run_id] = (claim, task)
            self._meter.begin(claim.step_run_id, started)

    def _failed(self, failure: BaseException, doing: str) -> None:
        """Log that ``doing`` failed; an outage of the database is recorded once it is over."""
        self._outages.failed(failure, doing)
        if self._outages.active and (self._recovery is None or self._recovery.done()):
            self._recovery = asyncio.create_task(
                watch_recovery(self.ctx, self._outages, process=self.worker_id)
            )

    async def _hold_for_stop(self, pending: PendingStop, stop: asyncio.Event) -> None:
        """An emergency stop the database has not recorded: stop everything, then record it.

        The stop was pressed while the database could not be written (``StopSignal``): the
        steps this engine runs are stopped now and nothing is dispatched or written until the
        stop is in the database (runs aborted, ``emergency.stopped``). Their results wait in
        memory meanwhile; once the stop is recorded they are fenced out like any other.
        """
        for step_run_id in list(self._inflight):
            self._stop_step(step_run_id, f"emergency stop ({pending.actor})")
        try:
            await controls.record_pending_stop(self.ctx)
        except Exception as failure:
            self._failed(failure, "recording the emergency stop")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(1.0, self.config.poll_s)):
                    await stop.wait()

    async def _wait_for_log(self, stop: asyncio.Event) -> None:
        """Wait ``LOG_RETRY_S`` or until ``stop``, renewing the leases of running steps."""
        deadline = time.monotonic() + LOG_RETRY_S
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(left, self.config.heartbeat_s)):
                    await stop.wait()
            await self._maintain()

    def _arm_poll(self, next_maintenance: float) -> None:
        """Make sure the loop wakes within ``poll_s``, or at the next maintenance if sooner.

        The poll finds work queued by another process. One timer serves many sleeps: it is
        replaced only when it would wake the loop too late, or has fired. A timer per sleep
        cost a timer handle, a timeout context and a cancellation on every iteration, that is
        on every step of a chain.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(
            0.0, min(self.config.poll_s, next_maintenance - time.monotonic())
        )
        timer = self._poll_timer
        if timer is not None:
            # Pending (the timer forgets itself when it fires: a loop's clock may be too coarse
            # to tell) and due soon enough: it wakes the loop in time; earlier is only a tick.
            if self._poll_at <= deadline:
                return
            timer.cancel()
        # The time is kept here: not every loop's handles tell it (uvloop's do not).
        self._poll_timer = loop.call_at(deadline, self._poll_due)
        self._poll_at = deadline

    def _poll_due(self) -> None:
        self._poll_timer = None
        self._wake.set()

    async def _maintain(self) -> None:
        leases = [(c.step_run_id, c.lease_token) for c, _ in self._inflight.values()]
        try:
            held = await execution.renew_leases(
                self.ctx, leases=leases, lease_s=self.config.lease_s
            )
            for step_run_id, _ in leases:
                if step_run_id not in held:
                    self._stop_step(step_run_id, "lease lost")
            await execution.recover_expired_leases(self.ctx, dags=self._dags, random=self._random)
        except EventLogUnavailable:
            pass  # reported once where it was found; the next tick finds it too
        except Exception as exc:
            self._failed(exc, "lease maintenance")
        self._start_checkpoint()
        self._cleaner.sweep_when_due(self._busy)
        self._sweep_reports_when_due()

    def _sweep_reports_when_due(self) -> None:
        """Start a sweep for runs left without a report if the last one is old enough.

        Runs that ended within a lease are left to the engine that ended them: it is most
        likely writing their report now.
        """
        if self._on_run_finished is None or time.monotonic() < self._next_report_sweep:
            return
        self._next_report_sweep = time.monotonic() + REPORT_SWEEP_EVERY_S
        ended_before = utcnow() - timedelta(seconds=self.config.lease_s)
        task = asyncio.create_task(self._report_unreported(ended_before))
        self._hooks.add(task)
        task.add_done_callback(self._hooks.discard)

    async def _report_unreported(self, ended_before: datetime) -> None:
        """Await the run-finished hook for each run that ended before ``ended_before`` unreported.

        One run at a time; failures are logged, never raised.
        """
        hook = self._on_run_finished
        if hook is None:
            return
        try:
            missed = await unreported_runs(self.ctx, ended_before=ended_before)
        except Exception as exc:
            self._failed(exc, "looking for runs without a report")
            return
        for run_id in missed:
            log.info("run %s ended without its report (its engine stopped): writing it", run_id)
            try:
                await hook(run_id)
            except Exception:
                log.exception("run-finished hook failed for run %s", run_id)

    def _start_checkpoint(self) -> None:
        """Checkpoint the SQLite log in the background: its disk sync must not delay ticks."""
        if self._checkpoint is not None and not self._checkpoint.done():
            return

        async def checkpoint() -> None:
            try:
                await execution.checkpoint(self.ctx)
            except Exception as exc:
                self._failed(exc, "log checkpoint")

        self._checkpoint = asyncio.create_task(checkpoint())
        self._hooks.add(self._checkpoint)
        self._checkpoint.add_done_callback(self._hooks.discard)

    async def _listen(self, subscription: Any) -> None:
        while True:
            for record in await subscription.get_many():
                self._hear(record)

    def _hear(self, record: EventRecord) -> None:
        if record.type in _FINISH_EVENTS and record.run_id is not None:
            self._run_hook(record.run_id)
            if self._tracing is not None:
                self._tracing.run_ended(record)
            running = [t for c, t in self._inflight.values() if c.run_id == record.run_id]
            self._cleaner.run_ended(record.run_id, running, self._busy)
        if record.type in _WAKE_EVENTS:
            self._wake.set()
        elif record.type in _STOP_EVENTS:
            for step_run_id, (claim, _) in list(self._inflight.items()):
                if claim.run_id == record.run_id and (
                    record.step_id is None or record.step_id == claim.step_id
                ):
                    self._stop_step(step_run_id, record.type)

    def _run_hook(self, run_id: uuid.UUID) -> None:
        if self._on_run_finished is None:
            return
        hook = self._on_run_finished

        async def call() -> None:
            try:
                await hook(run_id)
            except Exception:
                log.exception("run-finished hook failed for run %s", run_id)

        task = asyncio.create_task(call())
        self._hooks.add(task)
        task.add_done_callback(self._hooks.discard)

    def _busy(self, run_id: uuid.UUID) -> bool:
        return any(claim.run_id == run_id for claim, _ in self._inflight.values())

    def _stop_step(self, step_run_id: uuid.UUID, why: str) -> None:
        entry = self._inflight.get(step_run_id)
        if entry is not None and not entry[1].done():
            log.info("stopping step %s: %s", entry[0].step_id, why)
            entry[1].cancel()

    async def _cancel_all(self) -> None:
        tasks = [task for _, task in self._inflight.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._inflight.clear()

    async def _execute(self, claim: ClaimedStep) -> None:
        started = time.monotonic()
        outcome: StepOutcome | None = None
        tracing = self._tracing
        traced = tracing.started(claim) if tracing is not None else None
        try:
            agent = self.agents.resolve(claim.agent)
            async with asyncio.timeout(claim.timeout_s):
                result = await agent.run(self._step_context(claim))
            outcome = await self._success(claim, result, started)
        except TimeoutError:
            outcome = self._failure(claim, f"timed out after {claim.timeout_s:g} s", True, started)
        except AgentError as exc:
            outcome = self._failure(claim, exc.message, exc.retryable, started, exc)
            if exc.usage.input_tokens or exc.usage.output_tokens:
                # A failed attempt's tokens were paid for too: they count against the budget.
                # At the model routing gave the step (``None``: the configured one).
                cost = await self._cost(claim.model, exc.usage)
                model = self._billed_model(claim.model, exc.usage)
                outcome = dataclasses.replace(outcome, cost_micros=cost, model=model)
        except asyncio.CancelledError:
            # Canceled run, lost lease or engine stop: nothing to record (fencing would
            # refuse it anyway); a stopped engine's steps are recovered through their leases.
            return
        except Exception as exc:  # an agent bug must fail the step, not the engine
            log.exception("agent %s raised", claim.agent)
            outcome = self._failure(claim, f"{type(exc).__name__}: {exc}", True, started)
        finally:
            if traced is not None and tracing is not None:
                tracing.ended(traced, outcome)
            if outcome is not None:
                self._outcomes.append(outcome)
                observe_step(claim.agent, outcome.ok, outcome.duration_ms)
            self._inflight.pop(claim.step_run_id, None)
            self._meter.end(claim.step_run_id, time.monotonic())
            self._wake.set()

    async def _success(
        self, claim: ClaimedStep, result: AgentResult, started: float
    ) -> StepOutcome:
        stored = []
        try:
            for artifact in result.artifacts:
                # A stream (a large file) is copied a chunk at a time, off the event loop.
                blob = await asyncio.to_thread(put_blob, self.ctx, artifact.content)
                stored.append(StoredArtifact(output=artifact, blob=blob))
        finally:
            for artifact in result.artifacts:
                artifact.close()
        outputs = dict(result.outputs)
        if result.summary:
            outputs.setdefault("summary", result.summary)
        if result.risks:
            outputs.setdefault("risks", result.risks)
        if result.next_steps:
            outputs.setdefault("next_steps", result.next_steps)
        return StepOutcome(
            claim=claim,
            ok=True,
            outputs=outputs,
            usage=result.usage,
            cost_micros=await self._cost(result.model, result.usage),
            model=self._billed_model(result.model, result.usage),
            duration_ms=int((time.monotonic() - started) * 1000),
            artifacts=tuple(stored),
        )

    def _billed_model(self, model: str | None, usage: LLMUsage) -> str | None:
        """The model ``usage`` is priced at (the configured one when the agent named none)."""
        if not (usage.input_tokens or usage.output_tokens):
            return None
        return model or self.ctx.settings.llm.model

    async def _cost(self, model: str | None, usage: LLMUsage) -> int:
        """Price ``usage``; prices are cached a minute (admins may change them)."""
        model = self._billed_model(model, usage)
        if not model:
            return 0
        cached = self._prices.get(model)
        if cached is None or time.monotonic() - cached[0] > PRICE_CACHE_S:
            cached = (time.monotonic(), await execution.price_for(self.ctx, model=model))
            self._prices[model] = cached
        if cached[1] is None:
            log.warning("no price known for model %s; its usage is recorded at $0", model)
        cost = execution.usage_cost_micros(cached[1], usage)
        count_billed(model, usage, cost)
        return cost

    def _failure(
        self,
        claim: ClaimedStep,
        error: str,
        retryable: bool,
        started: float,
        exc: AgentError | None = None,
    ) -> StepOutcome:
        return StepOutcome(
            claim=claim,
            ok=False,
            outputs=dict(exc.outputs) if exc else {},
            error=error,
            retryable=retryable,
            usage=exc.usage if exc else LLMUsage(),
            duration_ms=int((time.monotonic() - started) * 1000),
        )

    def _step_context(self, claim: ClaimedStep) -> StepContext:
        def sink(message: str, *, level: LogLevel = "info") -> None:
            self._logs.append(
                LogLine(
                    run_id=claim.run_id,
                    mission_id=claim.mission_id,
                    step_id=claim.step_id,
                    attempt=claim.attempt,
                    level=level,
                    message=message,
                )
            )

        async def upstream() -> dict[str, dict[str, Any]]:
            return await execution.read_upstream_outputs(
                self.ctx, run_id=claim.run_id, step_ids=claim.depends_on
            )

        async def mission() -> dict[str, Any] | None:
            if claim.mission_id is None:
                return None
            return (await read_mission(self.ctx, mission_id=claim.mission_id)).model_dump(
                mode="json"
            )

        async def plan() -> dict[str, Any] | None:
            if claim.mission_id is None:
                return None
            return await self._plans.plan(
                workflow_id=claim.workflow_id, mission_id=claim.mission_id
            )

        async def task_pack(task_key: str) -> str | None:
            plan_json = await plan()
            return (
                None
                if plan_json is None
                else task_file(PlanRead.model_validate(plan_json), task_key)
            )

        def report_usage(usage: LLMUsage, *, estimated: bool) -> None:
            # Written in the background; the step's own result is what counts in the end.
            task = asyncio.create_task(self._show_usage(claim, usage, estimated))
            self._hooks.add(task)
            task.add_done_callback(self._hooks.discard)

        async def record_input(request: Mapping[str, Any]) -> None:
            try:
                await execution.record_step_input(self.ctx, claim=claim, request=request)
            except EventLogUnavailable:
                pass  # reported once where it was found; the step goes on without the record
            except Exception:
                log.exception("could not record the model input of step %s", claim.step_id)

        return StepContext(
            run_id=claim.run_id,
            mission_id=claim.mission_id,
            step_id=claim.step_id,
            attempt=claim.attempt,
            agent=claim.agent,
            inputs=claim.inputs,
            run_dir=self._cleaner.workspaces.run_dir(claim.run_id),
            log=sink,
            load_upstream_outputs=upstream,
            load_mission=mission,
            load_plan=plan,
            report_usage=report_usage,
            record_input=record_input,
            depends_on=claim.depends_on,
            token_limit=claim.token_limit,
            timeout_s=claim.timeout_s,
            callbacks=_StepCallbacks(self.ctx, claim),
            load_task_pack=task_pack,
            load_previous_outputs=partial(_previous_outputs, self.ctx, claim),
            model=claim.model,
        )

    async def _show_usage(self, claim: ClaimedStep, usage: LLMUsage, estimated: bool) -> None:
        try:
            await execution.record_running_usage(
                self.ctx, claim=claim, usage=usage, estimated=estimated
            )
        except EventLogUnavailable:
            pass  # reported once where it was found; the step's result is what counts
        except Exception:
            log.exception("could not show the running usage of step %s", claim.step_id)


async def _previous_outputs(ctx: ServiceContext, claim: ClaimedStep) -> dict[str, Any]:
    """The outputs the claimed step's previous attempt left when it failed (none on attempt 1).

    A retried step's row keeps its failed attempt's outputs until the next attempt records.
    """
    if claim.attempt <= 1:
        return {}
    found = await execution.read_upstream_outputs(
        ctx, run_id=claim.run_id, step_ids=(claim.step_id,)
    )
    return found.get(claim.step_id, {})


def _doing(orders: Orders, kind: WorkerKind) -> str:
    """What obeying ``orders`` means, for the log."""
    if orders.desired_state is DesiredState.run:
        return "claiming work"
    if orders.desired_state is DesiredState.drain:
        return "draining (finishing held steps, claiming no new ones)"
    if kind is WorkerKind.embedded:
        return "asked to stop: the server's engine claims no more steps until resumed"
    return "asked to stop: draining, then exiting"
