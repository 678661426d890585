"""Suggestion queries: a workflow's history, its versions' runs, the other workflows' steps.

Also the saved templates and their uses, for template suggestions (ADR 0120).

Blocking, as the suggestion service reads them in one snapshot (``ServiceContext.read_blocking``).
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from missionctl.db.models import Event, Run, StepRun, Workflow, WorkflowTemplate
from missionctl.db.prediction import StepAttemptDay
from missionctl.db.suggestions import AppliedSuggestion
from missionctl.domain.events import TEMPLATE_USED
from missionctl.domain.suggestions import StepHistory, Templates, step_work

MAX_DURATIONS = 20_000
"""The newest succeeded steps read for durations: a month of a busy workflow, and no more."""


@dataclass(frozen=True, slots=True)
class History:
    """A workflow's runs that ended in the window, and each step's history over them."""

    runs: int
    steps: dict[str, StepHistory]
    step_costs: dict[str, int]  # mean micro-dollars per run, by step id


def read_history(session: Session, *, workflow: Workflow, since: datetime) -> History:
    """The runs of version ``workflow`` that ended since ``since``, and their steps.

    Durations are the succeeded steps' last attempts (the newest :data:`MAX_DURATIONS`; a
    step a rerun reused, born ended as it started, has none); retries are each step's attempts
    after its first. First attempts and their timeouts come from the step-risk follower's
    counts, which are kept by workflow name and day: of the version's days only.
    """
    since = max(since, workflow.created_at)
    name = workflow.name
    runs_of_name = select(Run.id).where(Run.workflow_id == workflow.id, Run.ended_at >= since)
    runs = int(session.scalar(select(func.count()).select_from(runs_of_name.subquery())) or 0)
    durations: dict[str, list[float]] = defaultdict(list)
    timed = (
        select(StepRun.step_id, StepRun.started_at, StepRun.ended_at)
        .where(
            StepRun.run_id.in_(runs_of_name),
            StepRun.status == "succeeded",
            StepRun.ended_at != StepRun.started_at,
        )
        .order_by(StepRun.ended_at.desc())
        .limit(MAX_DURATIONS)
    )
    for step_id, started, ended in session.execute(timed):
        if started is not None and ended is not None:
            durations[step_id].append((ended - started).total_seconds())
    costs: dict[str, int] = {}
    retries: dict[str, int] = {}
    for step_id, total, later in session.execute(
        select(
            StepRun.step_id,
            func.sum(StepRun.cost_micros + StepRun.earlier_cost_micros),
            func.sum(StepRun.attempt - 1),
        )
        .where(StepRun.run_id.in_(runs_of_name))
        .group_by(StepRun.step_id)
    ):
        costs[step_id] = int(total or 0) // max(runs, 1)
        retries[step_id] = int(later or 0)
    counted = session.execute(
        select(
            StepAttemptDay.step_id,
            StepAttemptDay.later,
            func.sum(StepAttemptDay.attempts),
            func.sum(StepAttemptDay.timed_out),
            func.sum(StepAttemptDay.failed),
        )
        .where(StepAttemptDay.workflow == name, StepAttemptDay.day >= since.date())
        .group_by(StepAttemptDay.step_id, StepAttemptDay.later)
    )
    attempts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for step_id, later, tries, timed_out, failed in counted:
        if not later:
            attempts[step_id]["first"] += int(tries or 0)
            attempts[step_id]["timeouts"] += int(timed_out or 0)
            attempts[step_id]["failures"] += int(failed or 0)
    steps = {
        step_id: StepHistory(
            step_id,
            tuple(durations.get(step_id, ())),
            attempts[step_id]["first"],
            attempts[step_id]["timeouts"],
            retries=retries.get(step_id, 0),
            first_failures=attempts[step_id]["failures"],
        )
        for step_id in {*durations, *attempts, *retries}
    }
    return History(runs, steps, costs)


@dataclass(frozen=True, slots=True)
class VersionRuns:
    """How the ended runs of one workflow version went, and one of its steps in them."""

    runs: int
    completed: int
    median_duration_s: float | None
    step_cost_micros: float | None
    step_retries_per_run: float | None


MAX_SPANS = 2_000
"""The newest completed runs of a version whose durations make its median."""


def read_version_runs(session: Session, *, workflow_id: uuid.UUID, step_id: str) -> VersionRuns:
    """The ended runs of version ``workflow_id``, and step ``step_id`` in them.

    Counted in the database; the median run is of the newest :data:`MAX_SPANS` completed.
    """
    of_version = (Run.workflow_id == workflow_id, Run.ended_at.is_not(None))
    runs, completed = session.execute(
        select(func.count(), func.sum(case((Run.status == "completed", 1), else_=0))).where(
            *of_version
        )
    ).one()
    newest = session.execute(
        select(Run.started_at, Run.ended_at)
        .where(*of_version, Run.status == "completed", Run.started_at.is_not(None))
        .order_by(Run.ended_at.desc())
        .limit(MAX_SPANS)
    ).all()
    spans = sorted(
        (ended - started).total_seconds()
        for started, ended in newest
        if started is not None and ended is not None
    )
    ended_runs = select(Run.id).where(*of_version)
    step = session.execute(
        select(
            func.sum(StepRun.cost_micros + StepRun.earlier_cost_micros),
            func.sum(StepRun.attempt - 1),
        ).where(StepRun.run_id.in_(ended_runs), StepRun.step_id == step_id)
    ).one()
    runs = int(runs or 0)
    return VersionRuns(
        runs=runs,
        completed=int(completed or 0),
        median_duration_s=spans[len(spans) // 2] if spans else None,
        step_cost_micros=int(step[0] or 0) / runs if runs else None,
        step_retries_per_run=int(step[1] or 0) / runs if runs else None,
    )


def read_applied(session: Session, *, name: str) -> Sequence[AppliedSuggestion]:
    """The suggestions applied to workflow ``name``, newest first."""
    query = (
        select(AppliedSuggestion)
        .where(AppliedSuggestion.workflow == name)
        .order_by(AppliedSuggestion.applied_at.desc())
    )
    return session.scalars(query).all()


MAX_OTHER_WORKFLOWS = 2_000
"""The most recently saved workflows whose steps a template suggestion compares with."""


def read_other_steps(session: Session, *, name: str) -> dict[str, list[dict[str, Any]]]:
    """The steps of the newest version of every other workflow, by name.

    Of the :data:`MAX_OTHER_WORKFLOWS` names saved most recently; ``name``'s own are left out.
    """
    newest = (
        select(Workflow.name, func.max(Workflow.version).label("version"))
        .where(Workflow.name != name)
        .group_by(Workflow.name)
        .order_by(func.max(Workflow.created_at).desc())
        .limit(MAX_OTHER_WORKFLOWS)
        .subquery()
    )
    rows = session.execute(
        select(Workflow.name, Workflow.definition).join(
            newest, (Workflow.name == newest.c.name) & (Workflow.version == newest.c.version)
        )
    )
    return {other: list(definition.get("steps") or []) for other, definition in rows}


def read_saved_templates(session: Session) -> Templates:
    """The saved templates' names, and the work (``step_work``) of every step they hold."""
    rows = session.execute(select(WorkflowTemplate.name, WorkflowTemplate.definition)).all()
    return Templates(
        work=frozenset(
            step_work(step)
            for _, definition in rows
            for step in (definition.get("workflow") or {}).get("steps") or []
        ),
        names=frozenset(name for name, _ in rows),
    )


MAX_USES = 10_000
"""The template uses counted for one applied suggestion: beyond, the count says "at least"."""


def count_template_uses(session: Session, *, template: str, since: datetime) -> int:
    """How many workflow versions were made from the template ``template`` since ``since``."""
    payloads = session.scalars(
        select(Event.payload)
        .where(Event.type == TEMPLATE_USED, Event.ts >= since)
        .order_by(Event.seq)
        .limit(MAX_USES)
    )
    return sum(1 for payload in payloads if payload.get("template") == template)
