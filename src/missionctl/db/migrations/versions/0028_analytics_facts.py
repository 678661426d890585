"""The analytics facts: people, missions, runs and active days, kept by a follower of the log.

ADR 0068. Every row is derived from the event log by ``repositories.analytics.follow_log``,
which moves ``analytics_progress`` with the rows it writes; emptying the tables and setting the
cursor to 0 rebuilds them.

- ``analytics_people``: a person's role and first time at each funnel step (and the ISO week
  of their first mission, their retention cohort).
- ``analytics_tokens``: which person an API token acts for.
- ``analytics_active_days``: one row per person per UTC day with any activity (and its ISO
  week's Monday, so weekly distinct counts need no date arithmetic in SQL).
- ``analytics_missions`` / ``analytics_runs``: one row per mission and run, dated by UTC day
  (a run by its ISO week's Monday too, for the weekly duration percentiles).
- ``analytics_run_days`` / ``analytics_run_weeks``: the runs of each UTC day summed, with the
  median and 95th percentile of their durations, and those percentiles per ISO week, so that an
  unsegmented year of trends reads a row per day.

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-24 08:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import missionctl.db.types

revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STEPS = (
    "signed_in_at",
    "mission_at",
    "planned_at",
    "ran_at",
    "completed_at",
    "report_at",
    "second_mission_at",
)


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, missionctl.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "analytics_progress",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO analytics_progress (id, last_seq) VALUES (1, 0)")
    op.create_table(
        "analytics_people",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("role", sa.String(20), nullable=True),
        *(_ts(step) for step in _STEPS),
        sa.Column("missions", sa.Integer(), nullable=False),
        sa.Column("mission_week", sa.Date(), nullable=True),
    )
    op.create_index("ix_analytics_people_signed_in_at", "analytics_people", ["signed_in_at"])
    op.create_table(
        "analytics_tokens",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("user_name", sa.String(200), nullable=False),
    )
    op.create_table(
        "analytics_active_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("user_name", sa.String(200), primary_key=True),
        sa.Column("week", sa.Date(), nullable=False),
    )
    # Covering indexes: people active per week, and a person's active weeks (retention).
    op.create_index(
        "ix_analytics_active_days_week", "analytics_active_days", ["week", "user_name", "day"]
    )
    op.create_index(
        "ix_analytics_active_days_user_name", "analytics_active_days", ["user_name", "week"]
    )
    op.create_table(
        "analytics_missions",
        sa.Column("mission_id", sa.String(36), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=True),
        _ts("created_at", nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("planner", sa.String(10), nullable=True),
    )
    op.create_index("ix_analytics_missions_day", "analytics_missions", ["day"])
    op.create_table(
        "analytics_runs",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("mission_id", sa.String(36), nullable=True),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("workflow", sa.String(200), nullable=False),
        _ts("created_at", nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        _ts("started_at"),
        _ts("ended_at"),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
    )
    # Covering indexes: the day sums are remade, and a segment's trends summed, from the runs
    # of a range of days, and their durations read in order per day (SQLite) or week, from
    # the index alone, whichever segment narrows them (workflow, owner or mission).
    segment = ["workflow", "owner", "mission_id"]
    op.create_index(
        "ix_analytics_runs_day",
        "analytics_runs",
        ["day", "status", "cost_micros", "tokens", *segment],
    )
    op.create_index(
        "ix_analytics_runs_day_duration", "analytics_runs", ["day", "duration_s", *segment]
    )
    op.create_index("ix_analytics_runs_week_duration", "analytics_runs", ["week", "duration_s"])
    op.create_index("ix_analytics_runs_mission_id", "analytics_runs", ["mission_id"])
    op.create_table(
        "analytics_run_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("ended", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.Column("p50_s", sa.Float(), nullable=True),
        sa.Column("p95_s", sa.Float(), nullable=True),
    )
    op.create_table(
        "analytics_run_weeks",
        sa.Column("week", sa.Date(), primary_key=True),
        sa.Column("p50_s", sa.Float(), nullable=False),
        sa.Column("p95_s", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("analytics_run_weeks")
    op.drop_table("analytics_run_days")
    op.drop_table("analytics_runs")
    op.drop_table("analytics_missions")
    op.drop_table("analytics_active_days")
    op.drop_table("analytics_tokens")
    op.drop_table("analytics_people")
    op.drop_table("analytics_progress")
