"""Events by type and time: the analytics' step ends of a range without reading the whole log.

The trends and the insights count the tasks built and documented per day from the
``step.succeeded`` events of their range (``repositories.analytics.step_ends``). With an index
on the type alone, that read walked every ``step.succeeded`` event of the log to keep a month:
at a million events and 100,000 runs (``bench/load.py``'s data) its two queries took 250 ms of
the insights' 600 ms on SQLite. events(type, ts) reads the range's events only.

Revision ID: 0038
Revises: 0037
Create Date: 2026-11-28 13:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0038"
down_revision: str | Sequence[str] | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_events_type_ts", "events", ["type", "ts"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_events_type_ts", table_name="events")
