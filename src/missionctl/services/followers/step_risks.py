"""Step risks follow the log: each step's chance of failing, timing out or overrunning (ADR 0118).

Each window of events:

1. estimates every step of each run started in it, as before any is dispatched, and again
   each retry started in it, for its attempt (``domain.prediction``), from the
   attempts counted before this window in the
   :data:`~missionctl.domain.prediction.HISTORY_DAYS` days (the follower reads every five
   seconds, so that is the history of five seconds ago; a backlog is read in windows of 5,000
   events, each estimated from the windows before it);
2. appends ``step.at_risk`` for an attempt whose chance of failing is at least
   ``MISSIONCTL_RISK_ALERT_AT`` and whose estimate rests on the step's own history
   (``Estimate.sure``), of a run that has not ended: once per attempt, for the Events page
   and the webhooks;
3. then counts the attempts that ended in it into ``step_attempt_days`` (the history), so
   that no estimate knows how its own attempt ended.

The reads are ``services.usecases.risks``.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from missionctl.db.prediction import StepRisk
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.prediction import (
    HISTORY_DAYS,
    RECENT_DAYS,
    Counts,
    Estimate,
    History,
    estimate,
    total,
)
from missionctl.eventlog import NewEvent, append_sync
from missionctl.repositories import prediction as repo
from missionctl.repositories.followers import Window
from missionctl.services.followers.follower import Follower
from missionctl.services.runtime.context import ServiceContext

RISK_ACTOR = "system"


def _fold(session: Session, window: Window, ctx: ServiceContext) -> None:
    # Estimate first, then count the window's attempt ends: an estimate made for a start must
    # not know how that attempt ended, even when both are in one window.
    _estimate_window(session, window, ctx.settings.risk_alert_at)
    ends = repo.read_attempt_ends(session, after=window.after, upto=window.upto)
    repo.add_attempt_ends(session, ends)


def _estimate_window(session: Session, window: Window, alert_at: float) -> None:
    """Estimate the steps of the runs started in ``window``, then the retries started in it."""
    started = repo.read_runs_started(session, after=window.after, upto=window.upto)
    steps = repo.read_run_steps(session, run_ids=started)
    steps += repo.read_retries_started(session, after=window.after, upto=window.upto)
    if not steps:
        return
    now = utcnow()
    # Today's attempts so far count: "before" is the end of today.
    estimates = estimate_steps(
        session, [step.asked for step in steps], until=now.date() + timedelta(days=1)
    )
    rows = repo.save_risks(
        session, [_row(step, found, now) for step, found in zip(steps, estimates, strict=True)]
    )
    due = [
        (step, found, row)
        for step, found, row in zip(steps, estimates, rows, strict=True)
        if found.sure and found.chances["fail"] >= alert_at
    ]
    # A run that ended before this window was read gets no alert: nothing follows a run's end.
    going = repo.runs_going_on(session, run_ids={step.run_id for step, _, _ in due})
    alerts = [
        _alert(step, found, alert_at)
        for step, found, row in due
        if step.run_id in going and _first_alert(row, step)
    ]
    append_sync(session, alerts)


RISKS_FOLLOWER = Follower(name="risks", description="the step risks", fold=_fold, every_s=5.0)


def estimate_steps(session: Session, steps: Sequence[repo.Asked], *, until: date) -> list[Estimate]:
    """The estimate of each of ``steps`` from the attempts of the days before ``until``.

    The history is the :data:`HISTORY_DAYS` UTC days before ``until`` (not included): the
    follower passes tomorrow (today so far counts), a backtest its first held-out day.
    """
    since = until - timedelta(days=HISTORY_DAYS)
    everything = repo.read_everything(session, since=since, until=until)
    agents = repo.read_by_agent(
        session, agents={s.key.agent for s in steps}, since=since, until=until
    )
    models = repo.read_by_model(
        session, pairs={(s.key.agent, s.model) for s in steps}, since=since, until=until
    )
    days = repo.read_step_days(
        session, workflows={s.key.workflow for s in steps}, since=since, until=until
    )
    recent = until - timedelta(days=RECENT_DAYS)
    return [
        estimate(
            History(
                everything=everything,
                agent=agents.get(s.key.agent, Counts()),
                model=models.get((s.key.agent, s.model), Counts()),
                **_step_levels(days.get(s.key, []), recent),
            ),
            step=f"{s.key.step_id} of {s.key.workflow}",
            agent=s.key.agent,
            attempt=s.attempt,
            estimated=s.estimated,
            model=s.model,
        )
        for s in steps
    ]


def _step_levels(days: Iterable[repo.StepDays], recent: date) -> dict[str, Counts]:
    """The step's own levels of a ``History``: before the recent days, in them, later attempts."""
    rows = list(days)
    return {
        "earlier": total(d.counts for d in rows if d.day < recent),
        "recent": total(d.counts for d in rows if d.day >= recent),
        "later_attempts": total(d.counts for d in rows if d.later),
    }


def _row(step: repo.PendingStep, found: Estimate, now: datetime) -> StepRisk:
    return StepRisk(
        run_id=step.run_id,
        step_id=step.asked.key.step_id,
        attempt=step.asked.attempt,
        fail=found.chances["fail"],
        chances=found.chances,
        reasons=found.reasons,
        evidence=found.attempts,
        made_at=now,
    )


def _first_alert(row: StepRisk, step: repo.PendingStep) -> bool:
    """Whether no alert was appended for ``step``'s attempt yet; its row now records one."""
    if row.alerted_attempt == step.asked.attempt:
        return False
    row.alerted_attempt = step.asked.attempt
    return True


def _alert(step: repo.PendingStep, found: Estimate, alert_at: float) -> NewEvent:
    return NewEvent(
        type=ev.STEP_AT_RISK,
        actor=RISK_ACTOR,
        run_id=step.run_id,
        mission_id=step.mission_id,
        step_id=step.asked.key.step_id,
        payload={
            "attempt": step.asked.attempt,
            "chances": found.chances,
            "reasons": found.reasons,
            "evidence": found.attempts,
            "alert_at": alert_at,
        },
    )
