"""Step outcomes per day, kept by the analytics follower: ``analytics_step_outcomes``.

The trends and the insights count the tasks built and documented per UTC day. Until this
revision each read counted the ``step.succeeded`` events of its range in the log (migration
0038's index): over a month of a million-event log, 85 ms of each trends read and twice that
of the insights page. The analytics follower now keeps the count per day and outcome as it folds
the log, and the reads sum a row per day and outcome.

The table starts empty, so the facts are folded again from the log's start: the other fact
tables are emptied and the follower's cursor removed (it starts at ``seq`` 0, as
``missionctl analytics rebuild`` would). The facts are exact again once it has caught up; a read
before then catches it up first (ADR 0068).

Revision ID: 0039
Revises: 0038
Create Date: 2026-11-28 15:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0039"
down_revision: str | Sequence[str] | None = "0038"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACT_TABLES = (
    "analytics_people",
    "analytics_tokens",
    "analytics_active_days",
    "analytics_missions",
    "analytics_runs",
    "analytics_run_days",
    "analytics_run_weeks",
)
"""The facts folded before this revision: emptied so that every table is folded from one start."""


def upgrade() -> None:
    op.create_table(
        "analytics_step_outcomes",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "outcome", name=op.f("pk_analytics_step_outcomes")),
    )
    _fold_again()


def downgrade() -> None:
    op.drop_table("analytics_step_outcomes")
    _fold_again()


def _fold_again() -> None:
    for table in FACT_TABLES:
        op.execute(f"DELETE FROM {table}")
    op.execute("DELETE FROM follower_cursors WHERE name = 'analytics'")
