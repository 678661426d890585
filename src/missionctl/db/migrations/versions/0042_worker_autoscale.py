"""Workers that size themselves from the queue: ``autoscale_min``, ``autoscale_max`` (ADR 0115).

A worker whose row holds a range (both set) is re-sized at each heartbeat from the queue, within
it; ``autoscaled_at`` is when its size last changed (or the range was set), from which it waits
before shrinking, and ``autoscale_reason`` says why it took that size. Null: it runs the
concurrency it was started with, or the one asked of it.

Revision ID: 0042
Revises: 0041
Create Date: 2026-11-28 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import missionctl.db.types

revision: str = "0042"
down_revision: str | Sequence[str] | None = "0041"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    moment = missionctl.db.types.UTCDateTime(timezone=True)
    with op.batch_alter_table("workers") as batch:
        batch.add_column(sa.Column("autoscale_min", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("autoscale_max", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("autoscaled_at", moment, nullable=True))
        batch.add_column(sa.Column("autoscale_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workers") as batch:
        for column in ("autoscale_reason", "autoscaled_at", "autoscale_max", "autoscale_min"):
            batch.drop_column(column)
