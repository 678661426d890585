"""Mini-specs: a short written spec per risky plan task, approved before its work starts.

- ``specs``: one row per spec written for a mission's task (``task_key``): its Markdown body,
  status (``draft``, ``approved``, ``rejected``), author (the actor and their user), and the
  decision (who, when, why).
  The body is also an artifact of the mission (``artifact_id``). Steps implementing a task the
  spec policy marks are held until one of its specs is approved and fresh (ADR 0066); the
  engine reads a task's specs by ``(mission_id, task_key)``.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-24 07:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import missionctl.db.types

revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "specs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("mission_id", sa.Uuid(), nullable=False),
        sa.Column("task_key", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("author_user", sa.String(length=200), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", missionctl.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("artifact_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", missionctl.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mission_id"],
            ["missions.id"],
            name=op.f("fk_specs_mission_id_missions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["artifact_id"], ["artifacts.id"], name=op.f("fk_specs_artifact_id_artifacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_specs")),
    )
    op.create_index(
        "ix_specs_mission_id_task_key", "specs", ["mission_id", "task_key"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_specs_mission_id_task_key", table_name="specs")
    op.drop_table("specs")
