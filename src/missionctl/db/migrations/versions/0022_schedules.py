"""Schedules: cron expressions in a time zone that start runs (ADR 0059).

- ``schedules``: one row per schedule: its cron expression and IANA time zone, what it starts
  (a workflow version with inputs, or a mission with ``mission_action``), the budget of each
  fired run, the misfire and overlap policies, whether it is paused, ``next_fire_at`` (the
  tick the scheduler claims by moving it, so a tick fires once however many engines look),
  ``queued_tick`` (a tick waiting for the previous run to end) and the newest firing. A
  deleted schedule keeps its row with ``deleted_at``; names are unique among the others (a
  partial unique index, on both dialects).
- ``schedule_runs``: which schedule started a run, and for which tick.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-24 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import missionctl.db.types

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    moment = missionctl.db.types.UTCDateTime(timezone=True)
    op.create_table(
        "schedules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("cron", sa.String(length=100), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("workflow_id", sa.Uuid(), nullable=True),
        sa.Column("mission_id", sa.Uuid(), nullable=True),
        sa.Column("mission_action", sa.String(length=20), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("budget_micros", sa.BigInteger(), nullable=True),
        sa.Column("misfire_policy", sa.String(length=20), nullable=False),
        sa.Column("overlap_policy", sa.String(length=20), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("next_fire_at", moment, nullable=False),
        sa.Column("queued_tick", moment, nullable=True),
        sa.Column("last_fired_at", moment, nullable=True),
        sa.Column("last_run_id", sa.Uuid(), nullable=True),
        sa.Column("last_outcome", sa.String(length=20), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("updated_at", moment, nullable=False),
        sa.Column("deleted_at", moment, nullable=True),
        sa.ForeignKeyConstraint(
            ["workflow_id"], ["workflows.id"], name=op.f("fk_schedules_workflow_id_workflows")
        ),
        sa.ForeignKeyConstraint(
            ["mission_id"],
            ["missions.id"],
            name=op.f("fk_schedules_mission_id_missions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["last_run_id"], ["runs.id"], name=op.f("fk_schedules_last_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
    )
    op.create_index("ix_schedules_workflow_id", "schedules", ["workflow_id"])
    op.create_index("ix_schedules_mission_id", "schedules", ["mission_id"])
    op.create_index("ix_schedules_next_fire_at", "schedules", ["next_fire_at"])
    op.create_index(
        "uq_schedules_live_name",
        "schedules",
        ["name"],
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "schedule_runs",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("schedule_id", sa.Uuid(), nullable=False),
        sa.Column("tick", moment, nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_schedule_runs_run_id_runs")),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["schedules.id"], name=op.f("fk_schedule_runs_schedule_id_schedules")
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_schedule_runs")),
    )
    op.create_index("ix_schedule_runs_schedule_id", "schedule_runs", ["schedule_id"])


def downgrade() -> None:
    op.drop_index("ix_schedule_runs_schedule_id", table_name="schedule_runs")
    op.drop_table("schedule_runs")
    op.drop_index("uq_schedules_live_name", table_name="schedules")
    op.drop_index("ix_schedules_next_fire_at", table_name="schedules")
    op.drop_index("ix_schedules_mission_id", table_name="schedules")
    op.drop_index("ix_schedules_workflow_id", table_name="schedules")
    op.drop_table("schedules")
