"""One cursor table for every follower of the log: ``follower_cursors`` (ADR 0086).

The search index, mission memory, the analytics facts and the webhook outbox each kept the last
``seq`` they had read in a single-row table of their own (``search_progress``,
``memory_progress``, ``analytics_progress``, ``webhook_progress``). They become one row each of
``follower_cursors`` (``name → last_seq``), with the positions they had reached, and the four
tables go. A follower added later starts at ``seq`` 0 (its row is made on its first batch).

Revision ID: 0034
Revises: 0033
Create Date: 2026-11-28 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | Sequence[str] | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOVED = {
    "search": "search_progress",
    "memory": "memory_progress",
    "analytics": "analytics_progress",
    "webhooks": "webhook_progress",
}
"""Each follower's name and the table that held its position until this revision."""


def upgrade() -> None:
    op.create_table(
        "follower_cursors",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_follower_cursors")),
    )
    for name, table in MOVED.items():
        op.execute(
            f"INSERT INTO follower_cursors (name, last_seq) "
            f"SELECT '{name}', last_seq FROM {table} WHERE id = 1"
        )
        op.drop_table(table)


def downgrade() -> None:
    for name, table in MOVED.items():
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("last_seq", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        )
        op.execute(
            f"INSERT INTO {table} (id, last_seq) "
            f"SELECT 1, coalesce((SELECT last_seq FROM follower_cursors WHERE name = '{name}'), 0)"
        )
    op.drop_table("follower_cursors")
