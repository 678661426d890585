"""Engines register in ``workers`` and heartbeat there.

``workers`` is the registry of engines (embedded in ``missionctl serve`` or ``missionctl
worker`` processes): each writes its row when it starts, moves ``last_heartbeat_at`` every few
seconds, and sets ``stopped_at`` when it stops cleanly. A worker is alive while its heartbeat is
recent (``domain.workers.ALIVE_S``); the index on ``last_heartbeat_at`` counts them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 07:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import missionctl.db.types

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    moment = missionctl.db.types.UTCDateTime(timezone=True)
    op.create_table(
        "workers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("started_at", moment, nullable=False),
        sa.Column("last_heartbeat_at", moment, nullable=False),
        sa.Column("stopped_at", moment, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    op.create_index("ix_workers_last_heartbeat_at", "workers", ["last_heartbeat_at"])


def downgrade() -> None:
    op.drop_index("ix_workers_last_heartbeat_at", table_name="workers")
    op.drop_table("workers")
