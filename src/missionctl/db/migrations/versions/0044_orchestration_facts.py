"""The orchestration facts: coding steps' changed lines, and implementation work's starts.

The duplicated edits and the groundwork share of ADR 0117 are derived by a follower of the log
(``services.followers.orchestration_facts``): ``step_edits`` holds each coding step's changed
lines as fingerprints with how many an earlier step of its mission had changed, and
``work_starts`` each implementation task's first start with what it had by then. The follower
starts at the log's beginning, so the history before this revision is derived too.

Revision ID: 0044
Revises: 0043
Create Date: 2026-11-29 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from missionctl.db.types import UTCDateTime

revision: str = "0044"
down_revision: str | Sequence[str] | None = "0043"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "step_edits",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("artifact_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("scope_id", sa.Uuid(), nullable=False),
        sa.Column("step_id", sa.String(length=100), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("edited_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("lines", sa.BigInteger(), nullable=False),
        sa.Column("repeated", sa.BigInteger(), nullable=False),
        sa.Column("fingerprints", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"], ["artifacts.id"], name=op.f("fk_step_edits_artifact_id_artifacts")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_step_edits_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step_edits")),
        sa.UniqueConstraint("artifact_id", name=op.f("uq_step_edits_artifact_id")),
    )
    op.create_index("ix_step_edits_scope_id_seq", "step_edits", ["scope_id", "seq"])
    op.create_index(op.f("ix_step_edits_run_id"), "step_edits", ["run_id"])
    op.create_index(op.f("ix_step_edits_edited_at"), "step_edits", ["edited_at"])
    op.create_table(
        "work_starts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("scope_id", sa.Uuid(), nullable=False),
        sa.Column("task_key", sa.String(length=100), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("step_id", sa.String(length=100), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("had_prd", sa.Boolean(), nullable=False),
        sa.Column("had_task_list", sa.Boolean(), nullable=False),
        sa.Column("spec_required", sa.Boolean(), nullable=False),
        sa.Column("had_spec", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_work_starts_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_starts")),
    )
    op.create_index(
        "uq_work_starts_scope_id_task_key", "work_starts", ["scope_id", "task_key"], unique=True
    )
    op.create_index(op.f("ix_work_starts_run_id"), "work_starts", ["run_id"])
    op.create_index(op.f("ix_work_starts_started_at"), "work_starts", ["started_at"])


def downgrade() -> None:
    op.drop_table("work_starts")
    op.drop_table("step_edits")
