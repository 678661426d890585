"""The orchestration facts' rows, as their follower writes them from a window of the log.

Blocking functions on the follower's write session (ADR 0117): what a window's
``artifact.created`` (of a coding step's diff) and ``step.started`` events name, what a
mission had before an event (documents, approved specs, succeeded steps: the log's order, not
clocks, says what came first), and the rows of
``step_edits`` and ``work_starts`` (``db.orchestration``). A window is the events
``after < seq <= upto``.
"""

import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from missionctl.db.models import Artifact, Event, Run, StepRun
from missionctl.db.orchestration import StepEdit, WorkStart
from missionctl.domain import events as ev
from missionctl.domain.coding import CODING_KIND


@dataclass(frozen=True, slots=True)
class NewDiff:
    """A coding step's diff the log has just recorded (``artifact.created``)."""

    seq: int
    at: datetime
    artifact_id: uuid.UUID
    sha256: str
    run_id: uuid.UUID
    scope_id: uuid.UUID
    step_id: str


@dataclass(frozen=True, slots=True)
class NewStart:
    """A step the log has just started (``step.started``), with its run's facts."""

    seq: int
    at: datetime
    run_id: uuid.UUID
    mission_id: uuid.UUID | None
    workflow_id: uuid.UUID
    step_id: str
    agent: str
    inputs: dict[str, Any]

    @property
    def scope_id(self) -> uuid.UUID:
        """The mission, or the run for a run outside one: where its tasks are counted."""
        return self.mission_id or self.run_id


def read_new_diffs(session: Session, *, after: int, upto: int) -> list[NewDiff]:
    """The diffs of coding steps (agent ``coding:*``) recorded in the window, in log order."""
    created = session.execute(
        select(Event.seq, Event.ts, Event.payload)
        .where(Event.seq > after, Event.seq <= upto, Event.type == ev.ARTIFACT_CREATED)
        .order_by(Event.seq)
    ).all()
    when = dict(_diff_ids(created))
    if not when:
        return []
    rows = session.execute(
        select(Artifact.id, Artifact.sha256, Run.id, Run.mission_id, StepRun.step_id)
        .join(StepRun, StepRun.id == Artifact.step_run_id)
        .join(Run, Run.id == StepRun.run_id)
        .where(Artifact.id.in_(when), StepRun.agent.startswith(f"{CODING_KIND}:"))
    ).all()
    diffs = [
        NewDiff(*when[artifact_id], artifact_id, sha256, run_id, mission_id or run_id, step_id)
        for artifact_id, sha256, run_id, mission_id, step_id in rows
    ]
    return sorted(diffs, key=lambda diff: diff.seq)


def _diff_ids(created: Collection[Any]) -> Iterator[tuple[uuid.UUID, tuple[int, datetime]]]:
    for seq, at, payload in created:
        if payload.get("kind") != "diff":
            continue
        try:
            yield uuid.UUID(str(payload.get("artifact_id"))), (seq, at)
        except ValueError:
            continue


def read_scope_lines(session: Session, *, scope_id: uuid.UUID) -> list[bytes]:
    """The packed changed lines of every coding step's diff recorded so far in the scope."""
    return list(session.scalars(select(StepEdit.fingerprints).where(StepEdit.scope_id == scope_id)))


def add_step_edit(
    session: Session, diff: NewDiff, *, lines: int, repeated: int, fingerprints: bytes
) -> None:
    """Record ``diff``'s changed lines (``domain.edits.pack``) and how many were repeats."""
    session.add(
        StepEdit(
            artifact_id=diff.artifact_id,
            run_id=diff.run_id,
            scope_id=diff.scope_id,
            step_id=diff.step_id,
            seq=diff.seq,
            edited_at=diff.at,
            lines=lines,
            repeated=repeated,
            fingerprints=fingerprints,
        )
    )
    session.flush()


def read_new_starts(session: Session, *, after: int, upto: int) -> list[NewStart]:
    """The steps started in the window, in log order, each with its run's mission and workflow."""
    rows = session.execute(
        select(
            Event.seq,
            Event.ts,
            Run.id,
            Run.mission_id,
            Run.workflow_id,
            StepRun.step_id,
            StepRun.agent,
            StepRun.inputs,
        )
        .join(StepRun, (StepRun.run_id == Event.run_id) & (StepRun.step_id == Event.step_id))
        .join(Run, Run.id == StepRun.run_id)
        .where(Event.seq > after, Event.seq <= upto, Event.type == ev.STEP_STARTED)
        .order_by(Event.seq)
    ).all()
    return [
        NewStart(seq, at, run_id, mission_id, workflow_id, step_id, agent, dict(inputs or {}))
        for seq, at, run_id, mission_id, workflow_id, step_id, agent, inputs in rows
    ]


def work_started(session: Session, *, scope_id: uuid.UUID, task_key: str) -> bool:
    """Whether work on ``task_key`` of the scope has already started (a row exists)."""
    found = select(WorkStart.id).where(
        WorkStart.scope_id == scope_id, WorkStart.task_key == task_key
    )
    return session.scalar(select(exists(found))) or False


def has_document(
    session: Session, *, mission_id: uuid.UUID, kinds: Collection[str], before: int
) -> bool:
    """Whether a document of one of ``kinds`` was written for the mission before event ``before``.

    Read from the log (``document.generated``), so "before" is the log's order.
    """
    payloads = session.scalars(
        select(Event.payload).where(
            Event.mission_id == mission_id,
            Event.seq < before,
            Event.type == ev.DOCUMENT_GENERATED,
        )
    )
    return any(payload.get("kind") in kinds for payload in payloads)


def succeeded_before(
    session: Session, *, run_id: uuid.UUID, step_ids: Collection[str], before: int
) -> bool:
    """Whether one of ``step_ids`` of the run succeeded before event ``before`` (the log's)."""
    if not step_ids:
        return False
    found = select(Event.seq).where(
        Event.run_id == run_id,
        Event.seq < before,
        Event.type == ev.STEP_SUCCEEDED,
        Event.step_id.in_(step_ids),
    )
    return session.scalar(select(exists(found))) or False


def approved_spec_before(
    session: Session, *, mission_id: uuid.UUID, task_key: str, before: int
) -> bool:
    """Whether a mini-spec of the task was approved before event ``before`` (the log's)."""
    payloads = session.scalars(
        select(Event.payload).where(
            Event.mission_id == mission_id,
            Event.seq < before,
            Event.type == ev.SPEC_APPROVED,
        )
    )
    return any(payload.get("task_key") == task_key for payload in payloads)


def add_work_start(
    session: Session,
    start: NewStart,
    *,
    task_key: str,
    had: dict[str, bool],
) -> None:
    """Record the first start of work on ``task_key``; ``had`` names what it had by then.

    ``had``'s keys are the row's: ``had_prd``, ``had_task_list``, ``spec_required``,
    ``had_spec``.
    """
    session.add(
        WorkStart(
            scope_id=start.scope_id,
            task_key=task_key,
            run_id=start.run_id,
            step_id=start.step_id,
            started_at=start.at,
            **had,
        )
    )
    session.flush()
