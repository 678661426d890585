"""Missions may name the repository their coding steps work on.

``repository`` is ``{"source", "base", "agent"}``: a local path or clone URL, the branch
coding steps start from and merge back into, and the coding agent a plan's code tasks run
with (ADR 0067). Missions that existed before name none.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-24 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, not batch mode: SQLite (3.35+) adds and drops a column in place, and
# batch mode would copy the missions table, which every other table's foreign keys name.
def upgrade() -> None:
    op.add_column("missions", sa.Column("repository", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("missions", "repository")
