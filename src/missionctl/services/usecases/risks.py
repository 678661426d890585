"""A run's step risks: the estimates the step-risk follower keeps (ADR 0118).

The follower (``services.followers.step_risks``) estimates each step of a run when the run
starts and each retry as it starts; this reads the latest, after catching the follower up.
"""

import uuid

from missionctl.db.prediction import StepRisk
from missionctl.domain.prediction import MIN_EVIDENCE
from missionctl.errors import NotFound
from missionctl.repositories import prediction as repo
from missionctl.repositories import runs as run_repo
from missionctl.schemas.risks import RunRisks, StepAtRisk, StepRiskRead
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
    alert_at = ctx.settings.risk_alert_at
    return RunRisks(
        run_id=run_id, alert_at=alert_at, steps=[risk_read(row, alert_at) for row in rows]
    )


def risk_read(row: StepRisk, alert_at: float) -> StepRiskRead:
    """``row`` as read, judged against ``alert_at``."""
    return StepRiskRead(
        step_id=row.step_id,
        attempt=row.attempt,
        chances={k: float(v) for k, v in row.chances.items()},
        reasons=list(row.reasons),
        evidence=row.evidence,
        sure=row.evidence >= MIN_EVIDENCE,
        at_risk=row.evidence >= MIN_EVIDENCE and row.fail >= alert_at,
        made_at=row.made_at,
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
