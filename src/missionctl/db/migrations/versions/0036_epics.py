"""Epics: named groups of missions with an owner, a target date and a budget (ADR 0102).

- ``epics``: one row per epic: its name, description, owner (a user's name), target date,
  budget (micro-USD, optional) and when it was archived. An archived epic keeps its row; names
  are unique among the others (a partial unique index, on both dialects).
- ``epic_missions``: which epic a mission is in; the mission is the primary key, so a mission
  is in one epic at most.

Revision ID: 0036
Revises: 0035
Create Date: 2026-11-27 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import missionctl.db.types

revision: str = "0036"
down_revision: str | Sequence[str] | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    moment = missionctl.db.types.UTCDateTime(timezone=True)
    op.create_table(
        "epics",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=63), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("budget_micros", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("updated_at", moment, nullable=False),
        sa.Column("archived_at", moment, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epics")),
    )
    op.create_index(
        "uq_epics_live_name",
        "epics",
        ["name"],
        unique=True,
        sqlite_where=sa.text("archived_at IS NULL"),
        postgresql_where=sa.text("archived_at IS NULL"),
    )
    op.create_table(
        "epic_missions",
        sa.Column("mission_id", sa.Uuid(), nullable=False),
        sa.Column("epic_id", sa.Uuid(), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("added_at", moment, nullable=False),
        sa.ForeignKeyConstraint(
            ["mission_id"],
            ["missions.id"],
            name=op.f("fk_epic_missions_mission_id_missions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["epic_id"], ["epics.id"], name=op.f("fk_epic_missions_epic_id_epics")
        ),
        sa.PrimaryKeyConstraint("mission_id", name=op.f("pk_epic_missions")),
    )
    op.create_index("ix_epic_missions_epic_id", "epic_missions", ["epic_id"])


def downgrade() -> None:
    op.drop_index("ix_epic_missions_epic_id", table_name="epic_missions")
    op.drop_table("epic_missions")
    op.drop_index("uq_epics_live_name", table_name="epics")
    op.drop_table("epics")
