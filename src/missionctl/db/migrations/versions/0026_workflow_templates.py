"""Workflow templates saved to the gallery (ADR 0065).

- ``workflow_templates``: one row per template a user saved from a workflow version: its
  unique name, title, category, the whole template (``definition``: inputs and workflow body),
  the version it came from (kept null when that version is gone), who saved it and when.
  Shipped templates are files of the package, not rows.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-24 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import missionctl.db.types

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workflow_templates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("source_workflow_id", sa.Uuid(), nullable=True),
        sa.Column("saved_by", sa.String(length=200), nullable=False),
        sa.Column("saved_at", missionctl.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_workflow_id"],
            ["workflows.id"],
            name=op.f("fk_workflow_templates_source_workflow_id_workflows"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_templates")),
        sa.UniqueConstraint("name", name=op.f("uq_workflow_templates_name")),
    )


def downgrade() -> None:
    op.drop_table("workflow_templates")
