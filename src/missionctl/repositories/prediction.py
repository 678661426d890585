"""The step-risk follower's rows: the attempts' history by day, and each run step's estimate.

Blocking functions on a session (ADR 0118): what a window of the log says about attempts that
ended (``step.succeeded``, ``step.failed``, ``step.retry_scheduled`` of an attempt that ran),
the history of some steps as of a day (``domain.prediction.History``'s levels), the steps a
window started, and ``step_risks``. A window is the events ``after < seq <= upto``.
"""

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.db.models import Event, Run, StepRun, Workflow
from missionctl.db.prediction import StepAttemptDay, StepRisk
from missionctl.domain import events as ev
from missionctl.domain.prediction import Counts

ATTEMPT_ENDS = (ev.STEP_SUCCEEDED, ev.STEP_FAILED, ev.STEP_RETRY_SCHEDULED)
TIMED_OUT = "timed out after"
"""How the engine's error of an attempt that ran out of time starts."""


@dataclass(frozen=True, slots=True)
class StepKey:
    """One step of one workflow (by name), run by one agent."""

    workflow: str
    step_id: str
    agent: str


@dataclass(frozen=True, slots=True)
class AttemptEnd:
    """One attempt that ran and ended, as its event and its step say."""

    day: date
    key: StepKey
    later: bool
    failed: bool
    timed_out: bool
    over_estimate: bool

    def counts(self) -> Counts:
        """The attempt as one count."""
        return Counts(1, int(self.failed), int(self.timed_out), int(self.over_estimate))


def read_attempt_ends(session: Session, *, after: int, upto: int) -> list[AttemptEnd]:
    """The attempts that ran and ended in the window (a step that failed to start ran none)."""
    rows = session.execute(
        select(
            Event.type,
            Event.ts,
            Event.payload,
            Workflow.name,
            StepRun.step_id,
            StepRun.agent,
            StepRun.estimate_micros,
        )
        .join(StepRun, (StepRun.run_id == Event.run_id) & (StepRun.step_id == Event.step_id))
        .join(Run, Run.id == StepRun.run_id)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(Event.seq > after, Event.seq <= upto, Event.type.in_(ATTEMPT_ENDS))
    ).all()
    return [end for row in rows if (end := _attempt_end(*row)) is not None]


def _attempt_end(
    kind: str,
    at: datetime,
    payload: dict[str, Any],
    workflow: str,
    step_id: str,
    agent: str,
    estimate: int,
) -> AttemptEnd | None:
    if "duration_ms" not in payload:
        return None  # it never ran: an input that could not be evaluated
    attempt = int(payload.get("attempt") or 1)
    if kind == ev.STEP_RETRY_SCHEDULED:
        attempt -= 1  # the event names the attempt it queues
    error = str(payload.get("error") or "")
    cost = int(payload.get("cost_micros") or 0)
    return AttemptEnd(
        day=at.date(),
        key=StepKey(workflow, step_id, agent),
        later=attempt > 1,
        failed=kind != ev.STEP_SUCCEEDED,
        timed_out=error.startswith(TIMED_OUT),
        over_estimate=estimate > 0 and cost > estimate,
    )


def add_attempt_ends(session: Session, ends: Iterable[AttemptEnd]) -> None:
    """Count ``ends`` into their days' rows (made as needed)."""
    summed: dict[tuple[date, StepKey, bool], Counts] = {}
    for end in ends:
        slot = (end.day, end.key, end.later)
        summed[slot] = summed.get(slot, Counts()) + end.counts()
    for (day, key, later), counts in summed.items():
        ident = {
            "day": day,
            "workflow": key.workflow,
            "step_id": key.step_id,
            "agent": key.agent,
            "later": later,
        }
        row = session.get(StepAttemptDay, ident)
        if row is None:
            session.add(StepAttemptDay(**ident, attempts=0, failed=0, timed_out=0, over_estimate=0))
            session.flush()
            row = session.get(StepAttemptDay, ident)
            assert row is not None
        row.attempts += counts.attempts
        row.failed += counts.failed
        row.timed_out += counts.timed_out
        row.over_estimate += counts.over_estimate
    session.flush()


_SUMS = (
    func.coalesce(func.sum(StepAttemptDay.attempts), 0),
    func.coalesce(func.sum(StepAttemptDay.failed), 0),
    func.coalesce(func.sum(StepAttemptDay.timed_out), 0),
    func.coalesce(func.sum(StepAttemptDay.over_estimate), 0),
)


def read_everything(session: Session, *, since: date, until: date) -> Counts:
    """Every attempt that ended on a day in ``[since, until)``."""
    row = session.execute(
        select(*_SUMS).where(StepAttemptDay.day >= since, StepAttemptDay.day < until)
    ).one()
    return Counts(*map(int, row))


def read_by_agent(
    session: Session, *, agents: Collection[str], since: date, until: date
) -> dict[str, Counts]:
    """Each of ``agents``' attempts that ended on a day in ``[since, until)``."""
    rows = session.execute(
        select(StepAttemptDay.agent, *_SUMS)
        .where(
            StepAttemptDay.agent.in_(agents),
            StepAttemptDay.day >= since,
            StepAttemptDay.day < until,
        )
        .group_by(StepAttemptDay.agent)
    ).all()
    return {agent: Counts(*map(int, sums)) for agent, *sums in rows}


@dataclass(frozen=True, slots=True)
class StepDays:
    """One step's attempts, by day and first or later attempt (what its levels are summed from)."""

    day: date
    later: bool
    counts: Counts


def read_step_days(
    session: Session, *, workflows: Collection[str], since: date, until: date
) -> dict[StepKey, list[StepDays]]:
    """The days' rows of every step of ``workflows`` in ``[since, until)``, by step."""
    rows = session.execute(
        select(StepAttemptDay).where(
            StepAttemptDay.workflow.in_(workflows),
            StepAttemptDay.day >= since,
            StepAttemptDay.day < until,
        )
    ).scalars()
    found: dict[StepKey, list[StepDays]] = {}
    for row in rows:
        key = StepKey(row.workflow, row.step_id, row.agent)
        counts = Counts(row.attempts, row.failed, row.timed_out, row.over_estimate)
        found.setdefault(key, []).append(StepDays(row.day, row.later, counts))
    return found


@dataclass(frozen=True, slots=True)
class Asked:
    """What an estimate is asked of: a step, its attempt, whether it has a cost estimate."""

    key: StepKey
    attempt: int = 1
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class PendingStep:
    """A step of a run, as an estimate needs it."""

    run_id: uuid.UUID
    mission_id: uuid.UUID | None
    asked: Asked


def read_runs_started(session: Session, *, after: int, upto: int) -> list[uuid.UUID]:
    """The runs that started in the window."""
    return list(
        session.scalars(
            select(Event.run_id).where(
                Event.seq > after, Event.seq <= upto, Event.type == ev.RUN_STARTED
            )
        )
    )


def read_steps_started(session: Session, *, after: int, upto: int) -> list[tuple[uuid.UUID, str]]:
    """``(run_id, step_id)`` of each step started in the window, in log order."""
    rows = session.execute(
        select(Event.run_id, Event.step_id)
        .where(Event.seq > after, Event.seq <= upto, Event.type == ev.STEP_STARTED)
        .order_by(Event.seq)
    ).all()
    return [(run_id, step_id) for run_id, step_id in rows if run_id and step_id]


def read_run_steps(
    session: Session, *, run_ids: Collection[uuid.UUID], step_ids: Collection[str] | None = None
) -> list[PendingStep]:
    """The steps of ``run_ids`` (only ``step_ids``, when given), whatever their status.

    A run may end before the follower reads its start: its steps are estimated all the same,
    from the history before their attempts (the caller estimates before it counts the window's
    attempt ends).
    """
    query = (
        select(
            StepRun.run_id,
            Run.mission_id,
            Workflow.name,
            StepRun.step_id,
            StepRun.agent,
            StepRun.attempt,
            StepRun.estimate_micros,
        )
        .join(Run, Run.id == StepRun.run_id)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(StepRun.run_id.in_(run_ids))
    )
    if step_ids is not None:
        query = query.where(StepRun.step_id.in_(step_ids))
    return [
        PendingStep(
            run_id, mission_id, Asked(StepKey(workflow, step_id, agent), attempt, estimate > 0)
        )
        for run_id, mission_id, workflow, step_id, agent, attempt, estimate in session.execute(
            query
        )
    ]


def save_risk(session: Session, risk: StepRisk) -> StepRisk:
    """Store ``risk`` as its step's latest estimate; returns the stored row.

    An earlier estimate's ``alerted_attempt`` is kept: one alert per attempt.
    """
    known = session.get(StepRisk, {"run_id": risk.run_id, "step_id": risk.step_id})
    if known is None:
        session.add(risk)
        session.flush()
        return risk
    for name in ("attempt", "fail", "chances", "reasons", "evidence", "made_at"):
        setattr(known, name, getattr(risk, name))
    session.flush()
    return known


async def read_run_risks(session: AsyncSession, *, run_id: uuid.UUID) -> Sequence[StepRisk]:
    """The latest estimate of each step of the run that has one, by step id."""
    rows = await session.scalars(
        select(StepRisk).where(StepRisk.run_id == run_id).order_by(StepRisk.step_id)
    )
    return rows.all()
