"""On PostgreSQL, search entries of one kind are read newest first through an index.

A search for a word found in many log lines, narrowed to errors (``kind = 'error'``), read every
entry holding the word through the GIN index, kept the few errors and sorted them: 270 ms at a
million log lines (``bench/observability_search.py``, query ``error``). With
``ix_search_entries_kind_id`` the planner walks the kind's entries newest first and checks the
word on each, stopping at the page's size, as it already did for a run (``run_id, id``) and a
mission (``mission_id, id``). SQLite narrows by kind inside its FTS5 query and needs nothing.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-23 20:35:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_search_entries_kind_id ON search_entries (kind, id)")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_search_entries_kind_id")
