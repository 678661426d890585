"""Workflow suggestions: the ones people applied (ADR 0120).

Open suggestions are derived from the history when read; an applied one is kept with the
version it edited and the version it made, so that the runs of each show what it did.

Revision ID: 0047
Revises: 0046
Create Date: 2026-11-29 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from missionctl.db.types import UTCDateTime

revision: str = "0047"
down_revision: str | Sequence[str] | None = "0046"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "applied_suggestions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workflow", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("step_id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("predicted", sa.JSON(), nullable=False),
        sa.Column("base_workflow_id", sa.Uuid(), nullable=False),
        sa.Column("applied_workflow_id", sa.Uuid(), nullable=False),
        sa.Column("applied_by", sa.String(length=200), nullable=False),
        sa.Column("applied_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_workflow_id"],
            ["workflows.id"],
            name=op.f("fk_applied_suggestions_base_workflow_id_workflows"),
        ),
        sa.ForeignKeyConstraint(
            ["applied_workflow_id"],
            ["workflows.id"],
            name=op.f("fk_applied_suggestions_applied_workflow_id_workflows"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applied_suggestions")),
    )
    op.create_index(
        op.f("ix_applied_suggestions_workflow"), "applied_suggestions", ["workflow"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_applied_suggestions_workflow"), table_name="applied_suggestions")
    op.drop_table("applied_suggestions")
