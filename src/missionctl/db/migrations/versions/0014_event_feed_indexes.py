"""Indexes for the event feed and the audit explorer: events by time and by actor, runs by
who started them and when.

Each answers a filter of ``GET /api/v1/events`` / ``/api/v1/audit`` at a million events and
ten thousand runs without reading the whole table:
- events(ts): ``since``/``until`` (``WHERE ts >= :since AND ts < :until ORDER BY seq DESC``)
  reads the window only; the log grows in time order, so the window is a contiguous run of seqs;
- events(actor, seq): ``actor=`` newest first (``WHERE actor = :a ORDER BY seq DESC LIMIT n``)
  walks the index backwards and stops at the page's size, and the export pages by seq on it;
- runs(created_by): the run search's ``actor=`` (who started the run);
- runs(started_at): the run search's ``since``/``until`` (when the run started).

bench/observability_feed.py measures the searches, the feed's pages, an export and the live
stream at that scale.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 08:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_events_ts", "events", ["ts"], unique=False)
    op.create_index("ix_events_actor_seq", "events", ["actor", "seq"], unique=False)
    op.create_index("ix_runs_created_by", "runs", ["created_by"], unique=False)
    op.create_index("ix_runs_started_at", "runs", ["started_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_runs_started_at", table_name="runs")
    op.drop_index("ix_runs_created_by", table_name="runs")
    op.drop_index("ix_events_actor_seq", table_name="events")
    op.drop_index("ix_events_ts", table_name="events")
