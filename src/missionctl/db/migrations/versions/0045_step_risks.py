"""Step risks: the attempts' history by day, and each run step's latest estimate (ADR 0118).

The step-risk follower (``services.followers.step_risks``) counts every attempt that ran and
ended into ``step_attempt_days`` (one row per UTC day, workflow, step, agent, and first or later
attempt), estimates each step of a run from it, and keeps the latest estimate in
``step_risks``. It starts at the log's beginning, so the history before this revision counts.

Revision ID: 0045
Revises: 0044
Create Date: 2026-11-29 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from missionctl.db.types import UTCDateTime

revision: str = "0045"
down_revision: str | Sequence[str] | None = "0044"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "step_attempt_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("workflow", sa.String(length=200), nullable=False),
        sa.Column("step_id", sa.String(length=100), nullable=False),
        sa.Column("agent", sa.String(length=200), nullable=False),
        sa.Column("later", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.BigInteger(), nullable=False),
        sa.Column("failed", sa.BigInteger(), nullable=False),
        sa.Column("timed_out", sa.BigInteger(), nullable=False),
        sa.Column("over_estimate", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "workflow", "step_id", "agent", "later", name=op.f("pk_step_attempt_days")
        ),
    )
    op.create_table(
        "step_risks",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("step_id", sa.String(length=100), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("fail", sa.Float(), nullable=False),
        sa.Column("chances", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.BigInteger(), nullable=False),
        sa.Column("made_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("alerted_attempt", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_step_risks_run_id_runs")),
        sa.PrimaryKeyConstraint("run_id", "step_id", name=op.f("pk_step_risks")),
    )


def downgrade() -> None:
    op.drop_table("step_risks")
    op.drop_table("step_attempt_days")
