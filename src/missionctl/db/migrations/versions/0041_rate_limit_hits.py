"""Rate limits every server process of one database shares: ``rate_limit_hits`` (ADR 0113).

The API tokens' requests per minute, the failed sign-ins per account, device and address, the
records of refusals and the external agents' callbacks were counted in each server's memory, so
two servers behind a load balancer allowed twice the configured rate. Each allowed attempt is
now a row (its limiter and key hashed into ``bucket``, its time in ``at``) that every process
counts. On PostgreSQL the table is ``UNLOGGED``: no write-ahead log for a row that matters for
a minute; a crash of the database only restarts the windows.

Revision ID: 0041
Revises: 0040
Create Date: 2026-11-28 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0041"
down_revision: str | Sequence[str] | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    unlogged = ["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else []
    op.create_table(
        "rate_limit_hits",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("bucket", sa.String(length=64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_hits")),
        prefixes=unlogged,
    )
    op.create_index("ix_rate_limit_hits_bucket_at", "rate_limit_hits", ["bucket", "at"])
    op.create_index(op.f("ix_rate_limit_hits_at"), "rate_limit_hits", ["at"])


def downgrade() -> None:
    op.drop_table("rate_limit_hits")
