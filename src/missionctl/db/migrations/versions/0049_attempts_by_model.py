"""The step-risk history counts attempts by the model they ran on (ADR 0118, amended).

``step_attempt_days`` gains ``model`` in its key: the model an ``llm:`` step's attempt ran on
(empty for other steps), so that an estimate can weigh how the role's steps went on that
model. Attempts counted before this revision keep an empty model: they count at every level
but the model's.

Revision ID: 0049
Revises: 0048
Create Date: 2026-11-29 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0049"
down_revision: str | Sequence[str] | None = "0048"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = ["day", "workflow", "step_id", "agent", "later"]


def upgrade() -> None:
    with op.batch_alter_table("step_attempt_days", recreate="always") as batch:
        batch.add_column(
            sa.Column("model", sa.String(length=200), nullable=False, server_default="")
        )
        batch.drop_constraint("pk_step_attempt_days", type_="primary")
        batch.create_primary_key("pk_step_attempt_days", [*_KEY, "model"])


def downgrade() -> None:
    # Rows that differ only by model become one row per key again.
    op.execute(
        "CREATE TABLE step_attempt_days_summed AS SELECT day, workflow, step_id, agent, later, "
        "SUM(attempts) AS attempts, SUM(failed) AS failed, SUM(timed_out) AS timed_out, "
        "SUM(over_estimate) AS over_estimate FROM step_attempt_days "
        "GROUP BY day, workflow, step_id, agent, later"
    )
    op.execute("DELETE FROM step_attempt_days")
    with op.batch_alter_table("step_attempt_days", recreate="always") as batch:
        batch.drop_constraint("pk_step_attempt_days", type_="primary")
        batch.drop_column("model")
        batch.create_primary_key("pk_step_attempt_days", _KEY)
    op.execute(
        "INSERT INTO step_attempt_days (day, workflow, step_id, agent, later, attempts, failed, "
        "timed_out, over_estimate) SELECT day, workflow, step_id, agent, later, attempts, "
        "failed, timed_out, over_estimate FROM step_attempt_days_summed"
    )
    op.drop_table("step_attempt_days_summed")
