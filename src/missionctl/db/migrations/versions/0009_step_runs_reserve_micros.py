"""Step runs keep the most their step may cost: what a capped run reserves while it runs.

Dispatch used to reserve a running step's estimate, so steps that used more than expected
passed the cap together. ``reserve_micros`` is the step's token limit priced at the model's
highest token price when the run started (0 for agents that use no tokens); the claim admits
a step only if spent + the reserves of running steps + its own reserve fit the cap. Rows that
existed before reserve nothing, as their estimates' reservations ended with them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("step_runs") as batch:
        batch.add_column(
            sa.Column("reserve_micros", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("step_runs") as batch:
        batch.drop_column("reserve_micros")
