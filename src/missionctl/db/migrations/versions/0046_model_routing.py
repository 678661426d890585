"""Model routing: the catalogue, and where each ``llm:`` step was routed (ADR 0119).

``model_catalogue`` holds an admin's settings per model (routable, tier, context, tool use).
``step_runs.routed_model`` is the model routing chose when the run was created and
``routed_from`` the configured model it would have run on: the Costs page's savings and the
success rates it compares are read from them. Older steps have neither (they ran unrouted).

Revision ID: 0046
Revises: 0045
Create Date: 2026-11-29 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from missionctl.db.types import UTCDateTime

revision: str = "0046"
down_revision: str | Sequence[str] | None = "0045"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_catalogue",
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("routable", sa.Boolean(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=True),
        sa.Column("context_tokens", sa.Integer(), nullable=True),
        sa.Column("tool_use", sa.Boolean(), nullable=True),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model", name=op.f("pk_model_catalogue")),
    )
    # Added in place, not in a batch: SQLite's batch mode rebuilds the table and would drop
    # the step_runs triggers (the usage sums).
    op.add_column("step_runs", sa.Column("routed_model", sa.String(length=200), nullable=True))
    op.add_column("step_runs", sa.Column("routed_from", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("step_runs", "routed_from")
    op.drop_column("step_runs", "routed_model")
    op.drop_table("model_catalogue")
