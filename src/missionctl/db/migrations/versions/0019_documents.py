"""The document studio keeps every version of a mission's documents (ADR 0053).

A ``documents`` row is one version of one kind (PRD, technical design, …) of a mission's
documents: its Markdown, the plan version it was written from, who wrote it (``local`` or the
model's name) and why the local writer stood in (``notes``), who asked, the model's tokens, and
for a technical design the architecture and deployment diagrams it shows (``diagrams``).
``(mission_id, kind, version)`` is unique: two generations at once cannot take one number.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import missionctl.db.types

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("mission_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("writer", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("diagrams", sa.JSON(), nullable=True),
        sa.Column("created_at", missionctl.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mission_id"],
            ["missions.id"],
            name=op.f("fk_documents_mission_id_missions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint(
            "mission_id", "kind", "version", name=op.f("uq_documents_mission_id_kind_version")
        ),
    )
    op.create_index(op.f("ix_documents_mission_id"), "documents", ["mission_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_documents_mission_id"), table_name="documents")
    op.drop_table("documents")
