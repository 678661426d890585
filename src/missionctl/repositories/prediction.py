"""The step-risk follower's rows: the attempts' history by day, and each run step's estimate.

Blocking functions on a session (ADR 0118): what a window of the log says about attempts that
ended (``step.succeeded``, ``step.failed``, ``step.retry_scheduled`` of an attempt that ran),
the history of some steps as of a day (``domain.prediction.History``'s levels), the steps a
window started, and ``step_risks``. A window is the events ``after < seq <= upto``.
"""

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Text, and_, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.db.models import Event, Run, StepRun, Workflow
from missionctl.db.prediction import StepAttemptDay, StepRisk
from missionctl.domain import events as ev
from missionctl.domain.prediction import Counts, Earlier
from missionctl.domain.states import ENDED_RUN_STATUSES

ATTEMPT_ENDS = (ev.STEP_SUCCEEDED, ev.STEP_FAILED, ev.STEP_RETRY_SCHEDULED)
RAN_ON = func.coalesce(StepRun.routed_model, StepRun.model, literal(""))
"""The model a step runs on: the one its run routed it to, else the one it was billed at (a
run made before routing existed), else none (not an ``llm:`` step)."""
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
    """One attempt that ran and ended, as its event (at ``seq`` in the log) and its step say."""

    seq: int
    day: date
    key: StepKey
    model: str
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
            Event.seq,
            Event.type,
            Event.ts,
            Event.payload,
            Workflow.name,
            StepRun.step_id,
            StepRun.agent,
            RAN_ON,
            StepRun.estimate_micros,
        )
        .join(StepRun, (StepRun.run_id == Event.run_id) & (StepRun.step_id == Event.step_id))
        .join(Run, Run.id == StepRun.run_id)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(Event.seq > after, Event.seq <= upto, Event.type.in_(ATTEMPT_ENDS))
    ).all()
    return [end for row in rows if (end := _attempt_end(*row)) is not None]


def _attempt_end(
    seq: int,
    kind: str,
    at: datetime,
    payload: dict[str, Any],
    workflow: str,
    step_id: str,
    agent: str,
    model: str,
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
        seq=seq,
        day=at.date(),
        key=StepKey(workflow, step_id, agent),
        model=model,
        later=attempt > 1,
        failed=kind != ev.STEP_SUCCEEDED,
        timed_out=error.startswith(TIMED_OUT),
        over_estimate=estimate > 0 and cost > estimate,
    )


def add_attempt_ends(session: Session, ends: Iterable[AttemptEnd]) -> None:
    """Count ``ends`` into their days' rows (made as needed), in one read and one flush."""
    summed: dict[tuple[date, str, str, str, bool, str], Counts] = {}
    for end in ends:
        slot = (end.day, end.key.workflow, end.key.step_id, end.key.agent, end.later, end.model)
        summed[slot] = summed.get(slot, Counts()) + end.counts()
    if not summed:
        return
    known = {
        (row.day, row.workflow, row.step_id, row.agent, row.later, row.model): row
        for row in session.scalars(
            select(StepAttemptDay).where(
                StepAttemptDay.day.in_({slot[0] for slot in summed}),
                StepAttemptDay.workflow.in_({slot[1] for slot in summed}),
            )
        )
    }
    for slot, counts in summed.items():
        row = known.get(slot)
        if row is None:
            day, workflow, step_id, agent, later, model = slot
            row = StepAttemptDay(
                day=day, workflow=workflow, step_id=step_id, agent=agent, later=later,
                model=model, attempts=0, failed=0, timed_out=0, over_estimate=0,
            )  # fmt: skip
            session.add(row)
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


def read_by_model(
    session: Session, *, pairs: Collection[tuple[str, str]], since: date, until: date
) -> dict[tuple[str, str], Counts]:
    """The attempts of each ``(agent, model)`` of ``pairs`` that ended in ``[since, until)``.

    Attempts with no model (other agents', and those counted before revision 0049) are never
    read here.
    """
    agents, models = {a for a, m in pairs if m}, {m for _, m in pairs if m}
    if not models:
        return {}
    rows = session.execute(
        select(StepAttemptDay.agent, StepAttemptDay.model, *_SUMS)
        .where(
            StepAttemptDay.agent.in_(agents),
            StepAttemptDay.model.in_(models),
            StepAttemptDay.day >= since,
            StepAttemptDay.day < until,
        )
        .group_by(StepAttemptDay.agent, StepAttemptDay.model)
    ).all()
    return {(agent, model): Counts(*map(int, sums)) for agent, model, *sums in rows}


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
    """What an estimate is asked of.

    A step, its attempt, whether it has a cost estimate, and the model it runs on (empty:
    none, or not known).
    """

    key: StepKey
    attempt: int = 1
    estimated: bool = False
    model: str = ""


@dataclass(frozen=True, slots=True)
class PendingStep:
    """A step of a run, as an estimate needs it, and where in the log its attempt started."""

    run_id: uuid.UUID
    mission_id: uuid.UUID | None
    asked: Asked
    started_seq: int


def read_runs_started(session: Session, *, after: int, upto: int) -> dict[uuid.UUID, int]:
    """The runs that started in the window, each with its ``run.started`` event's ``seq``."""
    rows = session.execute(
        select(Event.run_id, Event.seq).where(
            Event.seq > after, Event.seq <= upto, Event.type == ev.RUN_STARTED
        )
    ).all()
    return {run_id: seq for run_id, seq in rows if run_id is not None}


def read_retries_started(session: Session, *, after: int, upto: int) -> list[PendingStep]:
    """The steps whose second or later attempt started in the window, in log order.

    A first attempt's estimate is the one its run's start made: only a retry changes it.
    """
    rows = session.execute(
        select(Event.seq, Event.payload, *_STEP_COLUMNS)
        .join(StepRun, (StepRun.run_id == Event.run_id) & (StepRun.step_id == Event.step_id))
        .join(Run, Run.id == StepRun.run_id)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(Event.seq > after, Event.seq <= upto, Event.type == ev.STEP_STARTED)
        .order_by(Event.seq)
    ).all()
    return [
        _pending(*row[2:], attempt=int(row[1].get("attempt") or 1), started_seq=row[0])
        for row in rows
        if int(row[1].get("attempt") or 1) > 1
    ]


_STEP_COLUMNS = (
    StepRun.run_id,
    Run.mission_id,
    Workflow.name,
    StepRun.step_id,
    StepRun.agent,
    StepRun.estimate_micros,
    RAN_ON,
)


def _pending(
    run_id: uuid.UUID,
    mission_id: uuid.UUID | None,
    workflow: str,
    step_id: str,
    agent: str,
    estimate: int,
    model: str,
    *,
    attempt: int,
    started_seq: int,
) -> PendingStep:
    asked = Asked(StepKey(workflow, step_id, agent), attempt, estimate > 0, model)
    return PendingStep(run_id, mission_id, asked, started_seq)


def read_run_steps(session: Session, *, run_ids: Mapping[uuid.UUID, int]) -> list[PendingStep]:
    """Every step of ``run_ids``, whatever its status, as its first attempt.

    ``run_ids`` maps each run to where it started in the log, the ``started_seq`` of its
    steps.

    A run may end before the follower reads its start: its steps are estimated all the same,
    from the attempts that ended before it started (the caller estimates before it counts the
    window's attempt ends, and adds those before each start itself).
    """
    if not run_ids:
        return []
    rows = session.execute(
        select(*_STEP_COLUMNS)
        .join(Run, Run.id == StepRun.run_id)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(StepRun.run_id.in_(list(run_ids)))
    ).all()
    return [_pending(*row, attempt=1, started_seq=run_ids[row[0]]) for row in rows]


def runs_going_on(session: Session, *, run_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``run_ids`` have not ended, each row share-locked till the caller's commit.

    An event may not follow a run's end: on PostgreSQL the lock waits for an end being
    committed and then reads it; on SQLite the write transaction already keeps ends out.
    """
    if not run_ids:
        return set()
    rows = session.scalars(
        select(Run.id)
        .where(Run.id.in_(run_ids), Run.status.not_in(ENDED_RUN_STATUSES))
        .with_for_update(read=True)
    )
    return set(rows)


def save_risks(session: Session, risks: Sequence[StepRisk]) -> list[StepRisk]:
    """Store each of ``risks`` as its step's latest estimate; returns the stored rows.

    An earlier estimate's ``alerted_attempt`` is kept: one alert per attempt. One read of the
    runs' earlier estimates, one flush.
    """
    if not risks:
        return []
    known = {
        (row.run_id, row.step_id): row
        for row in session.scalars(
            select(StepRisk).where(StepRisk.run_id.in_({risk.run_id for risk in risks}))
        )
    }
    stored = []
    for risk in risks:
        row = known.get((risk.run_id, risk.step_id))
        if row is None:
            session.add(risk)
            known[(risk.run_id, risk.step_id)] = row = risk
        else:
            for name in ("attempt", "fail", "chances", "reasons", "evidence", "made_at"):
                setattr(row, name, getattr(risk, name))
        stored.append(row)
    session.flush()
    return stored


async def read_run_risks(session: AsyncSession, *, run_id: uuid.UUID) -> Sequence[StepRisk]:
    """The latest estimate of each step of the run that has one, by step id."""
    rows = await session.scalars(
        select(StepRisk).where(StepRisk.run_id == run_id).order_by(StepRisk.step_id)
    )
    return rows.all()


async def read_alerted_now(session: AsyncSession, *, limit: int) -> Sequence[tuple[StepRisk, str]]:
    """The steps whose current attempt was alerted as at risk and has not ended, in runs going on.

    Each with its workflow's name, the latest estimate first; at most ``limit``. Read from the
    runs going on (few), not from every estimate ever kept.
    """
    going = select(Run.id).where(Run.status.not_in(ENDED_RUN_STATUSES))
    rows = await session.execute(
        select(StepRisk, Workflow.name)
        .join(Run, Run.id == StepRisk.run_id)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .join(StepRun, and_(StepRun.run_id == StepRisk.run_id, StepRun.step_id == StepRisk.step_id))
        .where(
            StepRisk.run_id.in_(going),
            StepRisk.alerted_attempt == StepRisk.attempt,
            StepRun.attempt == StepRisk.attempt,
            StepRun.ended_at.is_(None),
        )
        .order_by(StepRisk.made_at.desc())
        .limit(limit)
    )
    return [(risk, str(name)) for risk, name in rows.all()]


MAX_EARLIER = 500
"""The newest ended attempts of a step a running attempt is compared with."""


async def read_earlier_attempts(
    session: AsyncSession, *, workflow: str, step_id: str, since: datetime
) -> list[Earlier]:
    """The newest attempts of step ``step_id`` of ``workflow`` (by name) ended since ``since``.

    At most :data:`MAX_EARLIER`; each run's last attempt of the step (a row keeps no earlier
    ones).
    """
    rows = await session.execute(
        select(
            StepRun.started_at,
            StepRun.ended_at,
            StepRun.status,
            StepRun.error,
            func.length(cast(StepRun.inputs, Text)),
        )
        .join(Run, Run.id == StepRun.run_id)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(
            Workflow.name == workflow,
            StepRun.step_id == step_id,
            StepRun.status.in_(("succeeded", "failed")),
            StepRun.started_at.is_not(None),
            StepRun.ended_at >= since,
        )
        .order_by(StepRun.ended_at.desc())
        .limit(MAX_EARLIER)
    )
    return [
        Earlier(
            seconds=(ended - started).total_seconds(),
            failed=status != "succeeded",
            timed_out=str(error or "").startswith(TIMED_OUT),
            input_chars=int(chars or 0),
        )
        for started, ended, status, error, chars in rows
        if started is not None and ended is not None
    ]


@dataclass(frozen=True, slots=True)
class RunningAttempt:
    """A step of a run whose attempt is running: since when, its inputs' size, its workflow."""

    step_id: str
    attempt: int
    started_at: datetime
    input_chars: int
    workflow: str
    definition: dict[str, Any]


async def read_running_attempts(
    session: AsyncSession, *, run_id: uuid.UUID
) -> list[RunningAttempt]:
    """The steps of run ``run_id`` that are running now, with their workflow version."""
    rows = await session.execute(
        select(
            StepRun.step_id,
            StepRun.attempt,
            StepRun.started_at,
            func.length(cast(StepRun.inputs, Text)),
            Workflow.name,
            Workflow.definition,
        )
        .join(Run, Run.id == StepRun.run_id)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(
            StepRun.run_id == run_id,
            StepRun.status == "running",
            StepRun.started_at.is_not(None),
        )
    )
    return [
        RunningAttempt(step_id, attempt, started, int(chars or 0), name, definition)
        for step_id, attempt, started, chars, name, definition in rows
        if started is not None
    ]
