"""Claim indexes: queued work in claim order, and each run's steps by status.

The claim reads "the oldest ready steps" and "the runs with ready steps" on every engine tick.
With an index on (status, not_before) both scanned every queued step and sorted them, so a
run with 5,000 queued steps cost milliseconds per tick whatever its concurrency. Now:
- (status, queued_at, id) walks queued work in claim order and stops at the page's size;
- (run_id, status) answers "has this run a queued / running / active step" with one probe,
  and replaces the index on run_id alone, which the unique (run_id, step_id) already covered.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 21:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_step_runs_status_not_before", table_name="step_runs")
    op.drop_index("ix_step_runs_run_id", table_name="step_runs")
    op.create_index(
        "ix_step_runs_status_queued_at", "step_runs", ["status", "queued_at", "id"], unique=False
    )
    op.create_index("ix_step_runs_run_id_status", "step_runs", ["run_id", "status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_step_runs_run_id_status", table_name="step_runs")
    op.drop_index("ix_step_runs_status_queued_at", table_name="step_runs")
    op.create_index("ix_step_runs_run_id", "step_runs", ["run_id"], unique=False)
    op.create_index(
        "ix_step_runs_status_not_before", "step_runs", ["status", "not_before"], unique=False
    )
