"""Runs by when they ended, and by the run they rerun: the orchestration figures' reads.

The share of runs that completed without a manual fix-up (ADR 0116) reads the runs that ended in
a range, and asks of each whether a later run reran it. Without these indexes the first read
scans ``runs`` and the second scans it again for every run that ended: quadratic at 100,000
runs.

Revision ID: 0043
Revises: 0042
Create Date: 2026-11-28 23:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0043"
down_revision: str | Sequence[str] | None = "0042"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_runs_ended_at", "runs", ["ended_at"], unique=False)
    op.create_index("ix_runs_rerun_of", "runs", ["rerun_of"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_runs_rerun_of", table_name="runs")
    op.drop_index("ix_runs_ended_at", table_name="runs")
