"""Analytics runs by workflow and by owner: covering indexes for the segmented reads.

ADR 0068. A ``workflow:NAME`` segment reads that workflow's runs, and narrows people and
missions to those runs' owners and missions; a ``role:ROLE`` segment reads the runs of that
role's people. Without an index led by the workflow or the owner, each of these reads scanned
every run of its days and kept the segment's. These two indexes let them seek the segment's runs
and read what they sum or rank (status, spend, tokens, duration) from the index alone: over a
year of 100,000 runs on SQLite, a segment's anomalies read in half the time, and its runs' sums
and durations in a fifth (workflow) to a half (role).

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-24 15:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0030"
down_revision: str | Sequence[str] | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SUMMED = ["day", "status", "cost_micros", "tokens", "duration_s"]


def upgrade() -> None:
    op.create_index(
        "ix_analytics_runs_workflow",
        "analytics_runs",
        ["workflow", *_SUMMED, "owner", "mission_id"],
    )
    op.create_index("ix_analytics_runs_owner", "analytics_runs", ["owner", *_SUMMED])


def downgrade() -> None:
    op.drop_index("ix_analytics_runs_owner", table_name="analytics_runs")
    op.drop_index("ix_analytics_runs_workflow", table_name="analytics_runs")
