"""The engine-facing use cases: one tick, lease renewal, lease recovery, pricing usage."""

import asyncio
import functools
import math
import random as random_module
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.budget import Price, cost_micros
from missionctl.domain.states import StepRunStatus
from missionctl.eventlog import NewEvent, append_sync
from missionctl.llm import LLMUsage
from missionctl.llm.redaction import redact
from missionctl.repositories import execution as repo
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.execution.caps import release_holds
from missionctl.services.usecases.execution.claiming import claim
from missionctl.services.usecases.execution.recording import (
    advance_runs,
    finish_runs,
    log_events,
    record_outcomes,
)
from missionctl.services.usecases.execution.types import (
    ENGINE_ACTOR,
    ClaimedStep,
    DagCache,
    Dispatch,
    FenceConflict,
    LogLine,
    PolicyCache,
    StepOutcome,
    Tick,
    coding_clis,
    refresh_policy,
    spec_guard_for,
)
from missionctl.services.usecases.pricing import resolve_price


async def tick(
    ctx: ServiceContext,
    *,
    worker: str,
    outcomes: Sequence[StepOutcome],
    logs: Sequence[LogLine],
    capacity: int,
    lease_s: float,
    dags: DagCache,
    policy: PolicyCache | None = None,
    random: Callable[[], float] = random_module.random,
) -> list[ClaimedStep]:
    """Record ``outcomes`` and ``logs``, then claim up to ``capacity`` steps — one transaction.

    Runs on the writer's blocking connection (ADR 0007), on the event loop itself when the
    writer is idle and the SQLite write lock free (ADR 0021); events are published after the
    commit. ``policy`` is read first: while the emergency stop is on nothing is claimed (and
    ``policy.halted`` tells the engine to stop what it runs); steps whose agent's rules refuse
    them are held.

    Returns:
        The newly claimed steps (each ``running`` under a fresh lease owned by ``worker``).
    """
    policies = policy or PolicyCache()
    specs = spec_guard_for(ctx.settings)
    clis = coding_clis(ctx.settings)
    looked: list[date] = []  # the UTC day whose caps' holds this tick looked at

    def work(session: Session, *, careful: bool) -> list[ClaimedStep]:
        state = Tick(now=utcnow(), policy=policies.load(session), specs=specs, clis=clis)
        today = state.now.date()
        if state.policy.caps and policies.caps_day != today:
            # A cap's period may have turned since this engine last looked: a daily cap's
            # holds end at UTC midnight (a monthly cap's with its month).
            state.events += release_holds(
                session, state.policy.caps, state.now, actor=ENGINE_ACTOR, why="period"
            )
            looked[:] = [today]
        dispatch = Dispatch(
            worker=worker,
            lease_token=uuid.uuid4(),
            expires=state.now + timedelta(seconds=lease_s),
            # The emergency stop halts every dispatch, including claims on promotion.
            capacity=0 if state.policy.halted else capacity,
        )
        state.events.extend(log_events(logs))
        if outcomes:
            record_outcomes(session, state, outcomes, dags, random, careful=careful)
        # The queue first, then the steps this tick made ready: older work goes first.
        if dispatch.capacity > 0:
            claim(session, state, dispatch, dags)
        advance_runs(session, state, dags, dispatch)
        finish_runs(session, state, dags)
        append_sync(session, state.events)
        return dispatch.claimed

    try:
        claimed = await ctx.write_blocking(functools.partial(work, careful=False), inline=True)
    except FenceConflict:
        # A lease was lost since its claim (expired, run canceled): nothing was written; redo
        # the tick reading the fences first, so that the stale results are skipped.
        claimed = await ctx.write_blocking(functools.partial(work, careful=True), inline=True)
    if looked:  # committed: the next tick need not look again until the day turns
        policies.caps_day = looked[0]
    return claimed


async def renew_leases(
    ctx: ServiceContext, *, leases: Sequence[tuple[uuid.UUID, uuid.UUID]], lease_s: float
) -> set[uuid.UUID]:
    """Extend the leases still held; returns the step run ids whose lease is still ours.

    A step missing from the result was canceled or recovered by someone else: its worker must
    stop it.
    """
    if not leases:
        return set()

    def work(session: Session) -> set[uuid.UUID]:
        held = repo.read_held_leases(session, leases=leases)
        expires = utcnow() + timedelta(seconds=lease_s)
        repo.extend_leases(session, step_run_ids=held, expires=expires)
        return held

    return await ctx.write_blocking(work, inline=True)


async def recover_expired_leases(
    ctx: ServiceContext, *, dags: DagCache, random: Callable[[], float] = random_module.random
) -> int:
    """Put steps whose worker vanished back in the queue (``attempt + 1``), or fail them.

    Returns:
        How many expired leases were recovered.
    """
    clis = coding_clis(ctx.settings)

    def work(session: Session) -> int:
        state = Tick(now=utcnow(), clis=clis)
        # The controls lock before any step's: recovery may admit a program, and the emergency
        # stop locks controls before runs (see ``refresh_policy``).
        refresh_policy(session, state)
        rows = repo.read_expired_leases(session, now=utcnow())
        if not rows:
            return 0
        outcomes = [
            StepOutcome(
                claim=ClaimedStep(
                    step_run_id=row.id,
                    run_id=uuid.UUID(int=0),  # the locked row supplies run, step and mission
                    mission_id=None,
                    workflow_id=uuid.UUID(int=0),
                    step_id="",
                    attempt=row.attempt,
                    agent="",
                    inputs={},
                    lease_token=row.lease_token,
                    timeout_s=0,
                ),
                ok=False,
                error=f"lease expired: worker {row.lease_owner} stopped heartbeating",
                lease_expired=True,
            )
            for row in rows
        ]
        record_outcomes(session, state, outcomes, dags, random, careful=True)
        advance_runs(session, state, dags)
        finish_runs(session, state, dags)
        append_sync(session, state.events)
        return len(rows)

    return await ctx.write_blocking(work, inline=True)


async def record_running_usage(
    ctx: ServiceContext, *, claim: ClaimedStep, usage: LLMUsage, estimated: bool
) -> bool:
    """Show the tokens a running step has used so far (``step.usage``), fenced by its lease.

    The result's usage, recorded when the step ends, replaces these figures; run and mission
    totals count only that. Returns whether the step was still running under the lease.
    """

    def work(session: Session) -> bool:
        shown = repo.set_running_usage(
            session,
            step_run_id=claim.step_run_id,
            token=claim.lease_token,
            attempt=claim.attempt,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
        )
        if shown:
            append_sync(
                session,
                [
                    NewEvent(
                        type=ev.STEP_USAGE,
                        actor=ENGINE_ACTOR,
                        run_id=claim.run_id,
                        mission_id=claim.mission_id,
                        step_id=claim.step_id,
                        payload={
                            "status": StepRunStatus.running.value,
                            "attempt": claim.attempt,
                            "input_tokens": usage.input_tokens,
                            "output_tokens": usage.output_tokens,
                            "estimated": estimated,
                        },
                    )
                ],
            )
        return shown

    return await ctx.write_blocking(work, inline=True)


MAX_INPUT_MESSAGE_CHARS = 16_000
"""How much of each message sent to a model ``step.input`` keeps (ADR 0044)."""

MAX_INPUT_MESSAGES = 8
"""How many messages of one request ``step.input`` keeps."""


def step_input_payload(attempt: int, request: Mapping[str, Any]) -> dict[str, Any]:
    """The ``step.input`` payload of a request to a model: redacted, then cut to its bounds.

    Redaction comes first (``llm.redaction.redact``: registered secrets and what looks like a
    credential), so that a cut never leaves half a secret to slip past it. The temperature and
    seed sent with the request are kept as numbers (``None``: not sent, or not a number).
    """
    messages = list(request.get("messages") or [])
    kept: list[dict[str, str]] = []
    truncated = len(messages) > MAX_INPUT_MESSAGES
    for message in messages[:MAX_INPUT_MESSAGES]:
        content = redact(str(message.get("content", "")))
        if len(content) > MAX_INPUT_MESSAGE_CHARS:
            content, truncated = content[:MAX_INPUT_MESSAGE_CHARS], True
        kept.append({"role": redact(str(message.get("role", "")))[:40], "content": content})
    return {
        "attempt": attempt,
        "model": redact(str(request.get("model") or ""))[:200],
        "temperature": _number(request.get("temperature"), float),
        "seed": _number(request.get("seed"), int),
        "prompt_version": redact(str(request.get("prompt_version") or ""))[:80],
        "messages": kept,
        "truncated": truncated,
    }


def _number(value: Any, kind: type[float] | type[int]) -> float | int | None:
    """``value`` if it is a finite ``kind`` (an int counts as a float, a boolean as neither)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None  # an event's payload is JSON, which holds no NaN
    if kind is int:
        return value if isinstance(value, int) else None
    return float(value)


async def record_step_input(
    ctx: ServiceContext, *, claim: ClaimedStep, request: Mapping[str, Any]
) -> None:
    """Append ``step.input``: what an attempt of the claimed step sends to a model.

    Not fenced by the lease: the request was sent whether or not the attempt's result will
    count, and the event names its attempt.
    """
    event = NewEvent(
        type=ev.STEP_INPUT,
        actor=ENGINE_ACTOR,
        run_id=claim.run_id,
        mission_id=claim.mission_id,
        step_id=claim.step_id,
        payload=step_input_payload(claim.attempt, request),
    )
    await ctx.write_blocking(lambda session: append_sync(session, [event]), inline=True)


async def checkpoint(ctx: ServiceContext) -> None:
    """Copy SQLite's write-ahead log into the database beside the writer (no-op elsewhere)."""
    await asyncio.to_thread(ctx.db.checkpoint_sync)


async def price_for(ctx: ServiceContext, *, model: str) -> Price | None:
    """The price in force for ``model`` (override, else bundled), or ``None`` if unknown."""
    async with ctx.read() as session:
        return await resolve_price(session, model=model)


def usage_cost_micros(price: Price | None, usage: LLMUsage) -> int:
    """What ``usage`` costs at ``price`` (0 when no tokens were used or the price is unknown)."""
    if price is None or not (usage.input_tokens or usage.output_tokens):
        return 0
    return cost_micros(
        price,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_input_tokens=usage.cached_input_tokens,
    )


async def read_upstream_outputs(
    ctx: ServiceContext, *, run_id: uuid.UUID, step_ids: Collection[str]
) -> dict[str, dict[str, Any]]:
    """The outputs of the named steps of a run (an agent's upstream), by step id."""
    if not step_ids:
        return {}
    async with ctx.read() as session:
        found = await session.run_sync(repo.read_step_outputs, run_id=run_id, step_ids=step_ids)
    return {step_id: dict(outputs or {}) for step_id, (_, outputs) in found.items()}
