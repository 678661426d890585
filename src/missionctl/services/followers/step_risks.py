"""Step risks follow the log: each step's chance of failing, timing out or overrunning (ADR 0118).

Each window of events:

1. estimates every step of each run started in it, as before any is dispatched, and again
   each retry started in it, for its attempt (``domain.prediction``), from the
   attempts that ended before it started in the
   :data:`~missionctl.domain.prediction.HISTORY_DAYS` days: those counted in earlier windows,
   and this window's that come before the start in the log (:class:`WindowEnds`), so that a
   backlog read at once estimates each start as the follower would have live;
2. appends ``step.at_risk`` for an attempt whose chance of failing is at least
   ``MISSIONCTL_RISK_ALERT_AT`` and whose estimate rests on the step's own history
   (``Estimate.sure``), of a run that has not ended: once per attempt, for the Events page
   and the webhooks;
3. then counts the attempts that ended in it into ``step_attempt_days`` (the history). No
   estimate knows how its own attempt ended: that end comes after its start.

The reads are ``services.usecases.risks``.
"""

from bisect import bisect_left
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
    # The window's attempt ends are counted into the table after its estimates, each estimate
    # adding those before its start itself: in one read of the backlog, a start still knows
    # every attempt that ended before it, and never how its own attempt ended.
    ends = repo.read_attempt_ends(session, after=window.after, upto=window.upto)
    _estimate_window(session, window, ends, ctx.settings.risk_alert_at)
    repo.add_attempt_ends(session, ends)


def _estimate_window(
    session: Session, window: Window, ends: Sequence[repo.AttemptEnd], alert_at: float
) -> None:
    """Estimate the steps of the runs started in ``window``, then the retries started in it.

    ``ends`` are the window's attempt ends, not counted in the table yet.
    """
    started = repo.read_runs_started(session, after=window.after, upto=window.upto)
    steps = repo.read_run_steps(session, run_ids=started)
    steps += repo.read_retries_started(session, after=window.after, upto=window.upto)
    if not steps:
        return
    now = utcnow()
    # Today's attempts so far count: "before" is the end of today.
    until = now.date() + timedelta(days=1)
    uncounted = WindowEnds(ends, until=until)
    estimates = estimate_steps(
        session,
        [step.asked for step in steps],
        until=until,
        uncounted=[uncounted.before(step.asked, step.started_seq) for step in steps],
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


def estimate_steps(
    session: Session,
    steps: Sequence[repo.Asked],
    *,
    until: date,
    uncounted: Sequence[History] = (),
) -> list[Estimate]:
    """The estimate of each of ``steps`` from the attempts of the days before ``until``.

    The history is the :data:`HISTORY_DAYS` UTC days before ``until`` (not included): the
    follower passes tomorrow (today so far counts), a backtest its first held-out day. It is
    what ``step_attempt_days`` counts, plus, for each step, its entry of ``uncounted`` when
    given (attempts that ended before it and are not counted in the table yet).
    """
    added = list(uncounted) or [NO_HISTORY] * len(steps)
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
            )
            + more,
            step=f"{s.key.step_id} of {s.key.workflow}",
            agent=s.key.agent,
            attempt=s.attempt,
            estimated=s.estimated,
            model=s.model,
        )
        for s, more in zip(steps, added, strict=True)
    ]


NO_HISTORY = History(Counts(), Counts(), Counts(), Counts())


class _RunningTotal:
    """Counts of attempt ends added in log order, summed up to any place in the log."""

    def __init__(self) -> None:
        self._seqs: list[int] = []
        self._sums = [Counts()]

    def add(self, seq: int, counts: Counts) -> None:
        """Count one end at ``seq``, after every end added so far."""
        self._seqs.append(seq)
        self._sums.append(self._sums[-1] + counts)

    def before(self, seq: int) -> Counts:
        """The ends added at a place in the log before ``seq``."""
        return self._sums[bisect_left(self._seqs, seq)]


class WindowEnds:
    """A window's attempt ends, not counted in the table yet, by the levels of a ``History``.

    :meth:`before` is what ended before a place in the log, so that each start of the window
    is estimated from what ended before it. Only ends on the :data:`HISTORY_DAYS` days before
    ``until`` count, as in the table's reads.
    """

    def __init__(self, ends: Iterable[repo.AttemptEnd], *, until: date) -> None:
        since = until - timedelta(days=HISTORY_DAYS)
        self._recent = until - timedelta(days=RECENT_DAYS)
        self._totals: dict[tuple[object, ...], _RunningTotal] = {}
        for end in sorted(ends, key=lambda end: end.seq):
            if since <= end.day < until:
                for level in self._levels(end):
                    self._totals.setdefault(level, _RunningTotal()).add(end.seq, end.counts())

    def before(self, asked: repo.Asked, seq: int) -> History:
        """What ended before ``seq`` at each level of ``asked``'s history."""

        def at(*level: object) -> Counts:
            found = self._totals.get(level)
            return Counts() if found is None else found.before(seq)

        key = asked.key
        return History(
            everything=at("everything"),
            agent=at("agent", key.agent),
            model=at("model", key.agent, asked.model),
            earlier=at("earlier", key),
            recent=at("recent", key),
            later_attempts=at("later", key),
        )

    def _levels(self, end: repo.AttemptEnd) -> list[tuple[object, ...]]:
        levels: list[tuple[object, ...]] = [
            ("everything",),
            ("agent", end.key.agent),
            ("model", end.key.agent, end.model),
            ("earlier" if end.day < self._recent else "recent", end.key),
        ]
        return [*levels, ("later", end.key)] if end.later else levels


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
