"""HTTP agents' callbacks: pending answers redeemable once by a single-use token (ADR 0061).

- ``http_callbacks``: one row per attempt of an ``http`` step that offered a callback URL: the
  step run and attempt it answers, the SHA-256 of its token (never the token), when it expires,
  when it was redeemed (``used_at``) and the answer the external agent posted (``result``). The
  callback route redeems a token with one conditional UPDATE (``used_at IS NULL``), so of two
  concurrent callbacks exactly one wins; the engine holding the step polls the row by id.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-24 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import missionctl.db.types

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "http_callbacks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("step_run_id", sa.Uuid(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", missionctl.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", missionctl.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_at", missionctl.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["step_run_id"],
            ["step_runs.id"],
            name=op.f("fk_http_callbacks_step_run_id_step_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_http_callbacks")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_http_callbacks_token_hash")),
    )
    op.create_index(
        op.f("ix_http_callbacks_step_run_id"), "http_callbacks", ["step_run_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_http_callbacks_step_run_id"), table_name="http_callbacks")
    op.drop_table("http_callbacks")
