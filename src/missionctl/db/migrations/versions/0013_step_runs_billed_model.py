"""Step runs keep the model their usage was billed at, and what earlier attempts spent.

Cost breakdowns by model need the model each step was priced at; the engine knew it and did
not keep it. A retried step's row held only its last attempt's tokens and cost, while the run's
``spent_micros`` counted every attempt, so a breakdown summed from step rows fell short of the
run's spend. Claiming a step again now moves the row's usage into ``earlier_*`` before the new
attempt writes its own, so ``cost_micros + earlier_cost_micros`` is everything the step cost
(ADR 0042). Rows written before hold their last attempt only; nothing can recover the rest.

``ix_step_runs_ended_at`` serves the system-wide breakdowns over a time range, the burn rate
and the health strip's failures of the last day, which read the steps that ended in a window.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EARLIER = ("earlier_input_tokens", "earlier_output_tokens", "earlier_cost_micros")


def upgrade() -> None:
    with op.batch_alter_table("step_runs") as batch:
        batch.add_column(sa.Column("model", sa.String(length=200), nullable=True))
        for name in _EARLIER:
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))
        batch.create_index("ix_step_runs_ended_at", ["ended_at"])


def downgrade() -> None:
    with op.batch_alter_table("step_runs") as batch:
        batch.drop_index("ix_step_runs_ended_at")
        for name in reversed(_EARLIER):
            batch.drop_column(name)
        batch.drop_column("model")
