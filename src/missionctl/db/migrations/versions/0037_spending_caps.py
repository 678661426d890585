"""Spending caps per agent and per UTC day or month (ADR 0104).

- ``spending_caps``: one row per cap: the agent it governs (a name, a kind ``llm:*`` or ``*``
  for every agent), its period (``day`` or ``month``), the cap in micro-USD, and the last level
  recorded for it (``warning`` or ``reached``) with the period it was in.
- ``step_runs.hold_cap_id``: the cap holding a queued step, when a cap does.

Revision ID: 0037
Revises: 0036
Create Date: 2026-11-27 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import missionctl.db.types

revision: str = "0037"
down_revision: str | Sequence[str] | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    moment = missionctl.db.types.UTCDateTime(timezone=True)
    op.create_table(
        "spending_caps",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agent", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("cap_micros", sa.BigInteger(), nullable=False),
        sa.Column("notified_period", sa.Date(), nullable=True),
        sa.Column("notified_level", sa.String(length=10), nullable=True),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("updated_at", moment, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spending_caps")),
        sa.UniqueConstraint("agent", "period", name=op.f("uq_spending_caps_agent_period")),
    )
    # Added in place (no batch copy): the copy would drop the table's triggers on SQLite.
    op.add_column("step_runs", sa.Column("hold_cap_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    op.drop_column("step_runs", "hold_cap_id")
    op.drop_table("spending_caps")
