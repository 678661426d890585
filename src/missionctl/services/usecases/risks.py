"""A run's step risks: the estimates the step-risk follower keeps (ADR 0118).

The follower (``services.followers.step_risks``) estimates each step of a run when the run
starts and each retry as it starts; this reads the latest, after catching the follower up, and
narrows each running attempt's by how long it has run and how large its inputs are
(``domain.prediction.while_running``), as of the read.
"""

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.prediction import StepRisk
from missionctl.db.types import utcnow
from missionctl.domain.prediction import (
    HISTORY_DAYS,
    MIN_EVIDENCE,
    Estimate,
    Running,
    while_running,
)
from missionctl.domain.workflows import DEFAULT_TIMEOUT_S
from missionctl.errors import NotFound
from missionctl.repositories import prediction as repo
from missionctl.repositories import runs as run_repo
from missionctl.schemas.risks import RunningRiskRead, RunRisks, StepAtRisk, StepRiskRead
from missionctl.services.runtime.context import ServiceContext


async def read_run_risks(ctx: ServiceContext, *, run_id: uuid.UUID) -> RunRisks:
    """The latest estimate of each step of the run that has one, by step id.

    A step that ended keeps the estimate its last attempt had. Reads the follower's rows as
    they are (``ServiceContext.catch_up`` first, so a run just started has its estimates).

    Raises:
        NotFound: no such run (``field="run_id"``).
    """
    await ctx.catch_up("risks")
    return await read_kept_risks(ctx, run_id=run_id)


async def read_kept_risks(ctx: ServiceContext, *, run_id: uuid.UUID) -> RunRisks:
    """:func:`read_run_risks` as the follower has kept them, without catching it up.

    For the run page, which re-reads on every event: the follower is at most a few
    seconds behind, and a page read writes nothing.

    Raises:
        NotFound: no such run (``field="run_id"``).
    """
    async with ctx.read() as session:
        if await run_repo.read_run(session, run_id=run_id) is None:
            raise NotFound(f"no run with id {run_id}", field="run_id")
        rows = await repo.read_run_risks(session, run_id=run_id)
        now = await _running_now(session, run_id, rows)
    alert_at = ctx.settings.risk_alert_at
    return RunRisks(
        run_id=run_id,
        alert_at=alert_at,
        steps=[risk_read(row, alert_at, now.get(row.step_id)) for row in rows],
    )


async def _running_now(
    session: AsyncSession, run_id: uuid.UUID, rows: Sequence[StepRisk]
) -> dict[str, RunningRiskRead]:
    """Each running attempt's estimate narrowed by what it shows now, by step id."""
    kept = {row.step_id: row for row in rows}
    found: dict[str, RunningRiskRead] = {}
    now = utcnow()
    for attempt in await repo.read_running_attempts(session, run_id=run_id):
        row = kept.get(attempt.step_id)
        if row is None or row.attempt != attempt.attempt:
            continue  # no estimate for this attempt yet: the follower is a few seconds behind
        limits = {s["id"]: s.get("timeout_s") for s in attempt.definition.get("steps") or []}
        running = Running(
            elapsed_s=max(0.0, (now - attempt.started_at).total_seconds()),
            timeout_s=float(limits.get(attempt.step_id) or DEFAULT_TIMEOUT_S),
            input_chars=attempt.input_chars,
        )
        earlier = await repo.read_earlier_attempts(
            session,
            workflow=attempt.workflow,
            step_id=attempt.step_id,
            since=now - timedelta(days=HISTORY_DAYS),
        )
        before = Estimate(dict(row.chances), list(row.reasons), row.evidence)
        narrowed = while_running(before, earlier, running, step=attempt.step_id)
        found[attempt.step_id] = RunningRiskRead(
            elapsed_s=round(running.elapsed_s, 1),
            chances=narrowed.chances,
            reasons=narrowed.reasons,
            made_at=now,
        )
    return found


def risk_read(row: StepRisk, alert_at: float, now: RunningRiskRead | None = None) -> StepRiskRead:
    """``row`` as read, judged against ``alert_at``; ``now``: its running attempt's estimate."""
    return StepRiskRead(
        step_id=row.step_id,
        attempt=row.attempt,
        chances={k: float(v) for k, v in row.chances.items()},
        reasons=list(row.reasons),
        evidence=row.evidence,
        sure=row.evidence >= MIN_EVIDENCE,
        at_risk=row.evidence >= MIN_EVIDENCE and row.fail >= alert_at,
        made_at=row.made_at,
        now=now,
    )


AT_RISK_SHOWN = 20
"""The most steps at risk the insights cockpit lists (the newest alerts)."""


async def read_steps_at_risk(ctx: ServiceContext) -> list[StepAtRisk]:
    """The steps of runs still going on that were alerted (``step.at_risk``), newest first.

    As the follower keeps them (no catch-up: the cockpit reads often and writes nothing).
    """
    async with ctx.read() as session:
        rows = await repo.read_alerted_now(session, limit=AT_RISK_SHOWN)
    alert_at = ctx.settings.risk_alert_at
    return [
        StepAtRisk(run_id=row.run_id, workflow=workflow, risk=risk_read(row, alert_at))
        for row, workflow in rows
    ]
