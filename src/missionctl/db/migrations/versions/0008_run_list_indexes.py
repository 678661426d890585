"""Run list indexes: runs by status in id order, by creation time, and by the agents they used.

``GET /api/v1/runs`` and the Runs page filter runs and count the matches. Over 100,000 runs:
- (status, id) replaces the index on status alone: a status page walks it newest first and
  stops at the page's size, and the count reads it alone;
- created_at answers a creation time range without reading every run;
- (agent, run_id) on step runs gives the runs that used an agent without reading every step.

Medians of one run of bench/runs_list.py (100,000 runs, on a shared, busy machine), SQLite /
PostgreSQL: status and workflow filter 137 / 79 ms; agent filter 274 / 137 ms (1,060 ms on
SQLite before); page 50 by keyset 21 / 119 ms. Every answer counts its matches (``total``),
which is most of what remains.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 18:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_runs_status", table_name="runs")
    op.create_index("ix_runs_status_id", "runs", ["status", "id"], unique=False)
    op.create_index("ix_runs_created_at", "runs", ["created_at"], unique=False)
    op.create_index("ix_step_runs_agent_run_id", "step_runs", ["agent", "run_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_step_runs_agent_run_id", table_name="step_runs")
    op.drop_index("ix_runs_created_at", table_name="runs")
    op.drop_index("ix_runs_status_id", table_name="runs")
    op.create_index("ix_runs_status", "runs", ["status"], unique=False)
