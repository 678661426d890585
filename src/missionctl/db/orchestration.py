"""ORM classes of the orchestration facts the log's follower derives (ADR 0117, revision 0044).

- :class:`StepEdit`: the lines one coding step's diff changed, and how many an earlier coding
  step of the same mission had changed already (duplicated edits);
- :class:`WorkStart`: the first start of work on one implementation task, and whether its
  PRD, task list and (when the spec policy asks for one) approved mini-spec came first.

Both are derived from the event log and the rows it names, and never edited after.
"""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from missionctl.db.base import Base, id_column


class StepEdit(Base):
    """One coding step's diff: its changed lines' fingerprints, and how many were edited before.

    ``scope_id`` is the mission (or the run, for a run outside a mission) whose coding steps
    are compared; ``repeated`` counts the lines of this diff that a diff recorded earlier in
    the log (``seq``) of the same scope also changed. ``fingerprints`` is
    ``domain.edits.pack`` of the lines.
    """

    __tablename__ = "step_edits"
    __table_args__ = (Index("ix_step_edits_scope_id_seq", "scope_id", "seq"),)

    id: Mapped[uuid.UUID] = id_column()
    artifact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("artifacts.id"), unique=True)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id"), index=True)
    scope_id: Mapped[uuid.UUID]
    step_id: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(BigInteger)
    edited_at: Mapped[datetime] = mapped_column(index=True)
    lines: Mapped[int]
    repeated: Mapped[int]
    fingerprints: Mapped[bytes] = mapped_column(LargeBinary)


class WorkStart(Base):
    """Work on one implementation task started: when, and what it had by then.

    One row per task of a scope (the mission, or the run outside one): the first start of a
    step that implements it (``domain.specs.implements_work``). ``task_key`` is its plan task,
    or the step's id when it names none.
    """

    __tablename__ = "work_starts"
    __table_args__ = (
        Index("uq_work_starts_scope_id_task_key", "scope_id", "task_key", unique=True),
    )

    id: Mapped[uuid.UUID] = id_column()
    scope_id: Mapped[uuid.UUID]
    task_key: Mapped[str] = mapped_column(String(100))
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id"), index=True)
    step_id: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(index=True)
    had_prd: Mapped[bool] = mapped_column(Boolean)
    had_task_list: Mapped[bool] = mapped_column(Boolean)
    spec_required: Mapped[bool] = mapped_column(Boolean)
    had_spec: Mapped[bool] = mapped_column(Boolean)
