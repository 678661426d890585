"""Anomaly notices: the anomalies already announced to webhooks, one row per anomaly key.

ADR 0069. The notifier inserts a row in the transaction that appends the anomaly's
``analytics.anomaly_detected`` event; a key already there means the anomaly was sent, by this
server or another, so it is not sent again.

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-24 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import missionctl.db.types

revision: str = "0029"
down_revision: str | Sequence[str] | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "anomaly_notices",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("notified_at", missionctl.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("anomaly_notices")
