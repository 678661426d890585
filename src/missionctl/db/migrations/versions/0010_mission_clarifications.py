"""Missions keep the planner's questions and the user's answers.

A planner that cannot plan a mission as written asks questions instead, and the mission waits
in ``needs_clarification`` (ADR 0035). ``clarifications`` holds one round per time a planner
asked: its reason, its questions, and the answers once given; the planner reads every answer
when it plans the mission again. Missions that existed before have asked nothing.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("missions") as batch:
        batch.add_column(
            sa.Column("clarifications", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("missions") as batch:
        batch.drop_column("clarifications")
